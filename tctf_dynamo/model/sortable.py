"""Order-preserving text encodings for values placed inside composite string keys.

A sort key such as ``ORDER#{placed_at}#{total}`` is compared by DynamoDB as UTF-8 bytes, so
every value written into it must encode to text whose byte order is the value's order, and
must decode back to exactly the same value. Every encoding here is also *prefix-free* (no
value's text is a proper prefix of another value's), so the order survives whatever literal
text the template puts after the field.

Numbers (int, Decimal, finite float) use a sign class, a fixed-width exponent and the
significant digits followed by a terminator; negatives complement the exponent and digits
so that a larger magnitude sorts first::

    -1.5 -> "0125" "84" ":"      (sign 0, exponent 255-130, digits 9-1 9-5, terminator ":")
     0   -> "1"
     1.5 -> "2130" "15" "."      (sign 2, exponent 0+130, digits, terminator ".")

The exponent range is DynamoDB's (1E-130 to 9.99E+125), so any number DynamoDB can store
fits; more than 38 significant digits is refused like DynamoDB refuses it. Datetimes must be
time-zone aware and are written in UTC at a fixed width; naive datetimes are refused because
their instant is unknown.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any
from uuid import UUID

from tctf_dynamo import limits
from tctf_dynamo.errors import ErrorCode, error_for

__all__ = [
    "decode_sortable_bool",
    "decode_sortable_date",
    "decode_sortable_datetime",
    "decode_sortable_number",
    "decode_sortable_uuid",
    "encode_sortable_bool",
    "encode_sortable_date",
    "encode_sortable_datetime",
    "encode_sortable_number",
    "encode_sortable_uuid",
    "sortable_codec_for",
]

_EXPONENT_BIAS = -limits.MIN_NUMBER_MAGNITUDE.adjusted()  # 130
_MAX_BIASED_EXPONENT = limits.MAX_NUMBER_MAGNITUDE.adjusted() + _EXPONENT_BIAS  # 255
_NEGATIVE, _ZERO, _POSITIVE = "0", "1", "2"
_POSITIVE_END = "."  # sorts before every digit: a shorter mantissa is a smaller number
_NEGATIVE_END = ":"  # sorts after every digit: a shorter complemented mantissa is larger
_COMPLEMENT = str.maketrans("0123456789", "9876543210")
_DATETIME_FORMAT = "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ"
_DATETIME_WIDTH = 27


def _invalid(message: str, **details: Any) -> Exception:
    return error_for(ErrorCode.INVALID_KEY, message, details)


# ---------------------------------------------------------------- numbers


def _as_decimal(value: int | Decimal | float) -> Decimal:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _invalid("NaN and infinite numbers cannot be placed in a key")
        return Decimal(repr(value))  # the shortest text that round-trips to this float
    if isinstance(value, Decimal) and not value.is_finite():
        raise _invalid("NaN and infinite numbers cannot be placed in a key")
    return Decimal(value)


def encode_sortable_number(value: int | Decimal | float) -> str:
    """Text whose byte order is numeric order; refuses what DynamoDB could not store."""
    number = _as_decimal(value)
    if not number:
        return _ZERO
    sign, digits, _ = number.as_tuple()
    mantissa = "".join(map(str, digits)).rstrip("0")
    if len(mantissa) > limits.MAX_NUMBER_PRECISION:
        raise _invalid(
            "number has more significant digits than DynamoDB stores",
            digits=len(mantissa),
            limit=limits.MAX_NUMBER_PRECISION,
        )
    biased = number.adjusted() + _EXPONENT_BIAS
    if not 0 <= biased <= _MAX_BIASED_EXPONENT:
        raise _invalid("number magnitude is outside DynamoDB's range", exponent=number.adjusted())
    if sign:
        exponent = f"{_MAX_BIASED_EXPONENT - biased:03d}"
        return _NEGATIVE + exponent + mantissa.translate(_COMPLEMENT) + _NEGATIVE_END
    return _POSITIVE + f"{biased:03d}" + mantissa + _POSITIVE_END


def decode_sortable_number(text: str) -> Decimal:
    """The exact number encoded by :func:`encode_sortable_number`, as a Decimal."""
    if text == _ZERO:
        return Decimal(0)
    head, exponent_text, body = text[:1], text[1:4], text[4:]
    if head == _POSITIVE and body.endswith(_POSITIVE_END):
        mantissa, biased, negative = body[:-1], _parse_exponent(exponent_text), False
    elif head == _NEGATIVE and body.endswith(_NEGATIVE_END):
        mantissa = body[:-1].translate(_COMPLEMENT)
        biased, negative = _MAX_BIASED_EXPONENT - _parse_exponent(exponent_text), True
    else:
        raise _invalid("key segment is not an encoded number")
    if not mantissa.isdigit() or not mantissa.isascii() or mantissa[0] == "0":
        raise _invalid("key segment is not an encoded number")
    exponent = biased - _EXPONENT_BIAS - (len(mantissa) - 1)
    try:
        return Decimal(f"{'-' if negative else ''}{mantissa}E{exponent}")
    except InvalidOperation:  # pragma: no cover - the text is digits by construction
        raise _invalid("key segment is not an encoded number") from None


def _parse_exponent(text: str) -> int:
    if len(text) != 3 or not text.isdigit() or not text.isascii():
        raise _invalid("key segment is not an encoded number")
    value = int(text)
    if value > _MAX_BIASED_EXPONENT:
        raise _invalid("key segment is not an encoded number")
    return value


# ---------------------------------------------------------------- times and the rest


_last_datetime: tuple[datetime | None, str] = (None, "")
"""The last datetime encoded and its text: an item writes a key datetime twice (key and
attribute). One tuple, replaced whole, so concurrent readers never see a torn pair."""


def encode_sortable_datetime(value: datetime) -> str:
    """Fixed-width UTC text (``2024-05-01T12:00:00.000000Z``); refuses naive datetimes."""
    global _last_datetime  # noqa: PLW0603 - a one-entry cache, see above
    last = _last_datetime
    if last[0] is value:
        return last[1]
    text = _encode_datetime(value)
    _last_datetime = (value, text)
    return text


def _encode_datetime(value: datetime) -> str:
    offset = None if value.tzinfo is UTC else value.utcoffset()
    if offset is None and value.tzinfo is not UTC:
        raise _invalid("naive datetime has no time zone; attach one (e.g. UTC)")
    if offset:
        try:
            value = value - offset
        except OverflowError:
            raise _invalid("datetime is out of range once converted to UTC") from None
    return _DATETIME_FORMAT % (
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
    )


def decode_sortable_datetime(text: str) -> datetime:
    """The aware UTC datetime written by :func:`encode_sortable_datetime`."""
    if len(text) != _DATETIME_WIDTH or text[-1] != "Z":
        raise _invalid("key segment is not an encoded datetime")
    try:
        return datetime.strptime(text[:-1], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)
    except ValueError:
        raise _invalid("key segment is not an encoded datetime") from None


def encode_sortable_date(value: date) -> str:
    """ISO ``YYYY-MM-DD``: fixed width, and a prefix of the same day's datetimes."""
    return value.isoformat()


def decode_sortable_date(text: str) -> date:
    if len(text) != 10:
        raise _invalid("key segment is not an encoded date")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _invalid("key segment is not an encoded date") from None


def encode_sortable_bool(value: bool) -> str:
    """``false`` < ``true``, like False < True."""
    return "true" if value else "false"


def decode_sortable_bool(text: str) -> bool:
    if text == "true":
        return True
    if text == "false":
        return False
    raise _invalid("key segment is not an encoded bool")


def encode_sortable_uuid(value: UUID) -> str:
    """Canonical lowercase text: fixed width, and hex order is the UUID's integer order."""
    return str(value)


def decode_sortable_uuid(text: str) -> UUID:
    if len(text) != 36:
        raise _invalid("key segment is not an encoded UUID")
    try:
        return UUID(text)
    except ValueError:
        raise _invalid("key segment is not an encoded UUID") from None


Encode = Callable[[Any], str]
Decode = Callable[[str], Any]


def _number_codec(kind: type) -> tuple[Encode, Decode]:
    if kind is int:
        return encode_sortable_number, lambda text: int(decode_sortable_number(text))
    if kind is float:
        return encode_sortable_number, lambda text: float(decode_sortable_number(text))
    return encode_sortable_number, decode_sortable_number


_FIXED_CODECS: dict[type, tuple[Encode, Decode]] = {
    bool: (encode_sortable_bool, decode_sortable_bool),
    datetime: (encode_sortable_datetime, decode_sortable_datetime),
    date: (encode_sortable_date, decode_sortable_date),
    UUID: (encode_sortable_uuid, decode_sortable_uuid),
}


def sortable_codec_for(kind: type) -> tuple[Encode, Decode] | None:
    """The (encode, decode) pair for a non-string key type, or None if it has none.

    Strings are not handled here: they are escaped by the template layer instead.
    ``bool`` is checked before ``int`` and ``datetime`` before ``date`` because each is a
    subclass of the other.
    """
    for base in (bool, datetime, date, UUID):
        if issubclass(kind, base):
            return _FIXED_CODECS[base]
    if issubclass(kind, int | Decimal | float):
        return _number_codec(int if issubclass(kind, int) else kind)
    return None


def enum_codec(kind: type[Enum], value_codec: tuple[Encode, Decode]) -> tuple[Encode, Decode]:
    """Encode an Enum member by its value, so IntEnum keys sort by value."""
    encode_value, decode_value = value_codec

    def encode(member: Any) -> str:
        return encode_value(kind(member).value)

    def decode(text: str) -> Any:
        try:
            return kind(decode_value(text))
        except ValueError:
            raise _invalid("key segment is not a member of the enum", enum=kind.__name__) from None

    return encode, decode
