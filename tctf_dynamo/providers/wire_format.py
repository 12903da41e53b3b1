"""DynamoDB's JSON 1.0 wire format, written and read: pure functions, no I/O.

The request body (binary values as base64 text), the response body (base64 back to
bytes), the ``x-amz-crc32`` check and the dict botocore's parser builds for an error
answer. Every path that speaks the protocol itself uses these (the sync fast path of
:mod:`tctf_dynamo.providers.wire` and the async one of
:mod:`tctf_dynamo.providers.http_async`), so both read and write the same bytes.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import zlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from botocore.awsrequest import HeadersDict
from botocore.exceptions import ChecksumError

from tctf_dynamo.providers.base import EncodedPart, Request

if TYPE_CHECKING:
    from botocore.model import ServiceModel

__all__ = [
    "CONTENT_TYPE",
    "HTTP_MULTIPLE_CHOICES",
    "decode_response",
    "encode_request",
    "encoded_part",
    "error_response",
    "request_id_of",
    "response_metadata",
    "verify_crc32",
]

CONTENT_TYPE: Final = "application/x-amz-json-1.0"
CRC32_HEADER: Final = "x-amz-crc32"
REQUEST_ID_HEADER: Final = "x-amzn-requestid"
HTTP_SERVER_ERROR: Final = 500
HTTP_MULTIPLE_CHOICES: Final = 300
"""The first status botocore's client raises for (``status_code >= 300``)."""

_BINARY_TAG: Final = re.compile(rb'"BS?"')
"""A binary attribute tag as DynamoDB writes it (``"B"`` or ``"BS"``), found in one pass.

One regular expression with a literal prefix scans a 70 KB answer about three times
faster than three separate ``in`` tests, which each stop at every ``"``.
"""
_ESCAPE: Final = b"\\"
"""Any JSON escape starts with a backslash: a server that escapes the letters of a key
(``"\\u0042"``) writes one, so a body without it cannot hide a tag from the scan. Text
with escapes merely takes the slower decoding. ``in`` on one byte is a ``memchr``."""


def _wire_default(value: object) -> Any:
    """What ``json`` cannot write itself: binary as base64 text, sets as lists."""
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} cannot be sent to DynamoDB")


_ENCODER: Final = json.JSONEncoder(
    separators=(",", ":"), default=_wire_default, check_circular=False
)


def encode_request(request: Request) -> bytes:
    """The JSON body for ``request``, binary values as base64 text.

    The writes of a BatchWriteItem that are :class:`EncodedPart` s are not encoded again:
    their text is spliced in where the encoder would have written it, so the body is the
    same bytes either way.
    """
    items = request.get("RequestItems")
    if type(items) is dict and _holds_parts(request, items):
        return _spliced(request).encode("ascii")
    return _ENCODER.encode(request).encode("ascii")


def encoded_part(part: dict[str, Any]) -> EncodedPart:
    """``part`` with the text :func:`encode_request` writes for it, written now."""
    encoded = EncodedPart(part)
    encoded.json = _ENCODER.encode(part)
    return encoded


def _holds_parts(request: Request, items: dict[Any, Any]) -> bool:
    """Whether a table's writes start with a part (keys are text, as the splice needs)."""
    for writes in items.values():
        if type(writes) is list and writes and type(writes[0]) is EncodedPart:
            return all(type(name) is str for name in request) and all(
                type(table) is str for table in items
            )
    return False


def _spliced(request: Request) -> str:
    """What ``_ENCODER.encode(request)`` writes, with each part's own text spliced in
    (the encoder writes a dict as ``{`` + ``"key":value`` joined by ``,`` + ``}``, keys
    in order, and a list likewise with ``[``, ``]``)."""
    encode = _ENCODER.encode
    members = []
    for name, value in request.items():
        if name == "RequestItems":
            tables = []
            for table, writes in value.items():
                if type(writes) is list:
                    written = [
                        write.json if type(write) is EncodedPart else encode(write)
                        for write in writes
                    ]
                    text = "[" + ",".join(written) + "]"
                else:
                    text = encode(writes)
                tables.append(f"{encode(table)}:{text}")
            members.append(f"{encode(name)}:{{{','.join(tables)}}}")
        else:
            members.append(f"{encode(name)}:{encode(value)}")
    return "{" + ",".join(members) + "}"


def _decode_binary(obj: dict[str, Any]) -> Any:
    """``{"B": text}`` -> bytes and ``{"BS": [text, ...]}`` -> list of bytes.

    In a data-plane response, a one-key object ``{"B": <string>}`` can only be a binary
    attribute value: item attributes hold objects, tables (``{"B": [...]}`` in
    ``Responses``) hold lists or objects, and expression name maps have ``#`` keys.
    """
    if len(obj) != 1:
        return obj
    value = obj.get("B")
    if isinstance(value, str):
        return {"B": base64.b64decode(value)}
    values = obj.get("BS")
    if isinstance(values, list) and all(isinstance(element, str) for element in values):
        return {"BS": [base64.b64decode(element) for element in values]}
    return obj


def decode_response(body: bytes) -> Any:
    """The parsed JSON ``body``, binary values as bytes; an empty body is ``{}``."""
    if not body:
        return {}
    if may_hold_binary(body):
        return json.loads(body, object_hook=_decode_binary)
    return json.loads(body)


def may_hold_binary(body: bytes) -> bool:
    """Whether ``body`` may hold a binary value, so needs the decoding that converts
    them; False only when it certainly holds none (no tag, no escape)."""
    return _ESCAPE in body or _BINARY_TAG.search(body) is not None


def verify_crc32(headers: Mapping[str, str], body: bytes) -> None:
    """Raise botocore's ``ChecksumError`` if ``body`` does not match ``x-amz-crc32``."""
    expected = headers.get(CRC32_HEADER)
    if expected is None:
        return
    actual = zlib.crc32(body) & 0xFFFFFFFF
    if str(actual) != str(expected).strip():
        raise ChecksumError(
            checksum_type="crc32", expected_checksum=expected, actual_checksum=str(actual)
        )


def error_response(
    status: int, headers: Mapping[str, str], body: bytes, service_model: ServiceModel
) -> dict[str, Any]:
    """The response dict botocore's JSON parser builds for an error answer.

    ``Error.Code`` is ``__type`` after ``#`` (the HTTP status when absent), the message is
    ``message`` or ``Message``, a 5xx without a JSON body gets the generic shape, and the
    error's modeled members (``CancellationReasons``, ``Item``, ...) are copied to the top
    level, binary values decoded.
    """
    stripped = body.strip()
    if status >= HTTP_SERVER_ERROR and (not stripped or stripped.startswith(b"<html>")):
        error = {"Code": str(status), "Message": http.client.responses.get(status, "")}
        return {
            "Error": error,
            "ResponseMetadata": response_metadata(status, headers, request_id=False),
        }
    payload = _error_payload(body)
    code = _error_code(payload, status)
    message = payload.get("message", payload.get("Message", ""))
    parsed: dict[str, Any] = {"Error": {"Message": message, "Code": code}}
    # botocore-stubs type the error code as an int and the result as a plain Shape.
    shape: Any = service_model.shape_for_error_code(code)  # type: ignore[arg-type]
    if shape is not None:
        for name, member in shape.members.items():
            value = payload.get(member.serialization.get("name", name))
            if value is not None:
                parsed[name] = value
    parsed["ResponseMetadata"] = response_metadata(status, headers, request_id=True)
    return parsed


def _error_payload(body: bytes) -> dict[str, Any]:
    try:
        payload = decode_response(body)
    except ValueError:
        return {"message": body.decode("utf-8", "replace")}
    return payload if isinstance(payload, dict) else {}


def _error_code(payload: Mapping[str, Any], status: int) -> str:
    code = str(payload.get("__type", str(status)))
    code = code.split(":", 1)[0]
    return code.rsplit("#", 1)[-1]


def response_metadata(
    status: int, headers: Mapping[str, str], *, request_id: bool
) -> dict[str, Any]:
    """``ResponseMetadata`` as botocore's parser and endpoint fill it in.

    ``RetryAttempts`` is always 0: botocore never retries on this path (the library's
    policy does, and each of its attempts is a call of its own to the tracers).
    """
    lowered = _lowered(headers)
    metadata: dict[str, Any] = {}
    if request_id and REQUEST_ID_HEADER in lowered:
        metadata["RequestId"] = lowered[REQUEST_ID_HEADER]
    metadata["HTTPStatusCode"] = status
    metadata["HTTPHeaders"] = lowered
    metadata["RetryAttempts"] = 0
    return metadata


def request_id_of(headers: Mapping[str, str]) -> str | None:
    """The ``RequestId`` :func:`response_metadata` would report, without copying headers.

    botocore's ``HeadersDict`` looks names up case-insensitively; any other mapping is
    lowered first, as :func:`response_metadata` lowers it.
    """
    if isinstance(headers, HeadersDict):
        return headers.get(REQUEST_ID_HEADER)
    return _lowered(headers).get(REQUEST_ID_HEADER)


def _lowered(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers as a plain dict with lower-case names, as botocore's ``HTTPHeaders``.

    botocore's ``HeadersDict`` looks every value up through a case-insensitive key
    object, which makes ``items()`` cost about 2 us per header; its private ``_dict``
    (keys whose ``str`` is the name as received) is read directly when it is there, at
    a fifth of the cost. Any other mapping (an aiohttp answer, a ``before-send``
    handler's) is read through ``items()``.
    """
    raw = getattr(headers, "_dict", None) if isinstance(headers, HeadersDict) else None
    if type(raw) is not dict:
        raw = headers
    return {str(key).lower(): value for key, value in raw.items()}
