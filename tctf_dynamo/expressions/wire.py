"""DynamoDB's value semantics on wire AttributeValues (``{"N": "1.5"}``), for local evaluation.

Working on the encoded form rather than on Python values makes the rules DynamoDB's: a
``datetime`` and its stored string compare alike, ``True`` is not the number 1, numbers
compare by value (``"1"`` equals ``"1.0"``) and strings order by code point, which is the
order of their UTF-8 bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from tctf_dynamo.expressions.paths import Path

__all__ = [
    "Wire",
    "canonical",
    "ordered_key",
    "payload_of",
    "resolve",
    "size_of",
    "tag_of",
    "wire_equal",
]

Wire = Mapping[str, Any]
"""One AttributeValue: a mapping with exactly one type tag."""

_ORDERED = frozenset({"S", "N", "B"})
_SET_TAGS = frozenset({"SS", "NS", "BS"})


def canonical(encoded: dict[str, Any]) -> dict[str, Any]:
    """Sort set members (recursively): equal sets then encode, compare and dedupe alike.

    Python's set order depends on string hashing, which changes between processes.
    """
    ((tag, payload),) = encoded.items()
    if tag in _SET_TAGS:
        return {tag: sorted(payload)}
    if tag == "L":
        return {"L": [canonical(element) for element in payload]}
    if tag == "M":
        return {"M": {name: canonical(element) for name, element in payload.items()}}
    return encoded


def tag_of(value: Wire) -> str:
    return next(iter(value))


def payload_of(value: Wire) -> Any:
    return next(iter(value.values()))


def resolve(path: Path, item: Mapping[str, Wire]) -> Wire | None:
    """The value at ``path``, or ``None`` when any step of the way is missing."""
    current: Wire | None = {"M": item}
    for segment in path.segments:
        if current is None:
            return None
        if isinstance(segment, int):
            elements = current.get("L")
            current = (
                elements[segment] if elements is not None and segment < len(elements) else None
            )
        else:
            members = current.get("M")
            current = members.get(segment) if members is not None else None
    return current


def _number_set(payload: list[str]) -> set[Decimal]:
    return {Decimal(text) for text in payload}


def wire_equal(left: Wire | None, right: Wire | None) -> bool:
    """DynamoDB ``=``: same type and same value; a missing operand is never equal."""
    if left is None or right is None:
        return False
    tag = tag_of(left)
    if tag != tag_of(right):
        return False
    mine, theirs = payload_of(left), payload_of(right)
    if tag == "N":
        return Decimal(mine) == Decimal(theirs)
    if tag == "NS":
        return _number_set(mine) == _number_set(theirs)
    if tag in ("SS", "BS"):
        return {bytes(x) if tag == "BS" else x for x in mine} == {
            bytes(x) if tag == "BS" else x for x in theirs
        }
    if tag == "L":
        return len(mine) == len(theirs) and all(map(wire_equal, mine, theirs))
    if tag == "M":
        return mine.keys() == theirs.keys() and all(wire_equal(mine[k], theirs[k]) for k in mine)
    if tag == "B":
        return bytes(mine) == bytes(theirs)
    return bool(mine == theirs)


def ordered_key(value: Wire | None) -> tuple[str, Any] | None:
    """A sortable key for S, N and B values; ``None`` for anything DynamoDB cannot order."""
    if value is None or tag_of(value) not in _ORDERED:
        return None
    tag, payload = tag_of(value), payload_of(value)
    if tag == "N":
        return tag, Decimal(payload)
    if tag == "B":
        return tag, bytes(payload)
    return tag, payload


def size_of(value: Wire | None) -> Wire | None:
    """``size()``: characters of a string, bytes of a binary, members of a set, list or map."""
    if value is None:
        return None
    tag, payload = tag_of(value), payload_of(value)
    if tag in ("S", "B", "SS", "NS", "BS", "L", "M"):
        return {"N": str(len(payload))}
    return None
