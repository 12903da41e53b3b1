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

import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import Any

from tctf_dynamo.errors import DynamoDBServiceError
from tctf_dynamo.observability._otel import require_opentelemetry
from tctf_dynamo.resilience import observers

__all__ = ["instrument", "is_instrumented", "uninstrument"]

PREFIX = "tctf_dynamo"


class _Tally:
    """What the provider operations inside one span added up to (thread-safe: bulk jobs
    send from several threads)."""

    def __init__(self, span: Any) -> None:
        self.span = span
        self._lock = threading.Lock()
        self.operations = 0
        self.attempts = 0
        self.capacity = 0.0
        self.tables: list[str] = []

    def add(self, table: str | None, attempts: int, breaker_state: str, capacity: float) -> None:
        with self._lock:
            self.operations += 1
            self.attempts += attempts
            self.capacity += capacity
            if table is not None and table not in self.tables:
                self.tables.append(table)
            self.span.set_attributes(
                {
                    f"{PREFIX}.operations": self.operations,
                    f"{PREFIX}.attempts": self.attempts,
                    f"{PREFIX}.retries": self.attempts - self.operations,
                    f"{PREFIX}.breaker.state": breaker_state,
                    f"{PREFIX}.consumed_capacity": self.capacity,
                    "aws.dynamodb.table_names": list(self.tables),
                }
            )


class _Observer:
    """Spans through an OpenTelemetry tracer."""

    def __init__(self, tracer: Any, trace: Any, context: Any) -> None:
        self._tracer = tracer
        self._trace = trace
        self._context = context
        self._scope: ContextVar[_Tally | None] = ContextVar("tctf_dynamo_span", default=None)

    def scope(self, kind: str, attributes: Mapping[str, Any]) -> AbstractContextManager[Any]:
        return self._span(kind, attributes)

    @contextmanager
    def _span(self, kind: str, attributes: Mapping[str, Any]) -> Iterator[Any]:
        outer = self._scope.get()
        if outer is not None:  # the library operation is the outermost one
            outer.span.set_attributes(_attributes(attributes))
            yield outer.span
            return
        with self._tracer.start_as_current_span(
            f"{PREFIX} {kind}",
            attributes=_attributes(attributes),
            record_exception=True,
            set_status_on_exception=False,
        ) as span:
            token = self._scope.set(_Tally(span))
            try:
                yield span
            except BaseException as error:
                _failed(span, error, self._trace)
                raise
            finally:
                self._scope.reset(token)

    def begin(self, operation: str, table: str | None) -> Any:
        tally = self._scope.get()
        if tally is not None:
            return (tally, None, table)
        span = self._tracer.start_span(f"{PREFIX} {operation}", attributes=_operation(operation))
        token = self._context.attach(self._trace.set_span_in_context(span))
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
        tally.add(table, attempts, breaker_state, _capacity(result))
        if token is None:
            return
        if error is not None:
            tally.span.record_exception(error)
            _failed(tally.span, error, self._trace)
        self._context.detach(token)
        tally.span.end()


def _operation(operation: str) -> dict[str, Any]:
    return {f"{PREFIX}.operation": operation, "db.system": "aws.dynamodb"}


def _attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {f"{PREFIX}.{name}": value for name, value in attributes.items() if value is not None}


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
    span.set_attribute(f"{PREFIX}.error_code", code)
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
