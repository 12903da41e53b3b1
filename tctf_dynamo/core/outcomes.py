"""What a failed write means and what happens next: the one place that decides.

Every path that writes (repository, unit of work, batches, the plain-item API) sends
through a thin shell (:mod:`tctf_dynamo.core.sending`) that asks this module, after each
failed attempt, whether the same request may go again and, when the operation ends,
what the caller is told: applied (the call returns), not applied (the error as it is),
or unknown (:class:`~tctf_dynamo.errors.OutcomeUnknownError`). Nothing here does I/O,
so a sync and an async shell share every rule. ``docs/outcomes.md`` draws the table.

A failed attempt falls in one :class:`Failure` class, a write in one
:class:`Idempotency` kind. Success is only ever claimed on proof: an answer of success,
or, for a token-protected write, DynamoDB's replay of the token's first answer. Equal
content is never proof: a competitor may have written the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

import attrs

from tctf_dynamo.errors import (
    DynamoDBServiceError,
    ErrorCode,
    InvalidInputError,
    OutcomeUnknownError,
    TransactionCancelledError,
)
from tctf_dynamo.limits import CLIENT_REQUEST_TOKEN_TTL_SECONDS

__all__ = [
    "Failure",
    "Idempotency",
    "Verdict",
    "after_failure",
    "at_end",
    "failure_class",
    "old_values_unproven",
    "settle_instructions",
    "unknown",
]


class Idempotency(Enum):
    """What keeps a write from being applied twice when its request is sent again."""

    NATURAL = "natural"
    """Sending it again stores the same thing: unconditional puts and deletes, updates
    that only SET values or REMOVE attributes."""
    BY_CONDITION = "condition"
    """Its condition fails once it is applied: creates, versioned writes, conditional
    writes. A resend is safe, but its condition failure cannot tell our earlier attempt
    from a competitor's write."""
    BY_TOKEN = "token"
    """A TransactWriteItems with a ClientRequestToken: DynamoDB applies it at most once and
    answers a replay with the first answer, which proves the outcome either way."""
    NOT_IDEMPOTENT = "none"
    """A resend would apply it again: ADD, arithmetic, list appends, a version bump with no
    expected version, sent without a token. Never resent after an ambiguous attempt."""


class Failure(Enum):
    """What one failed attempt says about whether it was applied."""

    REFUSED = "refused"
    """Refused before sending, or refused as invalid (bad input, open circuit, validation,
    access denied): this attempt was not applied."""
    NOT_SENT = "not_sent"
    """Failed before reaching DynamoDB, or answered without applying anything (throttled,
    transaction conflict, connection refused, connect timeout)."""
    AMBIGUOUS = "ambiguous"
    """Sent, and the answer was lost or was a server error: it may have been applied (read
    timeout, connection reset or closed, 5xx, anything unrecognised)."""
    IN_PROGRESS = "in_progress"
    """An earlier request with the same token is still running (TransactionInProgress)."""
    DECIDED = "decided"
    """DynamoDB evaluated the write and refused it: condition failed, cancelled; or
    refused its token as another request's (IdempotentParameterMismatch: an identical
    resend of a request that had claimed the token would get its replay instead)."""


_NOT_SENT_CODES = frozenset(
    {ErrorCode.THROTTLED, ErrorCode.TRANSACTION_CONFLICT, ErrorCode.CIRCUIT_OPEN}
)
_AMBIGUOUS_CODES = frozenset(
    {
        ErrorCode.TIMEOUT,
        ErrorCode.CONNECTION_ERROR,
        ErrorCode.INTERNAL_ERROR,
        ErrorCode.SERVICE_UNAVAILABLE,
        ErrorCode.PROVIDER_ERROR,
    }
)
_DECIDED_CODES = frozenset(
    {
        ErrorCode.CONDITION_FAILED,
        ErrorCode.TRANSACTION_CANCELLED,
        ErrorCode.IDEMPOTENT_PARAMETER_MISMATCH,
    }
)
_UNSENT_TRANSPORT = frozenset({"EndpointConnectionError", "ConnectTimeoutError"})
"""Transport failures raised before a byte of the request left: the connection was
refused or never opened. Every other transport failure may come after DynamoDB read it."""


def failure_class(error: DynamoDBServiceError) -> Failure:
    """The class of one attempt's failure, from its code and transport details."""
    code = error.code
    if code is ErrorCode.TRANSACTION_IN_PROGRESS:
        return Failure.IN_PROGRESS
    if code in _DECIDED_CODES:
        if isinstance(error, TransactionCancelledError) and _only_transient_reasons(error):
            return Failure.NOT_SENT  # cancelled for conflicts or throttling: nothing applied
        return Failure.DECIDED
    if code in _NOT_SENT_CODES:
        return Failure.NOT_SENT
    if code in _AMBIGUOUS_CODES:
        if error.details.get("exception") in _UNSENT_TRANSPORT:
            return Failure.NOT_SENT
        if code is ErrorCode.PROVIDER_ERROR and _client_error(error):
            return Failure.REFUSED  # an answer in the 4xx range: refused, not applied
        return Failure.AMBIGUOUS
    if isinstance(error, InvalidInputError):
        return Failure.REFUSED
    if code in {
        ErrorCode.SERVICE_VALIDATION_FAILED,
        ErrorCode.ACCESS_DENIED,
        ErrorCode.TABLE_NOT_FOUND,
        ErrorCode.ITEM_COLLECTION_SIZE_LIMIT,
    }:
        return Failure.REFUSED
    return Failure.AMBIGUOUS  # what we cannot place may have been applied


def _client_error(error: DynamoDBServiceError) -> bool:
    status = error.details.get("http_status")
    return isinstance(status, int) and 400 <= status < 500


def _only_transient_reasons(error: TransactionCancelledError) -> bool:
    failed = error.failed
    return bool(failed) and all(
        reason.code in {ErrorCode.TRANSACTION_CONFLICT, ErrorCode.THROTTLED} for reason in failed
    )


@attrs.frozen(slots=True)
class Verdict:
    """The decision after one failed attempt.

    ``in_doubt``: some attempt so far may have been applied and no answer since proved
    otherwise. ``unknown_now``: stop and report OUTCOME_UNKNOWN (the request must not be
    sent again, or an answer left the doubt standing). Otherwise the error goes to the
    retry loop, which resends it or ends the operation by its own rules (see
    :func:`at_end` for what the caller is told then).
    """

    in_doubt: bool
    unknown_now: bool = False


def after_failure(kind: Idempotency, in_doubt: bool, error: DynamoDBServiceError) -> Verdict:
    """Decide after a failed attempt of a write of ``kind``; ``in_doubt`` is the state
    before this attempt."""
    failure = failure_class(error)
    if failure is Failure.AMBIGUOUS:
        return Verdict(in_doubt=True, unknown_now=kind is Idempotency.NOT_IDEMPOTENT)
    if failure is Failure.IN_PROGRESS:
        return Verdict(in_doubt=True)
    if failure is Failure.DECIDED:
        if kind is Idempotency.BY_TOKEN:
            # a replay of a committed token answers success: this refusal proves that no
            # attempt with the token was applied
            return Verdict(in_doubt=False)
        return Verdict(in_doubt=in_doubt, unknown_now=in_doubt)
    if failure is Failure.REFUSED:
        return Verdict(in_doubt=in_doubt, unknown_now=in_doubt)
    return Verdict(in_doubt=in_doubt)  # NOT_SENT: says nothing about earlier attempts


def at_end(in_doubt: bool, error: DynamoDBServiceError) -> bool:
    """True when an operation that ended with ``error`` must be reported as unknown."""
    return in_doubt and error.code is not ErrorCode.OUTCOME_UNKNOWN


def settle_instructions(kind: Idempotency, token: str | None) -> str:
    """How the caller finds out what happened to a write reported as unknown."""
    minutes = CLIENT_REQUEST_TOKEN_TTL_SECONDS // 60
    if kind is Idempotency.BY_TOKEN and token is not None:
        return (
            f"send error.request again (service.settle(error)) within {minutes} minutes of "
            "the first attempt, or commit the same unit of work again with "
            f"client_request_token={token!r}: DynamoDB answers success if it was applied "
            "and applies it at most once; a cancellation means it was not applied"
        )
    if kind is Idempotency.NOT_IDEMPOTENT:
        return (
            "read the item with a consistent read and decide from your own records; do not "
            "send the write again, it may be applied twice. Send such writes in a unit of "
            "work (or Repository.update with idempotent=True) to get a settleable token"
        )
    return (
        "read the item with a consistent read: the write's condition keeps a resend from "
        "applying twice, but an item that matches it may be another caller's; send writes "
        "whose authorship matters in a unit of work with a client_request_token"
    )


def unknown(
    kind: Idempotency,
    token: str | None,
    operation: str,
    last_error: DynamoDBServiceError,
    request: Mapping[str, Any] | None = None,
) -> OutcomeUnknownError:
    """The OUTCOME_UNKNOWN error for a write of ``kind`` that ended in doubt."""
    return OutcomeUnknownError(
        f"{operation}: the write may or may not have been applied "
        f"(last failure {last_error.code.value})",
        last_error=last_error,
        token=token,
        settle=settle_instructions(kind, token),
        details={"operation": operation, "idempotency": kind.value},
        request=request if kind is Idempotency.BY_TOKEN else None,
    )


_RETURNS_OLD = frozenset({"ALL_OLD", "UPDATED_OLD"})


def old_values_unproven(
    kind: Idempotency, operation: str, request: Mapping[str, Any], doubt: DynamoDBServiceError
) -> OutcomeUnknownError | None:
    """The error to raise when a write that asked for its old values was answered only
    after ``doubt`` (an attempt whose answer was lost), else None.

    The write is applied: the answer says so. What it replaced or deleted is not known:
    a resend's old values may be the lost attempt's own work (a put or update that
    already applied), or missing because the lost attempt deleted the item. Returning
    them would report, say, "there was nothing to delete" for an item this call deleted.
    """
    if request.get("ReturnValues") not in _RETURNS_OLD:
        return None
    return OutcomeUnknownError(
        f"{operation}: the write is applied, but what it replaced or deleted is unknown: "
        "an earlier attempt's answer was lost, and the old values a resend returns may be "
        f"that attempt's own work (last failure {doubt.code.value})",
        last_error=doubt,
        token=None,
        settle=(
            "the write is applied (the item now holds its result, or is deleted); what it "
            "held before this call cannot be read back from DynamoDB: decide from your own "
            "records, and do not take a resend's old values as what this call replaced"
        ),
        details={"operation": operation, "idempotency": kind.value, "applied": True},
    )
