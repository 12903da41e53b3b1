"""The rules DynamoDB applies to every AttributeValue, checked on wire values.

Values made by the codec already keep most of these rules, but wire items and keys reach
the library directly too (``batch_write`` of wire items, ``transact_write``, the CLI), and
one rule -- valid Unicode -- the codec does not check at all. Every request builder calls
:func:`check_attribute_values` on what it is about to send, so the rules hold on every path:

- a number is a finite decimal of at most 38 significant digits, magnitude 1E-130 to
  9.99...E+125 (UNSUPPORTED_TYPE);
- a set (SS, NS, BS) is not empty (UNSUPPORTED_TYPE) and holds no member twice, numbers
  compared by value so ``"1"`` and ``"1.0"`` are one member (INVALID_INPUT);
- lists and maps nest at most 32 levels deep (UNSUPPORTED_TYPE);
- strings and map keys are valid Unicode: a lone surrogate, which ``json.loads`` readily
  produces, has no UTF-8 form (INVALID_INPUT);
- ``NULL`` is ``true`` and ``BOOL`` a bool; a value holds exactly one type (INVALID_ITEM).

Errors name the attribute path (``tags[3]``), never the value. Flat items of ASCII strings,
the common case, are decided without entering the recursive walk.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from tctf_dynamo import limits
from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode
from tctf_dynamo.wire.codec import decode_number, encode_number
from tctf_dynamo.wire.documents import DocumentError as _DocumentError
from tctf_dynamo.wire.documents import malformed as _malformed
from tctf_dynamo.wire.documents import unsupported as _unsupported

__all__ = ["canonical_number", "check_attribute_values", "check_text", "is_short_number"]

_NUMBER_CHARACTERS = frozenset("0123456789")


def _invalid(message: str, **details: Any) -> _DocumentError:
    return _DocumentError(ErrorCode.INVALID_INPUT, message, **details)


def check_text(text: str) -> None:
    """Raise INVALID_INPUT (as a document error) when ``text`` has no UTF-8 form."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise _invalid("string is not valid Unicode (it holds a lone surrogate)") from None


def is_short_number(text: str) -> bool:
    """Plain notation of at most 38 characters: always within DynamoDB's precision and range."""
    if len(text) > limits.MAX_NUMBER_PRECISION or not text.isascii():
        return False
    body = text[1:] if text[:1] == "-" else text
    return body.isdigit() or (body.replace(".", "", 1).isdigit() and body[0] != "." != body[-1])


def canonical_number(text: Any) -> str:
    """The canonical text of a wire number; refuses what DynamoDB cannot store.

    Plain notation of at most 38 characters always fits DynamoDB's precision and range,
    so such text is only brought to canonical form; anything else goes through the codec.
    """
    if type(text) is not str:
        raise _malformed("N holds a value that is not a string")
    body = text[1:] if text[:1] == "-" else text
    if len(text) <= limits.MAX_NUMBER_PRECISION and body.isascii():
        whole, dot, fraction = body.partition(".")
        digits = _NUMBER_CHARACTERS.issuperset
        plain = whole and digits(whole) and digits(fraction) and (whole[0] != "0" or whole == "0")
        if plain and ((not dot and text != "-0") or (fraction and fraction[-1] != "0")):
            return text
    try:
        return encode_number(decode_number(text))
    except DynamoDBServiceError as refusal:
        raise _DocumentError(ErrorCode.UNSUPPORTED_TYPE, refusal.message) from None


def _check_set(tag: str, payload: Any, depth: int) -> None:
    if not isinstance(payload, list | tuple):
        raise _malformed("a set must be given as a list of members", type=tag)
    if not payload:
        raise _unsupported("DynamoDB cannot store an empty set", type=tag)
    if tag == "SS":
        for member in payload:
            if type(member) is not str:
                raise _malformed("SS holds a member that is not a string")
            check_text(member)
        distinct = len(set(payload))
    elif tag == "NS":
        distinct = len({canonical_number(member) for member in payload})
    else:
        try:
            distinct = len({bytes(member) for member in payload})
        except TypeError:
            raise _malformed("BS holds a member that is not binary") from None
    if distinct != len(payload):
        raise _invalid("set holds the same member twice", type=tag)


def _enter(depth: int) -> int:
    if depth >= limits.MAX_DOCUMENT_DEPTH:
        raise _unsupported("document is nested too deeply", limit=limits.MAX_DOCUMENT_DEPTH)
    return depth + 1


def _check_list(payload: Any, depth: int) -> None:
    if not isinstance(payload, list | tuple):
        raise _malformed("L holds a value that is not a list")
    inner = _enter(depth)
    for position, element in enumerate(payload):
        try:
            _check_value(element, inner)
        except _DocumentError as refusal:
            refusal.path.append(position)
            raise


def _check_map(payload: Any, depth: int) -> None:
    if not isinstance(payload, Mapping):
        raise _malformed("M holds a value that is not a map")
    inner = _enter(depth)
    for key, element in payload.items():
        if type(key) is not str:
            raise _malformed("map keys must be strings")
        try:
            check_text(key)
            _check_value(element, inner)
        except _DocumentError as refusal:
            refusal.path.append(key if key.isascii() else "?")
            raise


def _check_string(payload: Any, depth: int) -> None:
    if type(payload) is not str:
        raise _malformed("S holds a value that is not a string")
    check_text(payload)


def _check_number(payload: Any, depth: int) -> None:
    if type(payload) is not str or not is_short_number(payload):
        canonical_number(payload)


def _check_binary(payload: Any, depth: int) -> None:
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise _malformed("B holds a value that is not binary")


def _check_bool(payload: Any, depth: int) -> None:
    if type(payload) is not bool:
        raise _malformed("BOOL holds a value that is not a bool")


def _check_null(payload: Any, depth: int) -> None:
    if payload is not True:
        raise _invalid("NULL must be true")


_CHECKS: dict[str, Callable[[Any, int], None]] = {
    "S": _check_string,
    "N": _check_number,
    "M": _check_map,
    "L": _check_list,
    "B": _check_binary,
    "BOOL": _check_bool,
    "NULL": _check_null,
    "SS": partial(_check_set, "SS"),
    "NS": partial(_check_set, "NS"),
    "BS": partial(_check_set, "BS"),
}


def _check_value(av: Any, depth: int) -> None:
    if type(av) is dict and len(av) == 1:
        text = av.get("S")
        if type(text) is str and text.isascii():
            return
    elif not isinstance(av, Mapping) or len(av) != 1:
        raise _malformed("an AttributeValue must hold exactly one type")
    ((tag, payload),) = av.items()
    check = _CHECKS.get(tag)
    if check is None:
        raise _malformed("unknown AttributeValue type", type=str(tag)[:8])
    check(payload, depth)


def check_attribute_values(values: Mapping[str, Any]) -> None:
    """Check every value of a wire item, key or ExpressionAttributeValues mapping.

    Raises the coded error of the first rule broken, naming the attribute path.
    """
    for name, av in values.items():
        if type(av) is dict and len(av) == 1:  # fast paths: ASCII strings, short numbers
            text = av.get("S")
            if text is None:
                text = av.get("N")
                if type(text) is str and is_short_number(text):
                    continue
            elif type(text) is str and text.isascii():
                continue
        try:
            _check_value(av, 0)
        except _DocumentError as refusal:
            refusal.path.append(name if isinstance(name, str) and name.isascii() else "?")
            raise refusal.to_error() from None
