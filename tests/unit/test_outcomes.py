"""The outcome rules as a table: failure class x kind of write -> resend or report."""

from __future__ import annotations

import pytest

from tctf_dynamo.core.outcomes import (
    Failure,
    Idempotency,
    after_failure,
    at_end,
    failure_class,
    settle_instructions,
    unknown,
)
from tctf_dynamo.core.sending import write_kind
from tctf_dynamo.errors import (
    CancellationReason,
    DynamoDBServiceError,
    ErrorCode,
    TransactionCancelledError,
    error_for,
)
from tctf_dynamo.providers.errors import refusal, transport_failure
from tctf_dynamo.resilience import RetryPolicy
from tctf_dynamo.resilience.deadline import Deadline
from tctf_dynamo.resilience.retry import CallContext, execute

K = Idempotency


def cancelled(*codes: ErrorCode | None) -> TransactionCancelledError:
    reasons = [CancellationReason(i, code) for i, code in enumerate(codes)]
    return TransactionCancelledError("cancelled", reasons)


CLASSES: list[tuple[DynamoDBServiceError, Failure]] = [
    (transport_failure("PutItem", ErrorCode.TIMEOUT, "ReadTimeoutError"), Failure.AMBIGUOUS),
    (transport_failure("PutItem", ErrorCode.TIMEOUT, "ConnectTimeoutError"), Failure.NOT_SENT),
    (
        transport_failure("PutItem", ErrorCode.CONNECTION_ERROR, "EndpointConnectionError"),
        Failure.NOT_SENT,
    ),
    (
        transport_failure("PutItem", ErrorCode.CONNECTION_ERROR, "ConnectionClosedError"),
        Failure.AMBIGUOUS,
    ),
    (refusal("PutItem", "InternalServerError", 500, "x"), Failure.AMBIGUOUS),
    (refusal("PutItem", "ServiceUnavailable", 503, "x"), Failure.AMBIGUOUS),
    (refusal("PutItem", "ThrottlingException", 400, "x"), Failure.NOT_SENT),
    (
        refusal("TransactWriteItems", "TransactionInProgressException", 400, "x"),
        Failure.IN_PROGRESS,
    ),
    (refusal("PutItem", "ConditionalCheckFailedException", 400, "x"), Failure.DECIDED),
    (refusal("PutItem", "ValidationException", 400, "x"), Failure.REFUSED),
    (
        refusal("TransactWriteItems", "IdempotentParameterMismatchException", 400, "x"),
        Failure.DECIDED,
    ),
    (error_for(ErrorCode.INVALID_KEY, "bad"), Failure.REFUSED),
    (error_for(ErrorCode.CIRCUIT_OPEN, "open"), Failure.NOT_SENT),
    (cancelled(None, ErrorCode.CONDITION_FAILED), Failure.DECIDED),
    (cancelled(ErrorCode.TRANSACTION_CONFLICT, None), Failure.NOT_SENT),
    (error_for(ErrorCode.PROVIDER_ERROR, "what"), Failure.AMBIGUOUS),
]


@pytest.mark.parametrize(("error", "expected"), CLASSES, ids=lambda v: getattr(v, "name", ""))
def test_each_failure_falls_in_one_class(error: DynamoDBServiceError, expected: Failure) -> None:
    assert failure_class(error) is expected


AMBIGUOUS = transport_failure("X", ErrorCode.TIMEOUT, "ReadTimeoutError")
NOT_SENT = refusal("X", "ThrottlingException", 400, "x")
IN_PROGRESS = refusal("X", "TransactionInProgressException", 400, "x")
CONDITION = refusal("X", "ConditionalCheckFailedException", 400, "x")
REFUSED = refusal("X", "ValidationException", 400, "x")
MISMATCH = refusal("X", "IdempotentParameterMismatchException", 400, "x")

# (kind, in doubt before, error) -> (in doubt after, report unknown now)
RULES = [
    (K.NOT_IDEMPOTENT, False, AMBIGUOUS, True, True),
    (K.NOT_IDEMPOTENT, False, NOT_SENT, False, False),
    (K.NATURAL, False, AMBIGUOUS, True, False),
    (K.BY_CONDITION, False, AMBIGUOUS, True, False),
    (K.BY_TOKEN, False, AMBIGUOUS, True, False),
    (K.BY_TOKEN, True, IN_PROGRESS, True, False),
    (K.BY_TOKEN, True, CONDITION, False, False),  # the replay proves: not applied
    # the token is another request's: an identical resend of ours would get its replay
    (K.BY_TOKEN, True, MISMATCH, False, False),
    (K.BY_TOKEN, False, MISMATCH, False, False),
    (K.BY_CONDITION, True, CONDITION, True, True),  # ours or a competitor's: unknown
    (K.NATURAL, True, CONDITION, True, True),
    (K.BY_CONDITION, False, CONDITION, False, False),  # no doubt: plainly not applied
    (K.BY_CONDITION, True, NOT_SENT, True, False),  # a throttle proves nothing earlier
    (K.BY_TOKEN, True, NOT_SENT, True, False),
    (K.BY_CONDITION, True, REFUSED, True, True),
    (K.NATURAL, False, REFUSED, False, False),
]


@pytest.mark.parametrize(("kind", "before", "error", "after", "now"), RULES)
def test_the_decision_after_a_failed_attempt(
    kind: Idempotency, before: bool, error: DynamoDBServiceError, after: bool, now: bool
) -> None:
    verdict = after_failure(kind, before, error)
    assert (verdict.in_doubt, verdict.unknown_now) == (after, now)


def test_an_operation_ending_in_doubt_is_unknown_and_one_without_doubt_is_not() -> None:
    assert at_end(True, NOT_SENT) is True
    assert at_end(False, NOT_SENT) is False
    already = unknown(K.BY_TOKEN, "t", "TransactWriteItems", AMBIGUOUS, {"a": 1})
    assert at_end(True, already) is False


def test_unknown_carries_the_token_and_request_only_for_token_writes() -> None:
    by_token = unknown(K.BY_TOKEN, "tok-1", "TransactWriteItems", AMBIGUOUS, {"A": 1})
    assert (by_token.token, by_token.request, by_token.retryable) == ("tok-1", {"A": 1}, False)
    assert "tok-1" in by_token.settle and "tok-1" not in by_token.message
    plain = unknown(K.NOT_IDEMPOTENT, None, "UpdateItem", AMBIGUOUS, {"A": 1})
    assert plain.request is None and plain.token is None
    assert "do not send the write again" in settle_instructions(K.NOT_IDEMPOTENT, None)


WIRE = [
    ("TransactWriteItems", {"ClientRequestToken": "t"}, K.BY_TOKEN),
    ("TransactWriteItems", {}, K.NOT_IDEMPOTENT),
    ("BatchWriteItem", {}, K.NATURAL),
    ("PutItem", {}, K.NATURAL),
    ("PutItem", {"ConditionExpression": "attribute_not_exists(#n0)"}, K.BY_CONDITION),
    ("UpdateItem", {"UpdateExpression": "SET #n0 = :v0"}, K.NATURAL),
    ("UpdateItem", {"UpdateExpression": "ADD #n0 :v0"}, K.NOT_IDEMPOTENT),
    ("UpdateItem", {"UpdateExpression": "SET #n0 = #n0 + :v0"}, K.NOT_IDEMPOTENT),
    ("UpdateItem", {"UpdateExpression": "SET #n0 = list_append(#n0, :v0)"}, K.NOT_IDEMPOTENT),
    (
        "UpdateItem",
        {"UpdateExpression": "ADD #n0 :v0", "ConditionExpression": "#n1 = :v1"},
        K.NOT_IDEMPOTENT,
    ),
    ("DeleteItem", {"ConditionExpression": "#n0 = :v0"}, K.BY_CONDITION),
]


@pytest.mark.parametrize(("operation", "request_", "kind"), WIRE)
def test_the_kind_of_a_wire_request(operation: str, request_: dict, kind: Idempotency) -> None:
    assert write_kind(operation, request_) is kind


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_in_progress_is_asked_past_max_attempts_until_an_answer() -> None:
    clock = Clock()
    answers: list[DynamoDBServiceError | None] = [IN_PROGRESS] * 7 + [None]

    def attempt() -> str:
        answer = answers.pop(0)
        if answer is not None:
            raise answer
        return "committed"

    result = execute(
        attempt,
        policy=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.1),
        deadline=Deadline.start(60, clock),
        sleep=clock.sleep,
        random=lambda: 0.5,
        context=CallContext("TransactWriteItems"),
    )
    assert result == "committed" and not answers


def test_in_progress_stops_at_the_deadline() -> None:
    clock = Clock()
    calls = 0

    def attempt() -> str:
        nonlocal calls
        calls += 1
        raise IN_PROGRESS

    with pytest.raises(DynamoDBServiceError) as caught:
        execute(
            attempt,
            policy=RetryPolicy(max_attempts=2, base_delay=0.1, max_delay=0.5),
            deadline=Deadline.start(5, clock),
            sleep=clock.sleep,
            random=lambda: 0.5,
            context=CallContext("TransactWriteItems"),
        )
    assert caught.value.code is ErrorCode.TIMEOUT
    assert calls > 2 and clock.now <= 5


def test_a_token_mismatch_has_its_own_code_and_says_what_it_proves() -> None:
    error = refusal("TransactWriteItems", "IdempotentParameterMismatchException", 400, "x")
    assert error.code is ErrorCode.IDEMPOTENT_PARAMETER_MISMATCH
    assert error.retryable is False
    assert "NOT applied" in error.message and "10 minutes" in error.message
    assert "earlier request with that token may have been applied" in error.message


def test_old_values_answered_after_doubt_are_unproven_new_values_are_not() -> None:
    from tctf_dynamo.core.outcomes import old_values_unproven

    for asked in ("ALL_OLD", "UPDATED_OLD"):
        error = old_values_unproven(K.NATURAL, "DeleteItem", {"ReturnValues": asked}, AMBIGUOUS)
        assert error is not None and error.details["applied"] is True
        assert error.last_error is AMBIGUOUS
    for asked in ("ALL_NEW", "UPDATED_NEW", None):
        assert (
            old_values_unproven(K.NATURAL, "UpdateItem", {"ReturnValues": asked}, AMBIGUOUS) is None
        )


RESET = transport_failure("X", ErrorCode.CONNECTION_ERROR, "ConnectionClosedError")


@pytest.mark.parametrize(
    ("failures", "doubt"),
    [
        ([], None),
        ([NOT_SENT, NOT_SENT], None),
        ([AMBIGUOUS, NOT_SENT], AMBIGUOUS),
        ([NOT_SENT, AMBIGUOUS, RESET], AMBIGUOUS),
    ],
)
def test_a_write_is_answered_with_the_failure_that_first_left_it_in_doubt(
    failures: list[DynamoDBServiceError], doubt: DynamoDBServiceError | None
) -> None:
    """The doubt is a value of the answer (what a batch reads to report entries handed
    back after a lost answer as unknown), not a side channel."""
    from tctf_dynamo import DynamoDBService, MockProvider

    left = list(failures)

    def handle(operation: str, request: dict[str, object]) -> dict[str, object]:
        if left:
            raise left.pop(0)
        return {"UnprocessedItems": {}}

    service = DynamoDBService(
        MockProvider(handle), retry=RetryPolicy(max_attempts=4), sleep=lambda _s: None
    )
    request = {"RequestItems": {"t": [{"DeleteRequest": {"Key": {"PK": {"S": "a"}}}}]}}
    answer = service.run_program(service.answer_program("BatchWriteItem", request))
    assert answer.response == {"UnprocessedItems": {}}
    assert answer.doubt is doubt
    assert not left
