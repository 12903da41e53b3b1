"""Scenario ``tracing``: what tracing costs the fast path, and whose cost it is.

``Repository.get``, client CPU per operation (``time.process_time``: this process, the
span processor's export thread included) and throughput (gets per second of wall time,
the same runs), against dynalite over HTTP and again answered
in process (a ``before-send`` handler answers: everything up to the socket runs, and the
costs of tracing stand out of the network's and the server's noise). Contenders:

* ``fast`` -- nothing hooked on the client;
* ``fast + pass-through wrapper`` -- a ``wrapt`` wrapper around ``_make_api_call`` that
  only calls through: the library's own cost of running inside a tracer's wrapper;
* ``fast + botocore tracer`` -- OpenTelemetry's botocore instrumentation with the
  production-shaped provider (``ALWAYS_ON``, ``BatchSpanProcessor``, an exporter that
  drops the spans); ``..., in-memory exporter`` the same with the test-shaped provider
  (``SimpleSpanProcessor`` into an ``InMemorySpanExporter``), see :mod:`bench.tracing_setup`;
  the fast path makes the instrumentation's spans itself (``Route.EMULATED``);
* ``fast + botocore tracer, wrapped route`` -- the same instrumentation with the fast
  path kept inside its wrapper (``Route.WRAPPED``, the route before emulation);
* ``fast + library spans`` -- the library's own spans (``instrument()``) over the
  botocore tracer; ``fast + library spans alone`` -- without it;
* ``fast + one bare span`` -- a wrapper opening one span with the instrumentation's
  attributes and nothing else: what the SDK's span costs inside a real call;
* ``bare span alone`` (each provider) -- that span's start and end in a loop, nothing
  else: the SDK's own cost per span with every cache warm;
* ``botocore path`` and ``botocore path + botocore tracer`` -- ``fast_path=False``: the
  tracer's own cost is the same on either path.

Candidates are interleaved as everywhere else, in slices: each round is ``slices`` short
runs of every candidate in turn (``ops / slices`` gets each, after a few warm-up gets with
its tracer installed), so a neighbour's burst of CPU lands on every candidate of the
round, not on one; a round's figure is the mean of its slices. Ratios are paired round
by round.
"""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from statistics import median
from typing import Any

from bench import backend, ours, peers, shapes
from bench import tracing_setup as setup
from bench.harness import ScenarioResult, interleave

NAME = "tracing"
TITLE = (
    "fast path with tracing on vs off, client CPU and throughput per get (dynalite, and in process)"
)
PRESETS: dict[str, dict[str, Any]] = {
    "full": {"ops": 600, "repeat": 7, "slices": 6},
    "quick": {"ops": 200, "repeat": 3, "slices": 4},
    "smoke": {"ops": 10, "repeat": 1, "slices": 1},
}
FAST = "fast"
PASS_THROUGH = "fast + pass-through wrapper"
TRACED = "fast + botocore tracer"
TRACED_IN_MEMORY = "fast + botocore tracer, in-memory exporter"
TRACED_WRAPPED = "fast + botocore tracer, wrapped route"
LIBRARY = "fast + library spans"
LIBRARY_ALONE = "fast + library spans alone"
BOTOCORE = "botocore path"
BOTOCORE_TRACED = "botocore path + botocore tracer"
ONE_SPAN = "fast + one bare span"
SPAN_ALONE = "bare span alone"
SPAN_ALONE_IN_MEMORY = "bare span alone, in-memory exporter"
IN_PROCESS = ", in process"
"""Suffix of the figures answered in process (none: against dynalite)."""

Measured = tuple[float, float]
"""CPU and wall time per op of one run, in microseconds."""


def figure(label: str, where: str = "") -> str:
    return f"{label} CPU/op{where}"


def throughput(label: str, where: str = "") -> str:
    return f"{label} gets/s{where}"


def _measured(
    action: Callable[[int], object],
    ops: int,
    context: Callable[[], AbstractContextManager[Any]],
) -> Callable[[], Measured]:
    def measure() -> Measured:
        with context():
            action(_WARM_UP)  # caches of the new route are warm before the clock starts
            cpu, wall = time.process_time(), time.perf_counter()
            action(ops)
            wall = time.perf_counter() - wall
            return (time.process_time() - cpu) * 1e6 / ops, wall * 1e6 / ops

    return measure


_WARM_UP = 5


def _gets(
    endpoint: str, workload: list[dict[str, Any]], *, fast: bool, answer: dict[str, Any] | None
) -> Callable[[int], object]:
    """``gets(count)``: the next ``count`` gets of ``workload``, round and round."""
    entity_type = shapes.our_entity()
    service = ours.require("DynamoDBService").from_endpoint(
        endpoint, region_name=peers.REGION, fast_path=fast, **peers.DUMMY_CREDENTIALS
    )
    if answer is not None:
        setup.answer_in_process(service.provider.client, answer)
    get = ours.require("Repository")(entity_type, service).get
    keys = itertools.cycle(workload)

    def gets(count: int) -> None:
        for key in itertools.islice(keys, count):
            get(**key)

    return gets


def _spans_alone(provider: Any) -> Callable[[int], object]:
    spanned = setup.one_span(provider.get_tracer("bench"))

    def spans(count: int) -> None:
        for _ in range(count):
            spanned(tuple)

    return spans


def _sliced(
    candidates: dict[str, Callable[[], Measured]], repeat: int, slices: int
) -> dict[str, list[Measured]]:
    """``repeat`` rounds of ``slices`` interleaved runs each; a round's value is the mean
    of its slices (CPU and wall alike)."""
    runs = interleave(candidates, repeat * slices)
    return {
        label: [_mean(values[start : start + slices]) for start in range(0, len(values), slices)]
        for label, values in runs.items()
    }


def _mean(runs: list[Measured]) -> Measured:
    return sum(cpu for cpu, _ in runs) / len(runs), sum(wall for _, wall in runs) / len(runs)


def _candidates(
    fast: Callable[[int], object],
    slow: Callable[[int], object],
    ops: int,
    production: setup.TracerSetup,
    in_memory: setup.TracerSetup,
    where: str,
) -> dict[str, Callable[[], Measured]]:
    def alone(provider: Any) -> Any:
        return setup.library_spans(provider, with_botocore_tracer=False)

    plan: dict[str, tuple[Callable[[int], object], Callable[[], AbstractContextManager[Any]]]] = {
        FAST: (fast, nullcontext),
        PASS_THROUGH: (fast, setup.pass_through),
        TRACED: (fast, lambda: production.run(setup.botocore_tracer)),
        TRACED_IN_MEMORY: (fast, lambda: in_memory.run(setup.botocore_tracer)),
        TRACED_WRAPPED: (fast, lambda: production.run(setup.botocore_tracer_wrapped)),
        LIBRARY: (fast, lambda: production.run(setup.library_spans)),
        LIBRARY_ALONE: (fast, lambda: production.run(alone)),
        ONE_SPAN: (fast, lambda: production.run(setup.span_wrapper)),
        BOTOCORE: (slow, nullcontext),
        BOTOCORE_TRACED: (slow, lambda: production.run(setup.botocore_tracer)),
    }
    return {
        figure(label, where): _measured(action, ops, context)
        for label, (action, context) in plan.items()
    }


def run(*, ops: int, repeat: int, slices: int) -> ScenarioResult:
    result = ScenarioResult(NAME, TITLE, params={"ops": ops, "repeat": repeat, "slices": slices})
    try:
        production, in_memory = setup.production_provider(), setup.in_memory_provider()
        entity_type = shapes.our_entity()
    except (ImportError, ours.Unavailable) as error:
        result.skip("scenario", f"needs the library and opentelemetry-sdk: {error}")
        return result
    records = shapes.make_records(ops)
    keys = [{"customer_id": r["customer_id"], "order_id": r["order_id"]} for r in records]
    item = entity_type(**records[0]).to_item()
    with backend.running_dynalite() as endpoint:
        backend.create_table(peers.boto3_client(endpoint))
        backend.load(
            peers.boto3_client(endpoint), [entity_type(**record).to_item() for record in records]
        )
        candidates: dict[str, Callable[[], Measured]] = {}
        per_slice = max(1, ops // slices)
        for where, answer, workload in (("", None, keys), (IN_PROCESS, item, keys[:1])):
            fast = _gets(endpoint, workload, fast=True, answer=answer)
            slow = _gets(endpoint, workload, fast=False, answer=answer)
            candidates |= _candidates(fast, slow, per_slice, production, in_memory, where)
        for label, tracer in ((SPAN_ALONE, production), (SPAN_ALONE_IN_MEMORY, in_memory)):
            spans = _spans_alone(tracer.provider)
            candidates[figure(label)] = _measured(spans, per_slice, _cleared(tracer))
        measured = _sliced(candidates, repeat, slices)
    production.provider.shutdown()
    in_memory.provider.shutdown()
    for label, runs in measured.items():
        result.add(label, [cpu for cpu, _ in runs], "us/op")
        if not label.startswith(SPAN_ALONE):
            name, _, where = label.partition(" CPU/op")
            result.add(throughput(name, where), [1e6 / wall for _, wall in runs], "gets/s")
    for where in ("", IN_PROCESS):
        _ratios(result, where)
    _targets(result)
    _costs(result)
    return result


def _cleared(tracer: setup.TracerSetup) -> Callable[[], AbstractContextManager[None]]:
    """No instrumentation, the provider's kept spans cleared after the run."""

    def nothing(provider: Any) -> AbstractContextManager[None]:
        del provider
        return nullcontext()

    return lambda: tracer.run(nothing)


def _ratios(result: ScenarioResult, where: str) -> None:
    def ratio(name: str, top: str, bottom: str) -> None:
        result.ratio(f"{name}{where}", figure(top, where), figure(bottom, where))

    ratio("inside a wrapper / fast", PASS_THROUGH, FAST)
    ratio("traced / fast", TRACED, FAST)
    ratio("traced, wrapped route / fast", TRACED_WRAPPED, FAST)
    ratio("traced, emulated / wrapped route", TRACED, TRACED_WRAPPED)
    ratio("traced, in-memory exporter / fast", TRACED_IN_MEMORY, FAST)
    for name, top in (
        ("traced throughput / fast throughput", TRACED),
        ("traced throughput, wrapped route / fast throughput", TRACED_WRAPPED),
        ("one bare span throughput / fast throughput", ONE_SPAN),
    ):
        result.ratio(f"{name}{where}", throughput(top, where), throughput(FAST, where))
    ratio("one bare span / fast", ONE_SPAN, FAST)
    for name, alone in (
        ("fast + the SDK's span alone / fast", SPAN_ALONE),
        ("fast + the SDK's span alone, in-memory exporter / fast", SPAN_ALONE_IN_MEMORY),
    ):
        _combined(result, f"{name}{where}", figure(FAST, where), figure(alone), +1)
    _combined(
        result,
        f"traced less the SDK's span alone / fast{where}",
        figure(TRACED, where),
        figure(SPAN_ALONE),
        -1,
        over=figure(FAST, where),
    )
    ratio("library spans alone / fast", LIBRARY_ALONE, FAST)
    ratio("library spans alone / one bare span", LIBRARY_ALONE, ONE_SPAN)
    ratio("library spans / fast", LIBRARY, FAST)
    ratio("botocore path / fast", BOTOCORE, FAST)
    ratio("botocore path traced / fast traced", BOTOCORE_TRACED, TRACED)


def _combined(
    result: ScenarioResult, label: str, base: str, span: str, sign: int, *, over: str = ""
) -> None:
    """Per round, ``(base + sign * span) / over`` (``over`` defaults to ``base``)."""
    over = over or base
    figures = result.figures
    if not all(name in figures for name in (base, span, over)):
        result.skip(label, "needs the figures it combines")
        return
    rounds = zip(figures[base].runs, figures[span].runs, figures[over].runs, strict=True)
    result.set_ratio(label, tuple((b + sign * s) / o for b, s, o in rounds))


def _targets(result: ScenarioResult) -> None:
    result.target(
        "the fast path inside a tracer's wrapper within 10%", "inside a wrapper / fast", "<=", 1.1
    )
    result.target("fast path with the botocore tracer within 10%", "traced / fast", "<=", 1.1)
    result.target(
        "traced throughput within 10% of untraced",
        "traced throughput / fast throughput",
        ">=",
        0.9,
    )
    result.target(
        "the same, less the SDK's own span cost (the library and the instrumentation's code)",
        "traced less the SDK's span alone / fast",
        "<=",
        1.1,
    )


def _costs(result: ScenarioResult) -> None:
    """What each part adds per op: round-by-round differences of paired runs, as median
    (min-max), against dynalite and in process."""
    for where in ("", IN_PROCESS):
        for what, plain, traced in (
            ("ours: running inside a tracer's wrapper", FAST, PASS_THROUGH),
            ("the botocore tracer on the fast path", FAST, TRACED),
            ("the botocore tracer on the fast path, in-memory exporter", FAST, TRACED_IN_MEMORY),
            ("the botocore tracer on the fast path, wrapped route", FAST, TRACED_WRAPPED),
            ("what emulating saves (wrapped route less emulated)", TRACED, TRACED_WRAPPED),
            ("the botocore tracer on botocore's path", BOTOCORE, BOTOCORE_TRACED),
            ("one bare span on the fast path (the SDK inside a call)", FAST, ONE_SPAN),
            (
                "the instrumentation's own code and ours (tracer less one bare span)",
                ONE_SPAN,
                TRACED,
            ),
            ("the library's spans alone", FAST, LIBRARY_ALONE),
            ("the library's spans over the botocore tracer", TRACED, LIBRARY),
        ):
            _difference(result, f"{what}{where}", figure(traced, where), figure(plain, where))
    _difference(result, "the SDK's span alone (a loop of start and end)", figure(SPAN_ALONE), "")
    _difference(
        result, "the SDK's span alone, in-memory exporter", figure(SPAN_ALONE_IN_MEMORY), ""
    )


def _difference(result: ScenarioResult, what: str, top: str, bottom: str) -> None:
    figures = result.figures
    if top not in figures or (bottom and bottom not in figures):
        return
    tops = figures[top].runs
    bottoms = figures[bottom].runs if bottom else (0.0,) * len(tops)
    rounds = [a - b for a, b in zip(tops, bottoms, strict=True)]
    result.notes.append(
        f"{what}: {median(rounds):+.1f} us/op ({min(rounds):+.1f} to {max(rounds):+.1f})"
    )


if __name__ == "__main__":
    from bench.run import main

    raise SystemExit(main(["--only", NAME, *sys.argv[1:]]))
