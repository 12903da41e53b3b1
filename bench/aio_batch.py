"""Scenario ``aio_batch``: the async bulk API over real HTTP, against its peers, at latency.

One responder process (:mod:`bench.responder`) answers every request after ``delay``
(20 ms in a full run) over real HTTP, so each client builds, signs, sends and parses
real requests while the server's CPU is not charged to it. Against it, interleaved
round by round (contenders in :mod:`bench.aio_contenders`): ours async (wire items and
entities), ours sync fast path (the same two), aiobotocore with ``asyncio.gather`` and a
semaphore, at each concurrency level ``workers``; boto3 ``Table.batch_writer()`` and a
sequential ``batch_get_item`` loop once. ``items`` writes, then ``items`` gets of the
same keys; the responder checks every put arrived, every get checks every key came back.

Measured per run: wall time and the client process's CPU time (every thread). Floors:
the latency floor ``ceil(requests / workers) x delay`` (requests of 25 writes or 100
keys), and, per run, ``max(latency floor, the contender's own CPU time)``: no client
finishes before its CPU is spent, whatever its concurrency. Targets (per level unless
said): ours async >= 20x the sequential boto3 client (at the highest level only: at
``workers`` = 8 the latency floors alone cap the ratio at 8x), >= 3x aiobotocore, within
2x of max(latency floor, its CPU), and CPU per item no higher than the sync fast path's.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from typing import Any

from bench import ours, peers, responder
from bench.aio_contenders import (
    AIOBOTOCORE,
    ASYNC_ENTITIES,
    ASYNC_TRUSTED,
    ASYNC_WIRE,
    BATCH_WRITER,
    GET_CHUNK,
    ONE_LOOP,
    SEQUENTIAL_GET,
    SYNC_ENTITIES,
    SYNC_WIRE,
    WRITE_CHUNK,
    Action,
    Contenders,
)
from bench.harness import ScenarioResult, interleave

NAME = "aio_batch"
TITLE = "async bulk writes and gets over HTTP against their peers, injected per-request latency"
PRESETS: dict[str, dict[str, Any]] = {
    "full": {"items": 10_000, "repeat": 5, "delay": 0.020, "workers": (8, 32)},
    "quick": {"items": 10_000, "repeat": 3, "delay": 0.020, "workers": (8, 32)},
    "smoke": {"items": 60, "repeat": 1, "delay": 0.0, "workers": (2,)},
}
OURS_ASYNC = (ASYNC_WIRE, ASYNC_ENTITIES)
SAME_PATH_SYNC = {ASYNC_WIRE: SYNC_WIRE, ASYNC_ENTITIES: SYNC_ENTITIES}
SEQUENTIAL = {"write": BATCH_WRITER, "get": SEQUENTIAL_GET}
Run = tuple[float, float, float | None]
"""Wall seconds, client CPU seconds, seconds the measuring thread waited for a core."""
Measure = Callable[[], Run]


def label(who: str, kind: str, workers: int) -> str:
    return f"{kind} @{workers}: {who}"


def latency_floor(items: int, chunk: int, workers: int, delay: float) -> float:
    """Seconds no client can beat: its requests, ``workers`` at a time, ``delay`` each."""
    return math.ceil(math.ceil(items / chunk) / workers) * delay


def run_queue_wait() -> float | None:
    """Seconds the calling thread has spent runnable but waiting for a core (Linux
    ``schedstat``), or None where the kernel does not say."""
    try:
        with open("/proc/thread-self/schedstat") as stats:
            return int(stats.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


def _measure(action: Action, kind: str, items: int, endpoint: str) -> Measure:
    """Wall time, process CPU time and the measuring thread's run-queue wait of one run,
    then the check that it did the whole job: every item written reached the responder,
    every key asked for came back."""
    counted = "puts" if kind == "write" else "keys"

    def measure() -> Run:
        waited, cpu, wall = run_queue_wait(), time.process_time(), time.perf_counter()
        done = action()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        after = run_queue_wait()
        seen = responder.stats(endpoint).get(counted, 0)
        if done != items or seen != items:
            raise RuntimeError(f"{kind}: {done} items done, {seen} {counted} sent, not {items}")
        return wall, cpu, None if waited is None or after is None else after - waited

    return measure


def _candidates(
    contenders: Contenders, items: int, workers: Sequence[int], result: ScenarioResult
) -> dict[str, Measure]:
    endpoint = contenders.endpoint
    candidates: dict[str, Measure] = {}
    for count in workers:
        for who, build in contenders.per_level().items():
            try:
                write, get = build(count)
            except (ours.Unavailable, peers.PeerUnavailable) as error:
                for kind in ("write", "get"):
                    result.skip(label(who, kind, count), str(error))
                continue
            candidates[label(who, "write", count)] = _measure(write, "write", items, endpoint)
            candidates[label(who, "get", count)] = _measure(get, "get", items, endpoint)
    candidates[BATCH_WRITER] = _measure(contenders.batch_writer(), "write", items, endpoint)
    candidates[SEQUENTIAL_GET] = _measure(contenders.sequential_get(), "get", items, endpoint)
    return candidates


def run(*, items: int, repeat: int, delay: float, workers: Sequence[int]) -> ScenarioResult:
    params = {"items": items, "repeat": repeat, "delay_ms": delay * 1000, "workers": list(workers)}
    result = ScenarioResult(NAME, TITLE, params=params)
    with ExitStack() as cleanup:
        endpoint = cleanup.enter_context(responder.running_responder(delay))
        contenders = Contenders(items, endpoint, cleanup)
        measured = interleave(_candidates(contenders, items, workers, result), repeat)
    for name, runs in measured.items():
        _add_runs(result, name, runs, items)
    _compare(result, items, delay, workers, repeat)
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    result.notes += [
        "one responder process for every contender, real HTTP on loopback, "
        f"{delay * 1000:g} ms per request; CPU is the client process's (all threads)",
        "latency floor = ceil(requests / workers) x delay, requests of 25 writes or 100 "
        "keys; the CPU floor of a run is max(latency floor, that run's client CPU)",
        "wire contenders (ours wire, aiobotocore) move ready wire items both ways; entity "
        "contenders and the boto3 pair convert Python values (boto3 Table.batch_writer() "
        "takes boto3-ready records; the sequential loop runs TypeDeserializer)",
        "run-queue wait: how long the event loop's thread was ready to run but had no core "
        "(Linux schedstat); '(wall - run-queue wait)' of a one-loop contender estimates its "
        "wall time on an idle machine (the responder's own waits are not removed)",
        *contenders.notes,
    ]
    if load is not None:
        result.notes.append(f"load average at the end: {load[0]:.1f} / {load[1]:.1f} (1 / 5 min)")
    return result


def _add_runs(result: ScenarioResult, name: str, runs: list[Run], items: int) -> None:
    result.add(name, [wall for wall, _, _ in runs], "s")
    result.add(f"{name} (CPU)", [cpu for _, cpu, _ in runs], "CPU s")
    result.add(f"{name} (CPU per item)", [cpu / items * 1e6 for _, cpu, _ in runs], "CPU µs")
    waits = [wait for _, _, wait in runs]
    if name.partition(": ")[2] in ONE_LOOP and None not in waits:
        result.add(
            f"{name} (wall - run-queue wait)",
            [max(wall - (wait or 0.0), 1e-6) for wall, _, wait in runs],
            "s",
        )


def _compare(
    result: ScenarioResult, items: int, delay: float, workers: Sequence[int], repeat: int
) -> None:
    top = max(workers)
    for count in workers:
        for kind, chunk in (("write", WRITE_CHUNK), ("get", GET_CHUNK)):
            floor = latency_floor(items, chunk, count, delay)
            floor_name = label("latency floor", kind, count)
            if floor > 0:
                result.add(floor_name, [floor] * repeat, "s")
            for who in (*OURS_ASYNC, ASYNC_TRUSTED):
                _compare_one(result, who, kind, count, floor, floor_name, top=top)
            result.ratio(
                f"{kind} @{count}: aiobotocore CPU / {ASYNC_WIRE} CPU",
                f"{label(AIOBOTOCORE, kind, count)} (CPU)",
                f"{label(ASYNC_WIRE, kind, count)} (CPU)",
            )
    if delay > 0:
        caps = ", ".join(
            f"{_cap(items, WRITE_CHUNK, count, delay):.0f}x (writes) and "
            f"{_cap(items, GET_CHUNK, count, delay):.0f}x (gets) at {count} workers"
            for count in workers
        )
        result.notes.append(
            "the sequential clients cannot beat requests x delay, so the latency floors "
            f"alone cap the ratio to them near {caps}; the 20x targets are judged at {top}"
        )
    result.notes.append(
        f"targets are judged for {' and '.join(OURS_ASYNC)}; {ASYNC_TRUSTED} is shown to "
        "separate the cost of checking every item before the first request"
    )


def _cap(items: int, chunk: int, workers: int, delay: float) -> float:
    """The best ratio any client at ``workers`` can reach over a sequential one."""
    return latency_floor(items, chunk, 1, delay) / latency_floor(items, chunk, workers, delay)


def _compare_one(
    result: ScenarioResult,
    who: str,
    kind: str,
    count: int,
    floor: float,
    floor_name: str,
    *,
    top: int,
) -> None:
    """Ratios of one of our async contenders at one level; targets for the judged ones
    (the 20x ones at the highest level only)."""
    ours_name = label(who, kind, count)
    if ours_name not in result.figures:
        return
    judged = who in OURS_ASYNC
    prefix = f"{kind} @{count}"
    cpu_runs = result.figures[f"{ours_name} (CPU)"].runs
    bound_name = label(f"floor of {who}: max(latency floor, its CPU)", kind, count)
    result.add(bound_name, [max(floor, cpu) for cpu in cpu_runs], "s")
    bound_ratio = f"{prefix}: {who} / max(latency floor, its CPU)"
    result.ratio(bound_ratio, ours_name, bound_name)
    result.ratio(
        f"{prefix}: {who}, wall - run-queue wait / max(latency floor, its CPU)",
        f"{ours_name} (wall - run-queue wait)",
        bound_name,
    )
    if floor > 0:
        result.ratio(f"{prefix}: {who} / latency floor", ours_name, floor_name)
    peer_ratio = f"{prefix}: aiobotocore / {who}"
    result.ratio(peer_ratio, label(AIOBOTOCORE, kind, count), ours_name)
    sequential = SEQUENTIAL[kind]
    sequential_ratio = f"{prefix}: {sequential.partition(': ')[2]} / {who}"
    result.ratio(sequential_ratio, sequential, ours_name)
    if not judged:
        return
    result.target(f"{prefix}: {who} within 2x of its floor", bound_ratio, "<=", 2)
    result.target(f"{prefix}: {who} >= 3x aiobotocore", peer_ratio, ">=", 3)
    if count == top:
        result.target(f"{prefix}: {who} >= 20x {sequential}", sequential_ratio, ">=", 20)
    sync_name = label(SAME_PATH_SYNC[who], kind, count)
    cpu_ratio = f"{prefix}: {who} CPU / {SAME_PATH_SYNC[who]} CPU"
    result.ratio(cpu_ratio, f"{ours_name} (CPU)", f"{sync_name} (CPU)")
    result.target(f"{prefix}: {who} CPU per item <= the sync fast path's", cpu_ratio, "<=", 1)


if __name__ == "__main__":
    from bench.run import main

    raise SystemExit(main(["--only", NAME, *sys.argv[1:]]))
