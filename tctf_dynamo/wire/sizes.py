"""DynamoDB's exact item size accounting.

Follows the AWS guide "DynamoDB item sizes and formats": strings count their UTF-8 bytes,
binaries their raw bytes, numbers one byte per two significant digits (paired on the
decimal point) plus one, plus one more when negative; lists and maps cost 3 bytes plus one
per element, and every attribute or map entry adds the UTF-8 length of its name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from tctf_dynamo.wire.documents import DocumentError as _DocumentError
from tctf_dynamo.wire.documents import malformed as _malformed

__all__ = ["attribute_value_size", "item_size", "number_size"]


def _utf8_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def number_size(text: str) -> int:
    """One byte per pair of digits aligned on the decimal point, one for the exponent,
    and one terminator for negatives (how DynamoDB and dynalite store numbers)."""
    negative = text[:1] == "-"
    body = text[1:] if negative else text
    if not body.isascii() or not body.replace(".", "", 1).isdigit():
        return _exotic_number_size(text)
    whole, _, fraction = body.partition(".")
    leading = whole.lstrip("0")
    if leading:
        exponent = len(leading) - 1
        significant = len((leading + fraction).rstrip("0"))
    else:
        fraction_digits = fraction.lstrip("0")
        exponent = len(fraction_digits) - len(fraction) - 1
        significant = len(fraction_digits.rstrip("0"))
    return _sized(significant, exponent, negative)


def _exotic_number_size(text: str) -> int:
    try:
        number = Decimal(text)
    except (InvalidOperation, TypeError):
        raise _malformed("N holds text that is not a number") from None
    if not number.is_finite():
        raise _malformed("N holds a NaN or infinite number")
    sign, digits, _ = number.as_tuple()
    significant = len(digits)
    while significant and digits[significant - 1] == 0:
        significant -= 1
    return _sized(significant, number.adjusted(), bool(sign))


def _sized(significant: int, exponent: int, negative: bool) -> int:
    if not significant:
        return 1
    pairs = (significant + (1 if exponent % 2 == 0 else 0) + 1) // 2
    return 1 + pairs + (1 if negative else 0)


def _binary_size(payload: bytes | bytearray | memoryview) -> int:
    return len(payload) if not isinstance(payload, memoryview) else payload.nbytes


def _list_size(payload: list[Mapping[str, Any]]) -> int:
    total = 3 + len(payload)
    for element in payload:
        total += _value_size(element)
    return total


def _map_size(payload: Mapping[str, Mapping[str, Any]]) -> int:
    total = 3 + len(payload)
    for key, av in payload.items():
        total += _utf8_size(key) + _value_size(av)
    return total


_SIZERS: dict[str, Callable[[Any], int]] = {
    "S": _utf8_size,
    "N": number_size,
    "B": _binary_size,
    "BOOL": lambda payload: 1,
    "NULL": lambda payload: 1,
    "L": _list_size,
    "M": _map_size,
    "SS": lambda payload: sum(_utf8_size(text) for text in payload),
    "NS": lambda payload: sum(number_size(text) for text in payload),
    "BS": lambda payload: sum(_binary_size(element) for element in payload),
}


def _value_size(av: Mapping[str, Any]) -> int:
    try:
        ((tag, payload),) = av.items()
    except (ValueError, AttributeError):
        raise _malformed("an AttributeValue must hold exactly one type") from None
    if tag == "S":
        return len(payload) if payload.isascii() else _utf8_size(payload)
    sizer = _SIZERS.get(tag)
    if sizer is None:
        raise _malformed("unknown AttributeValue type", type=str(tag)[:8])
    return sizer(payload)


def attribute_value_size(av: Mapping[str, Any]) -> int:
    """Bytes DynamoDB counts for one AttributeValue, without its attribute name."""
    try:
        return _value_size(av)
    except _DocumentError as refusal:
        raise refusal.to_error() from None


def item_size(wire_item: Mapping[str, Mapping[str, Any]]) -> int:
    """Bytes DynamoDB counts for a wire item: every name's UTF-8 length plus its value."""
    total = 0
    name = ""
    try:
        for name, av in wire_item.items():
            total += _utf8_size(name) + _value_size(av)
    except _DocumentError as refusal:
        refusal.path.append(name)
        raise refusal.to_error() from None
    return total
