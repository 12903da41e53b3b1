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
  scale, and to show the tracer's own cost is the same on either path.

Instrumentation is process-wide, so each candidate installs it for its own run and
removes it afterwards; candidates are interleaved as everywhere else.
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
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
    _tracer_cost(result)
    result.target(
        "the fast path inside a tracer's wrapper within 10%", "inside a wrapper / fast", "<=", 1.1
    )
    result.target("fast path with the botocore tracer within 10%", "traced / fast", "<=", 1.1)
    result.notes.append(
        "the botocore tracer's own work (its span, attributes, propagation) is paid on either "
        "path: compare the tracer's cost on each path below"
    )
    return result


def _tracer_cost(result: ScenarioResult) -> None:
    """The tracer's added CPU per op on each path, from the medians."""
    figures = result.figures
    for path, plain, traced in (
        ("the fast path", FAST, TRACED),
        ("botocore's path", BOTOCORE, BOTOCORE_TRACED),
    ):
        labels = (f"{traced} CPU/op", f"{plain} CPU/op")
        if all(label in figures for label in labels):
            added = figures[labels[0]].median - figures[labels[1]].median
            result.notes.append(f"tracer cost on {path}: {added:+.1f} us/op (medians)")


if __name__ == "__main__":
    from bench.run import main

    raise SystemExit(main(["--only", NAME, *sys.argv[1:]]))
