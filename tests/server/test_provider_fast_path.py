"""Two paths side by side, against real servers over HTTP: equal answers, equal errors.

Every test sends the same operations through two providers on one table of a moto server
and of dynalite, and asserts that both return the same responses and raise the same
library errors (class, code, details, retryability, reasons, cause). Each test runs for
two pairs:

* ``botocore``: the sync fast path (``Boto3Provider(fast_path=True)``) against
  botocore's own path (``fast_path=False``);
* ``async``: the async fast path (:class:`~tctf_dynamo.providers.AsyncHttpProvider`,
  driven on its own event loop, see :mod:`tests.server.async_bridge`) against the sync
  fast path;
* ``aiobotocore``: botocore's path awaited
  (:class:`~tctf_dynamo.providers.AsyncBotocoreProvider`) against botocore's sync path.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tctf_dynamo.errors import (
    CancellationReason,
    ConditionFailedError,
    DynamoDBServiceError,
    ErrorCode,
)
from tctf_dynamo.model import Table
from tctf_dynamo.providers import (
    AsyncBotocoreProvider,
    AsyncHttpProvider,
    Boto3Provider,
    Provider,
)
from tests import servers
from tests.server.async_bridge import OnLoop

pytestmark = pytest.mark.server

SERVERS = ["moto", "dynalite"]
TRANSACTIONS = {"moto"}
"""Servers implementing TransactWriteItems (dynalite has no transactions)."""
RETURNS_ITEM_ON_CONDITION_FAILURE = {"moto"}
"""Servers honouring ReturnValuesOnConditionCheckFailure (dynalite predates it)."""
ALL_BYTES = bytes(range(256))
SET_TAGS = ("SS", "NS", "BS")
ACTIVE_TIMEOUT_SECONDS = 10.0


CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


def connect(endpoint: str, *, fast: bool) -> Boto3Provider:
    return Boto3Provider.from_endpoint(
        endpoint,
        region_name="us-east-1",
        connect_timeout=2.0,
        read_timeout=10.0,
        fast_path=fast,
        **CREDENTIALS,
    )


def connect_async(endpoint: str) -> OnLoop:
    provider = AsyncHttpProvider.from_endpoint(
        endpoint, region_name="us-east-1", connect_timeout=2.0, read_timeout=10.0, **CREDENTIALS
    )
    return OnLoop(provider)


def pair(endpoint: str, route: str) -> tuple[Provider, Boto3Provider]:
    """(the path under test, the path it must equal) for ``route``."""
    if route == "async":
        return connect_async(endpoint), connect(endpoint, fast=True)
    if route == "aiobotocore":
        opening = AsyncBotocoreProvider.from_endpoint(
            endpoint,
            region_name="us-east-1",
            connect_timeout=2.0,
            read_timeout=10.0,
            **CREDENTIALS,
        )
        return OnLoop(opening), connect(endpoint, fast=False)
    return connect(endpoint, fast=True), connect(endpoint, fast=False)


@pytest.fixture(params=SERVERS)
def server(request: pytest.FixtureRequest) -> tuple[str, str]:
    name: str = request.param
    return name, request.getfixturevalue(f"{name}_endpoint")


@pytest.fixture(params=["botocore", "async", "aiobotocore"])
def route(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def paths(
    server: tuple[str, str], route: str, table_name: str
) -> Iterator[tuple[Provider, Boto3Provider]]:
    """(path under test, reference path) providers on one fresh table of ``server``."""
    tested, reference = pair(server[1], route)
    with tested as fast, reference as slow:
        slow.call(
            "CreateTable",
            Table(table_name).create_table_request(),
        )
        wait_until_active(slow, table_name)
        try:
            yield fast, slow
        finally:
            slow.call("DeleteTable", {"TableName": table_name})


def wait_until_active(provider: Boto3Provider, table: str) -> None:
    """dynalite may answer CreateTable before the table takes writes; poll, bounded."""
    deadline = time.monotonic() + ACTIVE_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        described = provider.call("DescribeTable", {"TableName": table})
        if described["Table"]["TableStatus"] == "ACTIVE":
            return
        time.sleep(0.01)
    raise AssertionError(f"table not ACTIVE after {ACTIVE_TIMEOUT_SECONDS} s")


def key(pk: str, sk: str = "META") -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def item(pk: str, sk: str = "META") -> dict[str, Any]:
    """An item holding every attribute type, binary ones at every depth."""
    return {
        **key(pk, sk),
        "s": {"S": "plain, ü€ and 😀"},
        "n": {"N": "-12.5"},
        "b": {"B": ALL_BYTES},
        "empty_b": {"B": b""},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2.5"]},
        "bs": {"BS": [b"\x00", ALL_BYTES[:7]]},
        "l": {"L": [{"B": b"\x01\x02"}, {"S": "x"}, {"L": [{"BS": [b"\x03"]}]}]},
        "m": {"M": {"B": {"S": "an attribute named B"}, "inner": {"M": {"b": {"B": b"\xff"}}}}},
        "B": {"BOOL": True},
        "BS": {"NULL": True},
        "f": {"BOOL": False},
    }


def normalized(value: Any) -> Any:
    """``value`` with set members sorted: sets have no order on the wire."""
    if isinstance(value, dict):
        return {
            tag: sorted(inner) if tag in SET_TAGS else normalized(inner)
            for tag, inner in value.items()
        }
    if isinstance(value, list):
        return [normalized(element) for element in value]
    return value


def outcome(provider: Provider, operation: str, request: dict[str, Any]) -> Any:
    """The normalized response, or what identifies the library error raised."""
    try:
        return normalized(provider.call(operation, request))
    except DynamoDBServiceError as error:
        reasons = [
            {name: normalized(getattr(reason, name)) for name in CancellationReason.__slots__}
            for reason in getattr(error, "reasons", [])
        ]
        return {
            "error": type(error).__name__,
            "code": error.code,
            "details": normalized(error.details),
            "retryable": error.retryable,
            "reasons": reasons,
            "cause": type(error.__cause__).__name__,
        }


def alike(paths: tuple[Provider, ...], operation: str, request: dict[str, Any]) -> Any:
    """Send ``request`` on both paths (fast first); assert the outcomes are equal."""
    fast, slow = paths
    fast_outcome = outcome(fast, operation, request)
    assert fast_outcome == outcome(slow, operation, request)
    return fast_outcome


def put(provider: Provider, table: str, *items: dict[str, Any]) -> None:
    for each in items:
        provider.call("PutItem", {"TableName": table, "Item": each})


# -- reads and writes -------------------------------------------------------------------------


def test_items_of_every_type_read_back_alike(paths: tuple[Provider, ...], table_name: str) -> None:
    fast, slow = paths
    put(fast, table_name, item("by-fast"))
    put(slow, table_name, item("by-botocore"))
    for pk in ("by-fast", "by-botocore"):
        got = alike(
            paths, "GetItem", {"TableName": table_name, "Key": key(pk), "ConsistentRead": True}
        )
        assert got == {"Item": normalized(item(pk))}
    assert alike(paths, "GetItem", {"TableName": table_name, "Key": key("absent")}) == {}


def test_put_returns_the_old_item_alike(paths: tuple[Provider, ...], table_name: str) -> None:
    put(paths[1], table_name, item("p"))
    request = {"TableName": table_name, "Item": item("p"), "ReturnValues": "ALL_OLD"}
    assert alike(paths, "PutItem", request) == {"Attributes": normalized(item("p"))}


def test_update_returns_the_new_values_alike(paths: tuple[Provider, ...], table_name: str) -> None:
    fast, slow = paths
    put(slow, table_name, item("u1"), item("u2"))
    updated = [
        outcome(
            provider,
            "UpdateItem",
            {
                "TableName": table_name,
                "Key": key(pk),
                "UpdateExpression": "SET #b = :b, #l = list_append(#l, :l) REMOVE #f",
                "ExpressionAttributeNames": {"#b": "b", "#l": "l", "#f": "f"},
                "ExpressionAttributeValues": {":b": {"B": b"\x07"}, ":l": {"L": [{"B": b"\x08"}]}},
                "ReturnValues": "UPDATED_NEW",
            },
        )
        for provider, pk in ((fast, "u1"), (slow, "u2"))
    ]
    assert updated[0] == updated[1]
    assert updated[0]["Attributes"]["b"] == {"B": b"\x07"}
    assert updated[0]["Attributes"]["l"]["L"][-1] == {"B": b"\x08"}


def test_delete_returns_the_old_item_alike(paths: tuple[Provider, ...], table_name: str) -> None:
    fast, slow = paths
    put(slow, table_name, item("d1"), item("d2"))
    deleted = [
        outcome(
            provider,
            "DeleteItem",
            {"TableName": table_name, "Key": key(pk), "ReturnValues": "ALL_OLD"},
        )
        for provider, pk in ((fast, "d1"), (slow, "d2"))
    ]
    assert deleted == [{"Attributes": normalized(item(pk))} for pk in ("d1", "d2")]
    assert alike(paths, "GetItem", {"TableName": table_name, "Key": key("d1")}) == {}


def test_query_and_scan_pages_alike(paths: tuple[Provider, ...], table_name: str) -> None:
    put(paths[1], table_name, *(item("q", f"S{index:02}") for index in range(5)), item("other"))
    query = {
        "TableName": table_name,
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :s)",
        "ExpressionAttributeValues": {":pk": {"S": "q"}, ":s": {"S": "S"}},
        "Limit": 3,
    }
    page = alike(paths, "Query", query)
    assert [found["SK"]["S"] for found in page["Items"]] == ["S00", "S01", "S02"]
    assert page["LastEvaluatedKey"] == key("q", "S02")
    rest = alike(paths, "Query", {**query, "ExclusiveStartKey": page["LastEvaluatedKey"]})
    assert [found["SK"]["S"] for found in rest["Items"]] == ["S03", "S04"]
    filtered = {
        "TableName": table_name,
        "FilterExpression": "#b = :b",
        "ExpressionAttributeNames": {"#b": "b"},
        "ExpressionAttributeValues": {":b": {"B": ALL_BYTES}},
    }
    scanned = alike(paths, "Scan", filtered)
    assert scanned["Count"] == 6


def test_batches_write_and_read_alike(paths: tuple[Provider, ...], table_name: str) -> None:
    fast, slow = paths
    for provider, prefix in ((fast, "bf"), (slow, "bs")):
        puts = [{"PutRequest": {"Item": item(f"{prefix}{index}")}} for index in range(25)]
        written = provider.call("BatchWriteItem", {"RequestItems": {table_name: puts}})
        assert not written.get("UnprocessedItems")
    keys = [key(f"{prefix}{index}") for prefix in ("bf", "bs") for index in range(25)]
    fast_got, slow_got = (
        provider.call("BatchGetItem", {"RequestItems": {table_name: {"Keys": keys}}})
        for provider in (fast, slow)
    )

    def by_key(answer: dict[str, Any]) -> list[Any]:
        assert not answer.get("UnprocessedKeys")
        return sorted(
            normalized(answer["Responses"][table_name]), key=lambda found: found["PK"]["S"]
        )

    assert by_key(fast_got) == by_key(slow_got)
    assert by_key(fast_got) == sorted(
        (normalized(item(k["PK"]["S"])) for k in keys), key=lambda found: found["PK"]["S"]
    )
    deletes = [{"DeleteRequest": {"Key": each}} for each in keys[:25]]
    assert not alike(paths, "BatchWriteItem", {"RequestItems": {table_name: deletes}}).get(
        "UnprocessedItems"
    )


# -- errors -----------------------------------------------------------------------------------


def test_a_failed_condition_carries_the_old_item_alike(
    server: tuple[str, str], paths: tuple[Provider, ...], table_name: str
) -> None:
    put(paths[1], table_name, item("c"))
    request = {
        "TableName": table_name,
        "Item": key("c"),
        "ConditionExpression": "attribute_not_exists(PK)",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    failed = alike(paths, "PutItem", request)
    assert failed["error"] == ConditionFailedError.__name__
    assert failed["code"] is ErrorCode.CONDITION_FAILED
    if server[0] in RETURNS_ITEM_ON_CONDITION_FAILURE:
        assert failed["details"]["item"] == normalized(item("c"))


def test_a_missing_table_is_table_not_found_alike(
    paths: tuple[Provider, ...], table_name: str
) -> None:
    failed = alike(paths, "GetItem", {"TableName": f"{table_name}-absent", "Key": key("a")})
    assert failed["code"] is ErrorCode.TABLE_NOT_FOUND
    assert failed["details"]["http_status"] == 400


def test_a_request_the_server_refuses_is_a_validation_failure_alike(
    paths: tuple[Provider, ...], table_name: str
) -> None:
    request = {
        "TableName": table_name,
        "KeyConditionExpression": "nope = :v",
        "ExpressionAttributeValues": {":v": {"S": "x"}},
    }
    failed = alike(paths, "Query", request)
    assert failed["code"] is ErrorCode.SERVICE_VALIDATION_FAILED
    assert failed["details"]["aws_code"] == "ValidationException"


def test_transaction_cancellation_reasons_alike(
    server: tuple[str, str], paths: tuple[Provider, ...], table_name: str
) -> None:
    if server[0] not in TRANSACTIONS:
        pytest.skip(f"{server[0]} does not implement TransactWriteItems")
    put(paths[1], table_name, item("taken"))
    request = {
        "TransactItems": [
            {"Put": {"TableName": table_name, "Item": item("fresh")}},
            {
                "Put": {
                    "TableName": table_name,
                    "Item": key("taken"),
                    "ConditionExpression": "attribute_not_exists(PK)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        ]
    }
    failed = alike(paths, "TransactWriteItems", request)
    assert [reason["code"] for reason in failed["reasons"]] == [None, ErrorCode.CONDITION_FAILED]
    assert failed["retryable"] is False
    assert alike(paths, "GetItem", {"TableName": table_name, "Key": key("fresh")}) == {}


def test_an_unreachable_endpoint_is_a_connection_error_alike(route: str) -> None:
    endpoint = f"http://127.0.0.1:{servers.free_port()}"
    tested, reference = pair(endpoint, route)
    with tested as fast, reference as slow:
        failed = alike((fast, slow), "GetItem", {"TableName": "t", "Key": key("a")})
    assert failed["code"] is ErrorCode.CONNECTION_ERROR
    assert failed["cause"] == "EndpointConnectionError"
