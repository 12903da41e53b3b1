"""A provider that fails on purpose, to test that code survives what DynamoDB does.

:class:`FaultInjectingProvider` wraps any provider and, per call, draws one fault from
seeded rates: throttling, 5xx, a dropped connection, a timeout before the request is
sent, a timeout *after* it was applied (the ambiguous case: a retry re-applies it), or a
partial batch (some items returned as unprocessed, in DynamoDB's exact wire shape).
Errors are raised as providers raise them (same classes, codes and details), so the
retry layer and the circuit breaker treat them exactly like real failures::

    provider = FaultInjectingProvider(
        EmbeddedProvider(),
        seed=7,
        rates={"*": FaultRates(throttle=0.1), "BatchWriteItem": FaultRates(unprocessed=0.5)},
    )

The same seed and the same sequence of calls give the same faults (from one thread).
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs

from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode, InvalidInputError
from tctf_dynamo.providers.base import Closing, Provider, Request, Response, send
from tctf_dynamo.providers.errors import refusal, transport_failure

__all__ = ["FAULT_KINDS", "Draw", "FaultDraws", "FaultInjectingProvider", "FaultRates"]

FAULT_KINDS: Final = (
    "throttle",
    "server_error",
    "connection_error",
    "timeout_before",
    "timeout_after",
    "unprocessed",
)
"""The names faults are counted under in :attr:`FaultInjectingProvider.injected`."""

_BATCH_OPERATIONS: Final = frozenset({"BatchWriteItem", "BatchGetItem"})
_DEFAULT_KEY: Final = "*"


def _rate(instance: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InvalidInputError(
            ErrorCode.INVALID_CONFIGURATION,
            f"FaultRates.{attribute.name} must be a probability in [0, 1]",
            {"field": attribute.name},
        )


@attrs.frozen
class FaultRates:
    """Probability of each fault per call; at most one fault is injected per call.

    ``unprocessed`` applies to BatchWriteItem and BatchGetItem only and is ignored for
    other operations. ``timeout_after`` forwards the request first, so the write *is*
    applied before TIMEOUT is raised.
    """

    throttle: float = attrs.field(default=0.0, validator=_rate)
    server_error: float = attrs.field(default=0.0, validator=_rate)
    connection_error: float = attrs.field(default=0.0, validator=_rate)
    timeout_before: float = attrs.field(default=0.0, validator=_rate)
    timeout_after: float = attrs.field(default=0.0, validator=_rate)
    unprocessed: float = attrs.field(default=0.0, validator=_rate)

    def __attrs_post_init__(self) -> None:
        if sum(getattr(self, kind) for kind in FAULT_KINDS) > 1.0 + 1e-9:
            raise InvalidInputError(
                ErrorCode.INVALID_CONFIGURATION,
                "FaultRates must add up to at most 1",
                {"field": "rates"},
            )

    def pick(self, draw: float, operation: str) -> str | None:
        """The fault whose slice of [0, 1) contains ``draw``, or None for no fault."""
        edge = 0.0
        for kind in FAULT_KINDS:
            edge += getattr(self, kind)
            if draw < edge:
                if kind == "unprocessed" and operation not in _BATCH_OPERATIONS:
                    return None
                return kind
        return None


_NO_FAULTS: Final = FaultRates()


class FaultDraws:
    """The decisions of a fault-injecting provider, sync or async: per call, which fault
    (if any), the error it raises, and how a partial batch is split. No I/O. Thread-safe."""

    def __init__(self, *, seed: int, rates: Mapping[str, FaultRates] | FaultRates) -> None:
        self._rates: Mapping[str, FaultRates] = (
            {_DEFAULT_KEY: rates} if isinstance(rates, FaultRates) else dict(rates)
        )
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._injected: Counter[str] = Counter()

    @property
    def injected(self) -> Counter[str]:
        """How many faults of each kind were injected so far (a copy)."""
        with self._lock:
            return Counter(self._injected)

    def draw(self, operation: str, request: Request) -> Draw:
        """This call's fault: what to forward first, and what to answer or raise then.

        The fault is picked under the lock; a generator seeded from the shared one makes
        any further choices, so those need not hold it.
        """
        rates = self._rates.get(operation) or self._rates.get(_DEFAULT_KEY) or _NO_FAULTS
        with self._lock:
            kind = rates.pick(self._random.random(), operation)
            choice = random.Random(self._random.getrandbits(64))
            if kind is not None:
                self._injected[kind] += 1
        if kind is None:
            return Draw(request)
        if kind == "timeout_after":
            return Draw(request, error=_error(kind, operation))
        if kind == "unprocessed":
            return _partial_batch(operation, request, choice)
        return Draw(None, error=_error(kind, operation, server_unavailable=choice.random() < 0.5))


def _unchanged(response: Response) -> Response:
    return response


@attrs.frozen
class Draw:
    """One call's fault, as a plan any provider shell carries out.

    Forward ``forward`` (when not None) to the inner provider; then raise ``error``
    (when set), else answer ``finish(response)`` (``response`` is ``{}`` when nothing
    was forwarded).
    """

    forward: Request | None
    error: DynamoDBServiceError | None = None
    finish: Callable[[Response], Response] = _unchanged

    def carry_out(self, forwarded: Response | None) -> Response:
        """What the call answers once ``forward`` was sent (and answered ``forwarded``)."""
        if self.error is not None:
            raise self.error
        return self.finish(forwarded if forwarded is not None else {})


class FaultInjectingProvider(Closing):
    """Wraps ``inner`` and injects faults at ``rates`` (one for all operations, or by
    operation name with ``"*"`` as the default). Thread-safe."""

    def __init__(
        self,
        inner: Provider,
        *,
        seed: int,
        rates: Mapping[str, FaultRates] | FaultRates,
    ) -> None:
        self.inner = inner
        self._draws = FaultDraws(seed=seed, rates=rates)

    @property
    def injected(self) -> Counter[str]:
        """How many faults of each kind were injected so far (a copy)."""
        return self._draws.injected

    def call(self, operation: str, request: Request, *, timeout: float | None = None) -> Response:
        draw = self._draws.draw(operation, request)
        forwarded = None
        if draw.forward is not None:
            forwarded = send(self.inner, operation, draw.forward, timeout)
        return draw.carry_out(forwarded)

    def close(self) -> None:
        self.inner.close()


def _split(entries: list[tuple[str, Any]], choice: random.Random) -> tuple[list[Any], list[Any]]:
    """Send a random subset of ``entries`` and hold back the rest, at least one."""
    held_count = choice.randint(1, len(entries)) if entries else 0
    held = set(choice.sample(range(len(entries)), held_count))
    sent = [entry for index, entry in enumerate(entries) if index not in held]
    kept = [entry for index, entry in enumerate(entries) if index in held]
    return sent, kept


def _group(entries: list[tuple[str, Any]]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {}
    for table, entry in entries:
        grouped.setdefault(table, []).append(entry)
    return grouped


def _partial_batch(operation: str, request: Request, choice: random.Random) -> Draw:
    if operation == "BatchWriteItem":
        return _partial_write(request, choice)
    return _partial_get(request, choice)


def _partial_write(request: Request, choice: random.Random) -> Draw:
    """BatchWriteItem applying only some requests; the rest come back as UnprocessedItems."""
    entries = [
        (table, entry) for table, writes in request["RequestItems"].items() for entry in writes
    ]
    sent, held = _split(entries, choice)

    def finish(response: Response) -> Response:
        unprocessed = _group(held)
        for table, writes in (response.get("UnprocessedItems") or {}).items():
            unprocessed.setdefault(table, []).extend(writes)
        return {**response, "UnprocessedItems": unprocessed}

    forward = {**request, "RequestItems": _group(sent)} if sent else None
    return Draw(forward, finish=finish)


def _partial_get(request: Request, choice: random.Random) -> Draw:
    """BatchGetItem reading only some keys; the rest come back as UnprocessedKeys, each
    table with its projection and consistency settings, as DynamoDB returns them."""
    tables = request["RequestItems"]
    entries = [(table, key) for table, spec in tables.items() for key in spec["Keys"]]
    sent, held = _split(entries, choice)

    def finish(response: Response) -> Response:
        if not sent:
            response = {"Responses": {table: [] for table in tables}}
        unprocessed = {
            table: {**tables[table], "Keys": keys} for table, keys in _group(held).items()
        }
        for table, spec in (response.get("UnprocessedKeys") or {}).items():
            if table in unprocessed:
                unprocessed[table]["Keys"] = unprocessed[table]["Keys"] + spec["Keys"]
            else:
                unprocessed[table] = spec
        return {**response, "UnprocessedKeys": unprocessed}

    sent_items = {table: {**tables[table], "Keys": keys} for table, keys in _group(sent).items()}
    forward = {**request, "RequestItems": sent_items} if sent else None
    return Draw(forward, finish=finish)


_AWS_ERRORS: Final[Mapping[str, tuple[str, int]]] = {
    "throttle": ("ProvisionedThroughputExceededException", 400),
    "server_error": ("InternalServerError", 500),
    "server_unavailable": ("ServiceUnavailable", 503),
}
_TRANSPORT_ERRORS: Final[Mapping[str, tuple[ErrorCode, str]]] = {
    "connection_error": (ErrorCode.CONNECTION_ERROR, "EndpointConnectionError"),
    "timeout_before": (ErrorCode.TIMEOUT, "ConnectTimeoutError"),
    "timeout_after": (ErrorCode.TIMEOUT, "ReadTimeoutError"),
}


def _error(kind: str, operation: str, *, server_unavailable: bool = False) -> DynamoDBServiceError:
    """The error a provider raises for this fault, built by the providers' own table."""
    if kind == "server_error" and server_unavailable:
        kind = "server_unavailable"
    if kind in _AWS_ERRORS:
        aws_code, status = _AWS_ERRORS[kind]
        return refusal(operation, aws_code, status, "injected fault", injected=True)
    code, exception = _TRANSPORT_ERRORS[kind]
    return transport_failure(operation, code, exception, injected=True)
