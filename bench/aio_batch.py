"""Scenario ``aio_batch``: bulk jobs on the async API beside the sync one, at injected latency.

Both APIs send through one stand-in backend, so what differs is only the engine: the sync
bulk job's thread pool against the async one's tasks. The stand-in does the work a JSON
provider does per request (encode the request to JSON, parse the answer's JSON) and waits
``delay`` per request, blocking its thread for the sync API and awaiting
``asyncio.sleep`` for the async one; it neither signs nor builds HTTP requests, so its
CPU per item is below a real provider's, equally for both APIs. For reference, the sync
API also runs on the boto3 fast path with :class:`bench.latency.InjectedLatency` (signed
requests, botocore's response parsing), as the ``batch`` scenario does.

Measured at ``workers`` requests in flight: wire ``bulk_write`` of ``items`` items and
``bulk_get`` of their keys; each run's wall time, process CPU time and CPU per item, and
the latency floor ceil(requests / workers) x delay.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench import batch, ours, peers, shapes
from bench.harness import ScenarioResult, interleave
from bench.latency import InjectedLatency

NAME = "aio_batch"
TITLE = "async bulk writes and gets beside the sync ones, injected per-request latency"
PRESETS: dict[str, dict[str, Any]] = {
    "full": {"items": 10_000, "repeat": 4, "delay": 0.020, "workers": (8, 16)},
    "quick": {"items": 10_000, "repeat": 3, "delay": 0.020, "workers": (8,)},
    "smoke": {"items": 60, "repeat": 1, "delay": 0.0, "workers": (2,)},
}
TARGET_WORKERS = 8
Action = Callable[[], object]


class _StandIn:
    """A JSON backend stand-in: encode, wait ``delay``, answer, parse."""

    def __init__(self, responder: InjectedLatency, delay: float) -> None:
        self._responder = responder
        self._delay = delay

    def _answer(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        sent = json.loads(json.dumps(request))  # the request's JSON, both ways
        if operation == "BatchWriteItem":
            data = b'{"UnprocessedItems":{}}'
        elif operation == "BatchGetItem":
            data = self._responder._batch_get_body(sent["RequestItems"])
        else:
            _, payload = self._responder._respond(operation, sent)
            data = json.dumps(payload).encode()
        answer: dict[str, Any] = json.loads(data)
        return answer


class BlockingStandIn(_StandIn):
    def call(
        self, operation: str, request: dict[str, Any], *, timeout: float | None = None
    ) -> dict[str, Any]:
        if self._delay > 0:
            time.sleep(self._delay)
        return self._answer(operation, request)

    def close(self) -> None:
        return None

    def __enter__(self) -> BlockingStandIn:
        return self

    def __exit__(self, *_: object) -> None:
        return None


class AsyncStandIn(_StandIn):
    async def call(
        self, operation: str, request: dict[str, Any], *, timeout: float | None = None
    ) -> dict[str, Any]:
        if self._delay > 0:
            await asyncio.sleep(self._delay)
        return self._answer(operation, request)

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> AsyncStandIn:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None


def label(api: str, kind: str, workers: int) -> str:
    return f"{kind} @{workers}: {api}"


class _Bench:
    def __init__(self, items: int, delay: float) -> None:
        records = shapes.make_records(items)
        self.delay = delay
        self.items = [shapes.floor_encode(record) for record in records]
        self.keys = [shapes.wire_key(record) for record in records]
        self.puts = [(shapes.TABLE_NAME, item) for item in self.items]

    def responder(self) -> InjectedLatency:
        return batch._responder(self.delay, self.items)

    def _actions(self, service: Any, run: Callable[[Any], Any], api: Any) -> tuple[Action, Action]:
        def write() -> None:
            run(api.bulk_write(service, puts=self.puts))

        def get() -> None:
            found = run(api.bulk_get(service, shapes.TABLE_NAME, self.keys))
            batch._expect(sum(1 for item in found if item), len(self.keys), "get")

        return write, get

    def sync_stand_in(self, workers: int) -> tuple[Action, Action]:
        from tctf_dynamo import DynamoDBService
        from tctf_dynamo import batch as api

        service = DynamoDBService(
            BlockingStandIn(self.responder(), self.delay),
            max_workers=workers,
        )
        return self._actions(service, lambda value: value, api)

    def async_stand_in(self, workers: int) -> tuple[Action, Action]:
        from tctf_dynamo.aio import AsyncDynamoDBService
        from tctf_dynamo.aio import batch as api

        service = AsyncDynamoDBService(
            AsyncStandIn(self.responder(), self.delay), max_workers=workers
        )
        runner = asyncio.Runner()
        return self._actions(service, runner.run, api)

    def sync_boto3(self, workers: int) -> tuple[Action, Action]:
        from tctf_dynamo import batch as api

        service = ours.require("DynamoDBService").from_endpoint(
            batch.DUMMY_ENDPOINT, region_name=peers.REGION, max_workers=workers,
            **peers.DUMMY_CREDENTIALS,
        )  # fmt: skip
        self.responder().install(service.provider.client)
        return self._actions(service, lambda value: value, api)


APIS = {
    "async, stand-in backend": _Bench.async_stand_in,
    "sync, stand-in backend": _Bench.sync_stand_in,
    "sync, boto3 fast path": _Bench.sync_boto3,
}


def _measure(action: Action) -> Callable[[], tuple[float, float]]:
    def measure() -> tuple[float, float]:
        cpu, wall = time.process_time(), time.perf_counter()
        action()
        return time.perf_counter() - wall, time.process_time() - cpu

    return measure


def run(*, items: int, repeat: int, delay: float, workers: Sequence[int]) -> ScenarioResult:
    params = {"items": items, "repeat": repeat, "delay_ms": delay * 1000, "workers": list(workers)}
    result = ScenarioResult(NAME, TITLE, params=params)
    bench = _Bench(items, delay)
    candidates: dict[str, Callable[[], tuple[float, float]]] = {}
    for count in workers:
        for api, build in APIS.items():
            write, get = build(bench, count)
            candidates[label(api, "write", count)] = _measure(write)
            candidates[label(api, "get", count)] = _measure(get)
    for name, runs in interleave(candidates, repeat).items():
        result.add(name, [wall for wall, _ in runs], "s")
        result.add(f"{name} (CPU)", [cpu for _, cpu in runs], "CPU s")
        result.add(f"{name} (CPU per item)", [cpu / items * 1e6 for _, cpu in runs], "CPU µs")
    _compare(result, items, delay, workers)
    result.notes.append(
        "stand-in backend: JSON both ways per request and the injected delay, no signing "
        "or HTTP; latency floor = ceil(requests / workers) x delay (25 writes or 100 keys "
        "per request)"
    )
    return result


def _compare(result: ScenarioResult, items: int, delay: float, workers: Sequence[int]) -> None:
    asynchronous, synchronous = "async, stand-in backend", "sync, stand-in backend"
    for count in workers:
        for kind, chunk in (("write", batch.WRITE_CHUNK), ("get", batch.GET_CHUNK)):
            floor = batch.latency_floor(items, chunk, count, delay)
            ours_async = label(asynchronous, kind, count)
            if floor > 0:
                floor_name = f"{kind} @{count}: latency floor"
                result.add(floor_name, [floor] * len(result.figures[ours_async].runs), "s")
                result.ratio(f"{kind} @{count}: async / floor", ours_async, floor_name)
                # no client finishes before its own CPU is spent either: the larger of the
                # two, run by run
                cpu_runs = result.figures[f"{ours_async} (CPU)"].runs
                bound_name = f"{kind} @{count}: async floor (latency or its CPU)"
                result.add(bound_name, [max(floor, cpu) for cpu in cpu_runs], "s")
                result.ratio(
                    f"{kind} @{count}: async / max(latency floor, CPU)", ours_async, bound_name
                )
                result.ratio(
                    f"{kind} @{count}: sync / floor", label(synchronous, kind, count), floor_name
                )
            result.ratio(
                f"{kind} @{count}: async CPU / sync CPU (same backend)",
                f"{ours_async} (CPU)",
                f"{label(synchronous, kind, count)} (CPU)",
            )
    at = TARGET_WORKERS if TARGET_WORKERS in workers else max(workers)
    if delay > 0:
        for kind in ("write", "get"):
            result.target(
                f"async {kind}s @{at} within 2x the latency floor",
                f"{kind} @{at}: async / floor",
                "<=",
                2,
            )
            result.target(
                f"async {kind}s @{at} within 2x max(latency floor, client CPU)",
                f"{kind} @{at}: async / max(latency floor, CPU)",
                "<=",
                2,
            )
    for kind in ("write", "get"):
        result.target(
            f"async {kind}s @{at}: CPU no higher than sync",
            f"{kind} @{at}: async CPU / sync CPU (same backend)",
            "<=",
            1,
        )


if __name__ == "__main__":
    from bench.run import main

    raise SystemExit(main(["--only", NAME, *sys.argv[1:]]))
