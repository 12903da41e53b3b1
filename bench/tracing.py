"""Scenario ``tracing``: what tracing costs the fast path, against dynalite over HTTP.

``Repository.get``, client CPU per operation (``time.process_time``), with:

* ``fast`` -- nothing hooked on the client;
* ``fast + pass-through wrapper`` -- a ``wrapt`` wrapper around ``_make_api_call`` that
  does nothing but call through, as a tracer is installed: what the library pays to run
  the fast path inside a tracer's wrapper (the target: within 10% of ``fast``);
* ``fast + botocore tracer`` -- OpenTelemetry's botocore instrumentation, with the SDK's
  tracer provider and a batch processor whose exporter drops the spans;
* ``fast + library spans`` -- the same plus the library's own spans (``instrument()``);
* ``botocore path`` and ``botocore path + botocore tracer`` -- ``fast_path=False``, for
  scale, and to show the tracer's own cost is the same on either path;
* ``fast + one bare span`` -- a wrapper that only opens and ends one span with the
  instrumentation's attributes: the least any span-per-call tracer adds;
* ``bare span alone`` -- that span's start and end in a loop, nothing else: OpenTelemetry's
  own cost with every cache warm, a lower bound of what a span costs inside a real call.

Instrumentation is process-wide, so each candidate installs it for its own run and
removes it afterwards; candidates are interleaved as everywhere else.
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from statistics import median
from typing import Any

from bench import backend, ours, peers, shapes
from bench.harness import ScenarioResult, interleave

NAME = "tracing"
TITLE = "fast path with tracing on vs off, client CPU per get against dynalite"
PRESETS: dict[str, dict[str, Any]] = {
    "full": {"ops": 600, "repeat": 7},
    "quick": {"ops": 200, "repeat": 3},
    "smoke": {"ops": 10, "repeat": 1},
}
FAST = "fast"
PASS_THROUGH = "fast + pass-through wrapper"
TRACED = "fast + botocore tracer"
LIBRARY = "fast + library spans"
BOTOCORE = "botocore path"
BOTOCORE_TRACED = "botocore path + botocore tracer"
ONE_SPAN = "fast + one bare span"
SPAN_ALONE = "bare span alone"
_SPAN_NAME = "DynamoDB.GetItem"
_SPAN_ATTRIBUTES = {
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

Measured = float


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


def _tracer_provider() -> Any:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(_DropSpans()))  # type: ignore[arg-type]
    return provider


@contextmanager
def _botocore_tracer(provider: Any) -> Iterator[None]:
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor

    instrumentor: Any = BotocoreInstrumentor()  # type: ignore[no-untyped-call]
    instrumentor.instrument(tracer_provider=provider)
    try:
        yield
    finally:
        instrumentor.uninstrument()


@contextmanager
def _library_spans(provider: Any) -> Iterator[None]:
    observability = importlib.import_module("tctf_dynamo.observability")
    with _botocore_tracer(provider):
        observability.instrument(tracer_provider=provider)
        try:
            yield
        finally:
            observability.uninstrument()


@contextmanager
def _pass_through() -> Iterator[None]:
    import botocore.client
    import wrapt

    client_class: Any = botocore.client.BaseClient
    saved = vars(client_class)["_make_api_call"]

    def call_through(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        del instance
        return wrapped(*args, **kwargs)

    wrapt.wrap_function_wrapper("botocore.client", "BaseClient._make_api_call", call_through)
    try:
        yield
    finally:
        client_class._make_api_call = saved


def _one_span(tracer: Any) -> Any:
    """Open one span around ``call`` with the instrumentation's attributes, set the three
    it sets from the response, and nothing else."""
    from opentelemetry.trace import SpanKind

    def one_span(call: Callable[[], Any]) -> Any:
        with tracer.start_as_current_span(
            _SPAN_NAME, kind=SpanKind.CLIENT, attributes=dict(_SPAN_ATTRIBUTES)
        ) as span:
            result = call()
            span.set_attribute("aws.request_id", "R")
            span.set_attribute("retry_attempts", 0)
            span.set_attribute("http.status_code", 200)
            return result

    return one_span


@contextmanager
def _span_wrapper(provider: Any) -> Iterator[None]:
    import botocore.client
    import wrapt

    client_class: Any = botocore.client.BaseClient
    saved = vars(client_class)["_make_api_call"]
    one_span = _one_span(provider.get_tracer("bench"))

    def span_around(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        del instance
        return one_span(lambda: wrapped(*args, **kwargs))

    wrapt.wrap_function_wrapper("botocore.client", "BaseClient._make_api_call", span_around)
    try:
        yield
    finally:
        client_class._make_api_call = saved


def _spans_alone(provider: Any, ops: int) -> Callable[[], object]:
    one_span = _one_span(provider.get_tracer("bench"))

    def spans() -> None:
        for _ in range(ops):
            one_span(tuple)

    return spans


def _measured(
    action: Callable[[], object], ops: int, setup: Callable[[], AbstractContextManager[Any]]
) -> Callable[[], Measured]:
    def measure() -> Measured:
        with setup():
            action()  # a few calls first, so caches of the new route are warm
            cpu = time.process_time()
            action()
            return (time.process_time() - cpu) * 1e6 / ops

    return measure


def _gets(endpoint: str, workload: list[dict[str, Any]], *, fast: bool) -> Callable[[], object]:
    entity_type = shapes.our_entity()
    service = ours.require("DynamoDBService").from_endpoint(
        endpoint, region_name=peers.REGION, fast_path=fast, **peers.DUMMY_CREDENTIALS
    )
    repository = ours.require("Repository")(entity_type, service)

    def gets() -> None:
        for key in workload:
            repository.get(**key)

    return gets


def run(*, ops: int, repeat: int) -> ScenarioResult:
    result = ScenarioResult(NAME, TITLE, params={"ops": ops, "repeat": repeat})
    try:
        provider = _tracer_provider()
        shapes.our_entity()
    except (ImportError, ours.Unavailable) as error:
        result.skip("scenario", f"needs the library and opentelemetry-sdk: {error}")
        return result
    records = shapes.make_records(ops)
    keys = [{"customer_id": r["customer_id"], "order_id": r["order_id"]} for r in records]
    with backend.running_dynalite() as endpoint:
        backend.create_table(peers.boto3_client(endpoint))
        backend.load(
            peers.boto3_client(endpoint),
            [shapes.our_entity()(**record).to_item() for record in records],
        )
        fast, slow = _gets(endpoint, keys, fast=True), _gets(endpoint, keys, fast=False)
        candidates = {
            FAST: _measured(fast, ops, nullcontext),
            PASS_THROUGH: _measured(fast, ops, _pass_through),
            TRACED: _measured(fast, ops, lambda: _botocore_tracer(provider)),
            LIBRARY: _measured(fast, ops, lambda: _library_spans(provider)),
            BOTOCORE: _measured(slow, ops, nullcontext),
            BOTOCORE_TRACED: _measured(slow, ops, lambda: _botocore_tracer(provider)),
            ONE_SPAN: _measured(fast, ops, lambda: _span_wrapper(provider)),
            SPAN_ALONE: _measured(_spans_alone(provider, ops), ops, nullcontext),
        }
        measured = interleave(candidates, repeat)
    provider.shutdown()
    for label, runs in measured.items():
        result.add(f"{label} CPU/op", runs, "us/op")
    result.ratio("inside a wrapper / fast", f"{PASS_THROUGH} CPU/op", f"{FAST} CPU/op")
    result.ratio("traced / fast", f"{TRACED} CPU/op", f"{FAST} CPU/op")
    result.ratio("library spans / fast", f"{LIBRARY} CPU/op", f"{FAST} CPU/op")
    result.ratio("botocore path / fast", f"{BOTOCORE} CPU/op", f"{FAST} CPU/op")
    result.ratio(
        "botocore path traced / fast traced", f"{BOTOCORE_TRACED} CPU/op", f"{TRACED} CPU/op"
    )
    result.ratio("one bare span / fast", f"{ONE_SPAN} CPU/op", f"{FAST} CPU/op")
    result.ratio("bare span alone / fast", f"{SPAN_ALONE} CPU/op", f"{FAST} CPU/op")
    _tracer_cost(result)
    result.target(
        "the fast path inside a tracer's wrapper within 10%", "inside a wrapper / fast", "<=", 1.1
    )
    result.target("fast path with the botocore tracer within 10%", "traced / fast", "<=", 1.1)
    result.notes.append(
        "the botocore tracer's own work (its span, attributes, propagation) is paid on either "
        "path: compare the tracer's cost on each path below, and what one bare span costs"
    )
    return result


def _tracer_cost(result: ScenarioResult) -> None:
    """What each wrapper adds per op on each path: round-by-round differences of paired
    runs, as median (min-max)."""
    figures = result.figures
    for what, plain, traced in (
        ("the botocore tracer on the fast path", FAST, TRACED),
        ("the botocore tracer on botocore's path", BOTOCORE, BOTOCORE_TRACED),
        ("one bare span on the fast path", FAST, ONE_SPAN),
        ("the library's spans over the botocore tracer", TRACED, LIBRARY),
    ):
        labels = (f"{traced} CPU/op", f"{plain} CPU/op")
        if all(label in figures for label in labels):
            tops, bottoms = figures[labels[0]].runs, figures[labels[1]].runs
            rounds = [top - bottom for top, bottom in zip(tops, bottoms, strict=True)]
            result.notes.append(
                f"{what}: {median(rounds):+.1f} us/op ({min(rounds):+.1f} to {max(rounds):+.1f})"
            )


if __name__ == "__main__":
    from bench.run import main

    raise SystemExit(main(["--only", NAME, *sys.argv[1:]]))
