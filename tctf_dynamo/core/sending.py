"""The shell that sends one write under the outcome rules of :mod:`tctf_dynamo.core.outcomes`.

Every write request goes through :func:`write_program` (``execute_program`` of every
service routes write operations here), so repositories, units of work, batches and the
plain-item API share one behaviour: the pipeline retries as usual, but after each
failed attempt the outcome rules say whether the same request may go again, and an
operation that ends while an attempt may have been applied raises
:class:`~tctf_dynamo.errors.OutcomeUnknownError` instead of a retryable error.

A write that succeeds after an attempt whose answer was lost carries that doubt as a
value (:class:`Answer`): the response proves what it reports done, and nothing of what
the lost attempt did. A batch reads it to report the entries a resend handed back as
unknown; a write that asked for its old values refuses to pass them off as proven.

:func:`write_kind` tells the kind of a wire request for callers that have no plan (the
plain-item API, ``execute`` used as an escape hatch); planned writes carry theirs.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, overload

import attrs

from tctf_dynamo.core.outcomes import (
    Idempotency,
    after_failure,
    at_end,
    old_values_unproven,
    unknown,
)
from tctf_dynamo.core.writes import WritePlan
from tctf_dynamo.effects.program import Program, Send
from tctf_dynamo.errors import (
    DynamoDBServiceError,
    ErrorCode,
    ReadBackFailedError,
    TransactionCancelledError,
    error_for,
)

if TYPE_CHECKING:
    from tctf_dynamo.core.service_core import ServiceCore
    from tctf_dynamo.resilience import ResiliencePipeline, RetryPolicy

__all__ = [
    "WRITE_OPERATIONS",
    "Answer",
    "plan_program",
    "read_back_program",
    "token_protected_program",
    "write_kind",
    "write_program",
]

WRITE_OPERATIONS = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
)
_OPERATIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}
_CHANGES_AGAIN = re.compile(r"\bADD\b|[+-]|\blist_append\s*\(")
"""In an UpdateExpression (names and values are placeholders): a clause or function that
changes the item again each time it is applied."""


def write_kind(operation: str, request: Mapping[str, Any]) -> Idempotency:
    """The idempotency of a wire write request, read from the request alone."""
    if operation == "TransactWriteItems":
        if request.get("ClientRequestToken"):
            return Idempotency.BY_TOKEN
        return Idempotency.NOT_IDEMPOTENT
    if operation == "BatchWriteItem":
        return Idempotency.NATURAL  # only unconditional puts and deletes
    if operation == "UpdateItem" and _CHANGES_AGAIN.search(request.get("UpdateExpression", "")):
        return Idempotency.NOT_IDEMPOTENT
    if request.get("ConditionExpression"):
        return Idempotency.BY_CONDITION
    return Idempotency.NATURAL


@attrs.frozen(slots=True)
class Answer:
    """A write's response, and the failure that left an earlier attempt in doubt.

    ``doubt`` is None when no earlier attempt can have been applied. Otherwise the
    response proves what it reports done and nothing about what the lost attempt did:
    an entry of a BatchWriteItem handed back in ``UnprocessedItems`` may have been
    written by it, and the old values a resend returns may be its own work.
    """

    response: dict[str, Any]
    doubt: DynamoDBServiceError | None = None


@overload
def write_program(
    pipeline: ResiliencePipeline,
    operation: str,
    request: dict[str, Any],
    kind: Idempotency,
    *,
    retry: RetryPolicy | None = None,
    timeout: float | None = None,
    answered: Literal[False] = False,
) -> Program[dict[str, Any]]: ...


@overload
def write_program(
    pipeline: ResiliencePipeline,
    operation: str,
    request: dict[str, Any],
    kind: Idempotency,
    *,
    retry: RetryPolicy | None = None,
    timeout: float | None = None,
    answered: Literal[True],
) -> Program[Answer]: ...


def write_program(
    pipeline: ResiliencePipeline,
    operation: str,
    request: dict[str, Any],
    kind: Idempotency,
    *,
    retry: RetryPolicy | None = None,
    timeout: float | None = None,
    answered: bool = False,
) -> Program[Any]:
    """``request`` sent with retries that never apply it twice, or OUTCOME_UNKNOWN.

    The result is the response, or with ``answered`` the :class:`Answer`: the response
    and the doubt an earlier attempt left (a flag, not a wrapper: no generator layer
    more on the path of every write). A write that asked for its old values and was
    answered only after a doubt raises OUTCOME_UNKNOWN (``applied`` True): a resend's
    old values prove nothing.
    """
    token = request.get("ClientRequestToken")
    in_doubt = False
    doubt: DynamoDBServiceError | None = None  # the failure that first left it in doubt

    def attempt(budget: float) -> Program[dict[str, Any]]:
        nonlocal in_doubt, doubt
        try:
            response: dict[str, Any] = yield Send(operation, request, budget)
        except DynamoDBServiceError as error:
            verdict = after_failure(kind, in_doubt, error)
            if verdict.in_doubt and doubt is None:
                doubt = error
            in_doubt = verdict.in_doubt
            if verdict.unknown_now:
                raise unknown(kind, token, operation, error, request) from error
            raise
        return response

    try:
        response: dict[str, Any] = yield from pipeline.program(
            operation, attempt, retry=retry, timeout=timeout, table=request.get("TableName")
        )
    except DynamoDBServiceError as error:
        if at_end(in_doubt, error):
            last = getattr(error, "last_error", None) or error
            raise unknown(kind, token, operation, last, request) from error
        raise
    if doubt is not None:  # applied; old values a resend returns prove nothing
        unproven = old_values_unproven(kind, operation, request, doubt)
        if unproven is not None:
            raise unproven
    return Answer(response, doubt) if answered else response


def token_protected_program(
    service: ServiceCore, plan: WritePlan, *, token: str | None = None
) -> Program[None]:
    """One write sent as a one-action TransactWriteItems with a ClientRequestToken.

    DynamoDB applies it at most once however often it is resent, and answers a replay
    with the first answer, so the outcome is proven either way. A failed condition
    surfaces as the CONDITION_FAILED it is, not as a cancelled transaction: the
    transaction is how the write is sent, not what the caller asked for.
    """
    try:
        yield from service.transact_write_program(
            [plan.transact_item()], client_request_token=token or str(uuid.uuid4())
        )
    except TransactionCancelledError as error:
        reason = error.reasons[0] if error.reasons else None
        if reason is None or reason.code is not ErrorCode.CONDITION_FAILED:
            raise
        details = {
            "operation": _OPERATIONS.get(plan.kind, plan.kind),
            "entity": plan.entity.__name__,
        }
        raise error_for(
            ErrorCode.CONDITION_FAILED, "the write's condition evaluated false", details
        ) from error


def read_back_program(service: ServiceCore, plan: WritePlan) -> Program[dict[str, Any]]:
    """The item a committed write left, read consistently.

    The write is applied whatever happens here: a failed read is READ_BACK_FAILED (not
    retryable, ``applied`` True), never the write's failure.
    """
    request = {"TableName": plan.table_name, "Key": plan.key, "ConsistentRead": True}
    try:
        response = yield from service.execute_program("GetItem", request)
    except DynamoDBServiceError as error:
        raise ReadBackFailedError(
            f"{plan.entity.__name__}: the write was applied; reading the item back failed "
            f"({error.code.value}): read it again, do not send the write again",
            last_error=error,
            details={"entity": plan.entity.__name__, "operation": "GetItem"},
        ) from error
    item = response.get("Item")
    if item is None:
        raise error_for(
            ErrorCode.ITEM_NOT_FOUND,
            f"{plan.entity.__name__}: the write was applied, and the item was deleted since",
            {"entity": plan.entity.__name__, "applied": True},
        )
    found: dict[str, Any] = item
    return found


def plan_program(
    service: ServiceCore, plan: WritePlan, *, return_values: str | None = None
) -> Program[dict[str, Any]]:
    """Any single-item plan sent by the route its kind needs; the response, if any.

    Updates whose own actions a resend would apply again go token-protected (nothing
    comes back); every other write goes as itself, its kind deciding what is retried.
    """
    if plan.kind == "Update" and plan.token_by_default:
        yield from token_protected_program(service, plan)
        return {}
    extra = {"ReturnValues": return_values} if return_values else {}
    return (
        yield from service.execute_program(
            _OPERATIONS[plan.kind], plan.request(**extra), idempotency=plan.idempotency
        )
    )
