"""Scenario ``batch``: bulk writes and gets when every request costs a round trip.

Every client talks real HTTP to one responder process (:mod:`bench.responder`), which
answers each request ``delay`` after it arrived (20 ms by default): what separates the
competitors is how much of that latency they overlap, and how much CPU they spend between
round trips (one interpreter, one GIL). The server's CPU is another process's, so the
client CPU measured is the client's own work: building, signing, sending and parsing.

At every concurrency level ``workers`` (4, 8 and 16 in a full run), all interleaved:

* ours: ``Repository.batch_put`` of entities / ``Repository.batch_get`` to entities;
* the strongest plain peer: a thread pool of raw boto3 ``batch_write_item`` /
  ``batch_get_item`` calls on one client at the same worker count, converting with
  boto3's ``TypeSerializer`` / ``TypeDeserializer`` inside the pool (records handed over
  already in boto3's form), once with botocore's parameter validation on (the default)
  and once off;
* the latency floor, computed: requests / workers (rounded up) x delay. No client can be
  faster; "ours / floor" is our distance to it.

Once, sequential by nature: boto3 ``Table.batch_writer()``, PynamoDB ``batch_write()`` /
``batch_get()``, and a sequential ``batch_get_item`` loop. Every run is checked: each
write's puts all reached the responder, each get found every key (the responder answers
items in the record's shape; PynamoDB reads its own table, in its own time format).
"""

from __future__ import annotations

import functools
import math
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from bench import ours, peers, responder, shapes
from bench.harness import ScenarioResult, interleave

NAME = "batch"
TITLE = "bulk writes and gets with injected per-request latency"
PRESETS: dict[str, dict[str, Any]] = {
    "full": {"items": 10_000, "repeat": 4, "delay": 0.020, "workers": (4, 8, 16)},
    "quick": {"items": 10_000, "repeat": 4, "delay": 0.020, "workers": (8,)},
    "smoke": {"items": 60, "repeat": 1, "delay": 0.0, "workers": (2,)},
}
WRITE_CHUNK, GET_CHUNK = 25, 100
TARGET_WORKERS = 8

BATCH_WRITER = "write: boto3 Table.batch_writer()"
PYNAMODB_WRITE = "write: PynamoDB Model.batch_write()"
SEQUENTIAL_GET = "get: boto3 sequential batch_get_item loop"
PYNAMODB_GET = "get: PynamoDB Model.batch_get()"

T = TypeVar("T")
Action = Callable[[], int]
"""One measured run; returns how many items it wrote or found."""


def ours_label(kind: str, workers: int) -> str:
    return f"{kind} @{workers}: ours"


def raw_label(kind: str, workers: int, validation: bool) -> str:
    return f"{kind} @{workers}: raw boto3 pool, validation {'on' if validation else 'off'}"


def floor_label(kind: str, workers: int) -> str:
    return f"{kind} @{workers}: latency floor"


def latency_floor(items: int, chunk: int, workers: int, delay: float) -> float:
    """Seconds no client can beat: its requests, ``workers`` at a time, ``delay`` each."""
    return math.ceil(math.ceil(items / chunk) / workers) * delay


def _chunks(values: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class _Bench:
    """The records, in every competitor's form, and the actions measured on them, all
    clients of the responder at ``endpoint``."""

    def __init__(self, items: int, endpoint: str) -> None:
        self.records = shapes.make_records(items)
        self.endpoint = endpoint
        self.plain = [shapes.boto3_record(record) for record in self.records]
        self.wire_keys = [shapes.wire_key(record) for record in self.records]

    # ours -----------------------------------------------------------------------------------

    def ours(self, workers: int) -> tuple[Action, Action]:
        """Our bulk write of entities and bulk get back to entities, at ``workers``."""
        entity_type = shapes.our_entity()
        entities = [entity_type(**record) for record in self.records]
        service = ours.require("DynamoDBService").from_endpoint(
            self.endpoint, region_name=peers.REGION, max_workers=workers,
            **peers.DUMMY_CREDENTIALS,
        )  # fmt: skip
        repository = ours.require("Repository")(entity_type, service)
        keys = [{"customer_id": e.customer_id, "order_id": e.order_id} for e in entities]

        def write() -> int:
            repository.batch_put(entities)
            return len(entities)

        def get() -> int:
            return sum(1 for entity in repository.batch_get(keys) if entity is not None)

        return write, get

    # boto3 ----------------------------------------------------------------------------------

    def raw_pool(self, workers: int, validation: bool) -> tuple[Action, Action]:
        """A plain thread pool of raw boto3 calls converting with boto3's serializers."""
        from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

        client = peers.boto3_client(
            self.endpoint, max_pool_connections=workers, parameter_validation=validation
        )
        serialize, deserialize = TypeSerializer().serialize, TypeDeserializer().deserialize
        table = shapes.TABLE_NAME

        def write_chunk(chunk: Sequence[dict[str, Any]]) -> int:
            puts = [
                {"PutRequest": {"Item": {name: serialize(v) for name, v in record.items()}}}
                for record in chunk
            ]
            request = {table: puts}
            while request:
                request = client.batch_write_item(RequestItems=request)["UnprocessedItems"]
            return len(chunk)

        def get_chunk(chunk: Sequence[dict[str, Any]]) -> int:
            answer = client.batch_get_item(RequestItems={table: {"Keys": list(chunk)}})
            items = [
                {name: deserialize(v) for name, v in item.items()}
                for item in answer["Responses"][table]
            ]
            return len(items)

        def write() -> int:
            with ThreadPoolExecutor(workers) as pool:
                return sum(pool.map(write_chunk, _chunks(self.plain, WRITE_CHUNK)))

        def get() -> int:
            with ThreadPoolExecutor(workers) as pool:
                return sum(pool.map(get_chunk, _chunks(self.wire_keys, GET_CHUNK)))

        return write, get

    def batch_writer(self) -> Action:
        import boto3

        resource = boto3.resource(
            "dynamodb",
            region_name=peers.REGION,
            endpoint_url=self.endpoint,
            aws_access_key_id=peers.ACCESS_KEY,
            aws_secret_access_key=peers.SECRET_KEY,
        )
        table = resource.Table(shapes.TABLE_NAME)

        def write() -> int:
            with table.batch_writer() as writer:
                for item in self.plain:
                    writer.put_item(Item=item)
            return len(self.plain)

        return write

    def sequential_get(self) -> Action:
        from boto3.dynamodb.types import TypeDeserializer

        deserialize = TypeDeserializer().deserialize
        client = peers.boto3_client(self.endpoint)

        def get() -> int:
            found = 0
            for chunk in _chunks(self.wire_keys, GET_CHUNK):
                request = {shapes.TABLE_NAME: {"Keys": list(chunk)}}
                while request:
                    answer = client.batch_get_item(RequestItems=request)
                    for item in answer["Responses"].get(shapes.TABLE_NAME, []):
                        {name: deserialize(v) for name, v in item.items()}
                        found += 1
                    request = answer.get("UnprocessedKeys") or {}
            return found

        return get

    # PynamoDB -------------------------------------------------------------------------------

    def pynamodb(self) -> tuple[Action, Action]:
        model = peers.pynamodb_model(self.endpoint, responder.PYNAMODB_TABLE)
        instances = [peers.pynamodb_order(model, record) for record in self.records]
        keys = [(instance.pk, instance.sk) for instance in instances]

        def write() -> int:
            with model.batch_write() as batch:
                for instance in instances:
                    batch.save(instance)
            return len(instances)

        def get() -> int:
            return sum(1 for _ in model.batch_get(keys))

        return write, get


def _builders(bench: _Bench, workers: Sequence[int]) -> dict[tuple[str, ...], Callable[[], Any]]:
    builders: dict[tuple[str, ...], Callable[[], Any]] = {}
    for count in workers:
        builders[(ours_label("write", count), ours_label("get", count))] = functools.partial(
            bench.ours, count
        )
        for validation in (True, False):
            labels = (raw_label("write", count, validation), raw_label("get", count, validation))
            builders[labels] = functools.partial(bench.raw_pool, count, validation)
    builders[(BATCH_WRITER,)] = lambda: (bench.batch_writer(),)
    builders[(SEQUENTIAL_GET,)] = lambda: (bench.sequential_get(),)
    builders[(PYNAMODB_WRITE, PYNAMODB_GET)] = bench.pynamodb
    return builders


def _candidates(
    bench: _Bench, workers: Sequence[int], result: ScenarioResult
) -> dict[str, Callable[[], tuple[float, float]]]:
    items = len(bench.records)
    candidates: dict[str, Callable[[], tuple[float, float]]] = {}
    for labels, build in _builders(bench, workers).items():
        try:
            actions = build()
        except (ours.Unavailable, peers.PeerUnavailable) as error:
            for label in labels:
                result.skip(label, str(error))
            continue
        for label, action in zip(labels, actions, strict=True):
            kind = "write" if label.startswith("write") else "get"
            candidates[label] = _wall_and_cpu(action, kind, items, bench.endpoint)
    return candidates


def _wall_and_cpu(
    action: Action, kind: str, items: int, endpoint: str
) -> Callable[[], tuple[float, float]]:
    """Wall time and process CPU time of one run (every thread of the client; the
    server's is its own process's): on a busy machine the wall time of a latency-bound
    job also holds the time its threads waited for a core; the CPU time says how much of
    the floor's time the client itself needs. Then the check that the run did the whole
    job: every put reached the responder, every key asked for came back."""
    counted = "puts" if kind == "write" else "keys"

    def measure() -> tuple[float, float]:
        cpu, wall = time.process_time(), time.perf_counter()
        done = action()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        seen = responder.stats(endpoint).get(counted, 0)
        if done != items or seen < items:
            raise RuntimeError(f"{kind}: {done} items done, {seen} {counted} sent, not {items}")
        return wall, cpu

    return measure


def _compare(result: ScenarioResult, items: int, delay: float, workers: Sequence[int]) -> None:
    repeat = max((len(figure.runs) for figure in result.figures.values()), default=1)
    for count in workers:
        for kind, chunk in (("write", WRITE_CHUNK), ("get", GET_CHUNK)):
            floor = latency_floor(items, chunk, count, delay)
            if floor > 0:
                result.add(floor_label(kind, count), [floor] * repeat, "s")
                result.ratio(f"{kind} @{count}: ours / floor", ours_label(kind, count),
                             floor_label(kind, count))  # fmt: skip
                ours_cpu = f"{ours_label(kind, count)} (CPU)"
                result.ratio(f"{kind} @{count}: ours CPU / floor", ours_cpu,
                             floor_label(kind, count))  # fmt: skip
            for validation in (True, False):
                result.ratio(
                    f"{kind} @{count}: raw pool (validation {'on' if validation else 'off'})"
                    " / ours",
                    raw_label(kind, count, validation),
                    ours_label(kind, count),
                )
    at = max(workers) if TARGET_WORKERS not in workers else TARGET_WORKERS
    result.ratio(f"write: batch_writer / ours @{at}", BATCH_WRITER, ours_label("write", at))
    result.ratio(f"write: PynamoDB / ours @{at}", PYNAMODB_WRITE, ours_label("write", at))
    result.ratio(f"get: sequential loop / ours @{at}", SEQUENTIAL_GET, ours_label("get", at))
    result.ratio(f"get: PynamoDB / ours @{at}", PYNAMODB_GET, ours_label("get", at))
    if delay > 0:
        result.target(f"writes @{at} near the latency floor", f"write @{at}: ours / floor",
                      "<=", 1.3)  # fmt: skip
        result.target(f"gets @{at} near the latency floor", f"get @{at}: ours / floor", "<=", 2)
    for state in ("on", "off"):
        result.target(
            f"writes @{at} vs raw boto3 pool (validation {state})",
            f"write @{at}: raw pool (validation {state}) / ours",
            ">=",
            1.5,
        )


def run(*, items: int, repeat: int, delay: float, workers: Sequence[int]) -> ScenarioResult:
    params = {"items": items, "repeat": repeat, "delay_ms": delay * 1000, "workers": list(workers)}
    result = ScenarioResult(NAME, TITLE, params=params)
    with responder.running_responder(delay) as endpoint:
        bench = _Bench(items, endpoint)
        measured = interleave(_candidates(bench, workers, result), repeat)
    for label, runs in measured.items():
        result.add(label, [wall for wall, _ in runs], "s")
        result.add(f"{label} (CPU)", [cpu for _, cpu in runs], "CPU s")
        result.add(f"{label} (CPU per item)", [cpu / items * 1e6 for _, cpu in runs], "CPU µs")
    _compare(result, items, delay, workers)
    result.notes += [
        "one responder process (bench/responder.py) for every contender, real HTTP on "
        f"loopback, {delay * 1000:g} ms per request; CPU is the client process's (all threads)",
        "latency floor = ceil(requests / workers) x delay, with requests of 25 writes or "
        "100 keys; the raw pools get records already in boto3's form (text dates, Decimal "
        "floats) and convert them with TypeSerializer / TypeDeserializer inside the pool",
        "the 'vs raw boto3 pool' target is judged against the stronger pool, parameter "
        "validation off; the validation-on figure is reported beside it",
    ]
    return result


if __name__ == "__main__":
    from bench.run import main

    raise SystemExit(main(["--only", NAME, *sys.argv[1:]]))
