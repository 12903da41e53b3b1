"""The plain-item API of DynamoDBService, and what bad input gets, on every backend.

Every test runs through the sync service and through the async one (``both_apis``)."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from tctf_dynamo import (
    ErrorCode,
    InvalidInputError,
    NotFoundError,
    Table,
    Update,
    attr,
    key,
)

pytestmark = pytest.mark.both_apis

PLAIN = "plain-items"


@pytest.fixture
def plain(backend: SimpleNamespace, table_name: str):
    table = Table(table_name)
    backend.service.create_table(table)
    yield table
    backend.service.delete_table(table, missing_ok=True)


@pytest.fixture
def service(backend: SimpleNamespace):
    return backend.service


def _count(service, table) -> int:
    return service.scan(table).count


def test_put_get_update_delete_round_trip(service, plain) -> None:
    service.put_item(plain, {"PK": "a", "SK": "1", "n": 1, "tags": {"x"}, "price": Decimal("1.5")})
    assert service.get_item(plain, {"PK": "a", "SK": "1"}) == {
        "PK": "a", "SK": "1", "n": 1, "tags": {"x"}, "price": Decimal("1.5"),
    }  # fmt: skip
    updated = service.update_item(plain, {"PK": "a", "SK": "1"}, set={"n": 2})
    assert updated["n"] == 2
    assert service.update_item(
        plain.name, {"PK": "a", "SK": "1"}, Update().add("n", 3)
    )["n"] == 5  # fmt: skip
    old = service.delete_item(plain, {"PK": "a", "SK": "1"}, return_old=True)
    assert old is not None and old["n"] == 5
    assert service.get_item(plain, {"PK": "a", "SK": "1"}) is None


def test_query_and_conditional_put(service, plain) -> None:
    for index in range(5):
        service.put_item(plain, {"PK": "p", "SK": f"{index:02d}", "even": index % 2 == 0})
    page = service.query(plain, (key("PK") == "p") & key("SK").between("01", "03"))
    assert [item["SK"] for item in page.items] == ["01", "02", "03"]
    filtered = service.query(plain, key("PK") == "p", filter=attr("even") == True)  # noqa: E712
    assert filtered.count == 3
    with pytest.raises(Exception) as caught:
        service.put_item(plain, {"PK": "p", "SK": "00"}, condition=attr("PK").not_exists())
    assert caught.value.code is ErrorCode.CONDITION_FAILED


@pytest.mark.parametrize(
    ("name", "code"),
    [("ab", ErrorCode.INVALID_TABLE_NAME), ("bad name!", ErrorCode.INVALID_TABLE_NAME),
     ("x" * 256, ErrorCode.INVALID_TABLE_NAME)],
)  # fmt: skip
def test_bad_table_names_are_refused_before_sending(service, name, code) -> None:
    with pytest.raises(InvalidInputError) as caught:
        service.get_item(name, {"PK": "a"})
    assert caught.value.code is code


@pytest.mark.parametrize(
    ("item", "code"),
    [
        ({"PK": "a"}, ErrorCode.INVALID_KEY),  # missing its sort key
        ({"PK": 1, "SK": "1"}, ErrorCode.INVALID_KEY),  # wrong type
        ({"PK": "", "SK": "1"}, ErrorCode.INVALID_KEY),  # empty
        ({"PK": "k" * 2049, "SK": "1"}, ErrorCode.KEY_TOO_LARGE),
        ({"PK": "a", "SK": "1", "blob": "x" * 409_600}, ErrorCode.ITEM_TOO_LARGE),
        ({"PK": "a", "SK": "1", "v": float("nan")}, ErrorCode.UNSUPPORTED_TYPE),
        ({"PK": "a", "SK": "1", "v": set()}, ErrorCode.UNSUPPORTED_TYPE),
        ({"PK": "a", "SK": "1", "v": "<script>alert(1)</script>"}, ErrorCode.UNSAFE_VALUE),
    ],
)
def test_bad_items_get_their_code_and_nothing_is_written(service, plain, item, code) -> None:
    with pytest.raises(InvalidInputError) as caught:
        service.put_item(plain, item)
    assert caught.value.code is code
    assert _count(service, plain) == 0


def test_a_wire_key_with_control_characters_is_stored_as_dynamodb_stores_it(service, plain) -> None:
    """DynamoDB keys are any non-empty UTF-8 string; only key templates refuse them."""
    item = {"PK": "a\x07", "SK": "1\n", "v": 1}
    service.put_item(plain, item)
    assert service.get_item(plain, {"PK": "a\x07", "SK": "1\n"}) == item
    service.delete_item(plain, {"PK": "a\x07", "SK": "1\n"})
    assert _count(service, plain) == 0


def test_an_item_exactly_at_the_limit_is_accepted(backend, service, plain) -> None:
    if "exact_item_limit" not in backend.capabilities:
        pytest.skip(f"{backend.name} refuses items above 405,000 bytes; DynamoDB allows 409,600")
    overhead = len("PK") + 1 + len("SK") + 1 + len("blob")
    service.put_item(plain, {"PK": "a", "SK": "1", "blob": "x" * (409_600 - overhead)})
    assert _count(service, plain) == 1


def test_a_missing_table_is_table_not_found(service, table_name) -> None:
    with pytest.raises(NotFoundError) as caught:
        service.get_item(f"{table_name}-missing", {"PK": "a"})
    assert caught.value.code is ErrorCode.TABLE_NOT_FOUND


def test_create_table_is_idempotent(service, plain) -> None:
    service.create_table(plain)
    assert service.describe_table(plain)["TableStatus"] == "ACTIVE"


def test_transact_write_and_get(backend, service, plain) -> None:
    if "transactions" not in backend.capabilities:
        pytest.skip(f"{backend.name} does not implement transactions")
    actions = [
        {"Put": {"TableName": plain.name, "Item": {"PK": {"S": "t"}, "SK": {"S": str(i)}}}}
        for i in range(3)
    ]
    service.transact_write(actions, client_request_token="token-1")
    got = service.transact_get([(plain, {"PK": "t", "SK": "0"}), (plain, {"PK": "t", "SK": "9"})])
    assert got == [{"PK": "t", "SK": "0"}, None]
    with pytest.raises(InvalidInputError) as caught:
        service.transact_write([actions[0], actions[0]])
    assert caught.value.code is ErrorCode.DUPLICATE_ITEM_IN_REQUEST


def test_single_request_batches_keep_their_limits(backend, plain) -> None:
    service = backend.service
    service.batch_write(plain, puts=[{"PK": "b", "SK": str(n)} for n in range(25)])
    found = service.batch_get(plain, [{"PK": "b", "SK": str(n)} for n in (0, 24, 99)])
    assert found == [{"PK": "b", "SK": "0"}, {"PK": "b", "SK": "24"}, None]
    with pytest.raises(InvalidInputError) as caught:
        service.batch_write(plain, puts=[{"PK": "c", "SK": str(n)} for n in range(26)])
    assert caught.value.code is ErrorCode.BATCH_SIZE_EXCEEDED
    with pytest.raises(InvalidInputError) as caught:
        service.batch_get(plain, [{"PK": "c", "SK": str(n)} for n in range(101)])
    assert caught.value.code is ErrorCode.BATCH_SIZE_EXCEEDED
    service.batch_write(plain, deletes=[{"PK": "b", "SK": str(n)} for n in range(25)])
    assert _count(service, plain) == 0
