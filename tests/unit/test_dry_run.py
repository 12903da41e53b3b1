"""Dry runs record exactly the requests a real run sends, for every kind of operation.

Each operation runs twice: on a service whose provider records what it really sends to
the embedded backend, and in a dry run of that service. Both see the same data, so the
dry run's requests must equal the real ones, request for request.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from tctf_dynamo import (
    GSI,
    CircuitBreaker,
    DynamoDBService,
    DynamoDBServiceError,
    EmbeddedProvider,
    Entity,
    ErrorCode,
    MemoryStateStore,
    MockProvider,
    RecordingProvider,
    Repository,
    Table,
    UnitOfWork,
    attr,
    key,
    read_together,
)
from tctf_dynamo.batch import bulk_get, bulk_get_items, bulk_write, bulk_write_items
from tctf_dynamo.errors import error_for
from tctf_dynamo.pagination import CursorCodec, CursorKey
from tctf_dynamo.sync.dryrun import DryRun, DryRunStop

table = Table("dry-shop", indexes=[GSI("GSI1")])


class Customer(
    Entity,
    table=table,
    pk="CUSTOMER#{customer_id}",
    sk="PROFILE",
    gsi1=("EMAIL#{email}", "CUSTOMER"),
    version="version",
):
    customer_id: str
    email: str
    credit: Decimal = Decimal(0)


class Order(Entity, table=table, pk="CUSTOMER#{customer_id}", sk="ORDER#{number}"):
    customer_id: str
    number: int
    total: Decimal


Operation = Callable[[DynamoDBService], Any]
TOKEN = "dry-run-test-token"


def _orders(service: DynamoDBService) -> Repository[Order]:
    return Repository(Order, service)


def _customers(service: DynamoDBService) -> Repository[Customer]:
    return Repository(Customer, service)


def _uow(service: DynamoDBService) -> None:
    with UnitOfWork(service, client_request_token=TOKEN) as uow:
        uow.condition_check(Customer, {"customer_id": "c1"}, attr("credit") >= 0)
        uow.update(Order, {"customer_id": "c1", "number": 1}, set={"total": Decimal("2")})
        uow.create(Order(customer_id="c1", number=900, total=Decimal(1)))
        uow.delete(Order, {"customer_id": "c1", "number": 2})


def _uow_not_atomic(service: DynamoDBService) -> None:
    with UnitOfWork(service, atomic=False) as uow:
        for number in range(800, 830):
            uow.put(Order(customer_id="c2", number=number, total=Decimal(number)))


OPERATIONS: dict[str, Operation] = {
    # repositories
    "get": lambda s: _orders(s).get(customer_id="c1", number=1),
    "get consistent": lambda s: _orders(s).get(customer_id="c1", number=1, consistent=True),
    "create": lambda s: _orders(s).create(Order(customer_id="c9", number=1, total=Decimal(3))),
    "put": lambda s: _orders(s).put(Order(customer_id="c1", number=5, total=Decimal("7.5"))),
    "put versioned": lambda s: _customers(s).put(
        Customer(customer_id="c1", email="ada@example.com", version=1)
    ),
    "update": lambda s: _orders(s).update(
        {"customer_id": "c1", "number": 1}, set={"total": Decimal(4)}
    ),
    "update not idempotent": lambda s: _customers(s).update(
        {"customer_id": "c1"}, add={"credit": Decimal(5)}
    ),
    "delete": lambda s: _orders(s).delete({"customer_id": "c1", "number": 3}),
    # queries and pages
    "query page": lambda s: _orders(s).query(customer_id="c1").page(size=2),
    "query index": lambda s: _customers(s).query(index="GSI1", email="ada@example.com").all(),
    "query filtered": lambda s: (
        _orders(s).query(customer_id="c1").filter(attr("total") > 1).reverse().all()
    ),
    "query projected": lambda s: _orders(s).query(customer_id="c1").project("total").first(),
    "query counted": lambda s: _orders(s).query(customer_id="c1").gte(number=2).count(),
    "collection": lambda s: _orders(s).query(customer_id="c1").collection().all(),
    "parallel scan": lambda s: _orders(s).scan().parallel(3).all(),
    "scan": lambda s: _orders(s).scan().page(size=3),
    # batches and bulk jobs
    "batch get": lambda s: _orders(s).batch_get(
        [{"customer_id": "c1", "number": n} for n in range(1, 4)]
    ),
    "batch put": lambda s: _orders(s).batch_put(
        Order(customer_id="c3", number=n, total=Decimal(n)) for n in range(60)
    ),
    "batch delete": lambda s: _orders(s).batch_delete(
        [{"customer_id": "c1", "number": n} for n in range(10, 40)]
    ),
    "bulk write": lambda s: bulk_write(
        s,
        puts=[
            ("dry-shop", {"PK": {"S": f"RAW#{n}"}, "SK": {"S": "X"}, "n": {"N": str(n)}})
            for n in range(70)
        ],
    ),
    "bulk get": lambda s: bulk_get(
        s, "dry-shop", [{"PK": {"S": f"RAW#{n}"}, "SK": {"S": "X"}} for n in range(120)]
    ),
    # units of work
    "unit of work": _uow,
    "unit of work not atomic": _uow_not_atomic,
    "read together": lambda s: read_together(
        s, [(Customer, {"customer_id": "c1"}), (Order, {"customer_id": "c1", "number": 1})]
    ),
    # the plain item API
    "get_item": lambda s: s.get_item("dry-shop", {"PK": "CUSTOMER#c1", "SK": "PROFILE"}),
    "put_item": lambda s: s.put_item("dry-shop", {"PK": "P#1", "SK": "X", "tags": {"a", "b"}}),
    "update_item": lambda s: s.update_item(
        "dry-shop", {"PK": "P#1", "SK": "X"}, set={"n": 1}, return_values="ALL_NEW"
    ),
    "delete_item": lambda s: s.delete_item("dry-shop", {"PK": "P#1", "SK": "X"}),
    "query plain": lambda s: s.query("dry-shop", key("PK") == "CUSTOMER#c1"),
    "scan plain": lambda s: s.scan("dry-shop", limit=5),
    "transact_get": lambda s: s.transact_get(
        [("dry-shop", {"PK": "CUSTOMER#c1", "SK": "PROFILE"})]
    ),
    "transact_write": lambda s: s.transact_write(
        [{"Put": {"TableName": "dry-shop", "Item": {"PK": {"S": "T#1"}, "SK": {"S": "X"}}}}],
        client_request_token=TOKEN,
    ),
    "bulk items": lambda s: (
        bulk_write_items(s, "dry-shop", puts=[{"PK": f"I#{n}", "SK": "X"} for n in range(30)]),
        bulk_get_items(s, "dry-shop", [{"PK": f"I#{n}", "SK": "X"} for n in range(30)]),
    ),
}

STOPS = {"update": "UpdateItem", "update not idempotent": "GetItem", "update_item": "UpdateItem"}
PARALLEL = {
    "parallel scan",
    "batch put",
    "batch delete",
    "bulk write",
    "bulk get",
    "bulk items",
    "unit of work not atomic",
}


def _seeded(provider: RecordingProvider) -> DynamoDBService:
    keys = CursorCodec([CursorKey.generate("k1")])
    service = DynamoDBService(provider, cursors=keys, consumed_capacity=True)
    service.create_table(table)
    customers, orders = _customers(service), _orders(service)
    customers.create(Customer(customer_id="c1", email="ada@example.com"))
    for number in range(1, 6):
        orders.put(Order(customer_id="c1", number=number, total=Decimal(number)))
    provider.clear()
    return service


def _comparable(requests: list[tuple[str, dict[str, Any]]], parallel: bool) -> list[str]:
    def text(operation: str, request: dict[str, Any]) -> str:
        if request.get("ClientRequestToken") not in (None, TOKEN):
            request = {**request, "ClientRequestToken": "<random>"}
        return json.dumps([operation, request], sort_keys=True, default=repr)

    rendered = [text(operation, request) for operation, request in requests]
    return sorted(rendered) if parallel else rendered


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_a_dry_run_records_exactly_what_a_real_run_sends(name: str) -> None:
    operation = OPERATIONS[name]
    recorder = RecordingProvider(EmbeddedProvider())
    service = _seeded(recorder)

    with service.dry_run() as dry:
        operation(dry.service)
    assert recorder.calls == [], "the dry run reached the backend"
    assert dry.stopped_at == STOPS.get(name)

    operation(service)
    sent = [(call.operation, call.request) for call in recorder.calls]
    assert sent, "the operation sends something"
    parallel = name in PARALLEL
    assert _comparable(dry.requests, parallel) == _comparable(sent, parallel)


def test_paging_on_with_a_cursor_is_the_same_request_dry_or_real() -> None:
    recorder = RecordingProvider(EmbeddedProvider())
    service = _seeded(recorder)
    first = _orders(service).query(customer_id="c1").page(size=2)
    assert first.cursor is not None
    recorder.clear()
    with service.dry_run() as dry:
        _orders(dry.service).query(customer_id="c1").page(first.cursor, size=2)
    _orders(service).query(customer_id="c1").page(first.cursor, size=2)
    ((operation, request),) = dry.requests
    assert operation == "Query" and "ExclusiveStartKey" in request
    assert dry.requests == [(call.operation, call.request) for call in recorder.calls]


def test_creating_a_table_dry_records_the_create_and_the_wait() -> None:
    recorder = RecordingProvider(EmbeddedProvider())
    service = DynamoDBService(recorder)
    with service.dry_run() as dry:
        dry.service.create_table(table)
    service.create_table(table)
    assert dry.requests == [(call.operation, call.request) for call in recorder.calls]
    assert [operation for operation, _ in dry.requests][:2] == ["CreateTable", "DescribeTable"]


# ---------------------------------------------------------------- what a dry run never does


def _unreachable(operation: str, request: dict[str, Any]) -> dict[str, Any]:
    raise AssertionError(f"{operation} reached the provider")


class CountingStore(MemoryStateStore):
    def __init__(self) -> None:
        super().__init__()
        self.touched = 0

    def load(self, name: str) -> Any:
        self.touched += 1
        return super().load(name)

    def compare_and_set(self, name: str, expected_version: int | None, new: Any) -> bool:
        self.touched += 1
        return super().compare_and_set(name, expected_version, new)


def test_a_dry_run_sends_nothing_and_ignores_an_open_breaker() -> None:
    store = CountingStore()
    breaker = CircuitBreaker(store, failure_threshold=1)

    def down(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        raise error_for(ErrorCode.SERVICE_UNAVAILABLE, "down")

    refusing = MockProvider(down)
    service = DynamoDBService(refusing, breaker=breaker, sleep=lambda seconds: None)
    service.key_schema(table)
    with pytest.raises(DynamoDBServiceError):
        _orders(service).get(customer_id="c1", number=1)
    with pytest.raises(DynamoDBServiceError) as caught:
        _orders(service).get(customer_id="c1", number=1)
    assert caught.value.code is ErrorCode.CIRCUIT_OPEN
    touched = store.touched

    with service.dry_run() as dry:
        _orders(dry.service).put(Order(customer_id="c1", number=1, total=Decimal(1)))
    assert [operation for operation, _ in dry.requests] == ["PutItem"]
    assert store.touched == touched


def test_a_table_known_only_by_name_needs_its_schema_first() -> None:
    service = DynamoDBService(MockProvider(_unreachable))
    with pytest.raises(DynamoDBServiceError) as caught, service.dry_run() as dry:
        dry.service.get_item("dry-shop", {"PK": "A", "SK": "B"})
    assert caught.value.code is ErrorCode.INVALID_CONFIGURATION
    assert dry.requests == []
    service.key_schema(table)  # known from the Table: no request
    with service.dry_run() as dry:
        dry.service.get_item("dry-shop", {"PK": "A", "SK": "B"})
    assert [operation for operation, _ in dry.requests] == ["GetItem"]


def test_invalid_input_is_refused_in_a_dry_run_as_in_a_real_one() -> None:
    service = DynamoDBService(MockProvider(_unreachable))
    with pytest.raises(DynamoDBServiceError) as caught, service.dry_run() as dry:
        order = Order(customer_id="c1", number=1, total=Decimal(1))
        _orders(dry.service).put(order, condition=attr("missing") == 1)
    assert caught.value.code is ErrorCode.INVALID_EXPRESSION
    assert dry.requests == []


def test_a_stop_outside_a_with_block_reaches_the_caller() -> None:
    recorder = RecordingProvider(EmbeddedProvider())
    service = _seeded(recorder)
    dry = DryRun(service)
    with pytest.raises(DryRunStop):
        _orders(dry.service).update({"customer_id": "c1", "number": 1}, set={"total": 1})
    assert [operation for operation, _ in dry.requests] == ["UpdateItem"]
