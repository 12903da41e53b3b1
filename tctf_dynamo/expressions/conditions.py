"""Condition values: comparisons, functions and their ``&``, ``|``, ``~`` combinations.

Every node is a frozen attrs value, so conditions compare structurally (``==`` between two
conditions answers ``True``/``False``), hash when their values do, and can be shared and
reused freely. ``bool(condition)`` raises: ``a and b`` or ``if attr("x") == 1`` would
otherwise silently drop a condition, which is how data gets overwritten.

``a & b & c`` is one ``And`` of three conditions (likewise ``Or``), which keeps compiled
expressions flat and free of needless parentheses.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import attrs

from tctf_dynamo import limits
from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.expressions.operands import ConditionOperand, Value
from tctf_dynamo.expressions.paths import Path

__all__ = [
    "ATTRIBUTE_TYPES",
    "COMPARISON_OPERATORS",
    "MAX_IN_OPERANDS",
    "And",
    "AttributeType",
    "BeginsWith",
    "Between",
    "Compare",
    "Condition",
    "Contains",
    "Exists",
    "In",
    "Not",
    "NotExists",
    "Or",
]

MAX_IN_OPERANDS = limits.MAX_IN_OPERANDS
"""DynamoDB's limit on the right-hand list of ``IN``."""

COMPARISON_OPERATORS = ("=", "<>", "<", "<=", ">", ">=")
ATTRIBUTE_TYPES = frozenset({"S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"})


def _invalid(message: str, **details: Any) -> Exception:
    return error_for(ErrorCode.INVALID_EXPRESSION, message, details)


class Condition:
    """Base of every condition node: combinators, a refusal to be a bool, a readable form."""

    __slots__ = ()

    def __and__(self, other: object) -> Condition:
        if not isinstance(other, Condition):
            return NotImplemented
        return And(_flatten(And, self, other))

    def __or__(self, other: object) -> Condition:
        if not isinstance(other, Condition):
            return NotImplemented
        return Or(_flatten(Or, self, other))

    def __invert__(self) -> Condition:
        return Not(self)

    def __bool__(self) -> bool:
        raise TypeError(
            "a condition has no truth value; combine conditions with &, | and ~ "
            "instead of and, or and not"
        )

    def debug(self, *, values: bool = True) -> str:
        """The condition in DynamoDB syntax with real names; for logs and tests only.

        ``values=False`` shows ``?`` instead of each value, which is what ``repr`` does so
        that values (possibly personal data) do not end up in logs by accident.
        """
        from tctf_dynamo.expressions.rendering import debug_condition

        return debug_condition(self, values=values)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.debug(values=False)}>"


def _distinct_first(first: object, *others: object) -> None:
    """DynamoDB refuses ``a = a``, ``a BETWEEN a AND b``...: the subject must not reappear."""
    if isinstance(first, Value):
        return
    if any(first == other for other in others):
        raise _invalid("the first operand must differ from the other operands")


def _flatten(kind: type[And] | type[Or], *parts: Condition) -> tuple[Condition, ...]:
    flat: list[Condition] = []
    for part in parts:
        if isinstance(part, kind):
            flat.extend(part.conditions)
        else:
            flat.append(part)
    return tuple(flat)


def _as_conditions(conditions: Iterable[Condition]) -> tuple[Condition, ...]:
    return tuple(conditions)


def _as_operands(operands: Iterable[ConditionOperand]) -> tuple[ConditionOperand, ...]:
    return tuple(operands)


def _at_least_two(instance: object, attribute: attrs.Attribute[Any], value: tuple[Any]) -> None:
    if len(value) < 2:
        raise _invalid("AND and OR need at least two conditions", count=len(value))
    if not all(isinstance(item, Condition) for item in value):
        raise _invalid("AND and OR combine conditions only")


@attrs.frozen(repr=False)
class And(Condition):
    """All conditions hold."""

    conditions: tuple[Condition, ...] = attrs.field(
        converter=_as_conditions, validator=_at_least_two
    )


@attrs.frozen(repr=False)
class Or(Condition):
    """At least one condition holds."""

    conditions: tuple[Condition, ...] = attrs.field(
        converter=_as_conditions, validator=_at_least_two
    )


@attrs.frozen(repr=False)
class Not(Condition):
    """The condition does not hold."""

    condition: Condition = attrs.field(validator=attrs.validators.instance_of(Condition))


@attrs.frozen(repr=False)
class Compare(Condition):
    """``left operator right`` with one of ``= <> < <= > >=``."""

    left: ConditionOperand
    operator: str = attrs.field(validator=attrs.validators.in_(COMPARISON_OPERATORS))
    right: ConditionOperand

    ORDERING: ClassVar[frozenset[str]] = frozenset({"<", "<=", ">", ">="})

    def __attrs_post_init__(self) -> None:
        _distinct_first(self.left, self.right)


@attrs.frozen(repr=False)
class Between(Condition):
    """``operand BETWEEN low AND high``, both bounds included."""

    operand: ConditionOperand
    low: ConditionOperand
    high: ConditionOperand

    def __attrs_post_init__(self) -> None:
        _distinct_first(self.operand, self.low, self.high)


def _in_operands(instance: object, attribute: attrs.Attribute[Any], value: tuple[Any]) -> None:
    if not value:
        raise _invalid("IN needs at least one value")
    if len(value) > MAX_IN_OPERANDS:
        raise _invalid("IN has too many values", count=len(value), limit=MAX_IN_OPERANDS)


@attrs.frozen(repr=False)
class In(Condition):
    """``operand IN (v1, v2, ...)``: equal to one of up to 100 operands."""

    operand: ConditionOperand
    values: tuple[ConditionOperand, ...] = attrs.field(
        converter=_as_operands, validator=_in_operands
    )

    def __attrs_post_init__(self) -> None:
        _distinct_first(self.operand, *self.values)


@attrs.frozen(repr=False)
class BeginsWith(Condition):
    """``begins_with(path, prefix)`` on a string or binary attribute."""

    path: Path
    prefix: Value


@attrs.frozen(repr=False)
class Contains(Condition):
    """``contains(path, operand)``: substring of a string, member of a set or a list."""

    path: Path
    operand: Path | Value

    def __attrs_post_init__(self) -> None:
        _distinct_first(self.path, self.operand)


@attrs.frozen(repr=False)
class Exists(Condition):
    """``attribute_exists(path)``."""

    path: Path


@attrs.frozen(repr=False)
class NotExists(Condition):
    """``attribute_not_exists(path)``."""

    path: Path


def _attribute_type(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or value not in ATTRIBUTE_TYPES:
        raise _invalid(
            "attribute_type needs one of " + ", ".join(sorted(ATTRIBUTE_TYPES)),
        )


@attrs.frozen(repr=False)
class AttributeType(Condition):
    """``attribute_type(path, type)`` with a DynamoDB type tag such as ``S`` or ``NS``."""

    path: Path
    type: str = attrs.field(validator=_attribute_type)
