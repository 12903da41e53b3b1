"""EmbeddedProvider: real DynamoDB semantics in-process, isolated, atomic under threads."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tctf_dynamo.errors import (
    ConditionFailedError,
    DynamoDBServiceError,
    ErrorCode,
    NotFoundError,
    ServiceValidationError,
    TransactionCancelledError,
)
from tctf_dynamo.model import Table
from tctf_dynamo.providers import EmbeddedProvider, Provider

TABLE = "things"


def create_table(provider: Provider, name: str = TABLE) -> None:
    provider.call(
        "CreateTable",
        Table(name).create_table_request(),
    )


def key(pk: str, sk: str = "META") -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


@pytest.fixture
def provider() -> Iterator[EmbeddedProvider]:
    with EmbeddedProvider() as embedded:
        create_table(embedded)
        yield embedded


def test_put_get_delete(provider: EmbeddedProvider) -> None:
    item = {**key("a"), "n": {"N": "1"}, "b": {"B": b"\x00\xff"}, "tags": {"SS": ["x", "y"]}}
    assert provider.call("PutItem", {"TableName": TABLE, "Item": item}) == {}
    got = provider.call("GetItem", {"TableName": TABLE, "Key": key("a"), "ConsistentRead": True})
    assert got["Item"]["b"] == {"B": b"\x00\xff"}
    assert got["Item"]["n"] == {"N": "1"}
    assert sorted(got["Item"]["tags"]["SS"]) == ["x", "y"]
    provider.call("DeleteItem", {"TableName": TABLE, "Key": key("a")})
    assert "Item" not in provider.call("GetItem", {"TableName": TABLE, "Key": key("a")})


def test_query_returns_one_partition_in_sort_order(provider: EmbeddedProvider) -> None:
    for pk, sk in [("u1", "B"), ("u1", "A"), ("u2", "A"), ("u1", "C")]:
        provider.call("PutItem", {"TableName": TABLE, "Item": key(pk, sk)})
    response = provider.call(
        "Query",
        {
            "TableName": TABLE,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": "PK"},
            "ExpressionAttributeValues": {":pk": {"S": "u1"}},
        },
    )
    assert [item["SK"]["S"] for item in response["Items"]] == ["A", "B", "C"]
    assert response["Count"] == 3


def test_update_returns_new_values(provider: EmbeddedProvider) -> None:
    response = provider.call(
        "UpdateItem",
        {
            "TableName": TABLE,
            "Key": key("c"),
            "UpdateExpression": "ADD #n :one SET #s = :s",
            "ExpressionAttributeNames": {"#n": "n", "#s": "status"},
            "ExpressionAttributeValues": {":one": {"N": "1"}, ":s": {"S": "NEW"}},
            "ReturnValues": "ALL_NEW",
        },
    )
    assert response["Attributes"]["n"] == {"N": "1"}
    assert response["Attributes"]["status"] == {"S": "NEW"}


def test_batch_write_and_get(provider: EmbeddedProvider) -> None:
    puts = [{"PutRequest": {"Item": key(f"k{i}")}} for i in range(5)]
    written = provider.call("BatchWriteItem", {"RequestItems": {TABLE: puts}})
    assert written.get("UnprocessedItems", {}) == {}
    got = provider.call(
        "BatchGetItem", {"RequestItems": {TABLE: {"Keys": [key(f"k{i}") for i in range(5)]}}}
    )
    assert sorted(item["PK"]["S"] for item in got["Responses"][TABLE]) == [
        f"k{i}" for i in range(5)
    ]


def test_transaction_applies_all_or_nothing(provider: EmbeddedProvider) -> None:
    provider.call("PutItem", {"TableName": TABLE, "Item": key("taken")})
    with pytest.raises(TransactionCancelledError) as caught:
        provider.call(
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Put": {"TableName": TABLE, "Item": key("fresh")}},
                    {
                        "Put": {
                            "TableName": TABLE,
                            "Item": key("taken"),
                            "ConditionExpression": "attribute_not_exists(PK)",
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    },
                ]
            },
        )
    reasons = caught.value.reasons
    assert [r.code for r in reasons] == [None, ErrorCode.CONDITION_FAILED]
    assert reasons[1].item == key("taken")
    assert caught.value.retryable is False
    assert "Item" not in provider.call("GetItem", {"TableName": TABLE, "Key": key("fresh")})

    provider.call(
        "TransactWriteItems",
        {"TransactItems": [{"Put": {"TableName": TABLE, "Item": key("fresh")}}]},
    )
    assert "Item" in provider.call("GetItem", {"TableName": TABLE, "Key": key("fresh")})


def test_failed_condition_is_a_condition_failed_error(provider: EmbeddedProvider) -> None:
    provider.call("PutItem", {"TableName": TABLE, "Item": {**key("a"), "v": {"N": "1"}}})
    with pytest.raises(ConditionFailedError) as caught:
        provider.call(
            "PutItem",
            {
                "TableName": TABLE,
                "Item": key("a"),
                "ConditionExpression": "attribute_not_exists(PK)",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            },
        )
    assert caught.value.code is ErrorCode.CONDITION_FAILED
    assert caught.value.details["item"] == {**key("a"), "v": {"N": "1"}}


def test_missing_table_is_table_not_found(provider: EmbeddedProvider) -> None:
    with pytest.raises(NotFoundError) as caught:
        provider.call("GetItem", {"TableName": "absent", "Key": key("a")})
    assert caught.value.code is ErrorCode.TABLE_NOT_FOUND
    assert caught.value.details["operation"] == "GetItem"


def test_creating_a_table_twice_is_table_already_exists(provider: EmbeddedProvider) -> None:
    with pytest.raises(ServiceValidationError) as caught:
        create_table(provider)
    assert caught.value.code is ErrorCode.TABLE_ALREADY_EXISTS


def test_two_providers_never_see_each_others_tables() -> None:
    with EmbeddedProvider() as first, EmbeddedProvider() as second:
        create_table(first)
        first.call("PutItem", {"TableName": TABLE, "Item": key("mine")})
        assert second.call("ListTables", {})["TableNames"] == []
        with pytest.raises(NotFoundError):
            second.call("GetItem", {"TableName": TABLE, "Key": key("mine")})
        create_table(second)
        assert "Item" not in second.call("GetItem", {"TableName": TABLE, "Key": key("mine")})


def test_closed_provider_refuses_calls() -> None:
    embedded = EmbeddedProvider()
    embedded.close()
    embedded.close()
    with pytest.raises(DynamoDBServiceError) as caught:
        embedded.call("ListTables", {})
    assert caught.value.code is ErrorCode.INVALID_STATE


ROUNDS = 20
RACERS = 8


def guarded_increment(version: int) -> dict[str, Any]:
    """One transaction: bump the counter only if nobody moved the version since we read it."""
    return {
        "TransactItems": [
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": key("counter"),
                    "UpdateExpression": "ADD #n :one SET #v = :next",
                    "ConditionExpression": "#v = :seen",
                    "ExpressionAttributeNames": {"#n": "n", "#v": "version"},
                    "ExpressionAttributeValues": {
                        ":one": {"N": "1"},
                        ":seen": {"N": str(version)},
                        ":next": {"N": str(version + 1)},
                    },
                }
            },
            {"Put": {"TableName": TABLE, "Item": key("log", f"{version:04d}")}},
        ]
    }


def race_once(provider: Provider, transaction: dict[str, Any]) -> list[str]:
    """Start RACERS threads sending the same transaction at once; return their outcomes."""
    barrier = threading.Barrier(RACERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def race() -> None:
        barrier.wait()
        try:
            provider.call("TransactWriteItems", transaction)
            outcome = "won"
        except TransactionCancelledError as error:
            outcome = "lost" if error.failed[0].code is ErrorCode.CONDITION_FAILED else "?"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=race) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_racing_conditional_transactions_have_exactly_one_winner_per_round(
    provider: EmbeddedProvider,
) -> None:
    start = {**key("counter"), "n": {"N": "0"}, "version": {"N": "0"}}
    provider.call("PutItem", {"TableName": TABLE, "Item": start})
    for version in range(ROUNDS):
        outcomes = race_once(provider, guarded_increment(version))
        assert sorted(outcomes) == ["lost"] * (RACERS - 1) + ["won"]

    item = provider.call("GetItem", {"TableName": TABLE, "Key": key("counter")})["Item"]
    assert item["n"] == {"N": str(ROUNDS)}
    assert item["version"] == {"N": str(ROUNDS)}
    log = provider.call(
        "Query",
        {
            "TableName": TABLE,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": "log"}},
        },
    )
    assert log["Count"] == ROUNDS


def test_concurrent_adds_lose_nothing(provider: EmbeddedProvider) -> None:
    def add() -> None:
        for _ in range(25):
            provider.call(
                "UpdateItem",
                {
                    "TableName": TABLE,
                    "Key": key("total"),
                    "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                },
            )

    threads = [threading.Thread(target=add) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    item = provider.call("GetItem", {"TableName": TABLE, "Key": key("total")})["Item"]
    assert item["n"] == {"N": str(25 * RACERS)}


AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "MOTO_ACCOUNT_ID",
)


def exercise(embedded: EmbeddedProvider) -> None:
    create_table(embedded)
    embedded.call("PutItem", {"TableName": TABLE, "Item": key("a")})
    assert embedded.call("GetItem", {"TableName": TABLE, "Key": key("a")})["Item"] == key("a")


def test_works_without_any_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with EmbeddedProvider() as embedded:
        exercise(embedded)


def test_ignores_bogus_aws_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pytest.TempPathFactory
) -> None:
    broken = f"{tmp_path}/broken-config"
    with open(broken, "w") as handle:
        handle.write("[unterminated\nnot ini at all")
    bogus = {
        "AWS_ACCESS_KEY_ID": "AKIABOGUS",
        "AWS_SECRET_ACCESS_KEY": "bogus",
        "AWS_SESSION_TOKEN": "bogus",
        "AWS_PROFILE": "no-such-profile",
        "AWS_DEFAULT_REGION": "xx-nowhere-9",
        "AWS_CONFIG_FILE": broken,
        "AWS_SHARED_CREDENTIALS_FILE": broken,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9",
        "AWS_MAX_ATTEMPTS": "9",
        "AWS_RETRY_MODE": "adaptive",
        "MOTO_ACCOUNT_ID": "999999999999",
    }
    for name, value in bogus.items():
        monkeypatch.setenv(name, value)
    with EmbeddedProvider() as embedded:
        exercise(embedded)
        assert embedded.client.meta.config.retries == {"total_max_attempts": 1, "mode": "standard"}


def test_importing_the_library_does_not_import_moto() -> None:
    code = (
        "import sys, tctf_dynamo, tctf_dynamo.providers\n"
        "assert not [m for m in sys.modules if m == 'moto' or m.startswith('moto.')]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
