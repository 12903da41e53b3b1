"""Python values <-> DynamoDB AttributeValues.

The wire form is the low-level one every provider speaks: ``{"S": "x"}``, ``{"N": "1.5"}``,
``{"M": {...}}``. Encoding runs on every request, so values are dispatched on their exact
type through a table first; ``isinstance`` checks only run for subclasses, and the encoder
found for a subclass is remembered.

Numbers are written in one canonical form (plain notation, no exponent, no trailing
fractional zeros, ``0`` for zero) -- the form DynamoDB itself returns -- so ``1``,
``Decimal("1.0")`` and ``1.0`` give the same key, and a round trip through a server is the
same as a local one. Numbers DynamoDB cannot store exactly are refused, never rounded.

Item sizes live in :mod:`tctf_dynamo.wire.sizes` and are re-exported here.
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
from tctf_dynamo.wire.documents import DocumentError as _DocumentError
from tctf_dynamo.wire.documents import malformed as _malformed
from tctf_dynamo.wire.documents import unsupported as _unsupported
from tctf_dynamo.wire.sizes import attribute_value_size, item_size

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
    # Members are sorted so that equal sets always encode to the same request, in every
    # process whatever its hash seed: a replay under a client token must be byte-identical.
    if kind == "SS":
        return {"SS": sorted(value) if types == {str} else sorted(str.__str__(e) for e in value)}
    if kind == "BS":
        return {"BS": sorted(bytes(element) for element in value)}
    return {"NS": sorted({_number_text(element) for element in value})}


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
