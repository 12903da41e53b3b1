"""Every ErrorCode has a row: retried or not, counted by the circuit breaker or not."""

from __future__ import annotations

import pytest

from tctf_dynamo.errors import (
    CancellationReason,
    DynamoDBServiceError,
    ErrorCode,
    OutcomeUnknownError,
    ReadBackFailedError,
    RetriesExhaustedError,
    TransactionCancelledError,
    UnprocessedItemsError,
    error_for,
)
from tctf_dynamo.resilience.classification import CLASSIFICATION_TABLE, classify

C = ErrorCode
TRANSIENT = (True, True)
PERMANENT = (False, False)

# Written out independently of the module's table: a new ErrorCode fails until added here.
EXPECTED: dict[ErrorCode, tuple[bool, bool]] = {
    C.THROTTLED: TRANSIENT,
    C.SERVICE_UNAVAILABLE: TRANSIENT,
    C.INTERNAL_ERROR: TRANSIENT,
    C.CONNECTION_ERROR: TRANSIENT,
    C.TIMEOUT: TRANSIENT,
    C.TRANSACTION_CONFLICT: TRANSIENT,
    C.TRANSACTION_IN_PROGRESS: (True, False),  # retried until the deadline, not counted
    C.OUTCOME_UNKNOWN: (False, True),  # wrapping TIMEOUT: counted as what it wraps
    C.READ_BACK_FAILED: (False, True),  # wrapping THROTTLED
    C.TRANSACTION_CANCELLED: PERMANENT,  # with retryable=False; see the flag tests below
    C.RETRIES_EXHAUSTED: (False, True),  # wrapping THROTTLED; see the wrapper tests below
    C.CONDITION_FAILED: PERMANENT,
    C.ITEM_COLLECTION_SIZE_LIMIT: PERMANENT,
    C.TABLE_NOT_FOUND: PERMANENT,
    C.TABLE_ALREADY_EXISTS: PERMANENT,
    C.ITEM_NOT_FOUND: PERMANENT,
    C.ACCESS_DENIED: PERMANENT,
    C.SERVICE_VALIDATION_FAILED: PERMANENT,
    C.IDEMPOTENT_PARAMETER_MISMATCH: PERMANENT,
    C.INTERRUPTED: PERMANENT,
    C.PROVIDER_ERROR: PERMANENT,
    C.UNPROCESSED_ITEMS: PERMANENT,
    C.CIRCUIT_OPEN: PERMANENT,
    C.INVALID_TABLE_NAME: PERMANENT,
    C.INVALID_INDEX_NAME: PERMANENT,
    C.INVALID_ATTRIBUTE_NAME: PERMANENT,
    C.INVALID_KEY: PERMANENT,
    C.KEY_TOO_LARGE: PERMANENT,
    C.ITEM_TOO_LARGE: PERMANENT,
    C.INVALID_ITEM: PERMANENT,
    C.BATCH_SIZE_EXCEEDED: PERMANENT,
    C.TRANSACTION_TOO_LARGE: PERMANENT,
    C.DUPLICATE_ITEM_IN_REQUEST: PERMANENT,
    C.INVALID_EXPRESSION: PERMANENT,
    C.UNSUPPORTED_TYPE: PERMANENT,
    C.UNSAFE_VALUE: PERMANENT,
    C.INVALID_PAGINATION_TOKEN: PERMANENT,
    C.INVALID_CONFIGURATION: PERMANENT,
    C.INVALID_SCHEMA: PERMANENT,
    C.INVALID_STATE: PERMANENT,
    C.INVALID_INPUT: PERMANENT,
}


def make_error(code: ErrorCode) -> DynamoDBServiceError:
    if code is C.TRANSACTION_CANCELLED:
        return TransactionCancelledError("cancelled", [CancellationReason(0, C.CONDITION_FAILED)])
    if code is C.RETRIES_EXHAUSTED:
        return RetriesExhaustedError("gave up", error_for(C.THROTTLED, "slow down"), 3)
    if code is C.OUTCOME_UNKNOWN:
        last = error_for(C.TIMEOUT, "lost")
        return OutcomeUnknownError("doubt", last_error=last, token="t", settle="replay")
    if code is C.READ_BACK_FAILED:
        return ReadBackFailedError("read failed", last_error=error_for(C.THROTTLED, "slow"))
    if code is C.UNPROCESSED_ITEMS:
        return UnprocessedItemsError("left over", [{"PK": {"S": "a"}}])
    return error_for(code, "failed")


@pytest.mark.parametrize("code", list(ErrorCode), ids=str)
def test_every_code_is_classified_as_expected(code: ErrorCode) -> None:
    assert code in CLASSIFICATION_TABLE, f"{code} has no row in CLASSIFICATION_TABLE"
    decision = classify(make_error(code))
    assert (decision.retryable, decision.counts_for_breaker) == EXPECTED[code]


def test_cancelled_transaction_with_the_flag_set_is_retried_and_counted() -> None:
    reasons = [CancellationReason(0, None), CancellationReason(1, C.TRANSACTION_CONFLICT)]
    error = TransactionCancelledError("cancelled", reasons, retryable=True)
    decision = classify(error)
    assert decision.retryable
    assert decision.counts_for_breaker


def test_exhausted_retries_are_counted_as_the_failure_they_wrap() -> None:
    wrapped_condition = RetriesExhaustedError("gave up", error_for(C.CONDITION_FAILED, "no"), 2)
    assert classify(wrapped_condition).counts_for_breaker is False
    assert classify(make_error(C.RETRIES_EXHAUSTED)).counts_for_breaker is True


@pytest.mark.parametrize("error", [ValueError("bug"), KeyboardInterrupt()], ids=repr)
def test_exceptions_outside_the_library_are_never_retried_or_counted(
    error: BaseException,
) -> None:
    decision = classify(error)
    assert (decision.retryable, decision.counts_for_breaker) == PERMANENT
