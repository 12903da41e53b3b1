"""Table: the CreateTable request, key schemas and index lookup."""

from __future__ import annotations

import pytest

from tctf_dynamo.errors import ErrorCode, InvalidInputError
from tctf_dynamo.model import GSI, LSI, Projection, Table
from tctf_dynamo.validation import KeyAttribute


def test_defaults():
    table = Table("platform", indexes=[GSI("GSI1")])
    assert table.key_schema == [KeyAttribute("PK", "S"), KeyAttribute("SK", "S")]
    assert table.index("GSI1") == GSI("GSI1", pk="GSI1PK", sk="GSI1SK")
    assert table.index_key_schema("GSI1") == [
        KeyAttribute("GSI1PK", "S"),
        KeyAttribute("GSI1SK", "S"),
    ]
    assert table.type_attribute == "_type" and table.billing_mode == "PAY_PER_REQUEST"
    with pytest.raises(InvalidInputError) as caught:
        table.index("GSI9")
    assert caught.value.code is ErrorCode.INVALID_INDEX_NAME


def test_create_table_request_with_every_kind_of_index():
    table = Table(
        "platform",
        indexes=[
            GSI("GSI1"),
            GSI("GSI2", projection=Projection.keys_only()),
            GSI("ByOwner", pk="owner", sk=None, projection=Projection.include("name", "size")),
            GSI("Shared", pk="GSI1PK", sk="rank", sk_type="N"),
            LSI("LSI1", projection=Projection.include("status")),
        ],
    )
    assert table.create_table_request() == {
        "TableName": "platform",
        "KeySchema": [
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
            {"AttributeName": "GSI1PK", "AttributeType": "S"},
            {"AttributeName": "GSI1SK", "AttributeType": "S"},
            {"AttributeName": "GSI2PK", "AttributeType": "S"},
            {"AttributeName": "GSI2SK", "AttributeType": "S"},
            {"AttributeName": "owner", "AttributeType": "S"},
            {"AttributeName": "rank", "AttributeType": "N"},
            {"AttributeName": "LSI1SK", "AttributeType": "S"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "GSI1",
                "KeySchema": [
                    {"AttributeName": "GSI1PK", "KeyType": "HASH"},
                    {"AttributeName": "GSI1SK", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": "GSI2",
                "KeySchema": [
                    {"AttributeName": "GSI2PK", "KeyType": "HASH"},
                    {"AttributeName": "GSI2SK", "KeyType": "RANGE"},
                ],
                # keys only, plus the discriminator queries filter on
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["_type"]},
            },
            {
                "IndexName": "ByOwner",
                "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
                "Projection": {
                    "ProjectionType": "INCLUDE",
                    "NonKeyAttributes": ["name", "size", "_type"],
                },
            },
            {
                "IndexName": "Shared",
                "KeySchema": [
                    {"AttributeName": "GSI1PK", "KeyType": "HASH"},
                    {"AttributeName": "rank", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
        ],
        "LocalSecondaryIndexes": [
            {
                "IndexName": "LSI1",
                "KeySchema": [
                    {"AttributeName": "PK", "KeyType": "HASH"},
                    {"AttributeName": "LSI1SK", "KeyType": "RANGE"},
                ],
                "Projection": {
                    "ProjectionType": "INCLUDE",
                    "NonKeyAttributes": ["status", "_type"],
                },
            }
        ],
    }


def test_create_table_request_provisioned_hash_only():
    table = Table(
        "counters",
        pk="id",
        sk=None,
        pk_type="N",
        billing_mode="PROVISIONED",
        read_capacity=5,
        write_capacity=2,
        indexes=[GSI("ByName", read_capacity=1, write_capacity=1)],
    )
    request = table.create_table_request()
    assert request["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert request["AttributeDefinitions"][0] == {"AttributeName": "id", "AttributeType": "N"}
    assert request["BillingMode"] == "PROVISIONED"
    assert request["ProvisionedThroughput"] == {"ReadCapacityUnits": 5, "WriteCapacityUnits": 2}
    assert request["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"] == {
        "ReadCapacityUnits": 1,
        "WriteCapacityUnits": 1,
    }
    assert "LocalSecondaryIndexes" not in request


def test_entities_view_is_read_only():
    table = Table("platform")
    with pytest.raises(TypeError):
        table.entities["X"] = object  # type: ignore[index]
