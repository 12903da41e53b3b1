"""Sending one planned write so that a retry never applies it twice.

Shared by repositories and non-atomic units of work. Two rules:

* a write whose blind resend would change the item again (ADD, arithmetic, list appends)
  goes out as a one-action TransactWriteItems with a ClientRequestToken, which DynamoDB
  applies at most once however often the retry resends it;
* a conditional write whose earlier attempt failed ambiguously (timeout, connection loss,
  5xx) and whose retry then fails its condition is checked against the item DynamoDB
  returns with the failure: if that item is exactly what this write stored, the write
  succeeded and the condition failure is its own echo.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tctf_dynamo.errors import (
    DynamoDBServiceError,
    ErrorCode,
    TransactionCancelledError,
    error_for,
)
from tctf_dynamo.providers.base import send
from tctf_dynamo.resilience.deadline import attempt_timeout
from tctf_dynamo.writes import WritePlan

if TYPE_CHECKING:
    from tctf_dynamo.service import DynamoDBService

__all__ = ["AMBIGUOUS", "send_conditional", "send_once", "send_plan", "send_put"]

AMBIGUOUS = frozenset(
    {
        ErrorCode.TIMEOUT,
        ErrorCode.CONNECTION_ERROR,
        ErrorCode.INTERNAL_ERROR,
        ErrorCode.SERVICE_UNAVAILABLE,
    }
)
"""Failures after which the write may or may not have been applied."""

_OPERATIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}


def send_put(service: DynamoDBService, plan: WritePlan) -> None:
    """Send a planned PutItem; a conditional one recognises its own earlier success."""
    if "ConditionExpression" not in plan.body:
        service.execute("PutItem", plan.request())
    else:
        send_conditional(service, "PutItem", plan, plan.request())


def send_conditional(
    service: DynamoDBService,
    operation: str,
    plan: WritePlan,
    request: dict[str, Any],
) -> dict[str, Any]:
    """Send a conditional write; after an ambiguous failure, recognise our own write.

    The plan's ``signature`` names attribute values only this write stores (the whole
    item of a put; the new version and ``updated_at`` of a versioned update). When a
    retry fails its condition and the current item carries the signature, the earlier
    attempt was applied: the current item is returned as the write's result.
    """
    request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    provider = service.provider
    ambiguous = False

    def attempt() -> dict[str, Any]:
        nonlocal ambiguous
        try:
            return send(provider, operation, request, attempt_timeout())
        except DynamoDBServiceError as error:
            if error.code in AMBIGUOUS:
                ambiguous = True
            elif error.code is ErrorCode.CONDITION_FAILED and ambiguous:
                current = error.details.get("item")
                if _carries(current, plan.signature):
                    return {"Attributes": current}
            raise

    result: dict[str, Any] = service.run(operation, attempt, table=plan.table_name)
    return result


def _carries(item: Mapping[str, Any] | None, signature: Mapping[str, Any] | None) -> bool:
    if item is None or not signature:
        return False
    return all(item.get(name) == value for name, value in signature.items())


def send_once(service: DynamoDBService, plan: WritePlan) -> None:
    """Send one non-idempotent write as a transaction with a ClientRequestToken.

    A failed condition surfaces as the CONDITION_FAILED it is, not as a cancelled
    transaction: the transaction is how the write is sent, not what the caller asked for.
    """
    try:
        service.transact_write([plan.transact_item()], client_request_token=str(uuid.uuid4()))
    except TransactionCancelledError as error:
        reason = error.reasons[0] if error.reasons else None
        if reason is None or reason.code is not ErrorCode.CONDITION_FAILED:
            raise
        details = {"operation": "UpdateItem", "entity": plan.entity.__name__}
        raise error_for(
            ErrorCode.CONDITION_FAILED, "the update's condition evaluated false", details
        ) from error


def send_plan(service: DynamoDBService, plan: WritePlan) -> dict[str, Any]:
    """Send any single-item plan by the safe route for its kind."""
    if plan.kind == "Put":
        send_put(service, plan)
        return {}
    if plan.kind == "Update" and plan.non_idempotent:
        send_once(service, plan)
        return {}
    return send_conditional(service, _OPERATIONS[plan.kind], plan, plan.request())
