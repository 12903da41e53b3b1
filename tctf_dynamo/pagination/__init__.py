"""Encrypted, query-bound, expiring pagination cursors.

DynamoDB hands back ``LastEvaluatedKey`` in clear. Giving it to clients would reveal the
key design and let them forge a starting point anywhere in a partition, so the library
gives them an opaque cursor instead::

    token = base64url(version | len(key_id) | key_id | nonce[12] | AES-256-GCM(plaintext))
    plaintext = compact JSON {"iat": issue time, "key": LastEvaluatedKey, B values base64}
    associated data = version | len(key_id) | key_id | JSON [table, index, fingerprint]

The key id travels in clear because it selects the decryption key; the authentication
tag still covers it. Binding table, index and query fingerprint as associated data means
a cursor made for one query fails authentication on any other. Every way a cursor can be
wrong raises the same ``INVALID_PAGINATION_TOKEN`` error so that clients learn nothing
about why; operators find the cause at DEBUG level on logger ``tctf_dynamo.pagination``.

``cryptography`` is imported only when a codec is built or used, so importing this
package stays cheap on cold starts that never paginate.

Modules: ``_keys`` (CursorKey and its checks), ``_fingerprint`` (query identity),
``_token`` (byte layout and the plaintext form of a key), ``_codec`` (CursorCodec).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from tctf_dynamo import _lazy

if TYPE_CHECKING:
    from tctf_dynamo.pagination._codec import CURSOR_KEYS_ENV_VAR, CursorCodec
    from tctf_dynamo.pagination._fingerprint import IGNORED_FINGERPRINT_FIELDS, query_fingerprint
    from tctf_dynamo.pagination._keys import KEY_BYTES, CursorKey
    from tctf_dynamo.pagination._token import MAX_TOKEN_CHARS

__all__ = [
    "CURSOR_KEYS_ENV_VAR",
    "IGNORED_FINGERPRINT_FIELDS",
    "KEY_BYTES",
    "MAX_TOKEN_CHARS",
    "CursorCodec",
    "CursorKey",
    "query_fingerprint",
]

_HOMES: Final = {
    "CURSOR_KEYS_ENV_VAR": "tctf_dynamo.pagination._codec",
    "CursorCodec": "tctf_dynamo.pagination._codec",
    "CursorKey": "tctf_dynamo.pagination._keys",
    "IGNORED_FINGERPRINT_FIELDS": "tctf_dynamo.pagination._fingerprint",
    "KEY_BYTES": "tctf_dynamo.pagination._keys",
    "MAX_TOKEN_CHARS": "tctf_dynamo.pagination._token",
    "query_fingerprint": "tctf_dynamo.pagination._fingerprint",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562)."""
    return _lazy.load(__name__, _HOMES, name)


def __dir__() -> list[str]:
    return _lazy.names(__name__, __all__)
