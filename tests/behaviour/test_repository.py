"""Repository reads and writes, the same on every backend and through both APIs."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from tctf_dynamo import (
    ConditionFailedError,
    ErrorCode,
    InvalidInputError,
    NotFoundError,
    attr,
)

pytestmark = pytest.mark.both_apis


@pytest.fixture
def users(backend: SimpleNamespace, models: SimpleNamespace) -> Any:
    return backend.repository(models.User)


def _user(models: SimpleNamespace, user_id: str = "u1", **fields: object):
    values = {"email": f"{user_id}@example.com", "name": "Ada", **fields}
    return models.User(user_id=user_id, **values)


def test_create_then_get_returns_the_stored_entity(users, models) -> None:
    created = users.create(_user(models))
    assert created.version == 1
    assert created.created_at is not None and created.created_at == created.updated_at
    fetched = users.get(user_id="u1", consistent=True)
    assert fetched == created


def test_get_of_a_missing_item_is_none_and_get_or_raise_says_not_found(users) -> None:
    assert users.get(user_id="nobody") is None
    with pytest.raises(NotFoundError) as caught:
        users.get_or_raise(user_id="nobody")
    assert caught.value.code is ErrorCode.ITEM_NOT_FOUND


def test_create_refuses_an_existing_item(users, models) -> None:
    users.create(_user(models))
    with pytest.raises(ConditionFailedError):
        users.create(_user(models, name="Other"))
    assert users.get(user_id="u1").name == "Ada"


def test_stale_version_is_refused(users, models) -> None:
    first = users.create(_user(models))
    users.put(first.model_copy(update={"name": "Second"}))
    with pytest.raises(ConditionFailedError):
        users.put(first.model_copy(update={"name": "Stale"}))
    stored = users.get(user_id="u1", consistent=True)
    assert stored.name == "Second"
    assert stored.version == 2


def test_update_returns_new_entity_and_rewrites_the_index_key(users, models, backend) -> None:
    created = users.create(_user(models))
    updated = users.update(created, set={"email": "new@example.com"})
    assert updated.email == "new@example.com"
    assert updated.version == 2
    found = list(users.query(index="GSI1", email="new@example.com"))
    assert [user.user_id for user in found] == ["u1"]
    assert list(users.query(index="GSI1", email="u1@example.com")) == []


def test_update_of_a_missing_item_creates_nothing(users, models) -> None:
    with pytest.raises(ConditionFailedError):
        users.update({"user_id": "ghost"}, set={"name": "Boo"})
    assert users.get(user_id="ghost") is None


def test_update_with_a_condition_that_fails_changes_nothing(users, models) -> None:
    users.create(_user(models))
    with pytest.raises(ConditionFailedError):
        users.update({"user_id": "u1"}, set={"name": "X"}, condition=attr("credits") > 10)
    assert users.get(user_id="u1").name == "Ada"


def test_add_is_applied_exactly_once(users, models, backend) -> None:
    if "transactions" not in backend.capabilities:
        pytest.skip(f"{backend.name} has no transactions; idempotent ADD needs one")
    users.create(_user(models))
    after = users.update({"user_id": "u1"}, add={"credits": 5, "tags": {"a"}})
    assert after.credits == 5
    assert after.tags == {"a"}


def test_non_idempotent_update_can_opt_out_of_the_transaction(users, models) -> None:
    users.create(_user(models))
    after = users.update({"user_id": "u1"}, add={"credits": 3}, idempotent=False)
    assert after.credits == 3


def test_delete_returns_the_deleted_entity(users, models) -> None:
    users.create(_user(models))
    deleted = users.delete({"user_id": "u1"})
    assert deleted is not None and deleted.user_id == "u1"
    assert users.get(user_id="u1") is None
    assert users.delete({"user_id": "u1"}) is None


def test_key_values_cannot_forge_another_key(users, models) -> None:
    users.create(_user(models, user_id="1#ADMIN"))
    assert users.get(user_id="1") is None
    assert users.get(user_id="1#ADMIN").user_id == "1#ADMIN"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"name": "<script>alert(1)</script>"}, ErrorCode.UNSAFE_VALUE),
        ({"name": "x" * 409_600}, ErrorCode.ITEM_TOO_LARGE),
    ],
)
def test_bad_items_are_refused_and_nothing_is_written(users, models, fields, code) -> None:
    with pytest.raises(InvalidInputError) as caught:
        users.create(_user(models, **fields))
    assert caught.value.code is code
    assert users.get(user_id="u1") is None


def test_invalid_model_data_is_an_invalid_item_error(models) -> None:
    with pytest.raises(InvalidInputError) as caught:
        models.User(user_id="u1", email="e", name=None)
    assert caught.value.code is ErrorCode.INVALID_ITEM
    assert caught.value.details["errors"][0]["loc"] == "name"


def test_update_of_an_unknown_attribute_is_refused_before_sending(users, models) -> None:
    users.create(_user(models))
    with pytest.raises(InvalidInputError) as caught:
        users.update({"user_id": "u1"}, set={"nmae": "typo"})
    assert caught.value.code is ErrorCode.INVALID_EXPRESSION


def test_sparse_index_holds_only_items_with_the_fields(backend, models) -> None:
    orders = backend.repository(models.Order)
    placed = datetime(2024, 5, 1, tzinfo=UTC)
    orders.create(models.Order(user_id="u1", order_id="o1", status="OPEN", placed_at=placed))
    orders.create(models.Order(user_id="u1", order_id="o2"))
    open_orders = list(orders.query(index="GSI1", status="OPEN"))
    assert [order.order_id for order in open_orders] == ["o1"]
    orders.update({"user_id": "u1", "order_id": "o1"}, remove=["status"])
    assert list(orders.query(index="GSI1", status="OPEN")) == []


def test_upsert_creates_a_readable_entity(backend, models) -> None:
    orders = backend.repository(models.Order)
    stored = orders.update({"user_id": "u9", "order_id": "o9"}, set={"total": 12}, upsert=True)
    assert stored.user_id == "u9" and stored.order_id == "o9"
    assert orders.get(user_id="u9", order_id="o9").total == 12
