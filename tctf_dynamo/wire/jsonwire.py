"""DynamoDB JSON (binaries in base64 text) <-> wire AttributeValues (binaries as bytes).

DynamoDB speaks JSON over HTTP, so wherever its AttributeValues appear as JSON text --
Lambda events from DynamoDB Streams, S3 exports, ``aws dynamodb`` CLI output -- a ``B``
is base64 text and a ``BS`` a list of base64 texts. The wire form this library (and
boto3's low-level client) works with holds ``bytes`` instead. These two functions are
the one place that converts between them; everything else is the same in both forms.

Reading accepts either form value by value (text is base64, bytes are kept), so a
record from a Lambda event and one from a boto3 ``GetRecords`` call go through the
same function. :func:`parse_line` and :func:`format_item` are the JSON-lines forms of
``tctf-dynamo load`` and ``export``: typed DynamoDB JSON, or plain JSON objects.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode, error_for
from tctf_dynamo.wire.codec import decode_item, encode_item

__all__ = [
    "format_item",
    "item_from_json",
    "item_to_json",
    "parse_line",
    "value_from_json",
    "value_to_json",
]


def _binary(payload: Any, path: str) -> bytes:
    if isinstance(payload, bytes | bytearray | memoryview):
        return bytes(payload)
    if isinstance(payload, str):
        try:
            return base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            pass
    raise error_for(
        ErrorCode.INVALID_ITEM,
        f"attribute {path!r}: a binary value must be base64 text or bytes",
        {"attribute": path},
    )


def value_from_json(value: Any, path: str = "") -> Any:
    """One AttributeValue from DynamoDB JSON (or wire) form to wire form."""
    if not isinstance(value, Mapping) or len(value) != 1:
        raise error_for(
            ErrorCode.INVALID_ITEM,
            f"attribute {path!r}: an AttributeValue is an object with one type key",
            {"attribute": path},
        )
    ((kind, payload),) = value.items()
    if kind == "B":
        return {"B": _binary(payload, path)}
    if kind == "BS":
        return {"BS": [_binary(part, path) for part in _listed(payload, path)]}
    if kind == "L":
        listed = _listed(payload, path)
        return {"L": [value_from_json(v, f"{path}[{i}]") for i, v in enumerate(listed)]}
    if kind == "M":
        if not isinstance(payload, Mapping):
            raise _not_a("map", path)
        return {"M": {name: value_from_json(v, f"{path}.{name}") for name, v in payload.items()}}
    return dict(value)


def _listed(payload: Any, path: str) -> list[Any]:
    if not isinstance(payload, list | tuple):
        raise _not_a("list", path)
    return list(payload)


def _not_a(kind: str, path: str) -> Exception:
    return error_for(
        ErrorCode.INVALID_ITEM, f"attribute {path!r}: expected a {kind}", {"attribute": path}
    )


def item_from_json(item: Mapping[str, Any]) -> dict[str, Any]:
    """A whole item from DynamoDB JSON to wire form; INVALID_ITEM names a bad attribute."""
    if not isinstance(item, Mapping):
        raise error_for(ErrorCode.INVALID_ITEM, "an item is an object of attributes")
    return {name: value_from_json(value, name) for name, value in item.items()}


def value_to_json(value: Mapping[str, Any]) -> dict[str, Any]:
    """One wire AttributeValue as DynamoDB JSON (binaries as base64 text)."""
    ((kind, payload),) = value.items()
    if kind == "B":
        return {"B": base64.b64encode(bytes(payload)).decode("ascii")}
    if kind == "BS":
        return {"BS": [base64.b64encode(bytes(part)).decode("ascii") for part in payload]}
    if kind == "L":
        return {"L": [value_to_json(element) for element in payload]}
    if kind == "M":
        return {"M": {name: value_to_json(element) for name, element in payload.items()}}
    return dict(value)


def item_to_json(item: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A wire item as DynamoDB JSON, ready for ``json.dumps``."""
    return {name: value_to_json(value) for name, value in item.items()}


# ---------------------------------------------------------------- JSON lines


def _bad_line(number: int, message: str) -> DynamoDBServiceError:
    return error_for(ErrorCode.INVALID_ITEM, f"line {number}: {message}", {"line": number})


def parse_line(text: str, number: int, *, dynamodb_json: bool) -> dict[str, Any]:
    """One JSONL line as a wire item."""
    try:
        value = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError:
        raise _bad_line(number, "not valid JSON") from None
    if dynamodb_json and isinstance(value, dict) and set(value) == {"Item"}:
        value = value["Item"]
    if not isinstance(value, dict):
        raise _bad_line(number, "not a JSON object")
    if not dynamodb_json:
        return encode_item(value)
    try:
        return item_from_json(value)
    except DynamoDBServiceError:
        raise _bad_line(number, "not DynamoDB JSON (see --dynamodb-json)") from None


def _plain_json(value: Any) -> Any:
    """``json.dumps`` default for decoded values: numbers as int or float when that is
    exact (else as text), sets as sorted lists, binaries in base64."""
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def format_item(wire: Mapping[str, Any], *, dynamodb_json: bool) -> str:
    """One wire item as a JSONL line (without the newline)."""
    if dynamodb_json:
        return json.dumps(item_to_json(wire), sort_keys=True)
    return json.dumps(decode_item(wire), default=_plain_json, sort_keys=True)
