"""Python values <-> DynamoDB AttributeValues, and DynamoDB's exact item size accounting.

The wire form is the low-level one every provider speaks: ``{"S": "x"}``, ``{"N": "1.5"}``,
``{"M": {...}}``. Encoding runs on every request, so values are dispatched on their exact
type through a table first; ``isinstance`` checks only run for subclasses, and the encoder
found for a subclass is remembered.

Numbers are written in one canonical form (plain notation, no exponent, no trailing
fractional zeros, ``0`` for zero) -- the form DynamoDB itself returns -- so ``1``,
``Decimal("1.0")`` and ``1.0`` give the same key, and a round trip through a server is the
same as a local one. Numbers DynamoDB cannot store exactly are refused, never rounded.

Item sizes follow the AWS guide "DynamoDB item sizes and formats": strings count their UTF-8
bytes, binaries their raw bytes, numbers one byte per two significant digits (paired on the
decimal point) plus one, plus one more when negative; lists and maps cost 3 bytes plus one
per element, and every attribute or map entry adds the UTF-8 length of its name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Set
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any
from uuid import UUID

from tctf_dynamo import limits
from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode, error_for

__all__ = [
    "attribute_value_size",
    "decode",
    "decode_item",
    "decode_number",
    "encode",
    "encode_item",
    "encode_number",
    "item_size",
]

_FAST_INT_BOUND = 10**limits.MAX_NUMBER_PRECISION
"""Every int strictly inside +-10**38 has at most 38 digits and is >= 1 when non-zero."""
_MAX_INT_MAGNITUDE = int(limits.MAX_NUMBER_MAGNITUDE)
_MAX_ADJUSTED_EXPONENT = limits.MAX_NUMBER_MAGNITUDE.adjusted()
_MIN_ADJUSTED_EXPONENT = limits.MIN_NUMBER_MAGNITUDE.adjusted()
_UTC_FORMAT = "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ"
"""Fixed width, so string order is time order."""


class _DocumentError(Exception):
    """Raised deep inside a document; containers on the way out add their path segment.

    Building the path only when something fails keeps the success path free of bookkeeping.
    """

    def __init__(self, code: ErrorCode, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
        self.path: list[str | int] = []  # innermost segment first

    def to_error(self) -> DynamoDBServiceError:
        details = dict(self.details)
        if self.path:
            details["attribute"] = _format_path(reversed(self.path))
        return error_for(self.code, self.message, details)


def _format_path(segments: Iterable[str | int]) -> str:
    text = ""
    for segment in segments:
        if isinstance(segment, int):
            text += f"[{segment}]"
        else:
            text += f".{segment}" if text else segment
    return text


def _unsupported(message: str, **details: Any) -> _DocumentError:
    return _DocumentError(ErrorCode.UNSUPPORTED_TYPE, message, **details)


# ---------------------------------------------------------------- numbers


def _check_digits(significant: int, adjusted: int) -> None:
    if significant > limits.MAX_NUMBER_PRECISION:
        raise _unsupported(
            "number has more significant digits than DynamoDB stores",
            digits=significant,
            limit=limits.MAX_NUMBER_PRECISION,
        )
    if adjusted > _MAX_ADJUSTED_EXPONENT:
        raise _unsupported("number is larger in magnitude than DynamoDB stores", exponent=adjusted)
    if adjusted < _MIN_ADJUSTED_EXPONENT:
        raise _unsupported("number is smaller in magnitude than DynamoDB stores", exponent=adjusted)


def _int_text(value: int) -> str:
    if -_FAST_INT_BOUND < value < _FAST_INT_BOUND:
        return str(value)
    if abs(value) > _MAX_INT_MAGNITUDE:
        raise _unsupported("number is larger in magnitude than DynamoDB stores")
    text = str(value)
    digits = text.lstrip("-")
    _check_digits(len(digits.rstrip("0")), len(digits) - 1)
    return text


def _decimal_text(value: Decimal) -> str:
    text = str(value)
    if len(text) <= limits.MAX_NUMBER_PRECISION and "E" not in text and text[-1:].isdigit():
        # plain notation this short has <= 38 digits and a magnitude DynamoDB stores
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return "0" if text == "-0" else text
    if not value.is_finite():
        raise _unsupported("NaN and infinite numbers cannot be stored")
    if not value:
        return "0"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    _check_digits(len(text.replace(".", "").lstrip("-").strip("0")), value.adjusted())
    return text


def _float_text(value: float) -> str:
    text = repr(value)
    if "e" in text or "n" in text:  # exponent, nan or inf
        if not math.isfinite(value):
            raise _unsupported("NaN and infinite numbers cannot be stored")
        return _decimal_text(Decimal(text))
    text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _number_text(value: Any) -> str:
    kind = type(value)
    if kind is int:
        return _int_text(value)
    if kind is Decimal:
        return _decimal_text(value)
    if kind is float:
        return _float_text(value)
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
        raise _unsupported("not a number", type=kind.__name__)
    if isinstance(value, int):
        return _int_text(int(value))
    if isinstance(value, Decimal):
        return _decimal_text(Decimal(value))
    return _float_text(float(value))


def encode_number(value: int | Decimal | float) -> str:
    """The canonical DynamoDB text of ``value``; refuses what DynamoDB cannot store exactly."""
    try:
        return _number_text(value)
    except _DocumentError as refusal:
        raise refusal.to_error() from None


def decode_number(text: str) -> int | Decimal:
    """``int`` for plain integers (``"42"``); ``Decimal`` when there is a fraction or exponent."""
    if text.isdigit() or (text[:1] == "-" and text[1:].isdigit()):
        try:
            return int(text)
        except ValueError:  # a non-ASCII digit, or beyond int's string conversion limit
            pass
    try:
        number = Decimal(text)
    except (InvalidOperation, TypeError):
        raise error_for(ErrorCode.UNSUPPORTED_TYPE, "text is not a number") from None
    if not number.is_finite():
        raise error_for(ErrorCode.UNSUPPORTED_TYPE, "NaN and infinite numbers cannot be stored")
    return number


# ---------------------------------------------------------------- encoding

_Encoder = Callable[[Any, int], dict[str, Any]]


def _encode_datetime(value: datetime, depth: int) -> dict[str, Any]:
    if value.tzinfo is not UTC:
        offset = value.utcoffset()
        if offset is None:
            raise _unsupported("naive datetime has no time zone; attach one (e.g. UTC)")
        try:
            value = value - offset
        except OverflowError:
            raise _unsupported("datetime is out of range once converted to UTC") from None
    v = value
    fields = (v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond)
    return {"S": _UTC_FORMAT % fields}


def _enter_document(depth: int) -> int:
    if depth >= limits.MAX_DOCUMENT_DEPTH:
        raise _unsupported("document is nested too deeply", limit=limits.MAX_DOCUMENT_DEPTH)
    return depth + 1


def _encode_list(value: Iterable[Any], depth: int) -> dict[str, Any]:
    inner = _enter_document(depth)
    encoded: list[dict[str, Any]] = []
    append = encoded.append
    try:
        for element in value:
            append((_encoder_of(type(element)) or _encoder_for_subclass(element))(element, inner))
    except _DocumentError as refusal:
        refusal.path.append(len(encoded))
        raise
    return {"L": encoded}


def _encode_map(value: Mapping[Any, Any], depth: int) -> dict[str, Any]:
    inner = _enter_document(depth)
    encoded: dict[str, dict[str, Any]] = {}
    key: Any = None
    try:
        for key, element in value.items():
            if type(key) is not str and not isinstance(key, str):
                raise _unsupported("map keys must be strings", type=type(key).__name__)
            encoded[key] = (_encoder_of(type(element)) or _encoder_for_subclass(element))(
                element, inner
            )
    except _DocumentError as refusal:
        if isinstance(key, str):
            refusal.path.append(key)
        raise
    return {"M": encoded}


_SET_KIND_BY_TYPE: dict[type, str] = {
    str: "SS",
    int: "NS",
    Decimal: "NS",
    float: "NS",
    bytes: "BS",
    bytearray: "BS",
    memoryview: "BS",
}


def _set_kind(kind: type) -> str | None:
    known = _SET_KIND_BY_TYPE.get(kind)
    if known is not None or issubclass(kind, bool):
        return known
    if issubclass(kind, str):
        return "SS"
    if issubclass(kind, int | Decimal | float):
        return "NS"
    if issubclass(kind, bytes | bytearray | memoryview):
        return "BS"
    return None


def _encode_set(value: Set[Any], depth: int) -> dict[str, Any]:
    if not value:
        raise _unsupported("DynamoDB cannot store an empty set")
    types = {type(element) for element in value}
    kinds = {_set_kind(kind) for kind in types}
    if len(kinds) != 1 or None in kinds:
        raise _unsupported("a set must hold only strings, only numbers or only binaries")
    kind = kinds.pop()
    if kind == "SS":
        return {"SS": list(value) if types == {str} else [str.__str__(e) for e in value]}
    if kind == "BS":
        return {"BS": [bytes(element) for element in value]}
    return {"NS": list({_number_text(element) for element in value})}


def _encode_bytes(value: bytes | bytearray | memoryview, depth: int) -> dict[str, Any]:
    return {"B": bytes(value)}


def _encode_enum(value: Enum, depth: int) -> dict[str, Any]:
    return (_encoder_of(type(value.value)) or _encoder_for_subclass(value.value))(
        value.value, depth
    )


_ENCODERS: dict[type, _Encoder] = {
    str: lambda value, depth: {"S": value},
    bool: lambda value, depth: {"BOOL": value},
    int: lambda value, depth: {"N": _int_text(value)},
    Decimal: lambda value, depth: {"N": _decimal_text(value)},
    float: lambda value, depth: {"N": _float_text(value)},
    type(None): lambda value, depth: {"NULL": True},
    bytes: lambda value, depth: {"B": value},
    bytearray: _encode_bytes,
    memoryview: _encode_bytes,
    list: _encode_list,
    tuple: _encode_list,
    dict: _encode_map,
    set: _encode_set,
    frozenset: _encode_set,
    datetime: _encode_datetime,
    date: lambda value, depth: {"S": value.isoformat()},
    UUID: lambda value, depth: {"S": str(value)},
}
_encoder_of = _ENCODERS.get

_SUBCLASS_ENCODERS: tuple[tuple[type | tuple[type, ...], _Encoder], ...] = (
    (Enum, _encode_enum),  # before str/int: StrEnum and IntEnum encode their value
    (bool, _ENCODERS[bool]),
    (str, lambda value, depth: {"S": str.__str__(value)}),
    (int, lambda value, depth: {"N": _int_text(int(value))}),
    (Decimal, lambda value, depth: {"N": _decimal_text(Decimal(value))}),
    (float, lambda value, depth: {"N": _float_text(float(value))}),
    ((bytes, bytearray, memoryview), _encode_bytes),
    (datetime, _encode_datetime),  # before date: every datetime is a date
    (date, lambda value, depth: {"S": date.isoformat(value)}),
    (UUID, _ENCODERS[UUID]),
    (Mapping, _encode_map),
    ((list, tuple), _encode_list),
    (Set, _encode_set),
)


def _encoder_for_subclass(value: Any) -> _Encoder:
    kind = type(value)
    for base, encoder in _SUBCLASS_ENCODERS:
        if issubclass(kind, base):
            _ENCODERS[kind] = encoder
            return encoder
    raise _unsupported("type cannot be stored in DynamoDB", type=kind.__name__)


def encode(value: Any) -> dict[str, Any]:
    """The AttributeValue for ``value``; raises UNSUPPORTED_TYPE naming the attribute path."""
    try:
        return (_encoder_of(type(value)) or _encoder_for_subclass(value))(value, 0)
    except _DocumentError as refusal:
        raise refusal.to_error() from None


def encode_item(item: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Encode every attribute of ``item``; errors name the attribute (``tags[3]``)."""
    encoded: dict[str, dict[str, Any]] = {}
    name: Any = None
    try:
        for name, value in item.items():
            if type(name) is not str and not isinstance(name, str):
                raise _unsupported("attribute names must be strings", type=type(name).__name__)
            encoded[name] = (_encoder_of(type(value)) or _encoder_for_subclass(value))(value, 0)
    except _DocumentError as refusal:
        if isinstance(name, str):
            refusal.path.append(name)
        raise refusal.to_error() from None
    return encoded


# ---------------------------------------------------------------- decoding


def _malformed(message: str, **details: Any) -> _DocumentError:
    return _DocumentError(ErrorCode.INVALID_ITEM, message, **details)


def _decode_value(av: Mapping[str, Any]) -> Any:
    try:
        (tag,) = av
        payload = av[tag]
    except (ValueError, TypeError, KeyError):
        raise _malformed("an AttributeValue must hold exactly one type") from None
    if tag == "S":
        return payload
    decoder = _decoder_of(tag)
    if decoder is None:
        raise _malformed("unknown AttributeValue type", type=str(tag)[:8])
    return decoder(payload)


def _decode_number(text: str) -> int | Decimal:
    try:
        return decode_number(text)
    except DynamoDBServiceError:
        raise _malformed("N holds text that is not a number") from None


def _decode_list(payload: list[Any]) -> list[Any]:
    decoded: list[Any] = []
    append = decoded.append
    try:
        for element in payload:
            append(_decode_value(element))
    except _DocumentError as refusal:
        refusal.path.append(len(decoded))
        raise
    return decoded


def _decode_map(payload: Mapping[str, Any]) -> dict[str, Any]:
    decoded: dict[str, Any] = {}
    key = ""
    try:
        for key, element in payload.items():
            decoded[key] = _decode_value(element)
    except _DocumentError as refusal:
        refusal.path.append(key)
        raise
    return decoded


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "N": _decode_number,
    "BOOL": bool,
    "NULL": lambda payload: None,
    "B": bytes,
    "L": _decode_list,
    "M": _decode_map,
    "SS": set,
    "NS": lambda payload: {_decode_number(text) for text in payload},
    "BS": lambda payload: {bytes(element) for element in payload},
}
_decoder_of = _DECODERS.get


def decode(av: Mapping[str, Any]) -> Any:
    """The Python value of an AttributeValue; malformed input raises INVALID_ITEM."""
    try:
        return _decode_value(av)
    except _DocumentError as refusal:
        raise refusal.to_error() from None


def decode_item(wire: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Decode every attribute of a wire item."""
    try:
        return _decode_map(wire)
    except _DocumentError as refusal:
        raise refusal.to_error() from None


# ---------------------------------------------------------------- sizes


def _utf8_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _number_size(text: str) -> int:
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
    "N": _number_size,
    "B": _binary_size,
    "BOOL": lambda payload: 1,
    "NULL": lambda payload: 1,
    "L": _list_size,
    "M": _map_size,
    "SS": lambda payload: sum(_utf8_size(text) for text in payload),
    "NS": lambda payload: sum(_number_size(text) for text in payload),
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
