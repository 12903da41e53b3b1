"""ClientRequestToken semantics for backends that ignore the token (moto).

DynamoDB applies a TransactWriteItems at most once per ClientRequestToken for ten
minutes: a replay with the same token and the same content succeeds without applying the
writes again, and the same token with other content is an IdempotentParameterMismatch.
The unit of work relies on this so that a retry after an ambiguous failure (a timeout
after the server committed) never applies a transaction twice. moto ignores the token,
so the embedded provider keeps this ledger to behave as DynamoDB does.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable

from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.limits import CLIENT_REQUEST_TOKEN_TTL_SECONDS
from tctf_dynamo.providers.base import Request, Response

__all__ = ["ClientTokenLedger"]

TOKEN_OPERATIONS = frozenset({"TransactWriteItems"})
MISMATCH_CODE = "IdempotentParameterMismatchException"


def _fingerprint(request: Request) -> str:
    content = {k: v for k, v in request.items() if k != "ClientRequestToken"}
    text = json.dumps(content, sort_keys=True, default=lambda value: bytes(value).hex())
    return hashlib.sha256(text.encode()).hexdigest()


class ClientTokenLedger:
    """Remembers the outcome of each token's first successful call for ten minutes."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[str, float, Response]] = {}

    def call(self, operation: str, request: Request, send: Callable[[], Response]) -> Response:
        """Send once per token; replays get the first answer, mismatches an error."""
        token = request.get("ClientRequestToken")
        if operation not in TOKEN_OPERATIONS or not token:
            return send()
        fingerprint = _fingerprint(request)
        with self._lock:
            now = self._clock()
            self._forget_expired(now)
            seen = self._seen.get(token)
            if seen is not None:
                if seen[0] != fingerprint:
                    raise error_for(
                        ErrorCode.IDEMPOTENT_PARAMETER_MISMATCH,
                        f"DynamoDB refused {operation}: {MISMATCH_CODE}",
                        {"operation": operation, "aws_code": MISMATCH_CODE},
                    )
                return seen[2]
            response = send()
            self._seen[token] = (fingerprint, now, response)
            return response

    def _forget_expired(self, now: float) -> None:
        expired = [
            token
            for token, (_, at, _response) in self._seen.items()
            if now - at > CLIENT_REQUEST_TOKEN_TTL_SECONDS
        ]
        for token in expired:
            del self._seen[token]
