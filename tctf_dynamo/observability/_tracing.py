"""The library's own OpenTelemetry spans: one per library operation.

:func:`instrument` installs an observer (see :mod:`tctf_dynamo.resilience.observers`):

* a user-level operation (``Repository.get``, ``Query.page``, ``UnitOfWork.commit``, a
  bulk job such as ``bulk.BatchWriteItem``) gets one span named ``tctf_dynamo <kind>``,
  with ``tctf_dynamo.entity`` and ``tctf_dynamo.intents`` where they apply;
* every provider operation run inside it adds to that span: ``tctf_dynamo.operations``,
  ``tctf_dynamo.attempts``, ``tctf_dynamo.retries``, ``tctf_dynamo.breaker.state``,
  ``tctf_dynamo.consumed_capacity`` (when the service asks for it) and
  ``aws.dynamodb.table_names``; one run outside any (the plain item API, ``execute``)
  gets a span of its own, ``tctf_dynamo <Operation>``, with the same attributes.

The span is current while the attempts are sent, so the botocore instrumentation's
per-attempt spans (``DynamoDB.PutItem`` ...) are its children. A failed operation sets
the span's status to ERROR with the library's error code (``tctf_dynamo.error_code``).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager
from contextvars import ContextVar
from typing import Any, Final

from tctf_dynamo.errors import DynamoDBServiceError
from tctf_dynamo.observability._otel import require_opentelemetry
from tctf_dynamo.resilience import observers

__all__ = ["instrument", "is_instrumented", "uninstrument"]

PREFIX = "tctf_dynamo"
_OPERATIONS: Final = f"{PREFIX}.operations"
_ATTEMPTS: Final = f"{PREFIX}.attempts"
_RETRIES: Final = f"{PREFIX}.retries"
_BREAKER_STATE: Final = f"{PREFIX}.breaker.state"
_CONSUMED_CAPACITY: Final = f"{PREFIX}.consumed_capacity"
_ERROR_CODE: Final = f"{PREFIX}.error_code"
_OPERATION: Final = f"{PREFIX}.operation"
_TABLE_NAMES: Final = "aws.dynamodb.table_names"


class _Tally:
    """What the provider operations inside one span added up to (thread-safe: bulk jobs
    send from several threads).

    The totals are written on the span once, when it ends (:meth:`flush`), rather than
    after every operation: a bulk job of many chunks pays for one set of attributes.
    Nothing is counted for a span that does not record (a sampler dropped it).
    """

    __slots__ = (
        "_lock",
        "attempts",
        "breaker_state",
        "capacity",
        "operations",
        "recording",
        "span",
        "tables",
    )

    def __init__(self, span: Any) -> None:
        self.span = span
        self.recording: bool = span.is_recording()
        self._lock = threading.Lock()
        self.operations = 0
        self.attempts = 0
        self.capacity = 0.0
        self.breaker_state = ""
        self.tables: list[str] = []

    def add(self, table: str | None, attempts: int, breaker_state: str, result: Any) -> None:
        if not self.recording:
            return
        capacity = _capacity(result)
        with self._lock:
            self.operations += 1
            self.attempts += attempts
            self.capacity += capacity
            self.breaker_state = breaker_state
            if table is not None and table not in self.tables:
                self.tables.append(table)

    def flush(self) -> None:
        """Write the totals on the span (before it ends)."""
        if not self.operations:
            return
        with self._lock:
            self.span.set_attributes(
                {
                    _OPERATIONS: self.operations,
                    _ATTEMPTS: self.attempts,
                    _RETRIES: self.attempts - self.operations,
                    _BREAKER_STATE: self.breaker_state,
                    _CONSUMED_CAPACITY: self.capacity,
                    _TABLE_NAMES: tuple(self.tables),
                }
            )


class _Scope:
    """One user-level operation's span, current while the block runs.

    A plain class rather than ``start_as_current_span``: that one is two generator-based
    context managers deep, which costs more than the rest of our work on a span.
    Exceptions are recorded and the status set as ``start_as_current_span`` would with
    ``record_exception=True`` (plus the library's error code).
    """

    __slots__ = ("_attributes", "_kind", "_observer", "_scope_token", "_tally", "_token")

    def __init__(self, observer: _Observer, kind: str, attributes: Mapping[str, Any]) -> None:
        self._observer = observer
        self._kind = kind
        self._attributes = attributes
        self._tally: _Tally | None = None
        self._token: Any = None
        self._scope_token: Any = None

    def __enter__(self) -> Any:
        observer = self._observer
        outer = observer.tallies.get()
        if outer is not None:  # the library operation is the outermost one
            if outer.recording:
                outer.span.set_attributes(_attributes(self._attributes))
            return outer.span
        span = observer.tracer.start_span(
            _span_name(self._kind), attributes=_attributes(self._attributes)
        )
        self._token = observer.context.attach(observer.trace.set_span_in_context(span))
        self._tally = tally = _Tally(span)
        self._scope_token = observer.tallies.set(tally)
        return span

    def __exit__(self, kind: Any, error: BaseException | None, traceback: Any) -> None:
        tally = self._tally
        if tally is None:
            return
        observer = self._observer
        observer.tallies.reset(self._scope_token)
        span = tally.span
        try:
            tally.flush()
            if error is not None and tally.recording:
                if isinstance(error, Exception):
                    span.record_exception(error)
                _failed(span, error, observer.trace)
        finally:
            observer.context.detach(self._token)
            span.end()


class _Observer:
    """Spans through an OpenTelemetry tracer."""

    def __init__(self, tracer: Any, trace: Any, context: Any) -> None:
        self.tracer = tracer
        self.trace = trace
        self.context = context
        self.tallies: ContextVar[_Tally | None] = ContextVar("tctf_dynamo_span", default=None)

    def scope(self, kind: str, attributes: Mapping[str, Any]) -> AbstractContextManager[Any]:
        return _Scope(self, kind, attributes)

    def begin(self, operation: str, table: str | None) -> Any:
        tally = self.tallies.get()
        if tally is not None:
            return (tally, None, table)
        span = self.tracer.start_span(_span_name(operation), attributes=_operation(operation))
        token = self.context.attach(self.trace.set_span_in_context(span))
        return (_Tally(span), token, table)

    def end(
        self,
        handle: Any,
        *,
        attempts: int,
        breaker_state: str,
        result: Any = None,
        error: BaseException | None = None,
    ) -> None:
        tally, token, table = handle
        tally.add(table, attempts, breaker_state, result)
        if token is None:
            return
        span = tally.span
        try:
            tally.flush()
            if error is not None and tally.recording:
                span.record_exception(error)
                _failed(span, error, self.trace)
        finally:
            self.context.detach(token)
            span.end()


@functools.lru_cache(maxsize=256)
def _span_name(kind: str) -> str:
    return f"{PREFIX} {kind}"


def _operation(operation: str) -> dict[str, Any]:
    return {_OPERATION: operation, "db.system": "aws.dynamodb"}


@functools.lru_cache(maxsize=64)
def _attribute_name(name: str) -> str:
    return f"{PREFIX}.{name}"


def _attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {_attribute_name(name): value for name, value in attributes.items() if value is not None}


def _capacity(result: Any) -> float:
    if not isinstance(result, dict):
        return 0.0
    reported = result.get("ConsumedCapacity")
    if reported is None:
        return 0.0
    entries = reported if isinstance(reported, list) else [reported]
    return float(sum(float(entry.get("CapacityUnits", 0.0)) for entry in entries))


def _failed(span: Any, error: BaseException, trace: Any) -> None:
    code = error.code.value if isinstance(error, DynamoDBServiceError) else type(error).__name__
    span.set_attribute(_ERROR_CODE, code)
    span.set_status(trace.Status(trace.StatusCode.ERROR, code))


def instrument(tracer_provider: Any = None) -> None:
    """Make the library's spans with ``tracer_provider`` (or the global one).

    Needs ``opentelemetry-api`` (``pip install 'tctf-dynamo[otel]'``); process-wide,
    like OpenTelemetry's own instrumentors. Calling it again replaces the tracer.
    """
    trace = require_opentelemetry("trace")
    context = require_opentelemetry("context")
    tracer = trace.get_tracer("tctf_dynamo", tracer_provider=tracer_provider)
    observers.install(_Observer(tracer, trace, context))


def uninstrument() -> None:
    """Stop making spans; the library's cost goes back to one global read per call."""
    if isinstance(observers.current(), _Observer):
        observers.install(None)


def is_instrumented() -> bool:
    return isinstance(observers.current(), _Observer)
