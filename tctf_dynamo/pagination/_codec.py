"""CursorCodec: LastEvaluatedKey to an opaque, bound, expiring cursor and back."""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from tctf_dynamo.errors import ErrorCode, InvalidInputError
from tctf_dynamo.pagination import _token
from tctf_dynamo.pagination._keys import CursorKey, config_error
from tctf_dynamo.pagination._token import RejectedTokenError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

logger = logging.getLogger("tctf_dynamo.pagination")

CURSOR_KEYS_ENV_VAR: Final = "TCTF_DYNAMO_CURSOR_KEYS"
DEFAULT_TTL_SECONDS: Final = 3600.0
DEFAULT_CLOCK_SKEW_SECONDS: Final = 60.0
"""How far in the future an issue time may lie, for servers whose clocks disagree a little."""
_INVALID_TOKEN_MESSAGE: Final = "pagination token is invalid or expired"
_GENERATE_HINT: Final = (
    'make an entry with: python -c "from tctf_dynamo.pagination import CursorKey; '
    "print(CursorKey.generate('k1').to_config_entry())\""
)


def _check_seconds(name: str, seconds: object, *, allow_zero: bool) -> float:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise config_error(f"cursor {name} must be a number of seconds")
    if not math.isfinite(seconds) or seconds < 0 or (seconds == 0 and not allow_zero):
        raise config_error(f"cursor {name} must be a finite, positive number of seconds")
    return float(seconds)


class CursorCodec:
    """Turns LastEvaluatedKey into opaque cursors and back, for one set of keys.

    New cursors use ``keys[0]``; every listed key still decrypts. To rotate, put the new
    key first and keep the old one listed until its cursors have expired (``ttl``
    seconds), then remove it.
    """

    __slots__ = ("_aeads", "_clock", "_clock_skew", "_primary", "_ttl")

    def __init__(
        self,
        keys: Sequence[CursorKey],
        *,
        ttl: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
        clock_skew: float = DEFAULT_CLOCK_SKEW_SECONDS,
    ) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        keys = list(keys)
        if not keys:
            raise config_error(
                "no cursor keys: give at least one CursorKey, newest first, "
                f"or set {CURSOR_KEYS_ENV_VAR} and use CursorCodec.from_env(); {_GENERATE_HINT}"
            )
        if not all(isinstance(key, CursorKey) for key in keys):
            raise config_error("cursor keys must be CursorKey instances")
        ids = [key.key_id for key in keys]
        if len(set(ids)) != len(ids):
            raise config_error("cursor key ids must be unique")
        self._ttl = _check_seconds("ttl", ttl, allow_zero=False)
        self._clock_skew = _check_seconds("clock_skew", clock_skew, allow_zero=True)
        self._aeads: dict[str, AESGCM] = {key.key_id: AESGCM(key.secret) for key in keys}
        self._primary = ids[0]
        self._clock = clock

    @classmethod
    def from_env(
        cls,
        var: str = CURSOR_KEYS_ENV_VAR,
        *,
        ttl: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
        clock_skew: float = DEFAULT_CLOCK_SKEW_SECONDS,
        environ: Mapping[str, str] | None = None,
    ) -> CursorCodec:
        """Build a codec from ``id1:base64,id2:base64`` (newest first) in ``var``."""
        text = (os.environ if environ is None else environ).get(var, "")
        entries = [entry.strip() for entry in text.split(",") if entry.strip()]
        if not entries:
            raise config_error(
                f"{var} is not set: set it to 'key_id:base64_secret' "
                f"(several comma-separated, newest first); {_GENERATE_HINT}"
            )
        keys = []
        for position, entry in enumerate(entries, start=1):
            key_id, colon, secret = entry.partition(":")
            if not colon:
                raise config_error(f"{var} entry {position} is not 'key_id:base64_secret'")
            keys.append(CursorKey.from_base64(key_id.strip(), secret))
        return cls(keys, ttl=ttl, clock=clock, clock_skew=clock_skew)

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Ids of the keys that decrypt, the one that encrypts first."""
        return tuple(self._aeads)

    @property
    def ttl(self) -> float:
        """Seconds a cursor stays valid after it was issued."""
        return self._ttl

    def __repr__(self) -> str:
        return f"CursorCodec(key_ids={list(self.key_ids)!r}, ttl={self._ttl!r})"

    def encode(
        self,
        last_evaluated_key: Mapping[str, Mapping[str, Any]],
        *,
        table: str,
        index: str | None,
        fingerprint: str,
    ) -> str:
        """Encrypt a wire LastEvaluatedKey into a URL-safe cursor for this query only."""
        binding = _token.binding(table, index, fingerprint)
        plaintext = _token.encode_plaintext(self._clock(), _token.key_to_plain(last_evaluated_key))
        header = _token.header(self._primary)
        nonce = os.urandom(_token.NONCE_BYTES)
        sealed = self._aeads[self._primary].encrypt(nonce, plaintext, header + binding)
        token = _token.b64url(header + nonce + sealed)
        if len(token) > _token.MAX_TOKEN_CHARS:
            raise InvalidInputError(
                ErrorCode.INVALID_KEY,
                f"LastEvaluatedKey makes a {len(token)}-character cursor; "
                f"the limit is {_token.MAX_TOKEN_CHARS}",
                {"size": len(token), "limit": _token.MAX_TOKEN_CHARS},
            )
        return token

    def decode(
        self, token: str, *, table: str, index: str | None, fingerprint: str
    ) -> dict[str, dict[str, Any]]:
        """Give back the wire LastEvaluatedKey, or raise INVALID_PAGINATION_TOKEN.

        Every cause raises the same error, with the same message, no details and no
        chained cause, so that clients cannot probe which check failed.
        """
        from cryptography.exceptions import InvalidTag

        binding = _token.binding(table, index, fingerprint)
        try:
            return self._open(token, binding)
        except InvalidTag:
            reason = "authentication failed (tampered, or made for another table/index/query)"
        except RejectedTokenError as rejected:
            reason = str(rejected)
        except (ValueError, TypeError, KeyError, ArithmeticError):  # incl. base64 and JSON
            reason = "malformed content"
        logger.debug("pagination token rejected: %s", reason)
        raise InvalidInputError(ErrorCode.INVALID_PAGINATION_TOKEN, _INVALID_TOKEN_MESSAGE)

    def _open(self, token: object, binding: bytes) -> dict[str, dict[str, Any]]:
        key_id, header, nonce, sealed = _token.split(_token.token_bytes(token))
        aead = self._aeads.get(key_id)
        if aead is None:
            raise RejectedTokenError(f"key id {key_id!r} is not configured (unknown or retired)")
        issued_at, key = _token.decode_plaintext(aead.decrypt(nonce, sealed, header + binding))
        now = self._clock()
        if issued_at + self._ttl < now:
            raise RejectedTokenError("expired")
        if issued_at > now + self._clock_skew:
            raise RejectedTokenError("issued in the future beyond the allowed clock skew")
        return key
