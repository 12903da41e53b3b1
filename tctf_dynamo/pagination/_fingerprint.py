"""A short, stable hash of a query's identity, to bind its cursors to it."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from tctf_dynamo.errors import ErrorCode, InvalidInputError

IGNORED_FINGERPRINT_FIELDS: Final = frozenset({"ExclusiveStartKey", "Limit"})
"""Request fields that change from page to page or by client choice, not the query itself."""
_DOMAIN: Final = b"tctf-dynamo/query-fingerprint/v1\n"
_DIGEST_BYTES: Final = 16


def query_fingerprint(parts: Mapping[str, Any]) -> str:
    """Hash what a query asks for into 22 URL-safe characters.

    Pass the request: key condition expression, filter, projection, attribute names and
    values, index, scan direction, consistency. ``ExclusiveStartKey`` and ``Limit`` are
    ignored at the top level: the first changes on every page and the second is the page
    size, which a client may change between pages without its cursor becoming invalid.
    Equal requests give equal fingerprints in every process: mapping keys are sorted and
    every value is tagged with its type, so ``b"1"``, ``"1"`` and ``1`` never collide.
    """
    if not isinstance(parts, Mapping):
        raise _unsupported("query fingerprint parts must be a mapping")
    relevant = {k: v for k, v in parts.items() if k not in IGNORED_FINGERPRINT_FIELDS}
    canonical = json.dumps(_canonical(relevant), separators=(",", ":"), ensure_ascii=True)
    digest = hashlib.sha256(_DOMAIN + canonical.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:_DIGEST_BYTES]).rstrip(b"=").decode("ascii")


def _unsupported(message: str, type_name: str | None = None) -> InvalidInputError:
    details = {} if type_name is None else {"type": type_name}
    return InvalidInputError(ErrorCode.UNSUPPORTED_TYPE, message, details)


def _canonical(value: Any) -> list[Any]:
    """An injective, order-independent JSON form of a request value."""
    if value is None or isinstance(value, bool):
        return ["z", value]
    if isinstance(value, str):
        return ["s", value]
    if isinstance(value, bytes | bytearray | memoryview):
        return ["b", base64.b64encode(bytes(value)).decode("ascii")]
    if isinstance(value, int | Decimal):
        return ["n", str(value)]
    if isinstance(value, float):
        return ["f", repr(value)]
    if isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            raise _unsupported("query fingerprint mapping keys must be strings")
        return ["m", [[key, _canonical(value[key])] for key in sorted(value)]]
    if isinstance(value, list | tuple):
        return ["l", [_canonical(item) for item in value]]
    if isinstance(value, set | frozenset):
        members = [_canonical(item) for item in value]
        return ["e", sorted(members, key=lambda member: json.dumps(member, ensure_ascii=True))]
    type_name = type(value).__name__
    raise _unsupported(f"query fingerprint cannot encode values of type {type_name}", type_name)
