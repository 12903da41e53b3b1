"""Wire values DynamoDB refuses are refused before sending, on every write path.

Each bad value goes through batch_write, bulk_write, transact_write and put_item with a
provider that records every call: the coded error must come back and nothing be sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tctf_dynamo import DynamoDBService, Table
from tctf_dynamo.batch import batch_write, bulk_write
from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode
from tctf_dynamo.expressions import Update, attr
from tctf_dynamo.providers.mock import MockProvider, RecordingProvider
from tctf_dynamo.wire.attribute_values import check_attribute_values
from tests.aio_support import async_twin

TABLE = Table("wires")
NUMBER_TABLE = "numbers"


def _answer(operation: str, request: dict[str, Any]) -> dict[str, Any]:
    if operation == "DescribeTable":
        return {
            "Table": {
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "N"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            }
        }
    return {}


@pytest.fixture
def sent() -> RecordingProvider:
    return RecordingProvider(MockProvider(_answer))


@pytest.fixture
def service(sent: RecordingProvider) -> DynamoDBService:
    service = DynamoDBService(sent)
    service.key_schema(TABLE)
    service.key_schema(NUMBER_TABLE)
    sent.clear()
    return service


def _item(**values: Any) -> dict[str, Any]:
    return {"PK": {"S": "p"}, "SK": {"S": "s"}, **values}


def _deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"S": "x"}
    for _ in range(levels):
        value = {"M": {"a": value}}
    return value


BAD_VALUES: dict[str, tuple[dict[str, Any], ErrorCode]] = {
    "number too large": ({"N": "1E126"}, ErrorCode.UNSUPPORTED_TYPE),
    "negative number too large": ({"N": "-1e126"}, ErrorCode.UNSUPPORTED_TYPE),
    "number too small": ({"N": "1E-131"}, ErrorCode.UNSUPPORTED_TYPE),
    "39 significant digits": ({"N": "1" * 39}, ErrorCode.UNSUPPORTED_TYPE),
    "not a number": ({"N": "one"}, ErrorCode.UNSUPPORTED_TYPE),
    "NaN": ({"N": "NaN"}, ErrorCode.UNSUPPORTED_TYPE),
    "empty SS": ({"SS": []}, ErrorCode.UNSUPPORTED_TYPE),
    "empty NS": ({"NS": []}, ErrorCode.UNSUPPORTED_TYPE),
    "empty BS": ({"BS": []}, ErrorCode.UNSUPPORTED_TYPE),
    "SS duplicate": ({"SS": ["a", "a"]}, ErrorCode.INVALID_INPUT),
    "NS duplicate by value": ({"NS": ["1", "1.0"]}, ErrorCode.INVALID_INPUT),
    "BS duplicate": ({"BS": [b"a", b"a"]}, ErrorCode.INVALID_INPUT),
    "NS member out of range": ({"NS": ["1", "1E200"]}, ErrorCode.UNSUPPORTED_TYPE),
    "nested empty set": ({"M": {"tags": {"SS": []}}}, ErrorCode.UNSUPPORTED_TYPE),
    "33 levels of maps": (_deep(33), ErrorCode.UNSUPPORTED_TYPE),
    "33 levels of lists and maps": ({"L": [_deep(32)]}, ErrorCode.UNSUPPORTED_TYPE),
    "lone surrogate": ({"S": "abc\ud800"}, ErrorCode.INVALID_INPUT),
    "lone surrogate in SS": ({"SS": ["ok", "\udfff"]}, ErrorCode.INVALID_INPUT),
    "lone surrogate deep in a list": (
        {"L": [{"M": {"k": {"S": "\udc80"}}}]},
        ErrorCode.INVALID_INPUT,
    ),
    "lone surrogate in a map key": ({"M": {"\ud800": {"S": "x"}}}, ErrorCode.INVALID_INPUT),
    "NULL false": ({"NULL": False}, ErrorCode.INVALID_INPUT),
}


Write = Callable[[DynamoDBService, dict[str, Any]], Any]
WRITES: dict[str, Write] = {
    "batch_write": lambda s, item: batch_write(s, puts=[("wires", item)]),
    "bulk_write": lambda s, item: bulk_write(s, puts=[("wires", item)]),
    "transact_write": lambda s, item: s.transact_write(
        [{"Put": {"TableName": "wires", "Item": item}}]
    ),
    "transact_write values": lambda s, item: s.transact_write(
        [
            {
                "Update": {
                    "TableName": "wires",
                    "Key": _item(),
                    "UpdateExpression": "SET #v = :v",
                    "ExpressionAttributeNames": {"#v": "v"},
                    "ExpressionAttributeValues": {":v": item["v"]},
                }
            }
        ]
    ),
}


@pytest.mark.parametrize("path", list(WRITES))
@pytest.mark.parametrize("case", list(BAD_VALUES))
def test_bad_wire_values_are_refused_before_sending(
    service: DynamoDBService, sent: RecordingProvider, path: str, case: str
) -> None:
    value, code = BAD_VALUES[case]
    with pytest.raises(DynamoDBServiceError) as caught:
        WRITES[path](service, _item(v=value))
    assert caught.value.code is code
    assert caught.value.details.get("attribute", "").startswith(":v" if "values" in path else "v")
    assert sent.calls == []


def test_the_deepest_documents_dynamodb_stores_are_accepted(
    service: DynamoDBService, sent: RecordingProvider
) -> None:
    batch_write(service, puts=[("wires", _item(v=_deep(32)))])
    assert sent.operations == ["BatchWriteItem"]


@pytest.mark.parametrize(
    "value",
    [{"N": "9.9999999999999999999999999999999999999E+125"}, {"N": "-1E-130"}, {"NS": ["1", "2"]}],
    ids=["largest", "smallest", "set"],
)
def test_numbers_at_the_edges_are_accepted(value: dict[str, Any]) -> None:
    check_attribute_values({"v": value})


@pytest.mark.parametrize("api", ["sync", "async"])
def test_plain_items_with_a_lone_surrogate_are_refused(
    service: DynamoDBService, sent: RecordingProvider, api: str
) -> None:
    service = service if api == "sync" else async_twin(service)
    with pytest.raises(DynamoDBServiceError) as caught:
        service.put_item(TABLE, {"PK": "p", "SK": "s", "note": "bad\ud83d"})
    assert caught.value.code is ErrorCode.INVALID_INPUT
    assert caught.value.details["attribute"] == "note"
    with pytest.raises(DynamoDBServiceError) as caught:
        service.put_item(TABLE, {"PK": "p\udfff", "SK": "s"})
    assert caught.value.code is ErrorCode.INVALID_INPUT
    with pytest.raises(DynamoDBServiceError) as caught:
        service.update_item(TABLE, {"PK": "p", "SK": "s"}, set={"note": "x\ud800"})
    assert caught.value.code is ErrorCode.INVALID_INPUT
    with pytest.raises(DynamoDBServiceError) as caught:
        service.update_item(TABLE, {"PK": "p", "SK": "s"}, Update.set(attr("a\ud800"), 1))
    assert caught.value.code is ErrorCode.INVALID_EXPRESSION
    assert sent.calls == []


def test_transact_write_checks_keys_and_the_token(
    service: DynamoDBService, sent: RecordingProvider
) -> None:
    def delete(key: dict[str, Any]) -> dict[str, Any]:
        return {"Delete": {"TableName": NUMBER_TABLE, "Key": key}}

    with pytest.raises(DynamoDBServiceError) as caught:
        service.transact_write([delete({"id": {"N": "1" * 39}})])
    assert caught.value.code is ErrorCode.INVALID_KEY
    with pytest.raises(DynamoDBServiceError) as caught:
        service.transact_write([delete({"id": {"S": "1"}})])
    assert caught.value.code is ErrorCode.INVALID_KEY
    with pytest.raises(DynamoDBServiceError) as caught:
        service.transact_write([delete({"id": {"N": "1"}, "extra": {"S": "x"}})])
    assert caught.value.code is ErrorCode.INVALID_KEY
    with pytest.raises(DynamoDBServiceError) as caught:
        service.transact_write([delete({"id": {"N": "1"}})], client_request_token="t" * 37)
    assert caught.value.code is ErrorCode.INVALID_CONFIGURATION
    with pytest.raises(DynamoDBServiceError) as caught:
        service.transact_write([delete({"id": {"N": "1"}}), delete({"id": {"N": "1.0"}})])
    assert caught.value.code is ErrorCode.DUPLICATE_ITEM_IN_REQUEST
    assert sent.calls == []
    service.transact_write([delete({"id": {"N": "1"}})], client_request_token="t" * 36)
    assert sent.operations == ["TransactWriteItems"]
