"""One unreadable item never breaks a partition: every read names it, and may skip it
or hand it back raw (``on_invalid``), on every backend (repository reads and queries
through both APIs)."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from tctf_dynamo import ErrorCode, InvalidInputError, InvalidItem
from tests.behaviour.conftest import require

pytestmark = pytest.mark.both_apis


BAD_KEY = {"PK": "USER#u1", "SK": "ORDER#o2"}


@pytest.fixture
def orders(backend: SimpleNamespace, models: SimpleNamespace) -> SimpleNamespace:
    """Three good orders and, between them, one an older model wrote (total is text)."""
    repo = backend.repository(models.Order)
    for order_id in ("o1", "o3", "o4"):
        repo.put(models.Order(user_id="u1", order_id=order_id, total=Decimal(1)))
    bad = {**BAD_KEY, "_type": "Order", "user_id": "u1", "order_id": "o2", "total": "lots"}
    backend.sync.put_item(models.table, bad)
    return SimpleNamespace(repo=repo, models=models, service=backend.service, sync=backend.sync)


def test_the_error_names_the_table_and_the_key_but_no_other_value(orders: Any) -> None:
    with pytest.raises(InvalidInputError) as raised:
        orders.repo.get(user_id="u1", order_id="o2")
    error = raised.value
    assert error.code is ErrorCode.INVALID_ITEM
    assert error.details["table"] == orders.models.table.name
    assert error.details["key"] == BAD_KEY
    assert error.details["errors"] == [{"loc": "total", "type": "decimal_parsing"}]
    assert orders.models.table.name in error.message
    assert "lots" not in error.message and "lots" not in str(error.details)


def test_a_query_raises_by_default_and_names_the_item(orders: Any) -> None:
    with pytest.raises(InvalidInputError) as raised:
        orders.repo.query(user_id="u1").all()
    assert raised.value.details["key"] == BAD_KEY


def test_skipping_reads_the_rest_of_the_partition_and_reports_the_key(orders: Any) -> None:
    query = orders.repo.query(user_id="u1").on_invalid("skip")
    assert [order.order_id for order in query] == ["o1", "o3", "o4"]
    page = query.page(size=10)
    assert [order.order_id for order in page.items] == ["o1", "o3", "o4"]
    assert [invalid.key for invalid in page.invalid] == [BAD_KEY]
    assert page.invalid[0].table == orders.models.table.name
    scanned = orders.repo.scan().on_invalid("skip").page(size=10)
    assert len(scanned.items) == 3 and [i.key for i in scanned.invalid] == [BAD_KEY]
    collection = orders.repo.query(user_id="u1").collection().on_invalid("skip").page(size=10)
    assert len(collection.items) == 3 and [i.key for i in collection.invalid] == [BAD_KEY]


def test_raw_returns_the_stored_item_in_its_place(orders: Any) -> None:
    found = orders.repo.query(user_id="u1").on_invalid("raw").all()
    assert [type(item).__name__ for item in found] == ["Order", "InvalidItem", "Order", "Order"]
    raw = found[1]
    assert isinstance(raw, InvalidItem)
    assert raw.values()["total"] == "lots" and raw.item["total"] == {"S": "lots"}
    assert raw.error.code is ErrorCode.INVALID_ITEM
    single = orders.repo.get(user_id="u1", order_id="o2", on_invalid="raw")
    assert isinstance(single, InvalidItem) and single.key == BAD_KEY


def test_gets_and_batch_gets_take_the_same_choice(orders: Any) -> None:
    keys = [{"user_id": "u1", "order_id": order_id} for order_id in ("o1", "o2", "o9")]
    assert orders.repo.get(user_id="u1", order_id="o2", on_invalid="skip") is None
    with pytest.raises(InvalidInputError):
        orders.repo.batch_get(keys)
    skipped = orders.repo.batch_get(keys, on_invalid="skip")
    assert [item and item.order_id for item in skipped] == ["o1", None, None]
    raw = orders.repo.batch_get(keys, on_invalid="raw")
    assert isinstance(raw[1], InvalidItem) and raw[1].key == BAD_KEY and raw[2] is None


def test_read_together_takes_the_same_choice(backend: SimpleNamespace, orders: Any) -> None:
    require(backend, "transactions")
    order = orders.models.Order
    keys = [
        (order, {"user_id": "u1", "order_id": "o1"}),
        (order, {"user_id": "u1", "order_id": "o2"}),
    ]
    with pytest.raises(InvalidInputError):
        backend.read_together(keys)
    good, raw = backend.read_together(keys, on_invalid="raw")
    assert isinstance(good, order) and isinstance(raw, InvalidItem) and raw.key == BAD_KEY


def test_an_unknown_choice_is_refused(orders: Any) -> None:
    for read in (
        lambda: orders.repo.get(user_id="u1", order_id="o1", on_invalid="ignore"),
        lambda: orders.repo.query(user_id="u1").on_invalid("ignore"),
    ):
        with pytest.raises(InvalidInputError) as raised:
            read()
        assert raised.value.code is ErrorCode.INVALID_CONFIGURATION


def test_a_write_whose_item_cannot_be_read_back_says_it_was_applied(orders: Any) -> None:
    key = {"PK": "USER#u1", "SK": "ORDER#o5"}
    lost = {**key, "_type": "Order", "user_id": "u1", "order_id": "o5", "status": "LOST"}
    orders.sync.put_item(orders.models.table, lost)
    fields = {"user_id": "u1", "order_id": "o5"}
    with pytest.raises(InvalidInputError) as raised:
        orders.repo.update(fields, set={"total": Decimal(5)}, idempotent=False)
    assert raised.value.details["applied"] is True and raised.value.details["key"] == key
    assert orders.sync.get_item(orders.models.table, key)["total"] == 5
    with pytest.raises(InvalidInputError) as raised:
        orders.repo.delete(fields)
    assert raised.value.details["applied"] is True
    assert orders.sync.get_item(orders.models.table, key) is None
