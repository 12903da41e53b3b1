"""Which failures are retried and which count against the circuit breaker: one table.

The rule behind the table: only failures of the *infrastructure* (throttling, 5xx,
broken connections, timeouts, transaction conflicts) may pass if the same request is
sent again, and only they say something about DynamoDB's health. Outcomes decided by
the data (a condition that evaluated false, an item that does not exist) and requests
that are wrong (bad input, access denied, validation) fail the same way every time and
prove the backend is answering, so they are never retried and never counted.

Every :class:`~tctf_dynamo.errors.ErrorCode` has a row; a test walks all codes so a new
code without a row fails the build instead of being silently treated one way or another.
"""

from __future__ import annotations

from enum import Enum
from types import MappingProxyType

import attrs

from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode

__all__ = ["CLASSIFICATION_TABLE", "Classification", "Rule", "classify"]


class Rule(Enum):
    """How one error code is treated."""

    TRANSIENT = "transient"
    """Retried, and counted by the circuit breaker."""
    PERMANENT = "permanent"
    """Never retried, never counted."""
    BY_FLAG = "by_flag"
    """Retried and counted only when the error's ``retryable`` flag is set (cancelled
    transactions whose every reason is a conflict or a throttle)."""
    AS_LAST_ERROR = "as_last_error"
    """Never retried again; counted as the failure it wraps (RETRIES_EXHAUSTED,
    OUTCOME_UNKNOWN)."""
    IN_DOUBT = "in_doubt"
    """An earlier request with the same token is still running: asked again with the same
    token, with backoff, until an answer or the deadline; the attempt budget does not
    apply (giving up early would report a write that may still commit) and DynamoDB is
    answering, so the breaker does not count it."""


@attrs.frozen
class Classification:
    """The decision for one error."""

    retryable: bool
    counts_for_breaker: bool
    patient: bool = False
    """Retried until the deadline, whatever the policy's ``max_attempts``."""


_C = ErrorCode
CLASSIFICATION_TABLE: MappingProxyType[ErrorCode, Rule] = MappingProxyType(
    {
        # infrastructure
        _C.THROTTLED: Rule.TRANSIENT,
        _C.SERVICE_UNAVAILABLE: Rule.TRANSIENT,
        _C.INTERNAL_ERROR: Rule.TRANSIENT,
        _C.CONNECTION_ERROR: Rule.TRANSIENT,
        _C.TIMEOUT: Rule.TRANSIENT,
        _C.TRANSACTION_CONFLICT: Rule.TRANSIENT,
        _C.TRANSACTION_IN_PROGRESS: Rule.IN_DOUBT,
        _C.TRANSACTION_CANCELLED: Rule.BY_FLAG,
        _C.RETRIES_EXHAUSTED: Rule.AS_LAST_ERROR,
        _C.OUTCOME_UNKNOWN: Rule.AS_LAST_ERROR,
        _C.READ_BACK_FAILED: Rule.AS_LAST_ERROR,
        # decided by the data
        _C.CONDITION_FAILED: Rule.PERMANENT,
        _C.ITEM_COLLECTION_SIZE_LIMIT: Rule.PERMANENT,
        _C.TABLE_NOT_FOUND: Rule.PERMANENT,
        _C.TABLE_ALREADY_EXISTS: Rule.PERMANENT,
        _C.ITEM_NOT_FOUND: Rule.PERMANENT,
        # refused by the backend
        _C.ACCESS_DENIED: Rule.PERMANENT,
        _C.SERVICE_VALIDATION_FAILED: Rule.PERMANENT,
        _C.IDEMPOTENT_PARAMETER_MISMATCH: Rule.PERMANENT,
        _C.INTERRUPTED: Rule.PERMANENT,  # the caller stopped it: no retry, no backend fault
        _C.PROVIDER_ERROR: Rule.PERMANENT,
        # produced by the library itself: the batch layer owns unprocessed items, and an
        # open circuit is the breaker's own verdict, not new evidence about DynamoDB
        _C.UNPROCESSED_ITEMS: Rule.PERMANENT,
        _C.CIRCUIT_OPEN: Rule.PERMANENT,
        # refused before sending
        _C.INVALID_TABLE_NAME: Rule.PERMANENT,
        _C.INVALID_INDEX_NAME: Rule.PERMANENT,
        _C.INVALID_ATTRIBUTE_NAME: Rule.PERMANENT,
        _C.INVALID_KEY: Rule.PERMANENT,
        _C.KEY_TOO_LARGE: Rule.PERMANENT,
        _C.ITEM_TOO_LARGE: Rule.PERMANENT,
        _C.INVALID_ITEM: Rule.PERMANENT,
        _C.BATCH_SIZE_EXCEEDED: Rule.PERMANENT,
        _C.TRANSACTION_TOO_LARGE: Rule.PERMANENT,
        _C.DUPLICATE_ITEM_IN_REQUEST: Rule.PERMANENT,
        _C.INVALID_EXPRESSION: Rule.PERMANENT,
        _C.UNSUPPORTED_TYPE: Rule.PERMANENT,
        _C.UNSAFE_VALUE: Rule.PERMANENT,
        _C.INVALID_PAGINATION_TOKEN: Rule.PERMANENT,
        _C.INVALID_CONFIGURATION: Rule.PERMANENT,
        _C.INVALID_SCHEMA: Rule.PERMANENT,
        _C.INVALID_STATE: Rule.PERMANENT,
        _C.INVALID_INPUT: Rule.PERMANENT,
    }
)

_TRANSIENT = Classification(retryable=True, counts_for_breaker=True)
_PERMANENT = Classification(retryable=False, counts_for_breaker=False)
_IN_DOUBT = Classification(retryable=True, counts_for_breaker=False, patient=True)


def classify(error: BaseException) -> Classification:
    """Decide whether ``error`` is retried and whether the circuit breaker counts it.

    Exceptions that are not :class:`DynamoDBServiceError` (a bug in a caller's attempt
    body, a KeyboardInterrupt) are never retried and never counted.
    """
    if not isinstance(error, DynamoDBServiceError):
        return _PERMANENT
    rule = CLASSIFICATION_TABLE.get(error.code, Rule.PERMANENT)  # a test keeps rows complete
    if rule is Rule.TRANSIENT:
        return _TRANSIENT
    if rule is Rule.BY_FLAG:
        return _TRANSIENT if error.retryable else _PERMANENT
    if rule is Rule.IN_DOUBT:
        return _IN_DOUBT
    if rule is Rule.AS_LAST_ERROR:
        last = getattr(error, "last_error", None)
        counted = isinstance(last, DynamoDBServiceError) and classify(last).counts_for_breaker
        return Classification(retryable=False, counts_for_breaker=counted)
    return _PERMANENT
