"""Scenario ``e2e``: what the library costs per request against a real server over HTTP.

dynalite answers in about a millisecond, so client-side work is a visible share of each
operation. Ours (``Repository.put`` / ``get`` / ``query``, entities in and out) against the
raw boto3 client sending the same wire items and keys (wire in and out, nothing to convert).
Per operation kind: throughput (ops/s, wall clock) and client CPU per operation
(``time.process_time`` deltas: dynalite's own CPU is another process and not counted).

A query reads one customer's partition (ten orders) and counts as one operation.
"""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Callable
from typing import Any

from bench import backend, ours, peers, shapes
from bench.harness import ScenarioResult, interleave

NAME = "e2e"
TITLE = "put / get / query overhead against dynalite over HTTP"
PRESETS: dict[str, dict[str, Any]] = {
    "full": {"ops": 600, "repeat": 5},
    "quick": {"ops": 200, "repeat": 3},
    "smoke": {"ops": 10, "repeat": 1},
}
KINDS = ("put", "get", "query")
WARMUP_OPS = 20

Action = Callable[[], object]
Measured = tuple[float, float]


def _measured(action: Action, ops: int) -> Callable[[], Measured]:
    """Wrap ``action`` (``ops`` operations) to return (ops per second, CPU us per op)."""

    def measure() -> Measured:
        wall, cpu = time.perf_counter(), time.process_time()
        action()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        return ops / wall, cpu * 1e6 / ops

    return measure


class _Workload:
    """The records, their wire items and the customers a query run goes through."""

    def __init__(self, ops: int) -> None:
        self.ops = ops
        self.records = shapes.make_records(ops)
        customers = sorted({record["customer_id"] for record in self.records})
        self.query_customers = list(itertools.islice(itertools.cycle(customers), ops))
        try:
            entity_type = shapes.our_entity()
            self.wire_items = [entity_type(**record).to_item() for record in self.records]
        except ours.Unavailable:
            self.wire_items = [shapes.floor_encode(record) for record in self.records]

    def raw(self, endpoint: str) -> dict[str, Action]:
        client, table = peers.boto3_client(endpoint), shapes.TABLE_NAME
        keys = [shapes.wire_key(record) for record in self.records]

        def put() -> None:
            for item in self.wire_items:
                client.put_item(TableName=table, Item=item)

        def get() -> None:
            for key in keys:
                client.get_item(TableName=table, Key=key)

        def query() -> None:
            for customer in self.query_customers:
                client.query(
                    TableName=table,
                    KeyConditionExpression="PK = :pk",
                    ExpressionAttributeValues={":pk": {"S": f"CUSTOMER#{customer}"}},
                )

        return {"put": put, "get": get, "query": query}

    def ours(self, endpoint: str) -> dict[str, Action]:
        entity_type = shapes.our_entity()
        service = ours.require("DynamoDBService").from_endpoint(
            endpoint, region_name=peers.REGION, **peers.DUMMY_CREDENTIALS
        )
        repository = ours.require("Repository")(entity_type, service)
        entities = [entity_type(**record) for record in self.records]
        keys = [{"customer_id": r["customer_id"], "order_id": r["order_id"]} for r in self.records]

        def put() -> None:
            for entity in entities:
                repository.put(entity)

        def get() -> None:
            for key in keys:
                repository.get(**key)

        def query() -> None:
            for customer in self.query_customers:
                for _ in repository.query(customer_id=customer):
                    pass

        return {"put": put, "get": get, "query": query}


def _warm_up(actions: dict[str, Action]) -> None:
    """Open connections and fill caches before anything is measured."""
    for action in actions.values():
        action()


def _candidates(workload: _Workload, endpoint: str, result: ScenarioResult) -> dict[str, Any]:
    warm = _Workload(min(WARMUP_OPS, workload.ops))
    candidates: dict[str, Callable[[], Measured]] = {}
    for name, method in (("ours", "ours"), ("raw boto3", "raw")):
        try:
            actions = getattr(workload, method)(endpoint)
            _warm_up(getattr(warm, method)(endpoint))
        except ours.Unavailable as error:
            for kind in KINDS:
                result.skip(f"{kind}: {name}", str(error))
            continue
        for kind in KINDS:
            candidates[f"{kind}: {name}"] = _measured(actions[kind], workload.ops)
    return candidates


def _record(result: ScenarioResult, measured: dict[str, list[Measured]]) -> None:
    for label, runs in measured.items():
        result.add(f"{label} ops/s", [throughput for throughput, _ in runs], "ops/s")
        result.add(f"{label} CPU/op", [cpu for _, cpu in runs], "us/op")
    for kind in KINDS:
        result.ratio(
            f"{kind} throughput ours / raw", f"{kind}: ours ops/s", f"{kind}: raw boto3 ops/s"
        )
        result.ratio(
            f"{kind} CPU/op ours / raw", f"{kind}: ours CPU/op", f"{kind}: raw boto3 CPU/op"
        )
        result.target(f"{kind} throughput within 10%", f"{kind} throughput ours / raw", ">=", 0.9)
        result.target(f"{kind} CPU/op not above raw", f"{kind} CPU/op ours / raw", "<=", 1.0)


def run(*, ops: int, repeat: int) -> ScenarioResult:
    result = ScenarioResult(NAME, TITLE, params={"ops": ops, "repeat": repeat})
    workload = _Workload(ops)
    with backend.running_dynalite() as endpoint:
        backend.create_table(peers.boto3_client(endpoint))
        backend.load(peers.boto3_client(endpoint), workload.wire_items)
        candidates = _candidates(workload, endpoint, result)
        _record(result, interleave(candidates, repeat))
    result.notes.append(
        "raw boto3 uses boto3's default client config (parameter validation on); ours "
        "builds its client with validation off, as it validates requests itself"
    )
    return result


if __name__ == "__main__":
    from bench.run import main

    raise SystemExit(main(["--only", NAME, *sys.argv[1:]]))
