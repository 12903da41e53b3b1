"""DynamoDB's answer to a condition or an update, computed on a plain Python item.

For in-memory fakes and for tests that check what a server did. Items hold decoded values
(``str``, ``int``/``Decimal``, ``bytes``, ``set``, ``list``, ``dict``...); they are encoded
with the codec first so that the rules are applied exactly as DynamoDB applies them:

* a comparison with a missing attribute, or between different types, is false
  (``<>`` is the negation of ``=``, so it is true there);
* ``<``, ``<=``, ``>``, ``>=`` and ``BETWEEN`` order strings, numbers and binaries only;
* ``size`` counts characters, bytes or members; ``begins_with`` works on strings and
  binaries; ``contains`` finds substrings, set members and list elements.

``apply_update`` reads every SET operand from the item as it was before the update, as
DynamoDB does, and removes list elements by their original positions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tctf_dynamo.expressions.conditions import (
    And,
    AttributeType,
    BeginsWith,
    Between,
    Compare,
    Condition,
    Contains,
    Exists,
    In,
    Not,
    NotExists,
    Or,
)
from tctf_dynamo.expressions.operands import ConditionOperand, SizeOf, Value
from tctf_dynamo.expressions.paths import Path
from tctf_dynamo.expressions.update_apply import apply_wire_update
from tctf_dynamo.expressions.updates import Update
from tctf_dynamo.expressions.wire import (
    Wire,
    canonical,
    ordered_key,
    payload_of,
    resolve,
    size_of,
    tag_of,
    wire_equal,
)
from tctf_dynamo.wire import codec

__all__ = ["apply_update", "evaluate"]

WireItem = Mapping[str, Wire]


def _operand(operand: ConditionOperand, item: WireItem) -> Wire | None:
    if isinstance(operand, Path):
        return resolve(operand, item)
    if isinstance(operand, SizeOf):
        return size_of(resolve(operand.path, item))
    if isinstance(operand, Value):
        return canonical(codec.encode(operand.value))
    raise TypeError(f"not a condition operand: {type(operand).__name__}")


_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _ordered(left: Wire | None, operator: str, right: Wire | None) -> bool:
    left_key, right_key = ordered_key(left), ordered_key(right)
    if left_key is None or right_key is None or left_key[0] != right_key[0]:
        return False
    return _ORDERINGS[operator](left_key[1], right_key[1])


def _compare(node: Compare, item: WireItem) -> bool:
    left, right = _operand(node.left, item), _operand(node.right, item)
    if node.operator == "=":
        return wire_equal(left, right)
    if node.operator == "<>":
        return not wire_equal(left, right)
    return _ordered(left, node.operator, right)


def _between(node: Between, item: WireItem) -> bool:
    subject = _operand(node.operand, item)
    low, high = _operand(node.low, item), _operand(node.high, item)
    return _ordered(subject, ">=", low) and _ordered(subject, "<=", high)


def _begins_with(node: BeginsWith, item: WireItem) -> bool:
    subject = resolve(node.path, item)
    prefix = _operand(node.prefix, item)
    if subject is None or prefix is None or tag_of(subject) != tag_of(prefix):
        return False
    if tag_of(subject) == "S":
        return bool(payload_of(subject).startswith(payload_of(prefix)))
    if tag_of(subject) == "B":
        return bytes(payload_of(subject)).startswith(bytes(payload_of(prefix)))
    return False


def _contains(node: Contains, item: WireItem) -> bool:
    subject, wanted = resolve(node.path, item), _operand(node.operand, item)
    if subject is None or wanted is None:
        return False
    tag, wanted_tag = tag_of(subject), tag_of(wanted)
    if tag == "S" and wanted_tag == "S":
        return bool(payload_of(wanted) in payload_of(subject))
    if tag == "B" and wanted_tag == "B":
        return bytes(payload_of(wanted)) in bytes(payload_of(subject))
    if tag in ("SS", "NS", "BS") and tag == wanted_tag + "S":
        return any(wire_equal({wanted_tag: member}, wanted) for member in payload_of(subject))
    if tag == "L":
        return any(wire_equal(element, wanted) for element in payload_of(subject))
    return False


def _holds(condition: Condition, item: WireItem) -> bool:
    match condition:
        case And(conditions=parts):
            return all(_holds(part, item) for part in parts)
        case Or(conditions=parts):
            return any(_holds(part, item) for part in parts)
        case Not(condition=inner):
            return not _holds(inner, item)
        case Compare():
            return _compare(condition, item)
        case Between():
            return _between(condition, item)
        case In(operand=operand, values=values):
            subject = _operand(operand, item)
            return any(wire_equal(subject, _operand(value, item)) for value in values)
        case BeginsWith():
            return _begins_with(condition, item)
        case Contains():
            return _contains(condition, item)
        case Exists(path=path):
            return resolve(path, item) is not None
        case NotExists(path=path):
            return resolve(path, item) is None
        case AttributeType(path=path, type=type_tag):
            found = resolve(path, item)
            return found is not None and tag_of(found) == type_tag
    raise TypeError(f"not a condition: {type(condition).__name__}")


def evaluate(condition: Condition, item: Mapping[str, Any]) -> bool:
    """Whether ``condition`` holds for ``item`` (decoded Python values), as DynamoDB decides."""
    return _holds(condition, codec.encode_item(item))


def apply_update(update: Update, item: Mapping[str, Any]) -> dict[str, Any]:
    """The item after ``update``, as DynamoDB would store it (``item`` is not changed).

    Failures DynamoDB reports at run time (a missing operand, a type mismatch, a parent
    path that does not exist) raise SERVICE_VALIDATION_FAILED, as the server's would.
    """
    wire = {name: canonical(value) for name, value in codec.encode_item(item).items()}
    return codec.decode_item(apply_wire_update(update, wire))
