"""The plain-item methods are one set of decisions behind two APIs.

Every method, called the same way on the sync service and on the async one (through
``tests.aio_support.Blocking``), sends the same requests, returns the same values,
refuses the same bad input first, and keeps a table's DescribeTable inside the call's
deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from tctf_dynamo import GSI, DynamoDBService, Projection, Table, Update, attr, key
from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode, error_for
from tctf_dynamo.providers import EmbeddedProvider, MockProvider, RecordingProvider
from tests.aio_support import async_twin
from tests.unit.resilience_fakes import FakeClock

TABLE = Table("item-apis", indexes=[GSI("GSI1")])
NAME = TABLE.name
OTHER = Table("item-apis-other")

Call = Callable[[Any], Any]
Build = Callable[[DynamoDBService], Any]


def _sync(service: DynamoDBService) -> Any:
    return service


def _async(service: DynamoDBService) -> Any:
    return async_twin(service)


@pytest.fixture(params=[_sync, _async], ids=["sync", "async"])
def build(request: pytest.FixtureRequest) -> Build:
    builder: Build = request.param
    return builder


def _seeded() -> tuple[DynamoDBService, RecordingProvider]:
    """A fresh backend with both tables and a few items; nothing recorded yet."""
    recorder = RecordingProvider(EmbeddedProvider())
    seeder = DynamoDBService(recorder)
    seeder.create_table(TABLE)
    seeder.create_table(OTHER)
    for n in range(3):
        seeder.put_item(TABLE, {"PK": "p", "SK": f"{n}", "n": n, "GSI1PK": "g", "GSI1SK": f"{n}"})
    seeder.put_item(OTHER, {"PK": "o", "SK": "1", "tags": {"a", "b"}})
    recorder.clear()
    return DynamoDBService(recorder), recorder  # a new service: no schema known yet


CALLS: dict[str, Call] = {
    "get_item": lambda s: s.get_item(TABLE, {"PK": "p", "SK": "1"}),
    "get_item by name": lambda s: s.get_item(NAME, {"PK": "p", "SK": "1"}, consistent=True),
    "get_item projected": lambda s: s.get_item(
        TABLE, {"PK": "p", "SK": "2"}, projection=Projection("n", "SK")
    ),
    "get_item missing": lambda s: s.get_item(TABLE, {"PK": "p", "SK": "9"}),
    "put_item": lambda s: s.put_item(TABLE, {"PK": "q", "SK": "1", "price": Decimal("2.5")}),
    "put_item by name, old": lambda s: s.put_item(
        NAME, {"PK": "p", "SK": "1", "n": 7}, return_old=True
    ),
    "put_item conditional": lambda s: s.put_item(
        TABLE, {"PK": "p", "SK": "1"}, condition=attr("PK").not_exists()
    ),
    "update_item parts": lambda s: s.update_item(
        TABLE, {"PK": "p", "SK": "1"}, set={"n": 5}, remove=["GSI1SK"]
    ),
    "update_item by name, counter": lambda s: s.update_item(
        NAME, {"PK": "p", "SK": "2"}, Update().add("n", 3), return_values="UPDATED_NEW"
    ),
    "update_item conditional": lambda s: s.update_item(
        TABLE, {"PK": "p", "SK": "0"}, set={"n": 1}, condition=attr("n") == 0
    ),
    "delete_item": lambda s: s.delete_item(TABLE, {"PK": "p", "SK": "0"}),
    "delete_item by name, old": lambda s: s.delete_item(
        NAME, {"PK": "p", "SK": "1"}, return_old=True, condition=attr("n") == 1
    ),
    "query": lambda s: s.query(TABLE, key("PK") == "p", limit=2, forward=False),
    "query by name on an index": lambda s: s.query(
        NAME, key("GSI1PK") == "g", index="GSI1", filter=attr("n") > 0
    ),
    "query from a key": lambda s: s.query(
        TABLE, key("PK") == "p", exclusive_start_key={"PK": {"S": "p"}, "SK": {"S": "0"}}
    ),
    "scan": lambda s: s.scan(TABLE, filter=attr("n") >= 1, consistent=True),
    "scan of a named table, segment": lambda s: s.scan(NAME, segment=(0, 2), limit=5),
    "transact_get": lambda s: s.transact_get(
        [(TABLE, {"PK": "p", "SK": "1"}), (OTHER, {"PK": "o", "SK": "1"})]
    ),
    "transact_get by name": lambda s: s.transact_get(
        [(NAME, {"PK": "p", "SK": "2"}), (OTHER.name, {"PK": "x", "SK": "1"})],
        projection=Projection("PK"),
    ),
}


def _outcome(call: Call, service: Any) -> tuple[str, Any]:
    try:
        return "returned", call(service)
    except DynamoDBServiceError as error:
        return "raised", error.code


@pytest.mark.parametrize("name", list(CALLS))
def test_both_apis_send_the_same_requests_and_return_the_same(name: str) -> None:
    seen = []
    for builder in (_sync, _async):
        service, recorder = _seeded()
        outcome = _outcome(CALLS[name], builder(service))
        seen.append((outcome, [(c.operation, c.request, c.timeout) for c in recorder.calls]))
    (sync_outcome, sync_sent), (async_outcome, async_sent) = seen
    assert async_sent == sync_sent
    assert async_outcome == sync_outcome
    assert sync_sent, "the call sends something"
    by_name = "by name" in name
    assert ("DescribeTable" in [operation for operation, _, _ in sync_sent]) is by_name


def test_the_calls_do_what_they_say(build: Build) -> None:
    """The outcomes compared above are the right ones (the same is not enough)."""
    service, _ = _seeded()
    api = build(service)
    assert api.get_item(NAME, {"PK": "p", "SK": "1"})["n"] == 1
    assert api.put_item(TABLE, {"PK": "p", "SK": "1", "n": 7}, return_old=True)["n"] == 1
    assert api.update_item(TABLE, {"PK": "p", "SK": "1"}, Update().add("n", 3))["n"] == 10
    page = api.query(NAME, key("PK") == "p", limit=2)
    assert [item["SK"] for item in page.items] == ["0", "1"]
    assert page.last_evaluated_key is not None
    assert api.scan(TABLE).count == 3
    assert api.transact_get([(TABLE, {"PK": "p", "SK": "2"}), (OTHER, {"PK": "x", "SK": "1"})]) == [
        {"PK": "p", "SK": "2", "n": 2, "GSI1PK": "g", "GSI1SK": "2"},
        None,
    ]
    assert api.delete_item(TABLE, {"PK": "p", "SK": "1"}, return_old=True)["n"] == 10
    assert api.get_item(TABLE, {"PK": "p", "SK": "1"}) is None
    with pytest.raises(DynamoDBServiceError) as caught:
        api.put_item(TABLE, {"PK": "p", "SK": "0"}, condition=attr("PK").not_exists())
    assert caught.value.code is ErrorCode.CONDITION_FAILED


_KEY = {"PK": "p", "SK": "1"}
_NAN = float("nan")
_MANY = [(TABLE, {"PK": "p", "SK": str(n)}) for n in range(101)]

# (call, the code refused with, the operations sent before refusing)
REFUSALS: dict[str, tuple[Call, ErrorCode, list[str]]] = {
    "table name before values": (
        lambda s: s.get_item("ab", {"PK": _NAN}),
        ErrorCode.INVALID_TABLE_NAME,
        [],
    ),
    "values before describing a named table": (
        lambda s: s.put_item(NAME, {"PK": "p", "SK": "1", "v": _NAN}),
        ErrorCode.UNSUPPORTED_TYPE,
        [],
    ),
    "key after describing a named table": (
        lambda s: s.delete_item(NAME, {"PK": "p"}),
        ErrorCode.INVALID_KEY,
        ["DescribeTable"],
    ),
    "unsafe set values before the table name": (
        lambda s: s.update_item("ab", _KEY, set={"v": "<script>alert(1)</script>"}),
        ErrorCode.UNSAFE_VALUE,
        [],
    ),
    "update index keys": (
        lambda s: s.update_item(TABLE, _KEY, set={"GSI1PK": 7}),
        ErrorCode.INVALID_KEY,
        [],
    ),
    "put index keys of a named table": (
        lambda s: s.put_item(NAME, {**_KEY, "GSI1SK": "x" * 1025}),
        ErrorCode.KEY_TOO_LARGE,
        ["DescribeTable"],
    ),
    "unknown index of a named table": (
        lambda s: s.query(NAME, key("GSI9PK") == "g", index="GSI9"),
        ErrorCode.INVALID_INDEX_NAME,
        ["DescribeTable"],
    ),
    "query filter on a key": (
        lambda s: s.query(TABLE, key("PK") == "p", filter=attr("SK") == "x"),
        ErrorCode.INVALID_EXPRESSION,
        [],
    ),
    "scan segment": (lambda s: s.scan(TABLE, segment=(2, 2)), ErrorCode.INVALID_INPUT, []),
    "transact_get keys in order, before describing later tables": (
        lambda s: s.transact_get([(TABLE, {"PK": "p"}), (OTHER.name, _KEY)]),
        ErrorCode.INVALID_KEY,
        [],
    ),
    "transact_get keys before the count": (
        lambda s: s.transact_get([*_MANY, (TABLE, {"PK": "p"})]),
        ErrorCode.INVALID_KEY,
        [],
    ),
    "transact_get count": (lambda s: s.transact_get(_MANY), ErrorCode.TRANSACTION_TOO_LARGE, []),
    "transact_get one item twice": (
        lambda s: s.transact_get([(NAME, _KEY), (TABLE, _KEY)]),
        ErrorCode.DUPLICATE_ITEM_IN_REQUEST,
        ["DescribeTable"],
    ),
}


@pytest.mark.parametrize("name", list(REFUSALS))
def test_bad_input_is_refused_first_the_same_way(build: Build, name: str) -> None:
    call, code, sent = REFUSALS[name]
    service, recorder = _seeded()
    with pytest.raises(DynamoDBServiceError) as caught:
        call(build(service))
    assert caught.value.code is code
    assert recorder.operations == sent


DESCRIPTION = {
    "Table": {
        "TableName": NAME,
        "TableStatus": "ACTIVE",
        "KeySchema": [
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
    }
}

DESCRIBING: dict[str, Call] = {
    "get_item": lambda s: s.get_item(NAME, _KEY),
    "put_item": lambda s: s.put_item(NAME, _KEY),
    "update_item": lambda s: s.update_item(NAME, _KEY, set={"n": 1}),
    "delete_item": lambda s: s.delete_item(NAME, _KEY),
    "query": lambda s: s.query(NAME, key("PK") == "p"),
    "transact_get": lambda s: s.transact_get([(NAME, _KEY)]),
}


@pytest.mark.parametrize("name", list(DESCRIBING))
def test_describing_a_named_table_is_inside_the_calls_deadline(build: Build, name: str) -> None:
    """DescribeTable takes 1.5 s of a 2 s deadline; the call it was for gets what is left,
    not a deadline of its own."""
    clock = FakeClock()
    operations: list[str] = []

    def answer(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        operations.append(operation)
        if operation == "DescribeTable":
            clock.advance(1.5)
            return DESCRIPTION
        given = provider.timeouts[-1]
        clock.advance(given if given is not None else 3600.0)
        raise error_for(ErrorCode.TIMEOUT, "read timed out")

    async def sleep(seconds: float) -> None:
        clock.sleep(seconds)

    provider = MockProvider(answer)
    service = DynamoDBService(
        provider, timeout=2.0, sleep=clock.sleep, clock=clock, random=lambda: 0.5
    )
    api = service if build is _sync else async_twin(service, sleep=sleep)
    start = clock.now
    with pytest.raises(DynamoDBServiceError):
        DESCRIBING[name](api)
    assert operations[0] == "DescribeTable" and len(operations) > 1
    assert clock.now - start <= 2.0


def test_concurrent_async_calls_answer_as_sequential_ones() -> None:
    """Many plain calls awaited at once on one async service, a table named by a string
    described by several of them at once, answer as the same calls made one by one."""
    service, _ = _seeded()
    keys = [{"PK": "p", "SK": str(n)} for n in (0, 1, 2, 9)]
    expected = [service.get_item(NAME, key) for key in keys]
    twin = async_twin(service).target

    async def together() -> list[Any]:
        return await asyncio.gather(*(twin.get_item(NAME, key) for key in keys * 5))

    assert asyncio.run(together()) == expected * 5
