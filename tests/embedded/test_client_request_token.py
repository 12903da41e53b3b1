"""The embedded backend applies a transaction once per ClientRequestToken, as DynamoDB does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tctf_dynamo.errors import ErrorCode, ServiceValidationError
from tctf_dynamo.providers import EmbeddedProvider
from tctf_dynamo.providers.idempotency import ClientTokenLedger


@pytest.fixture
def provider() -> Iterator[EmbeddedProvider]:
    with EmbeddedProvider() as embedded:
        embedded.call(
            "CreateTable",
            {
                "TableName": "tokens",
                "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
        )
        yield embedded


def _add(amount: str, token: str | None) -> dict:
    request: dict = {
        "TransactItems": [
            {
                "Update": {
                    "TableName": "tokens",
                    "Key": {"PK": {"S": "counter"}},
                    "UpdateExpression": "ADD #n :v",
                    "ExpressionAttributeNames": {"#n": "n"},
                    "ExpressionAttributeValues": {":v": {"N": amount}},
                }
            }
        ]
    }
    if token is not None:
        request["ClientRequestToken"] = token
    return request


def _counter(provider: EmbeddedProvider) -> int:
    item = provider.call("GetItem", {"TableName": "tokens", "Key": {"PK": {"S": "counter"}}})
    return int(item["Item"]["n"]["N"])


def test_a_replayed_token_applies_the_writes_once(provider: EmbeddedProvider) -> None:
    provider.call("TransactWriteItems", _add("5", "token-1"))
    provider.call("TransactWriteItems", _add("5", "token-1"))
    assert _counter(provider) == 5


def test_distinct_tokens_and_no_token_apply_each_time(provider: EmbeddedProvider) -> None:
    provider.call("TransactWriteItems", _add("5", "token-1"))
    provider.call("TransactWriteItems", _add("5", "token-2"))
    provider.call("TransactWriteItems", _add("5", None))
    provider.call("TransactWriteItems", _add("5", None))
    assert _counter(provider) == 20


def test_same_token_other_content_is_refused(provider: EmbeddedProvider) -> None:
    provider.call("TransactWriteItems", _add("5", "token-1"))
    with pytest.raises(ServiceValidationError) as caught:
        provider.call("TransactWriteItems", _add("6", "token-1"))
    assert caught.value.code is ErrorCode.IDEMPOTENT_PARAMETER_MISMATCH
    assert _counter(provider) == 5


def test_tokens_expire_after_ten_minutes() -> None:
    now = [0.0]
    ledger = ClientTokenLedger(clock=lambda: now[0])
    sent: list[int] = []

    def send() -> dict:
        sent.append(1)
        return {}

    request = {"ClientRequestToken": "t", "TransactItems": []}
    ledger.call("TransactWriteItems", request, send)
    now[0] = 599.0
    ledger.call("TransactWriteItems", request, send)
    assert len(sent) == 1
    now[0] = 601.0
    ledger.call("TransactWriteItems", request, send)
    assert len(sent) == 2


def test_failed_calls_are_not_remembered() -> None:
    ledger = ClientTokenLedger()
    calls: list[int] = []

    def failing() -> dict:
        calls.append(1)
        raise RuntimeError("boom")

    request = {"ClientRequestToken": "t", "TransactItems": []}
    for _ in range(2):
        with pytest.raises(RuntimeError):
            ledger.call("TransactWriteItems", request, failing)
    assert len(calls) == 2
