"""Cancellation reasons of a TransactWriteItems, given back to the intents they belong to.

DynamoDB answers a cancelled transaction with one reason per action, in request order.
The unit of work sends its intents in the order they were added and never reorders or
splits them (a condition check folded into the write of the same item shares that
write's action), so each reason belongs to the intents its action carries; this module
attaches to each reason what the caller knows that intent by (operation, entity, key
fields) and, when asked for, the item that failed the condition, parsed as its entity.

Messages name indexes, operations, entities and codes only: the keys and items are in
the reasons, never in text that ends up in logs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from tctf_dynamo.errors import (
    CancellationReason,
    DynamoDBServiceError,
    ErrorCode,
    RetriesExhaustedError,
    TransactionCancelledError,
)
from tctf_dynamo.expressions import evaluate
from tctf_dynamo.uow._intents import Intent
from tctf_dynamo.wire.codec import decode_item

__all__ = ["align_cancellation", "align_exhausted"]

_REASON_TEXT = {
    ErrorCode.CONDITION_FAILED: "the condition of this intent did not hold",
    ErrorCode.TRANSACTION_CONFLICT: "another transaction was writing this item",
    ErrorCode.THROTTLED: "the table or index was throttled",
    ErrorCode.ITEM_COLLECTION_SIZE_LIMIT: "the item collection reached its size limit",
    ErrorCode.SERVICE_VALIDATION_FAILED: "DynamoDB refused this action as invalid",
}


def align_cancellation(
    error: TransactionCancelledError, intents: Sequence[Intent], carriers: Sequence[int]
) -> TransactionCancelledError:
    """The same cancellation, with ``reasons[i]`` describing ``intents[i]``.

    ``carriers[i]`` is the action that carried intent *i*: its own, or the one a condition
    check was folded into. A folded action that failed its condition is explained per
    intent by evaluating each intent's own condition on the item DynamoDB returned.
    """
    shared = Counter(carriers)
    reasons = []
    for intent in intents:
        position = carriers[intent.index]
        raw = error.reasons[position] if position < len(error.reasons) else None
        reason = _reason(intent, raw)
        if shared[position] > 1 and raw is not None and raw.code is ErrorCode.CONDITION_FAILED:
            reason = _explained(reason, intent, raw.item)
        reasons.append(reason)
    failed = [reason for reason in reasons if reason.code is not None]
    summary = "; ".join(
        f"intent {r.index} ({r.operation} {r.entity}): {r.code.value}"
        for r in failed
        if r.code is not None
    )
    details: dict[str, Any] = {
        key: value for key, value in error.details.items() if key != "aws_message"
    }
    details["failed_indexes"] = [reason.index for reason in failed]
    return TransactionCancelledError(
        f"unit of work cancelled: {summary or 'DynamoDB gave no reason'}",
        reasons,
        details,
        retryable=error.retryable,
    )


def align_exhausted(
    error: RetriesExhaustedError, intents: Sequence[Intent], carriers: Sequence[int]
) -> RetriesExhaustedError:
    """Retries ran out on conflicts or throttling: keep the error, align its last reasons."""
    last = error.last_error
    if not isinstance(last, TransactionCancelledError):
        return error
    details = {k: v for k, v in error.details.items() if k not in {"attempts", "last_code"}}
    return RetriesExhaustedError(
        error.message, align_cancellation(last, intents, carriers), error.attempts, details
    )


def _reason(intent: Intent, raw: CancellationReason | None) -> CancellationReason:
    code = raw.code if raw is not None else None
    return CancellationReason(
        intent.index,
        code,
        _REASON_TEXT.get(code, "") if code is not None else "",
        operation=intent.operation,
        entity=intent.entity_name,
        key=intent.plan.key_fields,
        item=_parsed(intent, raw.item) if raw is not None and raw.item else None,
    )


def _explained(reason: CancellationReason, intent: Intent, item: Any) -> CancellationReason:
    """Keep CONDITION_FAILED only if this intent's own condition fails on ``item``.

    An intent without a condition is innocent. A folded action always asks for the old
    item, so when none comes back the item does not exist, and each condition is
    evaluated on an empty item (``attribute_not_exists`` holds, comparisons fail).
    """
    condition = intent.plan.condition
    # a folded action always asks for the old item: none back means there is no item
    current = decode_item(item) if item is not None else {}
    failed_here = condition is not None and not evaluate(condition, current)
    if failed_here:
        return reason
    # an intent without a condition cannot fail one; one whose condition holds did not
    return CancellationReason(
        reason.index,
        None,
        "",
        operation=reason.operation,
        entity=reason.entity,
        key=reason.key,
        item=reason.item,
    )


def _parsed(intent: Intent, item: Any) -> Any:
    """The failing item as its entity; the wire item if it is not one (another type)."""
    try:
        return intent.plan.entity.from_item(item)
    except DynamoDBServiceError:
        return item
