"""What the proxy can do to one request, and the ways a test plans it.

A :class:`Fault` is a value: its :class:`FaultKind` says where on the wire it strikes
(before the request reaches the upstream server, or after the upstream server applied it)
and ``seconds`` is the delay of the delay kinds. A *rule* is any callable that receives a
:class:`RequestInfo` and returns a ``Fault`` or ``None``; :class:`RandomPlan` is a seeded
rule for randomized workloads.
"""

from __future__ import annotations

import enum
import random
import threading
from collections.abc import Callable, Collection, Mapping
from typing import Any

import attrs


class FaultKind(enum.Enum):
    """Where a fault strikes and what the client sees."""

    THROTTLE = "throttle"
    """400 ``ProvisionedThroughputExceededException``; not forwarded."""
    THROTTLING = "throttling"
    """400 ``ThrottlingException``; not forwarded."""
    ERROR_500 = "error_500"
    """500 ``InternalServerError``; not forwarded."""
    ERROR_503 = "error_503"
    """503 ``ServiceUnavailable``; not forwarded."""
    RESET_BEFORE = "reset_before"
    """The connection is reset; nothing reached upstream."""
    DELAY_BEFORE = "delay_before"
    """Held ``seconds`` (a slow commit: a token is in flight meanwhile), then forwarded."""
    ERROR_500_AFTER = "error_500_after"
    """Forwarded (applied), then the client is told 500 ``InternalServerError``."""
    ERROR_503_AFTER = "error_503_after"
    """Forwarded (applied), then the client is told 503 ``ServiceUnavailable``."""
    RESET_AFTER = "reset_after"
    """Forwarded (applied), then the connection is reset: the client gets no answer."""
    HANG_AFTER = "hang_after"
    """Forwarded (applied), then no answer until the client gives up or the proxy stops."""
    DELAY_AFTER = "delay_after"
    """Forwarded (applied), the answer is held ``seconds`` before it is sent."""
    UNPROCESSED = "unprocessed"
    """A batch (BatchWriteItem, BatchGetItem): only its first entry is forwarded (applied);
    the others come back as ``UnprocessedItems`` / ``UnprocessedKeys``, as DynamoDB
    answers under load. Any other request is forwarded untouched."""

    @property
    def forwards(self) -> bool:
        """Whether a request meeting this fault reaches the upstream server."""
        return self not in _NOT_FORWARDED


_NOT_FORWARDED = frozenset(
    {
        FaultKind.THROTTLE,
        FaultKind.THROTTLING,
        FaultKind.ERROR_500,
        FaultKind.ERROR_503,
        FaultKind.RESET_BEFORE,
    }
)


@attrs.frozen
class Fault:
    """One fault to inject; ``seconds`` is used only by the delay kinds."""

    kind: FaultKind
    seconds: float = 0.0

    @classmethod
    def delay_before(cls, seconds: float) -> Fault:
        return cls(FaultKind.DELAY_BEFORE, seconds)

    @classmethod
    def delay_after(cls, seconds: float) -> Fault:
        return cls(FaultKind.DELAY_AFTER, seconds)


THROTTLE = Fault(FaultKind.THROTTLE)
THROTTLING = Fault(FaultKind.THROTTLING)
ERROR_500 = Fault(FaultKind.ERROR_500)
ERROR_503 = Fault(FaultKind.ERROR_503)
RESET_BEFORE = Fault(FaultKind.RESET_BEFORE)
ERROR_500_AFTER = Fault(FaultKind.ERROR_500_AFTER)
ERROR_503_AFTER = Fault(FaultKind.ERROR_503_AFTER)
RESET_AFTER = Fault(FaultKind.RESET_AFTER)
HANG_AFTER = Fault(FaultKind.HANG_AFTER)
UNPROCESSED = Fault(FaultKind.UNPROCESSED)


class ProxyMode(enum.Enum):
    """Whole-proxy behaviour, applied before any per-request fault."""

    PASS = "pass"
    """Forward (per-request faults still apply)."""
    HANG = "hang"
    """Read each request, never forward, never answer (until the mode changes or stop)."""
    UNAVAILABLE = "unavailable"
    """503 ``ServiceUnavailable`` to everything; nothing is forwarded."""
    SLOW = "slow"
    """Every request waits the mode's delay before it is handled."""


@attrs.frozen
class RequestInfo:
    """What a rule sees of one request."""

    operation: str
    """From ``X-Amz-Target`` (``PutItem``), ``""`` when absent."""
    body: Mapping[str, Any] | None
    """The parsed JSON body (``None`` when it is not JSON)."""
    token: str | None
    """``ClientRequestToken`` of the body, if any."""
    sequence: int
    """1 for the first request of this operation through this proxy, then 2, ..."""


Rule = Callable[[RequestInfo], Fault | None]


DEFAULT_RANDOM_FAULTS: tuple[Fault, ...] = (
    THROTTLE,
    ERROR_500,
    ERROR_503,
    RESET_BEFORE,
    ERROR_500_AFTER,
    RESET_AFTER,
)


class RandomPlan:
    """A seeded rule: each request (of ``operations``, all when ``None``) meets a fault
    chosen uniformly from ``faults`` with probability ``rate``.

    Draws are made under a lock in arrival order, so a single-threaded workload sees the
    same faults for the same seed.
    """

    def __init__(
        self,
        *,
        rate: float,
        seed: int,
        faults: Collection[Fault] = DEFAULT_RANDOM_FAULTS,
        operations: Collection[str] | None = None,
    ) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be within [0, 1]")
        if not faults:
            raise ValueError("faults must not be empty")
        self._rate = rate
        self._faults = tuple(faults)
        self._operations = None if operations is None else frozenset(operations)
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def __call__(self, info: RequestInfo) -> Fault | None:
        if self._operations is not None and info.operation not in self._operations:
            return None
        with self._lock:
            if self._random.random() >= self._rate:
                return None
            return self._random.choice(self._faults)
