"""The byte layout of a cursor and the plaintext form of a LastEvaluatedKey.

Parsing raises :class:`RejectedTokenError` with an operator-facing reason; the codec
turns every one of them into the single public error.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from typing import Any, Final

from tctf_dynamo.errors import ErrorCode, InvalidInputError
from tctf_dynamo.limits import MAX_KEY_ATTRIBUTE_NAME_BYTES
from tctf_dynamo.pagination._keys import KEY_ID_PATTERN, MAX_KEY_ID_LENGTH

TOKEN_VERSION: Final = 1
NONCE_BYTES: Final = 12
TAG_BYTES: Final = 16
MAX_TOKEN_CHARS: Final = 16_384
"""Cap on token length, so a hostile client cannot make us decode megabytes.

A GSI cursor holds at most four key attributes: 2 x 2,048 + 2 x 1,024 bytes of values and
4 x 255 bytes of names. Even all-binary (base64 in the plaintext) that is about 9.4 KB of
plaintext and 12.7 KB of token, so every real LastEvaluatedKey fits.
"""
_TOKEN_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR_TYPES: Final = frozenset({"S", "N", "B"})


class RejectedTokenError(Exception):
    """Why a token was refused; logged for operators, never shown to clients."""


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def header(key_id: str) -> bytes:
    encoded = key_id.encode("ascii")
    return bytes((TOKEN_VERSION, len(encoded))) + encoded


def binding(table: str, index: str | None, fingerprint: str) -> bytes:
    """The query a cursor belongs to, as associated data; wrong types are caller bugs."""
    if not isinstance(table, str) or not table:
        raise InvalidInputError(ErrorCode.INVALID_TABLE_NAME, "cursor table must be a name")
    if index is not None and (not isinstance(index, str) or not index):
        raise InvalidInputError(ErrorCode.INVALID_INDEX_NAME, "cursor index must be a name or None")
    if not isinstance(fingerprint, str):
        raise InvalidInputError(
            ErrorCode.UNSUPPORTED_TYPE, "cursor fingerprint must be a str from query_fingerprint()"
        )
    return json.dumps([table, index, fingerprint], separators=(",", ":")).encode("utf-8")


def token_bytes(token: object) -> bytes:
    """Decode the base64url text, refusing anything but the one canonical spelling."""
    if not isinstance(token, str):
        raise RejectedTokenError("token is not a string")
    if len(token) > MAX_TOKEN_CHARS:
        raise RejectedTokenError(f"token longer than {MAX_TOKEN_CHARS} characters")
    if not _TOKEN_PATTERN.fullmatch(token):
        raise RejectedTokenError("token is not unpadded base64url")
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    if b64url(raw) != token:  # no spare low bits that could change unnoticed
        raise RejectedTokenError("token is not canonical base64url")
    return raw


def split(raw: bytes) -> tuple[str, bytes, bytes, bytes]:
    """Cut a token into key id, header (for the associated data), nonce and sealed box."""
    if len(raw) < 2:
        raise RejectedTokenError("token is truncated")
    version, id_length = raw[0], raw[1]
    if version != TOKEN_VERSION:
        raise RejectedTokenError(f"unsupported token version {version}")
    if not 1 <= id_length <= MAX_KEY_ID_LENGTH:
        raise RejectedTokenError("token key id length is out of range")
    head_length = 2 + id_length
    if len(raw) < head_length + NONCE_BYTES + TAG_BYTES:
        raise RejectedTokenError("token is truncated")
    key_id = raw[2:head_length].decode("ascii")
    if not KEY_ID_PATTERN.fullmatch(key_id):
        raise RejectedTokenError("token key id is malformed")
    nonce_end = head_length + NONCE_BYTES
    return key_id, raw[:head_length], raw[head_length:nonce_end], raw[nonce_end:]


def _key_error(message: str, attribute: str | None = None) -> InvalidInputError:
    details = {} if attribute is None else {"attribute": attribute}
    return InvalidInputError(ErrorCode.INVALID_KEY, message, details)


def key_to_plain(key: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """Check a wire LastEvaluatedKey and turn its B values into base64 text for JSON."""
    if not isinstance(key, Mapping) or not key:
        raise _key_error("LastEvaluatedKey must be a non-empty mapping of attribute values")
    plain: dict[str, dict[str, str]] = {}
    for name, value in key.items():
        if not isinstance(name, str) or not name:
            raise _key_error("LastEvaluatedKey attribute names must be non-empty strings")
        if len(name.encode("utf-8", "surrogatepass")) > MAX_KEY_ATTRIBUTE_NAME_BYTES:
            raise _key_error(
                f"LastEvaluatedKey attribute name exceeds {MAX_KEY_ATTRIBUTE_NAME_BYTES} bytes"
            )
        plain[name] = _scalar_to_plain(name, value)
    return plain


def _scalar_to_plain(name: str, value: object) -> dict[str, str]:
    if isinstance(value, Mapping) and len(value) == 1:
        ((kind, raw),) = value.items()
        if kind == "B" and isinstance(raw, bytes | bytearray | memoryview):
            return {"B": base64.b64encode(bytes(raw)).decode("ascii")}
        if kind in ("S", "N") and isinstance(raw, str):
            return {kind: raw}
    raise _key_error(f"key attribute {name!r} must be one of S, N (str) or B (bytes)", name)


def encode_plaintext(issued_at: float, plain_key: Mapping[str, Mapping[str, str]]) -> bytes:
    body = {"iat": issued_at, "key": plain_key}
    try:
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise _key_error("LastEvaluatedKey holds text that is not valid UTF-8") from None


def _reject_constant(name: str) -> float:
    raise RejectedTokenError(f"plaintext holds the non-finite number {name}")


def decode_plaintext(plaintext: bytes) -> tuple[float, dict[str, dict[str, Any]]]:
    """Read issue time and wire LastEvaluatedKey back; B values become bytes again."""
    body = json.loads(plaintext.decode("utf-8"), parse_constant=_reject_constant)
    if not isinstance(body, dict) or set(body) != {"iat", "key"}:
        raise RejectedTokenError("plaintext is not the expected object")
    issued_at, plain = body["iat"], body["key"]
    if isinstance(issued_at, bool) or not isinstance(issued_at, int | float):
        raise RejectedTokenError("issue time is not a number")
    if not isinstance(plain, dict) or not plain:
        raise RejectedTokenError("plaintext key is not a non-empty object")
    key: dict[str, dict[str, Any]] = {}
    for name, value in plain.items():
        if not isinstance(value, dict) or len(value) != 1:
            raise RejectedTokenError("plaintext key attribute is not a single typed value")
        ((kind, raw),) = value.items()
        if kind not in _SCALAR_TYPES or not isinstance(raw, str):
            raise RejectedTokenError("plaintext key attribute has an unknown type")
        key[name] = {"B": base64.b64decode(raw, validate=True)} if kind == "B" else {kind: raw}
    return float(issued_at), key
