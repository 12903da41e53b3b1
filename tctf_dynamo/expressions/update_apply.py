"""Apply an ``Update`` to a wire item (AttributeValues), following DynamoDB's rules.

SET operands are all read from the item as it was before the update; ADD creates missing
numbers (from 0) and sets; DELETE drops an attribute whose set it empties; REMOVE takes
list elements out by their original positions (highest index first), and SET on a list
index past the end appends. What DynamoDB refuses while running the update raises
SERVICE_VALIDATION_FAILED, the code the server's refusal is translated to.
"""

from __future__ import annotations

import copy
import decimal
from collections.abc import Mapping
from typing import Any

from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.expressions.operands import (
    Arithmetic,
    IfNotExists,
    ListAppend,
    SetOperand,
    Value,
)
from tctf_dynamo.expressions.paths import Path
from tctf_dynamo.expressions.updates import (
    AddAction,
    DeleteAction,
    RemoveAction,
    SetAction,
    Update,
)
from tctf_dynamo.expressions.wire import Wire, canonical, payload_of, resolve, tag_of, wire_equal
from tctf_dynamo.wire import codec

__all__ = ["apply_wire_update"]

_ARITHMETIC = decimal.Context(prec=80)
"""Wide enough that a sum is exact; the codec then refuses what DynamoDB cannot store."""


def _refused(message: str, **details: Any) -> Exception:
    return error_for(ErrorCode.SERVICE_VALIDATION_FAILED, message, details)


def _require(value: Wire | None, tag: str, role: str) -> Any:
    if value is None:
        raise _refused(f"an operand of {role} refers to an attribute that does not exist")
    if tag_of(value) != tag:
        raise _refused(f"an operand of {role} has the wrong type", type=tag_of(value))
    return payload_of(value)


def _number(value: Wire | None) -> decimal.Decimal:
    return decimal.Decimal(_require(value, "N", "+ or -"))


def _operand_value(operand: SetOperand, item: Mapping[str, Wire]) -> Wire:
    match operand:
        case Value(value=value):
            return canonical(codec.encode(value))
        case Path():
            found = resolve(operand, item)
            if found is None:
                raise _refused("the update refers to an attribute that does not exist")
            return found
        case IfNotExists(path=path, default=default):
            existing = resolve(path, item)
            return existing if existing is not None else _operand_value(default, item)
        case ListAppend(first=first, second=second):
            left = _require(_operand_value(first, item), "L", "list_append")
            right = _require(_operand_value(second, item), "L", "list_append")
            return {"L": [*left, *right]}
        case Arithmetic(left=left, operator=operator, right=right):
            a, b = _number(_operand_value(left, item)), _number(_operand_value(right, item))
            total = _ARITHMETIC.add(a, b) if operator == "+" else _ARITHMETIC.subtract(a, b)
            return {"N": codec.encode_number(total)}
    raise TypeError(f"not an update operand: {type(operand).__name__}")


def _parent(path: Path, item: dict[str, Wire]) -> Wire:
    parent = resolve(Path(path.segments[:-1]), item) if len(path.segments) > 1 else {"M": item}
    last = path.segments[-1]
    container = "L" if isinstance(last, int) else "M"
    if parent is None or container not in parent:
        raise _refused("the document path is invalid for update", attribute=str(path))
    return parent


def _put(path: Path, value: Wire, item: dict[str, Wire]) -> None:
    value = copy.deepcopy(value)  # never share structure with the item before the update
    parent = _parent(path, item)
    last = path.segments[-1]
    if isinstance(last, int):
        elements = parent["L"]
        if last < len(elements):
            elements[last] = value
        else:
            elements.append(value)
    else:
        parent["M"][last] = value


def _remove(path: Path, item: dict[str, Wire]) -> None:
    parent = _parent(path, item)
    last = path.segments[-1]
    if isinstance(last, int):
        elements = parent["L"]
        if last < len(elements):
            del elements[last]
    else:
        parent["M"].pop(last, None)


def _members(tag: str, payload: list[Any]) -> list[Wire]:
    return [{tag[0]: member} for member in payload]


def _union(tag: str, existing: list[Any], extra: list[Any]) -> list[Any]:
    merged = list(existing)
    for member in _members(tag, extra):
        if not any(wire_equal(member, known) for known in _members(tag, merged)):
            merged.append(payload_of(member))
    return sorted(merged)


def _add(name: str, value: Wire, item: dict[str, Wire]) -> None:
    existing, tag = item.get(name), tag_of(value)
    if existing is None:
        item[name] = value
    elif tag_of(existing) != tag:
        raise _refused("ADD met an attribute of another type", attribute=name)
    elif tag == "N":
        total = _ARITHMETIC.add(decimal.Decimal(existing["N"]), decimal.Decimal(value["N"]))
        item[name] = {"N": codec.encode_number(total)}
    else:
        item[name] = {tag: _union(tag, existing[tag], value[tag])}


def _delete(name: str, value: Wire, item: dict[str, Wire]) -> None:
    existing, tag = item.get(name), tag_of(value)
    if existing is None:
        return
    if tag_of(existing) != tag:
        raise _refused("DELETE met an attribute of another type", attribute=name)
    unwanted = _members(tag, value[tag])
    kept = [
        payload_of(member)
        for member in _members(tag, existing[tag])
        if not any(wire_equal(member, other) for other in unwanted)
    ]
    if kept:
        item[name] = {tag: kept}
    else:
        del item[name]


def _removal_order(path: Path) -> list[tuple[bool, Any]]:
    return [(isinstance(segment, str), segment) for segment in path.segments]


def apply_wire_update(update: Update, item: Mapping[str, Wire]) -> dict[str, Wire]:
    """A new wire item with ``update`` applied; ``item`` itself is left untouched."""
    before = item
    after: dict[str, Wire] = copy.deepcopy(dict(item))
    values = {
        index: _operand_value(action.value, before)
        for index, action in enumerate(update.actions)
        if isinstance(action, SetAction)
    }
    for index, action in enumerate(update.actions):
        if isinstance(action, SetAction):
            _put(action.path, values[index], after)
        elif isinstance(action, AddAction):
            _add(action.path.top, canonical(codec.encode(action.value.value)), after)
        elif isinstance(action, DeleteAction):
            _delete(action.path.top, canonical(codec.encode(action.value.value)), after)
    removals = [action.path for action in update.actions if isinstance(action, RemoveAction)]
    for path in sorted(removals, key=_removal_order, reverse=True):
        _remove(path, after)
    return after
