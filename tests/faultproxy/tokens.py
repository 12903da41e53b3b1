"""DynamoDB's ``ClientRequestToken`` semantics for TransactWriteItems, kept by the proxy.

moto server ignores the token, so without this a replayed transaction would be applied
twice. The rules mirror DynamoDB's documentation of ``TransactWriteItems``
(``ClientRequestToken`` in the API reference, docs.aws.amazon.com/amazondynamodb/latest/
APIReference/API_TransactWriteItems.html, and ``TransactionInProgressException``):

- same token, same request, within the window after the first request *completed*: the
  first answer again, nothing applied a second time;
- same token, a different request within the window: 400 ``IdempotentParameterMismatch``;
- same token while the first request with it is still in flight: 400
  ``TransactionInProgressException``;
- after the window the token is new again.

When the first request with a token *failed* (any non-2xx answer, e.g.
``TransactionCanceledException``, or no answer from upstream), nothing was applied and the
token is not pinned: a later request with it is executed as a new one. Source: "If the
request succeeded when initially submitted, DynamoDB won't execute it again. If it failed
the first time, DynamoDB will apply the writes in the request." (Alex DeBrie, "DynamoDB
Transactions: Use Cases and Examples", alexdebrie.com/posts/dynamodb-transactions/
#idempotency-with-transactional-requests). A request carrying the token while one is in
flight is answered ``TransactionInProgressException`` whatever its body.

Requests are compared by their parsed JSON (key order does not matter).
"""

from __future__ import annotations

import enum
import json
import threading
from collections.abc import Callable, Mapping
from typing import Any

import attrs

DEFAULT_WINDOW_SECONDS = 600.0


@attrs.frozen
class StoredAnswer:
    """An upstream answer, replayed byte for byte."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


class Verdict(enum.Enum):
    PROCEED = "proceed"
    """Forward it; call :meth:`TokenLedger.finish` with the answer (or ``None``)."""
    REPLAY = "replay"
    MISMATCH = "mismatch"
    IN_PROGRESS = "in_progress"


@attrs.define
class _Entry:
    canonical: str
    answer: StoredAnswer | None = None
    completed_at: float | None = None


def canonical(body: Mapping[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


class TokenLedger:
    """Thread-safe record of tokens in flight and of their successful answers."""

    def __init__(self, *, window_seconds: float, clock: Callable[[], float]) -> None:
        self._window = window_seconds
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def begin(self, token: str, body: Mapping[str, Any]) -> tuple[Verdict, StoredAnswer | None]:
        """Claim ``token`` for ``body``, or say how DynamoDB would answer instead."""
        key = canonical(body)
        with self._lock:
            entry = self._entries.get(token)
            completed_at = None if entry is None else entry.completed_at
            if completed_at is not None and self._clock() - completed_at > self._window:
                entry = None
            if entry is None:
                self._entries[token] = _Entry(key)
                return Verdict.PROCEED, None
            if entry.answer is None:
                return Verdict.IN_PROGRESS, None
            if entry.canonical != key:
                return Verdict.MISMATCH, None
            return Verdict.REPLAY, entry.answer

    def finish(self, token: str, answer: StoredAnswer | None) -> None:
        """Record the upstream answer of a claimed token; a failure frees the token."""
        with self._lock:
            if answer is None or not 200 <= answer.status < 300:
                self._entries.pop(token, None)
                return
            entry = self._entries[token]
            entry.answer = answer
            entry.completed_at = self._clock()
