"""The builders users write conditions and updates with: ``attr("x")`` and ``size(...)``.

``attr("status") == "FUNDED"`` builds a condition instead of answering a bool, so these
builders are deliberately unhashable: a dict or set lookup would call ``==`` and get a
condition back, which cannot be a bool. Nodes store the builder's plain ``Path`` instead.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.expressions.conditions import (
    AttributeType,
    BeginsWith,
    Between,
    Compare,
    Contains,
    Exists,
    In,
    NotExists,
)
from tctf_dynamo.expressions.operands import (
    Arithmetic,
    SizeOf,
    Value,
    arithmetic,
    to_condition_operand,
)
from tctf_dynamo.expressions.paths import Path, PathLike, Segment, as_path

__all__ = ["Attr", "Size", "attr", "size"]


class _Comparable:
    """Comparison operators shared by attribute paths and ``size()``."""

    __slots__ = ()
    __hash__: ClassVar[None] = None  # type: ignore[assignment]

    def to_operand(self) -> Path | SizeOf:
        raise NotImplementedError

    def _compare(self, operator: str, other: object) -> Compare:
        return Compare(self.to_operand(), operator, to_condition_operand(other))

    def __eq__(self, other: object) -> Compare:  # type: ignore[override]
        return self._compare("=", other)

    def __ne__(self, other: object) -> Compare:  # type: ignore[override]
        return self._compare("<>", other)

    def __lt__(self, other: object) -> Compare:
        return self._compare("<", other)

    def __le__(self, other: object) -> Compare:
        return self._compare("<=", other)

    def __gt__(self, other: object) -> Compare:
        return self._compare(">", other)

    def __ge__(self, other: object) -> Compare:
        return self._compare(">=", other)

    def between(self, low: object, high: object) -> Between:
        """Inclusive range; DynamoDB wants ``low <= high`` (checked when compiled)."""
        return Between(self.to_operand(), to_condition_operand(low), to_condition_operand(high))

    def is_in(self, *values: object) -> In:
        """Equal to one of ``values`` (1 to 100 of them)."""
        return In(self.to_operand(), tuple(to_condition_operand(value) for value in values))


@attrs.frozen(eq=False, repr=False)
class Attr(_Comparable):
    """A document path to build conditions and update values from."""

    path: Path

    def to_operand(self) -> Path:
        return self.path

    def __getitem__(self, segment: Segment) -> Attr:
        """``attr("address")["city"]`` and ``attr("tags")[0]`` reach deeper."""
        return Attr(Path((*self.path.segments, segment)))

    def begins_with(self, prefix: object) -> BeginsWith:
        """``begins_with(path, prefix)``; the prefix is a string or bytes value."""
        if isinstance(prefix, _Comparable):
            raise _invalid("begins_with takes a value as its prefix, not a path")
        return BeginsWith(self.path, Value(prefix))

    def contains(self, operand: object) -> Contains:
        """Substring of a string, member of a set, element of a list."""
        converted = to_condition_operand(operand)
        if isinstance(converted, SizeOf):
            raise _invalid("contains takes a path or a value, not size()")
        return Contains(self.path, converted)

    def exists(self) -> Exists:
        return Exists(self.path)

    def not_exists(self) -> NotExists:
        return NotExists(self.path)

    def attribute_type(self, type_tag: str) -> AttributeType:
        """One of ``S SS N NS B BS BOOL NULL L M``."""
        return AttributeType(self.path, type_tag)

    def size(self) -> Size:
        return Size(self.path)

    def __add__(self, other: object) -> Arithmetic:
        return arithmetic(self.path, "+", other)

    def __radd__(self, other: object) -> Arithmetic:
        return arithmetic(other, "+", self.path)

    def __sub__(self, other: object) -> Arithmetic:
        return arithmetic(self.path, "-", other)

    def __rsub__(self, other: object) -> Arithmetic:
        return arithmetic(other, "-", self.path)

    def __repr__(self) -> str:
        return f"attr({str(self.path)!r})"


@attrs.frozen(eq=False, repr=False)
class Size(_Comparable):
    """``size(path)``, comparable like an attribute: ``size(attr("tags")) > 2``."""

    path: Path

    def to_operand(self) -> SizeOf:
        return SizeOf(self.path)

    def __repr__(self) -> str:
        return f"size(attr({str(self.path)!r}))"


def _invalid(message: str, **details: Any) -> Exception:
    return error_for(ErrorCode.INVALID_EXPRESSION, message, details)


def attr(path: PathLike) -> Attr:
    """``attr("address.city")``, ``attr("tags[0]")`` or ``attr(("weird.name", "x"))``."""
    return Attr(as_path(path))


def size(target: PathLike) -> Size:
    """``size(attr("tags"))`` or ``size("tags")``."""
    return Size(as_path(target))
