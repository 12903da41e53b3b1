"""Scenario ``batch``: bulk writes and gets when every request costs a round trip.

Each client answers from :class:`bench.latency.InjectedLatency` (``delay`` per request, 20 ms
by default): what separates the competitors is how much of that latency they overlap.

Writes of ``items`` records: ours (bulk write, ``max_workers=8``) vs boto3
``Table.batch_writer()`` vs PynamoDB ``Model.batch_write()`` vs the floor, a plain 8-thread
pool sending pre-encoded chunks of 25 over one boto3 client.
Gets of ``items`` keys: ours (bulk get) vs a sequential ``batch_get_item`` loop (chunks of
100) vs PynamoDB ``Model.batch_get()`` vs the floor (the same chunks over 8 threads).

Each responder returns items in its own competitor's stored format (PynamoDB reads its own
date format only), and every get checks that all ``items`` records came back.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from bench import ours, peers, shapes
from bench.harness import ScenarioResult, interleave, stopwatch
from bench.latency import InjectedLatency

NAME = "batch"
TITLE = "bulk writes and gets with injected per-request latency"
PRESETS: dict[str, dict[str, Any]] = {
    "full": {"items": 10_000, "repeat": 3, "delay": 0.020, "workers": 8},
    "quick": {"items": 2_000, "repeat": 3, "delay": 0.020, "workers": 8},
    "smoke": {"items": 60, "repeat": 1, "delay": 0.0, "workers": 8},
}
DUMMY_ENDPOINT = "http://127.0.0.1:9"
"""Never contacted: every request is answered before it would be sent."""
WRITE_CHUNK, GET_CHUNK = 25, 100
KEY_SCHEMA = [
    {"AttributeName": "PK", "KeyType": "HASH"},
    {"AttributeName": "SK", "KeyType": "RANGE"},
]

OURS_WRITE = "write: ours bulk write"
BATCH_WRITER = "write: boto3 Table.batch_writer()"
PYNAMODB_WRITE = "write: PynamoDB Model.batch_write()"
FLOOR_WRITE = "write: floor, 8-thread pool of batch_write_item"
OURS_GET = "get: ours bulk get"
SEQUENTIAL_GET = "get: boto3 sequential batch_get_item loop"
PYNAMODB_GET = "get: PynamoDB Model.batch_get()"
FLOOR_GET = "get: floor, 8-thread pool of batch_get_item"

T = TypeVar("T")
Action = Callable[[], object]


def _chunks(values: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _responder(delay: float, wire_items: Sequence[dict[str, Any]]) -> InjectedLatency:
    """A latency responder that finds each record, stored as ``wire_items`` hold it."""
    stored = {(item["PK"]["S"], item["SK"]["S"]): item for item in wire_items}
    return InjectedLatency(
        delay=delay,
        item_for_key=lambda _table, key: stored[(key["PK"]["S"], key["SK"]["S"])],
        key_schemas={shapes.TABLE_NAME: KEY_SCHEMA},
    )


def _expect(count: int, wanted: int, label: str) -> None:
    if count != wanted:
        raise RuntimeError(f"{label}: {count} items came back, {wanted} were asked for")


class _Bench:
    """The records, in every competitor's form, and the actions measured on them."""

    def __init__(self, items: int, delay: float, workers: int) -> None:
        self.records = shapes.make_records(items)
        self.delay, self.workers = delay, workers
        self.floor_items = [shapes.floor_encode(record) for record in self.records]
        self.floor_keys = [shapes.wire_key(record) for record in self.records]

    # ours -----------------------------------------------------------------------------------

    def ours(self) -> tuple[Action | ours.Unavailable, Action | ours.Unavailable]:
        """Our write and get actions; each is the reason it is missing when it is."""
        entity_type = shapes.our_entity()
        entities = [entity_type(**record) for record in self.records]
        service = ours.require("DynamoDBService").from_endpoint(
            DUMMY_ENDPOINT, region_name=peers.REGION, max_workers=self.workers,
            **peers.DUMMY_CREDENTIALS,
        )  # fmt: skip
        stored = [entity.to_item() for entity in entities]
        _responder(self.delay, stored).install(service.provider.client)
        try:
            repository = ours.require("Repository")(entity_type, service)
        except ours.Unavailable as error:
            repository, missing = None, error
        actions: list[Action | ours.Unavailable] = []
        for build in (self._ours_write, self._ours_get):
            try:
                actions.append(build(service, repository, entities))
            except ours.Unavailable as error:
                actions.append(error if repository is not None else missing)
        return actions[0], actions[1]

    def _ours_write(self, service: Any, repository: Any, entities: list[Any]) -> Action:
        if ours.has_method(repository, "batch_put"):
            return lambda: repository.batch_put(entities)
        if ours.has_method(service, "bulk_write"):
            return lambda: service.bulk_write(puts=entities)
        raise ours.Unavailable("neither Repository.batch_put nor DynamoDBService.bulk_write")

    def _ours_get(self, service: Any, repository: Any, entities: list[Any]) -> Action:
        if not ours.has_method(repository, "batch_get"):
            raise ours.Unavailable("Repository.batch_get is not available")
        keys = [{"customer_id": e.customer_id, "order_id": e.order_id} for e in entities]

        def get() -> None:
            found = sum(1 for entity in repository.batch_get(keys) if entity is not None)
            _expect(found, len(keys), OURS_GET)

        return get

    # boto3 ----------------------------------------------------------------------------------

    def batch_writer(self) -> Action:
        import boto3

        resource = boto3.resource(
            "dynamodb",
            region_name=peers.REGION,
            endpoint_url=DUMMY_ENDPOINT,
            aws_access_key_id=peers.ACCESS_KEY,
            aws_secret_access_key=peers.SECRET_KEY,
        )
        _responder(self.delay, []).install(resource.meta.client)
        table = resource.Table(shapes.TABLE_NAME)
        plain = [shapes.boto3_record(record) for record in self.records]

        def write() -> None:
            with table.batch_writer() as writer:
                for item in plain:
                    writer.put_item(Item=item)

        return write

    def _client(self) -> Any:
        client = peers.boto3_client(DUMMY_ENDPOINT, max_pool_connections=self.workers)
        return _responder(self.delay, self.floor_items).install(client)

    def sequential_get(self) -> Action:
        client = self._client()

        def get() -> None:
            found = 0
            for chunk in _chunks(self.floor_keys, GET_CHUNK):
                request = {shapes.TABLE_NAME: {"Keys": list(chunk)}}
                while request:
                    answer = client.batch_get_item(RequestItems=request)
                    found += len(answer["Responses"].get(shapes.TABLE_NAME, []))
                    request = answer.get("UnprocessedKeys") or {}
            _expect(found, len(self.floor_keys), SEQUENTIAL_GET)

        return get

    def floor(self) -> tuple[Action, Action]:
        client = self._client()

        def write_chunk(chunk: Sequence[dict[str, Any]]) -> None:
            puts = [{"PutRequest": {"Item": item}} for item in chunk]
            client.batch_write_item(RequestItems={shapes.TABLE_NAME: puts})

        def get_chunk(chunk: Sequence[dict[str, Any]]) -> int:
            answer = client.batch_get_item(RequestItems={shapes.TABLE_NAME: {"Keys": list(chunk)}})
            return len(answer["Responses"][shapes.TABLE_NAME])

        def write() -> None:
            with ThreadPoolExecutor(self.workers) as pool:
                list(pool.map(write_chunk, _chunks(self.floor_items, WRITE_CHUNK)))

        def get() -> None:
            with ThreadPoolExecutor(self.workers) as pool:
                found = sum(pool.map(get_chunk, _chunks(self.floor_keys, GET_CHUNK)))
            _expect(found, len(self.floor_keys), FLOOR_GET)

        return write, get

    # PynamoDB -------------------------------------------------------------------------------

    def pynamodb(self) -> tuple[Action, Action]:
        model = peers.pynamodb_model(DUMMY_ENDPOINT)
        instances = [peers.pynamodb_order(model, record) for record in self.records]
        responder = _responder(self.delay, [instance.serialize() for instance in instances])
        responder.install(peers.pynamodb_client(model))
        keys = [(instance.pk, instance.sk) for instance in instances]

        def write() -> None:
            with model.batch_write() as batch:
                for instance in instances:
                    batch.save(instance)

        def get() -> None:
            _expect(sum(1 for _ in model.batch_get(keys)), len(keys), PYNAMODB_GET)

        return write, get


def _candidates(bench: _Bench, result: ScenarioResult) -> dict[str, Callable[[], float]]:
    builders: dict[tuple[str, ...], Callable[[], Any]] = {
        (OURS_WRITE, OURS_GET): bench.ours,
        (BATCH_WRITER,): lambda: (bench.batch_writer(),),
        (SEQUENTIAL_GET,): lambda: (bench.sequential_get(),),
        (PYNAMODB_WRITE, PYNAMODB_GET): bench.pynamodb,
        (FLOOR_WRITE, FLOOR_GET): bench.floor,
    }
    candidates: dict[str, Callable[[], float]] = {}
    for labels, build in builders.items():
        try:
            actions = build()
        except (ours.Unavailable, peers.PeerUnavailable) as error:
            for label in labels:
                result.skip(label, str(error))
            continue
        for label, action in zip(labels, actions, strict=True):
            if isinstance(action, ours.Unavailable):
                result.skip(label, str(action))
            else:
                candidates[label] = stopwatch(action)
    return candidates


def run(*, items: int, repeat: int, delay: float, workers: int) -> ScenarioResult:
    params = {"items": items, "repeat": repeat, "delay_ms": delay * 1000, "workers": workers}
    result = ScenarioResult(NAME, TITLE, params=params)
    bench = _Bench(items, delay, workers)
    candidates = _candidates(bench, result)
    for label, seconds in interleave(candidates, repeat).items():
        result.add(label, seconds, "s")
    result.ratio("batch_writer / ours (write)", BATCH_WRITER, OURS_WRITE)
    result.ratio("PynamoDB / ours (write)", PYNAMODB_WRITE, OURS_WRITE)
    result.ratio("ours / floor (write)", OURS_WRITE, FLOOR_WRITE)
    result.ratio("sequential loop / ours (get)", SEQUENTIAL_GET, OURS_GET)
    result.ratio("PynamoDB / ours (get)", PYNAMODB_GET, OURS_GET)
    result.ratio("ours / floor (get)", OURS_GET, FLOOR_GET)
    result.target("writes vs batch_writer()", "batch_writer / ours (write)", ">=", 6)
    result.target("gets vs sequential batch_get_item", "sequential loop / ours (get)", ">=", 3)
    return result


if __name__ == "__main__":
    from bench.run import main

    raise SystemExit(main(["--only", NAME, *sys.argv[1:]]))
