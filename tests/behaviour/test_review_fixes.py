"""Edges found while documenting: LSIs, keys-only indexes, key fields, versions, None;
through both APIs."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tctf_dynamo import (
    GSI,
    LSI,
    ConditionFailedError,
    Entity,
    ErrorCode,
    IndexProjection,
    InvalidInputError,
    Table,
)
from tctf_dynamo.wire.codec import decode_item

pytestmark = pytest.mark.both_apis


def test_updates_work_on_a_table_with_a_local_index(backend: SimpleNamespace, table_name) -> None:
    table = Table(table_name, indexes=[LSI("LSI1")])

    class Note(Entity, table=table, pk="N#{note_id}", sk="NOTE", lsi1="T#{title}"):
        note_id: str
        title: str

    backend.service.create_table(table)
    notes = backend.repository(Note)
    notes.create(Note(note_id="1", title="a"))
    assert notes.update({"note_id": "1"}, set={"title": "b"}).title == "b"
    assert [n.title for n in notes.query(index="LSI1", note_id="1")] == ["b"]


def test_a_keys_only_index_still_answers_queries(backend: SimpleNamespace, table_name) -> None:
    table = Table(table_name, indexes=[GSI("GSI1", projection=IndexProjection.keys_only())])

    class Card(Entity, table=table, pk="C#{card_id}", sk="META", gsi1=("G#{group}", "C#{card_id}")):
        card_id: str
        group: str

    backend.service.create_table(table)
    cards = backend.repository(Card)
    cards.create(Card(card_id="c1", group="g"))
    query = cards.query(index="GSI1", group="g")
    assert query.count() == 1
    assert query.project("GSI1PK").all() == [{"GSI1PK": "G#g"}]


def test_primary_key_fields_cannot_be_updated(backend, models) -> None:
    orders = backend.repository(models.Order)
    orders.create(models.Order(user_id="u1", order_id="o1"))
    with pytest.raises(InvalidInputError) as caught:
        orders.update({"user_id": "u1", "order_id": "o1"}, set={"order_id": "o2"})
    assert caught.value.code is ErrorCode.INVALID_KEY
    assert orders.get(user_id="u1", order_id="o1").order_id == "o1"


def test_deleting_a_stale_instance_is_refused(backend, models) -> None:
    users = backend.repository(models.User)
    stale = users.create(models.User(user_id="u1", email="a@x.io", name="A"))
    users.update(stale, set={"name": "B"})
    with pytest.raises(ConditionFailedError):
        users.delete(stale)
    assert users.get(user_id="u1") is not None


def test_setting_none_removes_the_attribute_as_put_does(backend, models) -> None:
    orders = backend.repository(models.Order)
    orders.create(models.Order(user_id="u1", order_id="o1", status="OPEN"))
    cleared = orders.update({"user_id": "u1", "order_id": "o1"}, set={"status": None})
    assert cleared.status is None
    plain_key = decode_item(models.Order.key(user_id="u1", order_id="o1"))
    stored = backend.sync.get_item(models.table, plain_key)
    assert "status" not in stored


def test_a_failed_condition_on_an_add_is_a_condition_failure(backend, models) -> None:
    if "transactions" not in backend.capabilities:
        pytest.skip(f"{backend.name} has no transactions; idempotent ADD needs one")
    users = backend.repository(models.User)
    with pytest.raises(ConditionFailedError):
        users.update({"user_id": "ghost"}, add={"credits": 1})


def test_consistent_reads_on_a_global_index_are_refused(backend, models) -> None:
    users = backend.repository(models.User)
    with pytest.raises(InvalidInputError) as caught:
        users.query(index="GSI1", email="a@x.io").consistent()
    assert caught.value.code is ErrorCode.INVALID_EXPRESSION
