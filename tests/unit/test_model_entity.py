"""Entities to wire items and back: keys, escaping, sparse indexes, managed fields, errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Literal
from uuid import UUID

import pydantic
import pytest

from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode, InvalidInputError
from tctf_dynamo.model import GSI, Entity, Projection, Table

MOMENT = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)


class Plan(Enum):
    FREE = "free"
    PRO = "pro"


@pytest.fixture
def table():
    table = Table("platform", indexes=[GSI("GSI1"), GSI("GSI2", projection=Projection.keys_only())])

    class User(
        Entity,
        table=table,
        pk="USER#{user_id}",
        sk="PROFILE",
        gsi1=("EMAIL#{email}", "USER#{user_id}"),
    ):
        user_id: str
        email: str | None = None
        name: str
        plan: Plan = Plan.FREE

    class Session(
        Entity,
        table=table,
        pk="USER#{user_id}",
        sk="SESSION#{created_at}#{session_id}",
        timestamps=True,
        version="version",
        ttl="expires_at",
    ):
        user_id: str
        session_id: str
        created_at: datetime
        expires_at: datetime | None = None

    class Order(
        Entity,
        table=table,
        pk="ORDER#{order_id}",
        sk="META",
        gsi1=("USER#{user_id}", "ORDER#{placed_on}#{total}"),
        gsi2=("STATUS#{status}", "ORDER#{order_id}"),
    ):
        order_id: str
        user_id: str
        placed_on: date
        total: Decimal
        status: Literal["OPEN", "PAID"] | None = None
        note: str = pydantic.Field(default="", alias="Note")

    return table


def test_to_item_shape(table):
    User = table.entities["User"]
    user = User(user_id="u1", email="a@example.com", name="Ann")
    assert user.to_item() == {
        "PK": {"S": "USER#u1"},
        "SK": {"S": "PROFILE"},
        "GSI1PK": {"S": "EMAIL#a@example.com"},
        "GSI1SK": {"S": "USER#u1"},
        "_type": {"S": "User"},
        "user_id": {"S": "u1"},
        "email": {"S": "a@example.com"},
        "name": {"S": "Ann"},
        "plan": {"S": "free"},
    }
    assert User.from_item(user.to_item()) == user


def test_key_and_value_helpers(table):
    User, Session = table.entities["User"], table.entities["Session"]
    assert User.key(user_id="u1") == {"PK": {"S": "USER#u1"}, "SK": {"S": "PROFILE"}}
    assert User.pk_value(user_id="u1") == "USER#u1"
    assert Session.sk_prefix() == "SESSION#"
    assert Session.sk_prefix(created_at=MOMENT) == "SESSION#2024-05-01T12:30:00.000000Z#"
    assert Session.sk_prefix(created_at=date(2024, 5, 1)) == "SESSION#2024-05-01"
    assert (
        Session.sk_value(created_at=MOMENT, session_id="s")
        == "SESSION#2024-05-01T12:30:00.000000Z#s"
    )
    assert User.index_pk_value("GSI1", email="e") == "EMAIL#e"
    assert User.index_keys("GSI1", email="e", user_id="1") == {
        "GSI1PK": {"S": "EMAIL#e"},
        "GSI1SK": {"S": "USER#1"},
    }
    assert table.entities["Order"].index_sk_prefix("GSI1", placed_on=date(2024, 1, 2)) == (
        "ORDER#2024-01-02#"
    )
    assert User.key_fields() == ("user_id",)


def test_key_refuses_missing_unknown_and_mistyped_fields(table):
    Session = table.entities["Session"]
    with pytest.raises(InvalidInputError, match="'session_id' is required") as caught:
        Session.key(user_id="u", created_at=MOMENT)
    assert caught.value.code is ErrorCode.INVALID_KEY
    assert caught.value.details["field"] == "session_id"
    with pytest.raises(InvalidInputError, match="not primary key fields"):
        Session.key(user_id="u", created_at=MOMENT, session_id="s", extra=1)
    with pytest.raises(InvalidInputError, match="expects datetime"):
        Session.key(user_id="u", created_at="not a time", session_id="s")
    with pytest.raises(InvalidInputError, match="naive datetime"):
        Session.key(user_id="u", created_at=datetime(2024, 1, 1), session_id="s")
    with pytest.raises(InvalidInputError, match="leading template fields"):
        Session.sk_prefix(session_id="s")


def test_values_are_coerced_to_the_field_type_in_keys(table):
    Session = table.entities["Session"]
    by_text = Session.key(user_id="u", created_at="2024-05-01T12:30:00Z", session_id="s")
    assert by_text == Session.key(user_id="u", created_at=MOMENT, session_id="s")


def test_other_time_zones_are_stored_in_utc(table):
    Session = table.entities["Session"]
    local = MOMENT.astimezone(timezone(timedelta(hours=-5)))
    assert Session.sk_value(created_at=local, session_id="s") == Session.sk_value(
        created_at=MOMENT, session_id="s"
    )


def test_delimiter_in_a_value_cannot_forge_another_key(table):
    User, Session = table.entities["User"], table.entities["Session"]
    forged = User(user_id="1#ADMIN", name="x")
    key = forged.primary_key()
    assert key["PK"] == {"S": "USER#1%23ADMIN"}
    assert User.parse_key(key) == {"user_id": "1#ADMIN"}
    with pytest.raises(InvalidInputError) as caught:
        Session.parse_key(key)
    assert caught.value.code is ErrorCode.INVALID_KEY
    sneaky = User(user_id="1#SESSION#x", name="x")
    assert User.parse_key(sneaky.primary_key()) == {"user_id": "1#SESSION#x"}
    percent = User(user_id="%23", name="x")
    assert User.parse_key(percent.primary_key()) == {"user_id": "%23"}


def test_reserved_prefix_cannot_be_reached_through_a_leading_field():
    table = Table("tenants")

    class Tenant(Entity, table=table, pk="{tenant}", sk="META"):
        tenant: str

    with pytest.raises(InvalidInputError, match="reserved prefix"):
        Tenant.key(tenant="__tctf_breaker__")
    assert Tenant.key(tenant="_tctf")["PK"] == {"S": "_tctf"}


def test_empty_and_control_character_key_values(table):
    User = table.entities["User"]
    with pytest.raises(InvalidInputError, match="empty string") as caught:
        User.key(user_id="")
    assert caught.value.code is ErrorCode.INVALID_KEY
    with pytest.raises(InvalidInputError, match="control character"):
        User(user_id="a\nb", name="x").to_item()
    # the same rule for a field that only an index key template holds
    with pytest.raises(InvalidInputError, match="control character") as caught:
        User(user_id="a", name="x", email="e\x00@x").to_item()
    assert caught.value.code is ErrorCode.INVALID_KEY
    with pytest.raises(InvalidInputError, match="control character"):
        User.index_keys("GSI1", email="e\x85", user_id="a")


def test_sparse_index_attributes_are_omitted(table):
    User, Order = table.entities["User"], table.entities["Order"]
    item = User(user_id="u1", name="Ann").to_item()
    assert not {"GSI1PK", "GSI1SK", "email"} & item.keys()
    order = Order(order_id="o1", user_id="u1", placed_on=date(2024, 1, 2), total=Decimal("9.5"))
    item = order.to_item()
    assert "GSI1PK" in item and "GSI2PK" not in item and "GSI2SK" not in item
    assert Order.from_item(item) == order


def test_alias_is_the_attribute_name(table):
    Order = table.entities["Order"]
    order = Order(order_id="o", user_id="u", placed_on=date(2024, 1, 2), total=1, Note="n")
    item = order.to_item()
    assert item["Note"] == {"S": "n"} and "note" not in item
    assert Order.from_item(item).note == "n"


def test_numbers_in_sort_keys_sort_numerically(table):
    Order = table.entities["Order"]
    texts = [
        Order.index_sk_value("GSI1", placed_on=date(2024, 1, 1), total=Decimal(total))
        for total in ["-100", "-9.5", "0", "0.25", "3", "20", "1E+30"]
    ]
    assert texts == sorted(texts)
    parsed = Order.parse_index_key(
        "GSI1",
        Order.index_keys("GSI1", user_id="u", placed_on=date(2024, 1, 1), total=Decimal("-9.5")),
    )
    assert parsed == {"user_id": "u", "placed_on": date(2024, 1, 1), "total": Decimal("-9.5")}


def test_ttl_is_stored_as_epoch_seconds_and_metadata_is_exposed(table):
    Session = table.entities["Session"]
    session = Session(user_id="u", session_id="s", created_at=MOMENT, expires_at=MOMENT)
    item = session.to_item()
    assert item["expires_at"] == {"N": str(int(MOMENT.timestamp()))}
    assert item["version"] == {"N": "0"}
    assert "updated_at" not in item  # None is stored by omission
    assert Session.from_item(item) == session
    meta = Session.__entity_meta__
    assert meta.name == "Session" and meta.table is table
    assert meta.ttl_field == meta.ttl_attribute == "expires_at"
    assert meta.version_attribute == "version"
    assert meta.timestamps.created == "created_at"
    assert meta.key_fields == ("user_id", "created_at", "session_id")
    assert table.entities["Order"].__entity_meta__.index_fields == {
        "GSI1": frozenset({"user_id", "placed_on", "total"}),
        "GSI2": frozenset({"status", "order_id"}),
    }
    with pytest.raises(InvalidInputError, match="naive datetime"):
        Session(
            user_id="u", session_id="s", created_at=MOMENT, expires_at=datetime(2030, 1, 1)
        ).to_item()


def test_update_key_effects_and_index_key_updates(table):
    User, Order = table.entities["User"], table.entities["Order"]
    assert User.update_key_effects({"email"}) == {"GSI1": frozenset({"email", "user_id"})}
    assert User.update_key_effects({"name"}) == {}
    update = User.index_key_updates({"user_id": "u1"}, {"email": "new@example.com"})
    assert update.set == {"GSI1PK": {"S": "EMAIL#new@example.com"}, "GSI1SK": {"S": "USER#u1"}}
    assert update.remove == ()
    cleared = User.index_key_updates({"user_id": "u1"}, {"email": None})
    assert cleared.set == {} and cleared.remove == ("GSI1PK", "GSI1SK")
    with pytest.raises(InvalidInputError) as caught:
        Order.index_key_updates({"order_id": "o1"}, {"total": Decimal(3)})
    assert caught.value.code is ErrorCode.INVALID_EXPRESSION
    assert caught.value.details["fields"] == ["placed_on", "user_id"]
    with pytest.raises(InvalidInputError) as caught:
        User.update_key_effects({"user_id"})
    assert caught.value.code is ErrorCode.INVALID_KEY


def test_invalid_data_raises_invalid_item_without_echoing_values(table):
    User = table.entities["User"]
    with pytest.raises(InvalidInputError) as caught:
        User(user_id="u1", name=["secret-value"])
    error = caught.value
    assert error.code is ErrorCode.INVALID_ITEM
    assert isinstance(error.__cause__, pydantic.ValidationError)
    assert error.details["errors"] == [{"loc": "name", "type": "string_type"}]
    assert "secret-value" not in str(error) and "secret-value" not in repr(error.details)


def test_from_item_refuses_other_entities_and_bad_data(table):
    User, Session = table.entities["User"], table.entities["Session"]
    item = User(user_id="u1", name="Ann").to_item()
    with pytest.raises(InvalidInputError, match="not a Session") as caught:
        Session.from_item(item)
    assert caught.value.code is ErrorCode.INVALID_ITEM
    broken = {**item, "name": {"N": "12"}}
    with pytest.raises(InvalidInputError) as caught:
        User.from_item(broken)
    assert caught.value.details["errors"][0]["loc"] == "name"
    with pytest.raises(InvalidInputError):
        User.from_item({**item, "name": "not an attribute value"})


def test_discriminator_decodes_a_mixed_collection(table):
    User, Session = table.entities["User"], table.entities["Session"]
    user = User(user_id="u1", name="Ann")
    session = Session(user_id="u1", session_id="s", created_at=MOMENT)
    stranger = {"PK": {"S": "USER#u1"}, "SK": {"S": "X"}, "_type": {"S": "Gone"}}
    decoded = [table.try_decode_item(item) for item in (user.to_item(), session.to_item())]
    assert decoded == [user, session]
    assert table.try_decode_item(stranger) is None
    with pytest.raises(DynamoDBServiceError) as caught:
        table.decode_item(stranger)
    assert caught.value.code is ErrorCode.INVALID_ITEM
    assert caught.value.details["type"] == "Gone"
    assert table.entity_for_item(session.to_item()) is Session


def test_twelve_attribute_entity_round_trips_exactly():
    table = Table("bench")

    class Wide(Entity, table=table, pk="W#{wide_id}", sk="META"):
        wide_id: str
        count: int
        price: Decimal
        active: bool
        at: datetime
        tags: list[str]
        labels: set[str]
        empty: set[str] = pydantic.Field(default_factory=set)
        extra: dict[str, object]
        missing: str | None = None
        ratio: float
        text: str
        ident: UUID

    wide = Wide(
        wide_id="w",
        count=-3,
        price=Decimal("1.50"),
        active=False,
        at=MOMENT,
        tags=["a"],
        labels={"x", "y"},
        extra={"n": 1, "deep": {"l": [True, None]}},
        ratio=0.1,
        text="t" * 200,
        ident=UUID(int=7),
    )
    item = wide.to_item()
    assert "empty" not in item and "missing" not in item
    assert Wide.from_item(item) == wide


def test_numeric_key_attribute_holds_one_numeric_field():
    table = Table("numbers", pk="id", sk=None, pk_type="N")

    class Counter(Entity, table=table, pk="{counter_id}"):
        counter_id: int

    assert Counter.key(counter_id=42) == {"id": {"N": "42"}}
    assert Counter.parse_key({"id": {"N": "42"}}) == {"counter_id": 42}
    with pytest.raises(DynamoDBServiceError, match="one numeric field"):

        class Bad(Entity, table=table, pk="C#{counter_id}"):
            counter_id: int


def test_nested_models_and_any_fields_are_stored_as_maps():
    table = Table("nested")

    class Address(pydantic.BaseModel):
        city: str
        since: datetime

    class Person(Entity, table=table, pk="P#{person_id}", sk="META"):
        person_id: str
        home: Address
        history: list[Address] = pydantic.Field(default_factory=list)
        anything: object = None

    person = Person(
        person_id="p",
        home=Address(city="Oslo", since=MOMENT),
        history=[Address(city="Rome", since=MOMENT)],
        anything={"model": Address(city="x", since=MOMENT), "n": 2},
    )
    item = person.to_item()
    assert item["home"] == {
        "M": {"city": {"S": "Oslo"}, "since": {"S": "2024-05-01T12:30:00.000000Z"}}
    }
    assert item["anything"]["M"]["model"]["M"]["city"] == {"S": "x"}
    decoded = Person.from_item(item)
    assert decoded.home == person.home and decoded.history == person.history
