"""Our item size accounting equals dynalite's, byte for byte, at the 400 KB limit.

For each shape of item we build one of exactly 409,600 bytes by our count and one of
409,601 that differs only by one more ASCII character in a filler string. dynalite must
accept the first and refuse the second: that only holds if its count equals ours.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tctf_dynamo import limits
from tctf_dynamo.errors import ErrorCode, InvalidInputError
from tctf_dynamo.validation import KeyAttribute, validate_item
from tctf_dynamo.wire.codec import encode, encode_item, encode_number, item_size

pytestmark = pytest.mark.server

SCHEMA = [KeyAttribute("PK", "S"), KeyAttribute("SK", "S")]
FILLER = "pad"


@pytest.fixture
def client(dynalite_endpoint: str) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=dynalite_endpoint,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


@pytest.fixture
def table(client: Any, table_name: str) -> Iterator[str]:
    client.create_table(
        TableName=table_name,
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(
        TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    yield table_name
    client.delete_table(TableName=table_name)


def _random_number(rng: random.Random) -> str:
    digits = "".join(rng.choice(string.digits) for _ in range(rng.randint(1, 38)))
    digits = ("1" + digits[1:]) if digits[0] == "0" else digits
    exponent = rng.randint(-130, 125) if rng.random() < 0.2 else rng.randint(-10, 20)
    exponent = min(exponent, 125)
    value = Decimal((rng.random() < 0.4, tuple(map(int, digits)), exponent - len(digits) + 1))
    return encode_number(value)


def strings_body(rng: random.Random) -> dict[str, Any]:
    return {"text": "a" * 300_000, "more": {"S": "b" * 100_000}}


def numbers_body(rng: random.Random) -> dict[str, Any]:
    numbers = {_random_number(rng) for _ in range(18_000)}
    return {
        "set": {"NS": sorted(numbers)},
        "list": {"L": [{"N": _random_number(rng)} for _ in range(2_000)]},
        "zero": {"N": "0"},
        "one": {"N": "-1"},
    }


def documents_body(rng: random.Random) -> dict[str, Any]:
    def document(depth: int) -> Any:
        if depth == 0:
            return rng.choice([True, None, "leaf", 12, Decimal("-0.5"), b"\x00\x01"])
        if rng.random() < 0.5:
            return [document(depth - 1) for _ in range(rng.randint(0, 4))]
        return {f"k{index}": document(depth - 1) for index in range(rng.randint(0, 4))}

    return {f"doc{index}": encode(document(6)) for index in range(600)}


def sets_body(rng: random.Random) -> dict[str, Any]:
    return {
        "strings": {"SS": [f"s{index}" for index in range(30_000)]},
        "binaries": {"BS": [index.to_bytes(3, "big") for index in range(20_000)]},
        "flag": {"BOOL": False},
        "nothing": {"NULL": True},
        "blob": {"B": bytes(range(256)) * 100},
    }


BODIES: dict[str, Callable[[random.Random], dict[str, Any]]] = {
    "strings": strings_body,
    "numbers": numbers_body,
    "documents": documents_body,
    "sets": sets_body,
}


def _body(name: str) -> dict[str, Any]:
    body = BODIES[name](random.Random(name))
    return {key: value if isinstance(value, dict) else encode(value) for key, value in body.items()}


def item_of_size(body: dict[str, Any], size: int, sk: str) -> dict[str, Any]:
    item = {"PK": {"S": "size-test"}, "SK": {"S": sk}, **body, FILLER: {"S": ""}}
    missing = size - item_size(item)
    assert missing >= 0, f"body alone is {item_size(item)} bytes"
    item[FILLER] = {"S": "x" * missing}
    assert item_size(item) == size
    return item


@pytest.mark.parametrize("shape", sorted(BODIES))
def test_dynalite_agrees_at_the_limit(client: Any, table: str, shape: str) -> None:
    body = _body(shape)
    at_limit = item_of_size(body, limits.MAX_ITEM_SIZE_BYTES, "at")
    over_limit = item_of_size(body, limits.MAX_ITEM_SIZE_BYTES + 1, "over")

    assert validate_item(at_limit, SCHEMA) == limits.MAX_ITEM_SIZE_BYTES
    client.put_item(TableName=table, Item=at_limit)
    stored = client.get_item(TableName=table, Key={"PK": at_limit["PK"], "SK": at_limit["SK"]})
    assert item_size(stored["Item"]) == limits.MAX_ITEM_SIZE_BYTES

    with pytest.raises(InvalidInputError) as caught:
        validate_item(over_limit, SCHEMA)
    assert caught.value.code is ErrorCode.ITEM_TOO_LARGE
    assert caught.value.details == {"size": 409_601, "limit": 409_600}
    with pytest.raises(ClientError) as refused:
        client.put_item(TableName=table, Item=over_limit)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "size" in refused.value.response["Error"]["Message"]


def test_attribute_names_count_toward_the_limit(client: Any, table: str) -> None:
    body = {f"name-{index:05d}-" + "n" * 200: {"BOOL": True} for index in range(1_500)}
    client.put_item(TableName=table, Item=item_of_size(body, limits.MAX_ITEM_SIZE_BYTES, "at"))
    with pytest.raises(ClientError):
        client.put_item(
            TableName=table, Item=item_of_size(body, limits.MAX_ITEM_SIZE_BYTES + 1, "over")
        )


def test_multibyte_strings_counted_as_utf8_like_aws(client: Any, table: str) -> None:
    """AWS counts UTF-8 bytes; dynalite counts UTF-16 code units, so it accepts what we
    (and AWS) refuse. Our count is never below dynalite's, so we never pass an item it refuses."""
    item = encode_item({"PK": "size-test", "SK": "utf8", "text": "€" * 136_526 + "xx"})
    assert item_size(item) == limits.MAX_ITEM_SIZE_BYTES + 1
    with pytest.raises(InvalidInputError):
        validate_item(item, SCHEMA)
    client.put_item(TableName=table, Item=item)  # dynalite counts 136,528 + 21 bytes
