"""Limits of TransactWriteItems / TransactGetItems, checked before anything is sent.

DynamoDB refuses a transaction with more than 100 actions, more than 4 MB in all, or
two actions on one item; it says so only after a round trip, and a peer that splits such
a transaction silently loses atomicity. Checking here turns each into a clear error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tctf_dynamo.core.item_identity import Identity, item_identity
from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.limits import (
    MAX_EXPRESSION_BYTES,
    MAX_TRANSACTION_ACTIONS,
    MAX_TRANSACTION_BYTES,
)
from tctf_dynamo.validation import (
    IndexSchemas,
    KeyAttribute,
    UnsafeValuePolicy,
    validate_index_keys,
    validate_item,
    validate_key,
    validate_table_name,
)
from tctf_dynamo.wire.attribute_values import check_attribute_values
from tctf_dynamo.wire.codec import attribute_value_size, item_size

__all__ = [
    "action_identity",
    "action_size",
    "check_transaction_actions",
    "fold_condition",
    "set_literals",
    "validate_action",
]

ACTION_KINDS = ("Put", "Update", "Delete", "ConditionCheck", "Get")
ItemIdentity = Identity


def _body(action: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    for kind in ACTION_KINDS:
        body = action.get(kind)
        if body is not None:
            return kind, body
    raise error_for(
        ErrorCode.INVALID_STATE,
        "a transaction action must be one of Put, Update, Delete, ConditionCheck or Get",
    )


def action_identity(action: Mapping[str, Any], schema: Sequence[KeyAttribute]) -> ItemIdentity:
    """(table, key values...) of the item an action touches, by the rule batches use too:
    equal identities mean the same item (``1`` and ``1.0`` are one number key)."""
    kind, body = _body(action)
    source = body["Item"] if kind == "Put" else body["Key"]
    return item_identity(body["TableName"], schema, source)


def validate_action(
    action: Mapping[str, Any],
    schema_for: Callable[[str], Sequence[KeyAttribute]],
    policy: UnsafeValuePolicy | None = None,
    indexes_for: Callable[[str], IndexSchemas] | None = None,
) -> None:
    """One action as DynamoDB checks it: a table name, a valid key (or a valid item for a
    Put, under ``policy``, index keys included), valid expression values, and for an
    Update the values it SETs on index key attributes checked as index keys."""
    kind, body = _body(action)
    table = body.get("TableName")
    validate_table_name(table)  # type: ignore[arg-type]
    schema = schema_for(table)  # type: ignore[arg-type]
    source = body.get("Item" if kind == "Put" else "Key")
    if not isinstance(source, Mapping):
        raise error_for(
            ErrorCode.INVALID_ITEM if kind == "Put" else ErrorCode.INVALID_KEY,
            f"a {kind} action needs {'an Item' if kind == 'Put' else 'a Key'}",
            {"action": kind},
        )
    indexes = None
    if indexes_for is not None and kind in ("Put", "Update"):
        indexes = indexes_for(table)  # type: ignore[arg-type]
    if kind == "Put":
        validate_item(source, schema, policy, indexes)
    else:
        validate_key(source, schema)
    values = body.get("ExpressionAttributeValues")
    if values:
        check_attribute_values(values)
    if kind == "Update" and indexes:
        # the rule a put's index keys and update_item's SETs are held to
        validate_index_keys(set_literals(body), indexes)


def action_size(action: Mapping[str, Any]) -> int:
    """Bytes an action contributes to the 4 MB transaction limit (item or key, and values)."""
    kind, body = _body(action)
    size = item_size(body["Item"]) if kind == "Put" else item_size(body["Key"])
    for value in body.get("ExpressionAttributeValues", {}).values():
        size += attribute_value_size(value)
    return size


def check_transaction_actions(
    actions: Sequence[Mapping[str, Any]],
    schema_for: Callable[[str], Sequence[KeyAttribute]],
    policy: UnsafeValuePolicy | None = None,
    indexes_for: Callable[[str], IndexSchemas] | None = None,
) -> None:
    """Refuse an empty transaction, more than 100 actions, over 4 MB, or one item twice,
    and any action :func:`validate_action` refuses."""
    if not actions:
        raise error_for(ErrorCode.INVALID_STATE, "a transaction needs at least one action")
    if len(actions) > MAX_TRANSACTION_ACTIONS:
        raise error_for(
            ErrorCode.TRANSACTION_TOO_LARGE,
            f"a transaction holds at most {MAX_TRANSACTION_ACTIONS} actions",
            {"actions": len(actions), "limit": MAX_TRANSACTION_ACTIONS},
        )
    seen: dict[ItemIdentity, int] = {}
    total = 0
    for index, action in enumerate(actions):
        validate_action(action, schema_for, policy, indexes_for)
        total += action_size(action)
        identity = action_identity(action, schema_for(_body(action)[1]["TableName"]))
        if identity in seen:
            raise error_for(
                ErrorCode.DUPLICATE_ITEM_IN_REQUEST,
                "two actions of one transaction address the same item",
                {"first_index": seen[identity], "second_index": index, "table": identity[0]},
            )
        seen[identity] = index
    if total > MAX_TRANSACTION_BYTES:
        raise error_for(
            ErrorCode.TRANSACTION_TOO_LARGE,
            f"a transaction carries at most {MAX_TRANSACTION_BYTES} bytes",
            {"size": total, "limit": MAX_TRANSACTION_BYTES},
        )


_PLACEHOLDER = re.compile(r"([#:])([A-Za-z]\w*)")


def fold_condition(body: Mapping[str, Any], check: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` (a write action) also guarded by the condition of ``check``.

    DynamoDB refuses two actions on one item in a transaction, but a condition check and
    a write of the same item mean exactly "write only if both conditions hold". The check's
    placeholders are renamed (``#n0`` -> ``#cn0``) so the two compiled expressions can
    share one request; every name and value stays a placeholder.
    """

    def renamed(token: str) -> str:
        return _PLACEHOLDER.sub(lambda match: f"{match[1]}c{match[2]}", token)

    folded = dict(body)
    check_expression = renamed(check["ConditionExpression"])
    own = body.get("ConditionExpression")
    expression = f"({own}) AND ({check_expression})" if own else check_expression
    if len(expression.encode()) > MAX_EXPRESSION_BYTES:
        raise error_for(
            ErrorCode.INVALID_EXPRESSION,
            "the write's condition and the folded condition check exceed the expression limit",
            {"size": len(expression.encode()), "limit": MAX_EXPRESSION_BYTES},
        )
    folded["ConditionExpression"] = expression
    for part in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
        merged = {**body.get(part, {}), **{renamed(k): v for k, v in check.get(part, {}).items()}}
        if merged:
            folded[part] = merged
    return folded


_CLAUSE = re.compile(r"\b(SET|REMOVE|ADD|DELETE)\b", re.IGNORECASE)
"""The clause keywords of an UpdateExpression: reserved words, so never a bare name."""
_VALUE = re.compile(r":\w+")


def set_literals(body: Mapping[str, Any]) -> dict[str, Any]:
    """The top-level attributes a wire Update action SETs to a plain value, with that
    value (``SET #n0 = :v0`` gives ``{name: AttributeValue}``).

    The wire form of what :func:`tctf_dynamo.core.requests.update_request` reads from an
    ``Update``: a value computed by DynamoDB (``if_not_exists``, arithmetic, a copy of
    another attribute) or written inside a document path is not a literal and is left
    out, on both paths.
    """
    expression = body.get("UpdateExpression") or ""
    names: Mapping[str, str] = body.get("ExpressionAttributeNames") or {}
    values: Mapping[str, Any] = body.get("ExpressionAttributeValues") or {}
    parts = _CLAUSE.split(expression)
    found: dict[str, Any] = {}
    for keyword, text in zip(parts[1::2], parts[2::2], strict=True):
        if keyword.upper() != "SET":
            continue
        for assignment in _top_level(text):
            target, equals, operand = assignment.partition("=")
            target, operand = target.strip(), operand.strip()
            if not equals or not _VALUE.fullmatch(operand) or operand not in values:
                continue
            name = names.get(target) if target.startswith("#") else target
            if name is not None and "." not in target and "[" not in target:
                found[name] = values[operand]
    return found


def _top_level(text: str) -> list[str]:
    """``text`` split at the commas outside parentheses (function arguments)."""
    pieces, depth, start = [], 0, 0
    for position, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            pieces.append(text[start:position])
            start = position + 1
    pieces.append(text[start:])
    return pieces
