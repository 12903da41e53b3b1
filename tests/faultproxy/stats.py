"""Thread-safe counts and records of what the proxy did, for tests to assert on."""

from __future__ import annotations

import collections
import enum
import threading

import attrs

from tests.faultproxy.faults import Fault, FaultKind, ProxyMode


class Outcome(enum.Enum):
    """What the proxy answered to one request (the client may have stopped listening)."""

    UPSTREAM = "upstream"
    """The upstream server's answer (possibly delayed)."""
    REPLAYED = "replayed"
    """A token's first answer again, not forwarded."""
    MISMATCH = "mismatch"
    """400 ``IdempotentParameterMismatchException``, not forwarded."""
    IN_PROGRESS = "in_progress"
    """400 ``TransactionInProgressException``, not forwarded."""
    INJECTED_ERROR = "injected_error"
    """An error status made up by the proxy (a fault, or the ``unavailable`` mode)."""
    NO_ANSWER = "no_answer"
    """The connection was closed without an answer (reset, hang, stop)."""
    UPSTREAM_FAILED = "upstream_failed"
    """Upstream gave no answer; the client got 502."""


@attrs.frozen
class RequestRecord:
    """One finished request: what it met and whether it reached upstream."""

    operation: str
    sequence: int
    token: str | None
    mode: ProxyMode
    fault: Fault | None
    forwarded: bool
    outcome: Outcome


@attrs.frozen
class OperationStats:
    """Counts for one operation; ``forwarded`` counts requests that reached upstream."""

    arrived: int = 0
    forwarded: int = 0
    faults: dict[FaultKind, int] = attrs.field(factory=dict)
    replayed: int = 0
    mismatched: int = 0
    in_progress: int = 0
    hung: int = 0
    unavailable: int = 0


_FIELDS = ("arrived", "forwarded", "replayed", "mismatched", "in_progress", "hung", "unavailable")


class Stats:
    """Live counters (updated as things happen, so a held request already counts)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, collections.Counter[str | FaultKind]] = {}
        self._records: list[RequestRecord] = []

    def count(self, operation: str, what: str | FaultKind) -> int:
        """Add one to ``what`` of ``operation``; return the new count."""
        with self._lock:
            counter = self._counts.setdefault(operation, collections.Counter())
            counter[what] += 1
            return counter[what]

    def record(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def of(self, operation: str) -> OperationStats:
        with self._lock:
            counter = self._counts.get(operation, collections.Counter())
            faults = {k: v for k, v in counter.items() if isinstance(k, FaultKind)}
            return OperationStats(faults=faults, **{name: counter[name] for name in _FIELDS})

    def operations(self) -> list[str]:
        with self._lock:
            return sorted(self._counts)

    def records(self, operation: str | None = None) -> list[RequestRecord]:
        with self._lock:
            return [r for r in self._records if operation in (None, r.operation)]

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._records.clear()
