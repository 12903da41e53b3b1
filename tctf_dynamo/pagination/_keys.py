"""Named AES-256-GCM keys for cursors, refused when they are short or plainly not random."""

from __future__ import annotations

import base64
import binascii
import itertools
import os
import re
from typing import Final

import attrs

from tctf_dynamo.errors import ErrorCode, InvalidInputError

KEY_BYTES: Final = 32
"""AES-256-GCM takes exactly 32 bytes of key."""
MAX_KEY_ID_LENGTH: Final = 16
KEY_ID_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]{1,16}")
_MIN_DISTINCT_KEY_BYTES: Final = 16
"""32 random bytes show about 30 distinct values; fewer than 16 happens about once in 1e14."""


def config_error(message: str) -> InvalidInputError:
    return InvalidInputError(ErrorCode.INVALID_CONFIGURATION, message)


def check_key_id(key_id: str) -> None:
    """Refuse a malformed key id without echoing it: a mangled entry may hold the secret."""
    if not isinstance(key_id, str) or not KEY_ID_PATTERN.fullmatch(key_id):
        raise config_error(
            f"cursor key id must be 1-{MAX_KEY_ID_LENGTH} characters of A-Z a-z 0-9 _ -"
        )


def _validate_key_id(_instance: object, _attribute: object, key_id: str) -> None:
    check_key_id(key_id)


def _validate_secret(instance: CursorKey, _attribute: object, secret: bytes) -> None:
    where = f"cursor key {instance.key_id!r}"
    if not isinstance(secret, bytes):
        raise config_error(f"{where}: secret must be bytes, got {type(secret).__name__}")
    if len(secret) != KEY_BYTES:
        raise config_error(f"{where}: secret must be exactly {KEY_BYTES} bytes, got {len(secret)}")
    weakness = _weakness(secret)
    if weakness:
        raise config_error(
            f"{where}: secret is not random ({weakness}); "
            "make one with CursorKey.generate() and keep it in your configuration"
        )


def _weakness(secret: bytes) -> str:
    """Name the obvious ways a secret shows it was typed or derived rather than drawn."""
    if len(set(secret)) < _MIN_DISTINCT_KEY_BYTES:
        return f"fewer than {_MIN_DISTINCT_KEY_BYTES} distinct byte values"
    if len({(b - a) % 256 for a, b in itertools.pairwise(secret)}) == 1:
        return "a regular sequence"
    if all(0x20 <= byte < 0x7F for byte in secret):
        return "printable text, not random bytes"
    return ""


@attrs.frozen
class CursorKey:
    """One named AES-256-GCM key; the id is stored in clear in each cursor it makes.

    The secret is left out of ``repr`` and never appears in any error message.
    """

    key_id: str = attrs.field(validator=_validate_key_id)
    secret: bytes = attrs.field(repr=False, validator=_validate_secret)

    @classmethod
    def from_base64(cls, key_id: str, text: str) -> CursorKey:
        """Read a secret from configuration; standard or URL-safe base64, padding optional."""
        check_key_id(key_id)
        if not isinstance(text, str):
            raise config_error(f"cursor key {key_id!r}: secret must be base64 text")
        compact = "".join(text.split()).replace("-", "+").replace("_", "/")
        try:
            secret = base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise config_error(f"cursor key {key_id!r}: secret is not valid base64") from None
        return cls(key_id, secret)

    @classmethod
    def generate(cls, key_id: str) -> CursorKey:
        """Draw a fresh key for users to put in their configuration.

        The library never calls this on its own: a key invented at start-up would differ
        between processes and vanish on restart, breaking every cursor in flight.
        """
        return cls(key_id, os.urandom(KEY_BYTES))

    def to_config_entry(self) -> str:
        """``key_id:base64`` for ``TCTF_DYNAMO_CURSOR_KEYS``. This text IS the secret."""
        return f"{self.key_id}:{base64.b64encode(self.secret).decode('ascii')}"
