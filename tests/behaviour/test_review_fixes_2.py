"""Edges found by review: aliases, nested removes, TTL updates, string sort-key bounds,
upserts, versions, folded reasons, limits with pages, date keys; through both APIs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, Field

from tctf_dynamo import (
    GSI,
    Entity,
    ErrorCode,
    InvalidInputError,
    Table,
    TransactionCancelledError,
    Update,
    attr,
)
from tests.behaviour.conftest import require

pytestmark = pytest.mark.both_apis


@pytest.fixture
def tokens(backend, table_name) -> Any:
    """A repository of tokens whose TTL field is a datetime, holding token "1"."""
    table = Table(table_name)

    class Token(Entity, table=table, pk="T#{token_id}", sk="META", ttl="expires_at"):
        token_id: str
        expires_at: datetime | None = None

    backend.service.create_table(table)
    repository = backend.repository(Token)
    repository.create(Token(token_id="1"))
    return repository


def test_aliased_fields_keep_index_keys_and_key_fields_safe(backend, table_name) -> None:
    table = Table(table_name, indexes=[GSI("GSI1")])

    class Member(Entity, table=table, pk="M#{member_id}", sk="META", gsi1=("EMAIL#{email}", "M")):
        member_id: str = Field(alias="memberId")
        email: str = Field(alias="emailAddress")

    backend.service.create_table(table)
    members = backend.repository(Member)
    members.create(Member(memberId="m1", emailAddress="a@x.io"))
    members.update({"member_id": "m1"}, set={"email": "c@x.io"})
    assert [m.member_id for m in members.query(index="GSI1", email="c@x.io")] == ["m1"]
    assert members.query(index="GSI1", email="a@x.io").all() == []
    with pytest.raises(InvalidInputError) as caught:
        members.update({"member_id": "m1"}, set={"member_id": "m2"})
    assert caught.value.code is ErrorCode.INVALID_KEY


def test_removing_a_required_nested_field_is_refused_before_sending(backend, table_name) -> None:
    class Address(BaseModel):
        city: str
        note: str | None = None

    table = Table(table_name)

    class Place(Entity, table=table, pk="P#{place_id}", sk="META"):
        place_id: str
        address: Address

    backend.service.create_table(table)
    places = backend.repository(Place)
    places.create(Place(place_id="1", address=Address(city="Lyon", note="x")))
    with pytest.raises(InvalidInputError) as caught:
        places.update({"place_id": "1"}, update=Update().remove("address.city"))
    assert caught.value.code is ErrorCode.INVALID_EXPRESSION
    assert (
        places.update({"place_id": "1"}, update=Update().remove("address.note")).address.note
        is None
    )
    assert places.get_or_raise(place_id="1").address.city == "Lyon"


def test_ttl_updates_store_epoch_seconds_either_way(backend, tokens) -> None:
    table = tokens.entity.__entity_meta__.table
    moment = datetime(2030, 1, 1, tzinfo=UTC)
    assert tokens.update({"token_id": "1"}, set={"expires_at": moment}).expires_at == moment
    tokens.update({"token_id": "1"}, update=Update().set("expires_at", moment))
    raw = backend.service.get_item(table, {"PK": "T#1", "SK": "META"})
    assert raw["expires_at"] == int(moment.timestamp())


def test_string_sort_key_bounds_are_exact(backend, table_name) -> None:
    table = Table(table_name)

    class Word(Entity, table=table, pk="W#{group}", sk="I#{name}"):
        group: str
        name: str

    backend.service.create_table(table)
    words = backend.repository(Word)
    for name in ("a", "ab", "b", "ba", "c"):
        words.create(Word(group="g", name=name))
    query = words.query(group="g")

    def names(q) -> list[str]:
        return [w.name for w in q]

    assert names(query.gt(name="a")) == ["ab", "b", "ba", "c"]
    assert names(query.lte(name="a")) == ["a"]
    assert names(query.between({"name": "a"}, {"name": "b"})) == ["a", "ab", "b"]
    assert names(query.begins(name="a")) == ["a"]
    assert names(query.lt(name="b")) == ["a", "ab"]


def test_an_upsert_creates_a_complete_item(backend, table_name) -> None:
    table = Table(table_name, indexes=[GSI("GSI1")])

    class Wallet(
        Entity,
        table=table,
        pk="USER#{user_id}",
        sk="WALLET",
        gsi1=("WALLETS", "{user_id}"),
        timestamps=True,
    ):
        user_id: str
        balance: Decimal = Decimal(0)

    backend.service.create_table(table)
    wallets = backend.repository(Wallet)
    if "transactions" in backend.capabilities:
        created = wallets.update({"user_id": "u2"}, add={"balance": Decimal(250)}, upsert=True)
    else:
        created = wallets.update({"user_id": "u2"}, set={"balance": Decimal(250)}, upsert=True)
    assert created.created_at is not None
    assert [w.user_id for w in wallets.query(index="GSI1")] == ["u2"]
    again = wallets.update({"user_id": "u2"}, set={"balance": Decimal(1)}, upsert=True)
    assert again.created_at == created.created_at


def test_expected_version_needs_a_versioned_entity(backend, models) -> None:
    orders = backend.repository(models.Order)
    orders.create(models.Order(user_id="u1", order_id="o1"))
    for call in (
        lambda: orders.delete({"user_id": "u1", "order_id": "o1"}, expected_version=9),
        lambda: orders.update(
            {"user_id": "u1", "order_id": "o1"}, set={"total": 1}, expected_version=9
        ),
    ):
        with pytest.raises(InvalidInputError) as caught:
            call()
        assert caught.value.code is ErrorCode.INVALID_EXPRESSION
    assert orders.get(user_id="u1", order_id="o1") is not None


def test_limits_bound_counts_and_are_refused_with_pages(backend, models) -> None:
    orders = backend.repository(models.Order)
    for n in range(6):
        orders.create(models.Order(user_id="u1", order_id=f"o{n}"))
    query = orders.query(user_id="u1")
    assert query.limit(2).count() == 2
    assert len(query.limit(2).all()) == 2
    with pytest.raises(InvalidInputError):
        query.limit(2).page(size=10)


def test_first_with_a_rare_filter_reads_pages_not_items(backend, table_name) -> None:
    recording = backend.recording()
    table = Table(table_name)

    class Event(Entity, table=table, pk="E#{stream}", sk="N#{number}"):
        stream: str
        number: int
        kind: str

    backend.service.create_table(table)
    events = backend.repository(Event, recording.service)
    for n in range(30):
        events.create(Event(stream="s", number=n, kind="rare" if n == 29 else "common"))
    recording.recorder.clear()
    found = events.query(stream="s").filter(attr("kind") == "rare").first()
    assert found is not None and found.number == 29
    assert len(recording.recorder.requests("Query")) == 1


def test_folded_write_without_a_condition_is_not_blamed(backend: Any, table_name: str) -> None:
    require(backend, "transactions")
    table = Table(table_name)

    class Account(Entity, table=table, pk="A#{account_id}", sk="META"):
        account_id: str
        status: str

    backend.service.create_table(table)
    backend.repository(Account).create(Account(account_id="1", status="OPEN"))
    with pytest.raises(TransactionCancelledError) as caught, backend.unit() as uow:
        uow.condition_check(Account, {"account_id": "1"}, attr("status") == "CLOSED")
        uow.put(Account(account_id="1", status="X"))
    assert [r.code for r in caught.value.reasons] == [ErrorCode.CONDITION_FAILED, None]


def test_a_date_key_field_given_a_datetime_builds_the_date_key() -> None:
    table = Table("date-keys")

    class Day(Entity, table=table, pk="D#{owner}", sk="DAY#{day}"):
        owner: str
        day: date

    midnight = datetime(2024, 5, 1, tzinfo=UTC)
    assert Day.sk_value(day=midnight) == Day.sk_value(day=date(2024, 5, 1))
    with pytest.raises(InvalidInputError) as caught:
        Day.sk_value(day=datetime(2024, 5, 1, 13, 30, tzinfo=UTC))
    assert caught.value.code is ErrorCode.INVALID_KEY


def test_updates_cannot_write_derived_attributes(backend, models) -> None:
    orders = backend.repository(models.Order)
    key = {"user_id": "u1", "order_id": "o1"}
    orders.create(models.Order(**key, status="OPEN"))
    for forged in ({"GSI1PK": "EMAIL#victim@x.io"}, {"_type": "User"}, {"PK": "USER#x"}):
        with pytest.raises(InvalidInputError) as caught:
            orders.update(key, set=forged)
        assert caught.value.code is ErrorCode.INVALID_EXPRESSION
    with pytest.raises(InvalidInputError):
        orders.update(key, remove=["GSI1PK"])
    assert orders.get_or_raise(**key).status == "OPEN"
    assert [o.order_id for o in orders.query(index="GSI1", status="OPEN")] == []  # no placed_at


def test_an_upsert_stores_key_fields_as_a_put_would(backend, table_name) -> None:
    table = Table(table_name)

    class Reading(Entity, table=table, pk="D#{device_id}", sk="R#{taken_at}#{seq}"):
        device_id: str
        taken_at: datetime
        seq: int
        value: int = 0

    backend.service.create_table(table)
    readings = backend.repository(Reading)
    key = {"device_id": "d1", "taken_at": "2024-01-02T05:04:05+02:00", "seq": "7"}
    readings.update(key, set={"value": 1}, upsert=True)
    raw = backend.service.scan(table).items[0]
    assert raw["seq"] == 7
    assert raw["taken_at"] == "2024-01-02T03:04:05.000000Z"
    readings.update(key, set={"value": 2}, condition=attr("seq") == 7)


def test_a_naive_ttl_datetime_is_refused_by_updates_too(tokens) -> None:
    with pytest.raises(InvalidInputError):
        tokens.update({"token_id": "1"}, set={"expires_at": datetime(2030, 1, 1, 12)})
    assert tokens.get_or_raise(token_id="1").expires_at is None


def test_nested_models_in_update_objects_are_stored_as_maps(backend, table_name) -> None:
    class Address(BaseModel):
        city: str

    table = Table(table_name)

    class Home(Entity, table=table, pk="H#{home_id}", sk="META"):
        home_id: str
        address: Address

    backend.service.create_table(table)
    homes = backend.repository(Home)
    homes.create(Home(home_id="1", address=Address(city="Oslo")))
    moved = homes.update({"home_id": "1"}, update=Update().set("address", Address(city="Bergen")))
    assert moved.address.city == "Bergen"


def test_a_folded_action_on_a_missing_item_blames_only_the_failing_intent(
    backend: Any, table_name: str
) -> None:
    require(backend, "transactions")
    table = Table(table_name)

    class Account(Entity, table=table, pk="A#{account_id}", sk="META"):
        account_id: str
        closed: bool = False

    backend.service.create_table(table)
    with pytest.raises(TransactionCancelledError) as caught, backend.unit() as uow:
        uow.update(Account, {"account_id": "nobody"}, set={"closed": True})
        uow.condition_check(Account, {"account_id": "nobody"}, attr("closed").not_exists())
    assert [r.code for r in caught.value.reasons] == [ErrorCode.CONDITION_FAILED, None]


def test_a_date_still_names_a_whole_day_when_it_is_the_last_field(backend, table_name) -> None:
    table = Table(table_name)

    class Ping(Entity, table=table, pk="P#{host}", sk="AT#{at}"):
        host: str
        at: datetime

    backend.service.create_table(table)
    pings = backend.repository(Ping)
    for hour in (1, 13, 23):
        pings.create(Ping(host="h", at=datetime(2024, 5, 1, hour, tzinfo=UTC)))
    pings.create(Ping(host="h", at=datetime(2024, 5, 2, 0, tzinfo=UTC)))
    day = pings.query(host="h").begins(at=date(2024, 5, 1)).all()
    assert [p.at.hour for p in day] == [1, 13, 23]
    exact = pings.query(host="h").begins(at=datetime(2024, 5, 1, 13, tzinfo=UTC)).all()
    assert [p.at.hour for p in exact] == [13]
