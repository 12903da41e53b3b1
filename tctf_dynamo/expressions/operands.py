"""The operands expressions are built from: values, paths, ``size()`` and update functions.

Expression nodes store only these plain value objects (and ``Path``), never the ``Attr``
builder: ``Attr.__eq__`` builds a condition, so a node holding one could not be compared
or hashed. Builders hand their operand over through ``to_operand()``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

import attrs

from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.expressions.paths import Path, PathLike, as_path

__all__ = [
    "Arithmetic",
    "ConditionOperand",
    "IfNotExists",
    "ListAppend",
    "OperandSource",
    "SetOperand",
    "SizeOf",
    "Value",
    "arithmetic",
    "if_not_exists",
    "is_number",
    "list_append",
    "to_condition_operand",
    "to_set_operand",
]


def is_number(value: object) -> bool:
    """int, float and Decimal are DynamoDB numbers; bool is not, although it is an int."""
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _value_key(value: Any) -> tuple[bool, Any]:
    # True == 1 in Python, but BOOL and N are different DynamoDB values.
    return (isinstance(value, bool), value)


@attrs.frozen
class Value:
    """A literal value; encoded by the codec when compiled, never before."""

    value: Any = attrs.field(eq=_value_key)


@attrs.frozen
class SizeOf:
    """``size(path)``: the length of a string, binary, list, map or set."""

    path: Path


@attrs.frozen
class IfNotExists:
    """``if_not_exists(path, default)``: the attribute when present, else the default."""

    path: Path
    default: Path | Value

    def __add__(self, other: object) -> Arithmetic:
        return Arithmetic(self, "+", _arithmetic_side(other))

    def __radd__(self, other: object) -> Arithmetic:
        return Arithmetic(_arithmetic_side(other), "+", self)

    def __sub__(self, other: object) -> Arithmetic:
        return Arithmetic(self, "-", _arithmetic_side(other))

    def __rsub__(self, other: object) -> Arithmetic:
        return Arithmetic(_arithmetic_side(other), "-", self)


@attrs.frozen
class ListAppend:
    """``list_append(first, second)``: the two lists concatenated, first one first."""

    first: ListSide
    second: ListSide


ListSide = Path | Value | IfNotExists | ListAppend
ArithmeticSide = Path | Value | IfNotExists


@attrs.frozen
class Arithmetic:
    """``left + right`` or ``left - right`` in a SET action; DynamoDB allows one operator."""

    left: ArithmeticSide
    operator: str = attrs.field(validator=attrs.validators.in_(("+", "-")))
    right: ArithmeticSide

    def _chained(self, other: object) -> Arithmetic:
        raise _invalid("an update value allows one + or - only")

    __add__ = __radd__ = __sub__ = __rsub__ = _chained


ConditionOperand = Path | Value | SizeOf
SetOperand = Path | Value | IfNotExists | ListAppend | Arithmetic


@runtime_checkable
class OperandSource(Protocol):
    """A builder (``attr(...)``, ``size(...)``) that stands for an operand."""

    def to_operand(self) -> Path | SizeOf: ...


def _invalid(message: str, **details: Any) -> Exception:
    return error_for(ErrorCode.INVALID_EXPRESSION, message, details)


def to_condition_operand(value: object) -> ConditionOperand:
    """Paths and ``size()`` stay what they are; anything else is a literal value."""
    if isinstance(value, OperandSource):
        return value.to_operand()
    if isinstance(value, Path | SizeOf | Value):
        return value
    return Value(value)


def to_set_operand(value: object) -> SetOperand:
    """What may stand right of ``=`` in a SET action."""
    if isinstance(value, OperandSource):
        operand = value.to_operand()
        if isinstance(operand, SizeOf):
            raise _invalid("size() can only be used in conditions, not in updates")
        return operand
    if isinstance(value, Path | Value | IfNotExists | ListAppend | Arithmetic):
        return value
    if isinstance(value, SizeOf):
        raise _invalid("size() can only be used in conditions, not in updates")
    return Value(value)


def _arithmetic_side(value: object) -> ArithmeticSide:
    operand = to_set_operand(value)
    if isinstance(operand, Arithmetic):
        raise _invalid("an update value allows one + or - only")
    if isinstance(operand, ListAppend):
        raise _invalid("+ and - cannot take list_append")
    if isinstance(operand, Value) and not is_number(operand.value):
        raise _invalid("+ and - need numbers", type=type(operand.value).__name__)
    return operand


def arithmetic(left: object, operator: str, right: object) -> Arithmetic:
    """``left operator right`` with both sides checked; used by ``Attr.__add__`` and friends."""
    return Arithmetic(_arithmetic_side(left), operator, _arithmetic_side(right))


def if_not_exists(path: PathLike, default: object) -> IfNotExists:
    """``if_not_exists(path, default)``; a ``str`` first argument is a path, not a value."""
    operand = to_set_operand(default)
    if not isinstance(operand, Path | Value):
        raise _invalid("if_not_exists takes a path or a value as its default")
    return IfNotExists(as_path(path), operand)


def _list_side(value: object) -> ListSide:
    operand = to_set_operand(value)
    if isinstance(operand, Arithmetic):
        raise _invalid("list_append cannot take an arithmetic operand")
    if isinstance(operand, Value) and not isinstance(operand.value, list | tuple):
        raise _invalid("list_append needs lists", type=type(operand.value).__name__)
    return operand


def list_append(first: object, second: object) -> ListAppend:
    """``list_append(first, second)``: ``list_append(attr("items"), [v])`` appends,
    ``list_append([v], attr("items"))`` prepends. Plain lists are values, ``attr`` paths."""
    return ListAppend(_list_side(first), _list_side(second))
