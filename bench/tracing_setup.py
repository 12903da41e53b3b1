"""What the ``tracing`` scenario installs: tracer providers, tracers, wrappers, an answerer.

Two tracer-provider configurations:

* :func:`production_provider` -- what a service runs: ``TracerProvider`` with the
  ``ALWAYS_ON`` sampler and a ``BatchSpanProcessor`` (spans queued, exported from a
  background thread, whose CPU time counts too) with an exporter that drops them, so
  the cost measured is making spans, not shipping them;
* :func:`in_memory_provider` -- what tests and the documentation's example use: the
  default sampler, a ``SimpleSpanProcessor`` exporting each span synchronously into an
  ``InMemorySpanExporter`` (cleared after each run).

Instrumentation is process-wide: every context manager here installs its tracer for one
run and removes it afterwards.
"""

from __future__ import annotations

import importlib
import json
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench import peers, shapes

__all__ = [
    "SPAN_ATTRIBUTES",
    "SPAN_NAME",
    "TracerSetup",
    "answer_in_process",
    "botocore_tracer",
    "botocore_tracer_wrapped",
    "in_memory_provider",
    "library_spans",
    "one_span",
    "pass_through",
    "production_provider",
    "span_wrapper",
]

SPAN_NAME = "DynamoDB.GetItem"
SPAN_ATTRIBUTES = {
    "rpc.system": "aws-api",
    "rpc.service": "DynamoDB",
    "rpc.method": "GetItem",
    "cloud.region": peers.REGION,
    "server.address": "127.0.0.1",
    "server.port": 8000,
    "aws.dynamodb.table_names": (shapes.TABLE_NAME,),
    "aws.dynamodb.consistent_read": False,
}
"""What OpenTelemetry's botocore instrumentation puts on a GetItem span before the call."""


class _DropSpans:
    """An exporter that keeps nothing: the cost measured is making spans, not shipping."""

    def export(self, spans: Any) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        del spans
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        del timeout_millis
        return True


class TracerSetup:
    """A tracer provider and what to do after each measured run (clear kept spans)."""

    def __init__(self, provider: Any, after_run: Callable[[], None] = lambda: None) -> None:
        self.provider = provider
        self.after_run = after_run

    @contextmanager
    def run(self, inner: Callable[[Any], Any]) -> Iterator[None]:
        """``inner(provider)``'s context, then ``after_run``."""
        try:
            with inner(self.provider):
                yield
        finally:
            self.after_run()


def production_provider() -> TracerSetup:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ALWAYS_ON

    provider = TracerProvider(sampler=ALWAYS_ON)
    provider.add_span_processor(BatchSpanProcessor(_DropSpans()))  # type: ignore[arg-type]
    return TracerSetup(provider)


def in_memory_provider() -> TracerSetup:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return TracerSetup(provider, exporter.clear)


@contextmanager
def botocore_tracer(provider: Any) -> Iterator[None]:
    """OpenTelemetry's botocore instrumentation, as a service installs it."""
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor

    instrumentor: Any = BotocoreInstrumentor()  # type: ignore[no-untyped-call]
    instrumentor.instrument(tracer_provider=provider)
    try:
        yield
    finally:
        instrumentor.uninstrument()


@contextmanager
def botocore_tracer_wrapped(provider: Any) -> Iterator[None]:
    """The same instrumentation, the fast path kept on ``Route.WRAPPED``: it runs inside
    the instrumentation's wrapper instead of making the spans itself (``EMULATED``)."""
    hooks: Any = importlib.import_module("tctf_dynamo.providers.hooks")
    emulation = hooks.emulation
    hooks.emulation = lambda *_: None
    try:
        with botocore_tracer(provider):
            yield
    finally:
        hooks.emulation = emulation


@contextmanager
def library_spans(provider: Any, *, with_botocore_tracer: bool = True) -> Iterator[None]:
    """The library's own spans (``instrument()``), over the botocore tracer or alone."""
    observability = importlib.import_module("tctf_dynamo.observability")
    with botocore_tracer(provider) if with_botocore_tracer else _nothing():
        observability.instrument(tracer_provider=provider)
        try:
            yield
        finally:
            observability.uninstrument()


@contextmanager
def _nothing() -> Iterator[None]:
    yield


@contextmanager
def pass_through(provider: Any = None) -> Iterator[None]:
    """A ``wrapt`` wrapper around ``_make_api_call`` that only calls through."""
    del provider

    def call_through(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        del instance
        return wrapped(*args, **kwargs)

    with _wrapped_api_call(call_through):
        yield


def one_span(tracer: Any) -> Callable[[Callable[[], Any]], Any]:
    """Open one span around ``call`` with the instrumentation's attributes, set the three
    it sets from the response, and nothing else."""
    from opentelemetry.trace import SpanKind

    def spanned(call: Callable[[], Any]) -> Any:
        with tracer.start_as_current_span(
            SPAN_NAME, kind=SpanKind.CLIENT, attributes=dict(SPAN_ATTRIBUTES)
        ) as span:
            result = call()
            span.set_attribute("aws.request_id", "R")
            span.set_attribute("retry_attempts", 0)
            span.set_attribute("http.status_code", 200)
            return result

    return spanned


@contextmanager
def span_wrapper(provider: Any) -> Iterator[None]:
    """A wrapper around ``_make_api_call`` opening one bare span per call."""
    spanned = one_span(provider.get_tracer("bench"))

    def span_around(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        del instance
        return spanned(lambda: wrapped(*args, **kwargs))

    with _wrapped_api_call(span_around):
        yield


@contextmanager
def _wrapped_api_call(wrapper: Any) -> Iterator[None]:
    import botocore.client
    import wrapt

    client_class: Any = botocore.client.BaseClient
    saved = vars(client_class)["_make_api_call"]
    wrapt.wrap_function_wrapper("botocore.client", "BaseClient._make_api_call", wrapper)
    try:
        yield
    finally:
        client_class._make_api_call = saved


def answer_in_process(client: Any, item: dict[str, Any]) -> None:
    """Answer every GetItem of ``client`` with ``item`` from a ``before-send`` handler.

    Everything up to the socket runs (serialising, signing, the tracers' wrappers and
    propagation headers, parsing) and nothing after it: no HTTP client, no server
    competing for the two cores, so the costs of tracing stand out of the noise.
    """
    from botocore.awsrequest import AWSResponse

    body = json.dumps({"Item": item}).encode()
    headers = {
        "x-amzn-RequestId": "BENCH",
        "x-amz-crc32": str(zlib.crc32(body) & 0xFFFFFFFF),
        "Content-Type": "application/x-amz-json-1.0",
    }

    class _Raw:
        def stream(self, **_: Any) -> Iterator[bytes]:
            yield body

    def answer(request: Any, **_: Any) -> Any:
        received: Any = dict(headers)  # as urllib3 hands them over; AWSResponse wraps them
        response: Any = AWSResponse(request.url, 200, received, _Raw())
        response._content = body  # read already, as botocore's endpoint reads it
        return response

    client.meta.events.register("before-send.dynamodb.GetItem", answer)
