"""Key conditions for Query: partition-key equality and at most one sort-key condition.

Two spellings: ``key("PK") == "USER#1"`` combined with ``&`` and a sort condition such as
``key("SK").begins_with("ORDER#")``, or ``KeyCondition(partition=("PK", "USER#1"),
sort=key("SK") > "ORDER#2024")``. When two equalities are combined the left one is the
partition key. What Query cannot express -- a second sort condition, anything but ``=``
on the partition key, ``<>`` -- raises INVALID_EXPRESSION when the value is built.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import attrs

from tctf_dynamo import limits
from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.expressions.operands import Value

__all__ = ["KeyAttr", "KeyCondition", "KeyPredicate", "as_key_condition", "key"]

SORT_OPERATORS = ("=", "<", "<=", ">", ">=", "BETWEEN", "begins_with")


def _invalid(message: str, **details: Any) -> Exception:
    return error_for(ErrorCode.INVALID_EXPRESSION, message, details)


def _key_name(instance: object, attribute: attrs.Attribute[Any], name: object) -> None:
    if not isinstance(name, str) or not name:
        raise _invalid("a key attribute name must be a non-empty string")
    size = len(name.encode("utf-8"))
    if size > limits.MAX_KEY_ATTRIBUTE_NAME_BYTES:
        raise _invalid(
            "key attribute name is too long", size=size, limit=limits.MAX_KEY_ATTRIBUTE_NAME_BYTES
        )


def _as_values(values: Iterable[Value]) -> tuple[Value, ...]:
    return tuple(values)


@attrs.frozen(repr=False)
class KeyPredicate:
    """One key attribute compared with values: ``name operator values``."""

    name: str = attrs.field(validator=_key_name)
    operator: str = attrs.field(validator=attrs.validators.in_(SORT_OPERATORS))
    values: tuple[Value, ...] = attrs.field(converter=_as_values)

    def __attrs_post_init__(self) -> None:
        expected = 2 if self.operator == "BETWEEN" else 1
        if len(self.values) != expected:
            raise _invalid(f"{self.operator} takes {expected} value(s)", count=len(self.values))

    @property
    def is_equality(self) -> bool:
        return self.operator == "="

    def __and__(self, other: object) -> KeyCondition:
        if isinstance(other, KeyPredicate | KeyCondition):
            return _combine(self, other)
        return NotImplemented

    def __bool__(self) -> bool:
        raise TypeError("a key condition has no truth value; combine with &")

    def debug(self, *, values: bool = True) -> str:
        from tctf_dynamo.expressions.rendering import debug_key_condition

        return debug_key_condition(self, values=values)

    def __repr__(self) -> str:
        return f"<KeyPredicate {self.debug(values=False)}>"


def _as_partition(value: object) -> KeyPredicate:
    if isinstance(value, tuple) and len(value) == 2:
        return KeyPredicate(value[0], "=", (Value(value[1]),))
    if isinstance(value, KeyPredicate) and value.is_equality:
        return value
    raise _invalid("the partition key needs an equality: (name, value) or key(name) == value")


def _as_sort(value: object) -> KeyPredicate | None:
    if value is None or isinstance(value, KeyPredicate):
        return value
    if isinstance(value, tuple) and len(value) == 2:
        return KeyPredicate(value[0], "=", (Value(value[1]),))
    raise _invalid("the sort condition must be built with key(name) or be (name, value)")


@attrs.frozen(repr=False)
class KeyCondition:
    """A Query's KeyConditionExpression: ``partition`` equality and an optional ``sort``."""

    partition: KeyPredicate = attrs.field(converter=_as_partition)
    sort: KeyPredicate | None = attrs.field(default=None, converter=_as_sort)

    def __attrs_post_init__(self) -> None:
        if self.sort is not None and self.sort.name == self.partition.name:
            raise _invalid("partition and sort conditions name the same attribute")

    def __and__(self, other: object) -> KeyCondition:
        if isinstance(other, KeyPredicate | KeyCondition):
            return _combine(self, other)
        return NotImplemented

    def __bool__(self) -> bool:
        raise TypeError("a key condition has no truth value; combine with &")

    def debug(self, *, values: bool = True) -> str:
        from tctf_dynamo.expressions.rendering import debug_key_condition

        return debug_key_condition(self, values=values)

    def __repr__(self) -> str:
        return f"<KeyCondition {self.debug(values=False)}>"


def _combine(left: KeyPredicate | KeyCondition, right: KeyPredicate | KeyCondition) -> KeyCondition:
    if isinstance(left, KeyCondition):
        return _add_sort(left, right)
    if isinstance(right, KeyCondition):
        return _add_sort(right, left)
    if left.is_equality:
        return KeyCondition(left, right)
    if right.is_equality:
        return KeyCondition(right, left)
    raise _invalid("the partition key needs an equality condition")


def _add_sort(whole: KeyCondition, extra: KeyPredicate | KeyCondition) -> KeyCondition:
    if isinstance(extra, KeyCondition) or whole.sort is not None:
        raise _invalid("a key condition holds one partition and at most one sort condition")
    return KeyCondition(whole.partition, extra)


def as_key_condition(value: KeyCondition | KeyPredicate) -> KeyCondition:
    """A bare ``key("PK") == v`` is a complete key condition; any other predicate is not."""
    if isinstance(value, KeyCondition):
        return value
    if isinstance(value, KeyPredicate):
        return KeyCondition(value)
    raise _invalid("expected a key condition", type=type(value).__name__)


@attrs.frozen(eq=False, repr=False)
class KeyAttr:
    """``key("SK")``: a key attribute name to build key predicates from (unhashable)."""

    name: str = attrs.field(validator=_key_name)
    __hash__: ClassVar[None] = None  # type: ignore[assignment]

    def _predicate(self, operator: str, *values: object) -> KeyPredicate:
        return KeyPredicate(self.name, operator, tuple(Value(value) for value in values))

    def __eq__(self, other: object) -> KeyPredicate:  # type: ignore[override]
        return self._predicate("=", other)

    def __ne__(self, other: object) -> KeyPredicate:  # type: ignore[override]
        raise _invalid("key conditions cannot use <>")

    def __lt__(self, other: object) -> KeyPredicate:
        return self._predicate("<", other)

    def __le__(self, other: object) -> KeyPredicate:
        return self._predicate("<=", other)

    def __gt__(self, other: object) -> KeyPredicate:
        return self._predicate(">", other)

    def __ge__(self, other: object) -> KeyPredicate:
        return self._predicate(">=", other)

    def between(self, low: object, high: object) -> KeyPredicate:
        return self._predicate("BETWEEN", low, high)

    def begins_with(self, prefix: object) -> KeyPredicate:
        return self._predicate("begins_with", prefix)

    def __repr__(self) -> str:
        return f"key({self.name!r})"


def key(name: str) -> KeyAttr:
    """A key attribute, named literally (``key("GSI1PK")``): no path syntax applies."""
    return KeyAttr(name)
