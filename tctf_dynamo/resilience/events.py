"""What the resilience layer reports: log records for people, event objects for metrics.

Every event goes two ways at once:

* a record on the standard logger ``tctf_dynamo.resilience`` with structured fields
  passed through ``extra=`` (``operation``, ``table``, ``attempt``, ``delay``,
  ``error_code``, ``breaker``, ``breaker_state``), so log pipelines can index them;
* an attrs event object handed to an :class:`EventSink`, so metrics code can count
  retries, throttles and breaker transitions without parsing log text.

Levels: a scheduled retry is INFO (it is normal under load), a throttle is DEBUG (it is
always followed by its RetryScheduled or RetriesExhausted), exhausted retries and a
breaker opening or closing are WARNING (someone should look), a probe starting is INFO,
consumed capacity, unprocessed batch entries and completed operations are DEBUG. A record
is only formatted when its level is enabled, and :class:`OperationCompleted` is only
built when a sink is set.

:mod:`tctf_dynamo.observability` turns these events into OpenTelemetry metrics and
CloudWatch embedded-metric-format documents.

A sink that raises never breaks the operation it observes: the exception is logged
and the operation goes on, because metrics must not decide whether data is written.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

import attrs

__all__ = [
    "LOGGER_NAME",
    "BreakerTransition",
    "CallbackEventSink",
    "CollectingEventSink",
    "ConsumedCapacity",
    "Event",
    "EventSink",
    "OperationCompleted",
    "RetriesExhausted",
    "RetryScheduled",
    "Throttled",
    "UnprocessedItems",
    "publish",
]

LOGGER_NAME = "tctf_dynamo.resilience"
logger = logging.getLogger(LOGGER_NAME)


@attrs.frozen
class RetryScheduled:
    """Attempt ``attempt`` failed retryably; the next one starts after ``delay`` seconds."""

    operation: str
    table: str | None
    attempt: int
    delay: float
    error_code: str


@attrs.frozen
class RetriesExhausted:
    """The operation gave up after ``attempts`` attempts; ``error_code`` is the last failure."""

    operation: str
    table: str | None
    attempts: int
    error_code: str


@attrs.frozen
class Throttled:
    """DynamoDB throttled attempt ``attempt`` of the operation."""

    operation: str
    table: str | None
    attempt: int


@attrs.frozen
class BreakerTransition:
    """The circuit breaker ``name`` moved from ``from_state`` to ``to_state``.

    ``scope`` is ``"shared"`` for the state kept in the breaker's store, ``"local"`` for
    the one a process keeps while that store cannot be reached.
    """

    name: str
    from_state: str
    to_state: str
    scope: str = "shared"


@attrs.frozen
class ConsumedCapacity:
    """Capacity units an operation consumed, as DynamoDB reported them."""

    operation: str
    table: str | None
    capacity_units: float
    read_capacity_units: float | None = None
    write_capacity_units: float | None = None


@attrs.frozen
class UnprocessedItems:
    """A batch request came back with ``count`` of its entries of ``table`` unprocessed;
    the batch engine resends them (or reports them, once their retries are spent)."""

    operation: str
    table: str | None
    count: int


@attrs.frozen
class OperationCompleted:
    """One operation ended after ``attempts`` attempts and ``duration`` seconds (backoff
    sleeps included); ``error_code`` is ``None`` on success."""

    operation: str
    table: str | None
    attempts: int
    duration: float
    error_code: str | None = None


Event = (
    RetryScheduled
    | RetriesExhausted
    | Throttled
    | BreakerTransition
    | ConsumedCapacity
    | UnprocessedItems
    | OperationCompleted
)
_LEVELS: dict[type[Any], int] = {
    RetryScheduled: logging.INFO,
    RetriesExhausted: logging.WARNING,
    Throttled: logging.DEBUG,
    BreakerTransition: logging.INFO,  # a probe starting is INFO, the rest WARNING
    ConsumedCapacity: logging.DEBUG,
    UnprocessedItems: logging.DEBUG,
    OperationCompleted: logging.DEBUG,
}
E = TypeVar("E")


class EventSink(Protocol):
    """Receives every resilience event; implement it to feed metrics."""

    def emit(self, event: Event) -> None:
        """Record ``event``; must be quick and thread-safe."""
        ...


class CollectingEventSink:
    """Keeps every event in order; meant for tests and debugging."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[Event] = []

    def emit(self, event: Event) -> None:
        with self._lock:
            self._events.append(event)

    @property
    def events(self) -> list[Event]:
        """A copy of the events received so far, oldest first."""
        with self._lock:
            return list(self._events)

    def of_type(self, kind: type[E]) -> list[E]:
        """The events of one class, oldest first."""
        return [event for event in self.events if isinstance(event, kind)]

    def clear(self) -> None:
        with self._lock:
            self._events.clear()


class CallbackEventSink:
    """Calls each callback with every event: the shortest way to hook in metrics."""

    def __init__(self, callbacks: Iterable[Callable[[Event], None]]) -> None:
        self._callbacks = tuple(callbacks)

    def emit(self, event: Event) -> None:
        for callback in self._callbacks:
            callback(event)


def publish(sink: EventSink | None, event: Event, *, log: bool = True) -> None:
    """Log ``event`` (unless the caller logged it better) and hand it to ``sink``;
    a failing sink is logged, never raised."""
    if log and logger.isEnabledFor(_LEVELS[type(event)]):
        level, message, fields = _log_shape(event)
        logger.log(level, message, extra=fields)
    if sink is None:
        return
    try:
        sink.emit(event)
    except Exception:
        logger.exception("event sink failed on %s", type(event).__name__)


def _log_shape(event: Event) -> tuple[int, str, dict[str, Any]]:
    """Level, message and ``extra`` fields of one event's log record."""
    if isinstance(event, RetryScheduled):
        return (
            logging.INFO,
            f"{event.operation} attempt {event.attempt} failed with {event.error_code}; "
            f"retrying in {event.delay:.3f}s",
            _fields(event, ("operation", "table", "attempt", "delay", "error_code")),
        )
    if isinstance(event, RetriesExhausted):
        return (
            logging.WARNING,
            f"{event.operation} gave up after {event.attempts} attempts; "
            f"last error {event.error_code}",
            _fields(event, ("operation", "table", "error_code"), attempt=event.attempts),
        )
    if isinstance(event, Throttled):
        return (
            logging.DEBUG,
            f"{event.operation} attempt {event.attempt} throttled",
            _fields(event, ("operation", "table", "attempt"), error_code="THROTTLED"),
        )
    if isinstance(event, BreakerTransition):
        probing = event.to_state == "half_open"  # a step on the way, not news
        return (
            logging.INFO if probing else logging.WARNING,
            f"circuit breaker {event.name!r} ({event.scope}) "
            f"{event.from_state} -> {event.to_state}",
            {"breaker": event.name, "breaker_state": event.to_state, "breaker_scope": event.scope},
        )
    if isinstance(event, UnprocessedItems):
        return (
            logging.DEBUG,
            f"{event.operation} left {event.count} entries unprocessed",
            _fields(event, ("operation", "table"), unprocessed=event.count),
        )
    if isinstance(event, OperationCompleted):
        outcome = event.error_code or "success"
        return (
            logging.DEBUG,
            f"{event.operation} ended in {event.duration:.3f}s after {event.attempts} "
            f"attempts: {outcome}",
            _fields(event, ("operation", "table", "error_code"), attempt=event.attempts),
        )
    return (
        logging.DEBUG,
        f"{event.operation} consumed {event.capacity_units} capacity units",
        _fields(event, ("operation", "table"), capacity_units=event.capacity_units),
    )


def _fields(event: object, names: tuple[str, ...], **more: Any) -> dict[str, Any]:
    return {name: getattr(event, name) for name in names} | more
