"""Boto3Provider over HTTP against real local DynamoDB implementations (moto server, dynalite)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tctf_dynamo.errors import (
    ConditionFailedError,
    ErrorCode,
    NotFoundError,
    TransactionCancelledError,
)
from tctf_dynamo.model import Table
from tctf_dynamo.providers import Boto3Provider, EmbeddedProvider, Provider

pytestmark = pytest.mark.server

SERVERS = ["moto", "dynalite"]
TRANSACTIONS = {"moto"}
"""Servers implementing TransactWriteItems (dynalite has no transactions)."""


def connect(endpoint: str) -> Boto3Provider:
    return Boto3Provider.from_endpoint(
        endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        connect_timeout=2.0,
        read_timeout=10.0,
    )


@pytest.fixture(params=SERVERS)
def server(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(server name, endpoint); the endpoint fixture starts that server once per session."""
    name: str = request.param
    return name, request.getfixturevalue(f"{name}_endpoint")


@pytest.fixture
def provider(server: tuple[str, str], table_name: str) -> Iterator[Boto3Provider]:
    with connect(server[1]) as connected:
        create_table(connected, table_name)
        try:
            yield connected
        finally:
            connected.call("DeleteTable", {"TableName": table_name})


def create_table(provider: Provider, name: str) -> None:
    """Create the table and wait until it is ACTIVE: dynalite creates it asynchronously,
    so on a busy machine a write sent at once can find no table."""
    provider.call(
        "CreateTable",
        Table(name).create_table_request(),
    )
    for _ in range(200):
        described = provider.call("DescribeTable", {"TableName": name})
        if described["Table"]["TableStatus"] == "ACTIVE":
            return
        time.sleep(0.05)
    raise AssertionError(f"table {name} never became ACTIVE")


def key(pk: str, sk: str = "META") -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def test_put_get_query(provider: Boto3Provider, table_name: str) -> None:
    for sk in ["B", "A", "C"]:
        provider.call(
            "PutItem", {"TableName": table_name, "Item": {**key("u1", sk), "n": {"N": "1.5"}}}
        )
    got = provider.call("GetItem", {"TableName": table_name, "Key": key("u1", "A")})
    assert got == {"Item": {**key("u1", "A"), "n": {"N": "1.5"}}}
    queried = provider.call(
        "Query",
        {
            "TableName": table_name,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": "u1"}},
        },
    )
    assert [item["SK"]["S"] for item in queried["Items"]] == ["A", "B", "C"]


def test_missing_table_is_table_not_found(server: tuple[str, str], table_name: str) -> None:
    with connect(server[1]) as provider, pytest.raises(NotFoundError) as caught:
        provider.call("GetItem", {"TableName": table_name, "Key": key("a")})
    assert caught.value.code is ErrorCode.TABLE_NOT_FOUND
    assert caught.value.details["aws_code"] == "ResourceNotFoundException"
    assert caught.value.details["http_status"] == 400


def test_failed_condition_is_condition_failed(provider: Boto3Provider, table_name: str) -> None:
    provider.call("PutItem", {"TableName": table_name, "Item": key("a")})
    with pytest.raises(ConditionFailedError) as caught:
        provider.call(
            "PutItem",
            {
                "TableName": table_name,
                "Item": key("a"),
                "ConditionExpression": "attribute_not_exists(PK)",
            },
        )
    assert caught.value.code is ErrorCode.CONDITION_FAILED
    assert caught.value.retryable is False


def test_transaction_cancellation_reasons_align_with_actions(
    server: tuple[str, str], provider: Boto3Provider, table_name: str
) -> None:
    if server[0] not in TRANSACTIONS:
        pytest.skip(f"{server[0]} does not implement TransactWriteItems")
    provider.call("PutItem", {"TableName": table_name, "Item": key("taken")})
    with pytest.raises(TransactionCancelledError) as caught:
        provider.call(
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Put": {"TableName": table_name, "Item": key("fresh")}},
                    {
                        "Put": {
                            "TableName": table_name,
                            "Item": key("taken"),
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                ]
            },
        )
    assert [reason.code for reason in caught.value.reasons] == [None, ErrorCode.CONDITION_FAILED]
    assert [reason.index for reason in caught.value.reasons] == [0, 1]
    assert caught.value.retryable is False
    assert "Item" not in provider.call("GetItem", {"TableName": table_name, "Key": key("fresh")})


def test_embedded_and_http_providers_work_side_by_side(moto_endpoint: str, table_name: str) -> None:
    """An embedded backend must not capture other clients' traffic, nor share their tables."""
    with EmbeddedProvider() as embedded, connect(moto_endpoint) as remote:
        create_table(embedded, table_name)
        create_table(remote, table_name)
        try:
            embedded.call("PutItem", {"TableName": table_name, "Item": key("embedded")})
            remote.call("PutItem", {"TableName": table_name, "Item": key("remote")})

            def pks(provider: Provider) -> list[str]:
                items = provider.call("Scan", {"TableName": table_name})["Items"]
                return [item["PK"]["S"] for item in items]

            assert pks(embedded) == ["embedded"]
            assert pks(remote) == ["remote"]
        finally:
            remote.call("DeleteTable", {"TableName": table_name})
