"""Index keys, Query filters and read/write arguments DynamoDB refuses: refused first.

Every case runs against a provider that records calls; the coded error must come back
and nothing be sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tctf_dynamo import GSI, DynamoDBService, Entity, Repository, Table, UnitOfWork, attr
from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode
from tctf_dynamo.expressions import key
from tctf_dynamo.providers.mock import MockProvider, RecordingProvider
from tests.aio_support import async_twin

TABLE = Table("arguments", indexes=[GSI("GSI1")])


class Account(
    Entity, table=TABLE, pk="ACCOUNT#{account_id}", sk="META", gsi1=("EMAIL#{email}", "A"),
    version="version",
):  # fmt: skip
    account_id: str
    email: str
    name: str = ""


@pytest.fixture
def sent() -> RecordingProvider:
    return RecordingProvider(MockProvider(lambda operation, request: {}))


@pytest.fixture
def service(sent: RecordingProvider) -> DynamoDBService:
    return DynamoDBService(sent)


def _refused(code: ErrorCode, call: Callable[[], Any]) -> DynamoDBServiceError:
    with pytest.raises(DynamoDBServiceError) as caught:
        call()
    assert caught.value.code is code
    return caught.value


def _item(**values: Any) -> dict[str, Any]:
    return {"PK": "p", "SK": "s", **values}


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"GSI1PK": 7}, ErrorCode.INVALID_KEY),
        ({"GSI1PK": ""}, ErrorCode.INVALID_KEY),
        ({"GSI1SK": b"raw"}, ErrorCode.INVALID_KEY),
        ({"GSI1PK": "x" * 2049}, ErrorCode.KEY_TOO_LARGE),
        ({"GSI1SK": "x" * 1025}, ErrorCode.KEY_TOO_LARGE),
    ],
    ids=["wrong type", "empty", "binary sort key", "partition too large", "sort too large"],
)
def test_index_keys_are_checked_on_put_and_update(
    service: DynamoDBService, sent: RecordingProvider, values: dict[str, Any], code: ErrorCode
) -> None:
    error = _refused(code, lambda: service.put_item(TABLE, _item(**values)))
    assert error.details["attribute"] in values
    _refused(code, lambda: service.update_item(TABLE, _item(), set=values))
    _refused(code, lambda: service.batch_write(TABLE, puts=[_item(**values)]))
    assert sent.calls == []


@pytest.mark.parametrize("api", ["sync", "async"])
def test_index_keys_at_the_limits_and_sparse_items_are_accepted(
    service: DynamoDBService, sent: RecordingProvider, api: str
) -> None:
    plain = service if api == "sync" else async_twin(service)
    plain.put_item(TABLE, _item(GSI1PK="x" * 2048, GSI1SK="y" * 1024))
    plain.put_item(TABLE, _item(other="no index keys at all"))
    assert sent.operations == ["PutItem", "PutItem"]


def test_an_entity_whose_index_key_is_too_large_is_refused(
    service: DynamoDBService, sent: RecordingProvider
) -> None:
    accounts = Repository(Account, service)
    _refused(
        ErrorCode.KEY_TOO_LARGE, lambda: accounts.put(Account(account_id="a", email="e" * 2100))
    )
    _refused(
        ErrorCode.KEY_TOO_LARGE,
        lambda: accounts.update({"account_id": "a"}, set={"email": "e" * 2100}),
    )
    assert sent.calls == []


def test_a_query_filter_on_a_key_attribute_is_refused_and_a_scan_filter_is_not(
    service: DynamoDBService, sent: RecordingProvider
) -> None:
    partition = key("PK") == "p"
    for name in ("PK", "SK"):
        error = _refused(
            ErrorCode.INVALID_EXPRESSION,
            lambda name=name: service.query(TABLE, partition, filter=attr(name) == "x"),  # type: ignore[misc]
        )
        assert error.details["attribute"] == name
    on_index = key("GSI1PK") == "p"
    _refused(
        ErrorCode.INVALID_EXPRESSION,
        lambda: service.query(TABLE, on_index, index="GSI1", filter=attr("GSI1SK") == "x"),
    )
    accounts = Repository(Account, service)
    _refused(
        ErrorCode.INVALID_EXPRESSION,
        lambda: accounts.query(account_id="a").filter(attr("SK") == "x").all(),
    )
    assert sent.calls == []
    service.query(TABLE, on_index, index="GSI1", filter=attr("PK") == "x")  # a table key
    service.query(TABLE, partition, filter=attr("GSI1PK") == "x")  # an index key
    service.scan(TABLE, filter=(attr("PK") == "x") & (attr("SK") == "y"))
    assert sent.operations == ["Query", "Query", "Scan"]


@pytest.mark.parametrize(
    "call",
    [
        lambda s, r: s.query(TABLE, key("PK") == "p", limit=0),
        lambda s, r: s.scan(TABLE, limit=1.5),
        lambda s, r: s.scan(TABLE, limit=True),
        lambda s, r: s.scan(TABLE, segment=(0, 1_000_001)),
        lambda s, r: s.scan(TABLE, segment=(2, 2)),
        lambda s, r: s.scan(TABLE, segment=(-1, 2)),
        lambda s, r: s.scan(TABLE, segment=(0, 0)),
        lambda s, r: r.query(account_id="a").page(size=1.5),
        lambda s, r: r.query(account_id="a").page(size="3"),
        lambda s, r: r.query(account_id="a").page(size=0),
        lambda s, r: r.query(account_id="a").limit(1.5),
        lambda s, r: r.query(account_id="a").limit(0),
        lambda s, r: r.scan().parallel(1_000_001),
        lambda s, r: UnitOfWork(s).put({"account_id": "a", "email": "e"}),
        lambda s, r: r.delete({"account_id": "a"}, expected_version="1"),
        lambda s, r: UnitOfWork(s).delete(Account, {"account_id": "a"}, expected_version=1.0),
    ],
    ids=[
        "limit 0", "float limit", "bool limit", "too many segments", "segment past the end",
        "negative segment", "no segments", "float page", "string page", "page 0",
        "float query limit", "query limit 0", "parallel over the limit", "uow put dict",
        "string version", "float version",
    ],
)  # fmt: skip
def test_bad_arguments_get_a_coded_error(
    service: DynamoDBService, sent: RecordingProvider, call: Any
) -> None:
    _refused(ErrorCode.INVALID_INPUT, lambda: call(service, Repository(Account, service)))
    assert sent.calls == []


def test_extra_fields_in_keys_are_refused(
    service: DynamoDBService, sent: RecordingProvider
) -> None:
    accounts = Repository(Account, service)
    error = _refused(ErrorCode.INVALID_KEY, lambda: accounts.get(account_id="a", nmae="x"))
    assert error.details["fields"] == ["nmae"]
    _refused(ErrorCode.INVALID_KEY, lambda: accounts.get({"account_id": "a", "email": "e"}))
    _refused(
        ErrorCode.INVALID_KEY,
        lambda: UnitOfWork(service).delete(Account, {"account_id": "a", "email": "e"}),
    )
    _refused(
        ErrorCode.INVALID_KEY,
        lambda: UnitOfWork(service).update(Account, {"account_id": "a", "x": 1}, set={"name": "n"}),
    )
    assert sent.calls == []
    accounts.get(account_id="a")
    assert sent.operations == ["GetItem"]


def _wire_update(expression: str, names: dict[str, str], values: dict[str, Any]) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": TABLE.name,
            "Key": {"PK": {"S": "p"}, "SK": {"S": "s"}},
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


@pytest.mark.parametrize(
    ("name", "value", "plain", "code"),
    [
        ("GSI1PK", {"N": "7"}, 7, ErrorCode.INVALID_KEY),
        ("GSI1PK", {"S": ""}, "", ErrorCode.INVALID_KEY),
        ("GSI1SK", {"B": b"raw"}, b"raw", ErrorCode.INVALID_KEY),
        ("GSI1PK", {"S": "x" * 2049}, "x" * 2049, ErrorCode.KEY_TOO_LARGE),
        ("GSI1SK", {"S": "x" * 1025}, "x" * 1025, ErrorCode.KEY_TOO_LARGE),
    ],
    ids=["wrong type", "empty", "binary sort key", "partition too large", "sort too large"],
)
def test_index_keys_set_by_wire_updates_of_a_transaction_are_checked(
    service: DynamoDBService,
    sent: RecordingProvider,
    name: str,
    value: dict[str, Any],
    plain: Any,
    code: ErrorCode,
) -> None:
    service.key_schema(TABLE)  # the table's schemas known, as a Table would give them
    forms = [
        _wire_update("SET #n0 = :v0", {"#n0": name}, {":v0": value}),
        _wire_update(f"set other = :o, {name}=:v0", {}, {":o": {"S": "x"}, ":v0": value}),
        _wire_update(
            "SET #a = if_not_exists(#a, :o), #n0 = :v0 REMOVE #b",
            {"#a": "a", "#b": "b", "#n0": name},
            {":o": {"S": "x"}, ":v0": value},
        ),
    ]
    for action in forms:
        error = _refused(code, lambda action=action: service.transact_write([action]))
        assert error.details["attribute"] == name
    # the same value through update_item: the same rule, the same answer
    _refused(code, lambda: service.update_item(TABLE, _item(), set={name: plain}))
    assert sent.calls == []


def test_wire_updates_leaving_index_keys_valid_are_sent(
    service: DynamoDBService, sent: RecordingProvider
) -> None:
    service.key_schema(TABLE)
    service.transact_write(
        [
            _wire_update(
                "SET #n0 = :v0, #n1 = :v1, #d.#n0 = :n ADD #c :n",
                {"#n0": "GSI1PK", "#n1": "GSI1SK", "#d": "doc", "#c": "count"},
                {":v0": {"S": "x" * 2048}, ":v1": {"S": "y"}, ":n": {"N": "1"}},
            )
        ]
    )
    assert sent.operations[-1] == "TransactWriteItems"
