"""One walk of a wire item for the common case: its size, its values' rules, unsafe strings.

:func:`~tctf_dynamo.validation.validate_item` applies three rules to every value of an
item, each its own walk: the AttributeValue rules (:mod:`tctf_dynamo.wire.attribute_values`),
the size accounting (:mod:`tctf_dynamo.wire.sizes`) and the unsafe-value policy
(:mod:`tctf_dynamo.validation.unsafe_values`). On a bulk write those walks cost more than encoding
the item. :func:`checked_size` does all three in one pass, for the shapes items almost
always have (strings, plain numbers of up to 38 characters, lists, maps, string and
number sets, booleans, nulls, binaries), computing each figure as those modules do and
searching strings with the unsafe-value module's own :func:`unsafe_match`.

It never decides a refusal. Whatever it does not recognise, and every value one of the
rules could refuse, makes it answer None, and the caller runs the three rules themselves,
which raise their own errors in their own order. So it may only ever say "valid, of this
size" when the rules would: ``tests/property/test_item_check_properties.py`` holds it to
that on generated items, valid and not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tctf_dynamo import limits
from tctf_dynamo.validation.unsafe_values import UnsafeValuePolicy, unsafe_match
from tctf_dynamo.wire.attribute_values import canonical_number, is_short_number
from tctf_dynamo.wire.documents import DocumentError
from tctf_dynamo.wire.sizes import number_size

__all__ = ["checked_size"]

_DEPTH = limits.MAX_DOCUMENT_DEPTH


class _DeclinedError(Exception):
    """A value the walk leaves to the rules themselves."""


_DECLINED = _DeclinedError()


def checked_size(item: Mapping[str, Any], policy: UnsafeValuePolicy | None) -> int | None:
    """The size of ``item`` if every value keeps the AttributeValue rules and no string
    is unsafe under ``policy``; None when the full rules must decide.

    Attribute names are measured, not checked (the caller checks them).
    """
    if type(item) is not dict:
        return None
    scan = policy is not None and policy.enabled
    allowed = policy.allowed_attributes if scan else ()  # type: ignore[union-attr]
    total = 0
    try:
        for name, av in item.items():
            if type(name) is not str or type(av) is not dict or len(av) != 1:
                return None
            total += len(name) if name.isascii() else _utf8_size(name)
            text = av.get("S")
            if type(text) is str:
                total += len(text) if text.isascii() else _utf8_size(text)
                if (
                    scan
                    and ("<" in text or ":" in text)
                    and name not in allowed
                    and unsafe_match(text) is not None
                ):
                    raise _DECLINED
                continue
            total += _value(av, scan and name not in allowed, 0)
    except (_DeclinedError, DocumentError):
        return None
    return total


_NUMBER_SIZES: dict[str, int] = {}
"""Sizes of number texts already measured: items repeat the same quantities and prices."""
_NUMBER_SIZES_CAPACITY = 10_000


def _short_number_size(text: str) -> int:
    """The size of a number in plain notation of at most 38 characters (which always
    fits DynamoDB's range); anything else is the rules' to decide."""
    size = _NUMBER_SIZES.get(text)
    if size is None:
        if not is_short_number(text):
            raise _DECLINED
        size = number_size(text)
        if len(_NUMBER_SIZES) < _NUMBER_SIZES_CAPACITY:
            _NUMBER_SIZES[text] = size
    return size


def _utf8_size(text: str) -> int:
    """UTF-8 bytes of text that has a UTF-8 form (a lone surrogate is the rules' to refuse)."""
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise _DECLINED from None


def _value(av: Any, scan: bool, depth: int) -> int:
    """The size of one AttributeValue; raises _DeclinedError for anything the rules decide."""
    if type(av) is not dict or len(av) != 1:
        raise _DECLINED
    ((tag, payload),) = av.items()
    kind = type(payload)
    if tag == "S":
        if kind is not str:
            raise _DECLINED
        if scan and ("<" in payload or ":" in payload) and unsafe_match(payload) is not None:
            raise _DECLINED
        return len(payload) if payload.isascii() else _utf8_size(payload)
    if tag == "N":
        if kind is not str:
            raise _DECLINED
        return _short_number_size(payload)
    if tag == "M":
        if kind is not dict or depth >= _DEPTH:
            raise _DECLINED
        total = 3 + len(payload)
        for key, element in payload.items():
            if type(key) is not str:
                raise _DECLINED
            total += len(key) if key.isascii() else _utf8_size(key)
            total += _value(element, scan, depth + 1)
        return total
    if tag == "L":
        if (kind is not list and kind is not tuple) or depth >= _DEPTH:
            raise _DECLINED
        total = 3 + len(payload)
        for element in payload:
            total += _value(element, scan, depth + 1)
        return total
    if tag == "BOOL":
        if kind is not bool:
            raise _DECLINED
        return 1
    if tag == "NULL":
        if payload is not True:
            raise _DECLINED
        return 1
    if tag == "SS":
        return _string_set(payload, scan)
    if tag == "NS":
        return _number_set(payload)
    if tag == "B" and (kind is bytes or kind is bytearray):
        return len(payload)
    raise _DECLINED


def _string_set(payload: Any, scan: bool) -> int:
    if (type(payload) is not list and type(payload) is not tuple) or not payload:
        raise _DECLINED
    total = 0
    for member in payload:
        if type(member) is not str:
            raise _DECLINED
        if scan and ("<" in member or ":" in member) and unsafe_match(member) is not None:
            raise _DECLINED
        total += len(member) if member.isascii() else _utf8_size(member)
    if len(set(payload)) != len(payload):
        raise _DECLINED
    return total


def _number_set(payload: Any) -> int:
    if (type(payload) is not list and type(payload) is not tuple) or not payload:
        raise _DECLINED
    total = 0
    for member in payload:
        if type(member) is not str:
            raise _DECLINED
        total += _short_number_size(member)
    if len({canonical_number(member) for member in payload}) != len(payload):
        raise _DECLINED
    return total
