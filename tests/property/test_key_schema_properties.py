"""Property tests: sortable encodings, generated entities, and check_key_schema itself."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import IntEnum
from typing import Literal
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tctf_dynamo import limits
from tctf_dynamo.model import GSI, Entity, Table
from tctf_dynamo.model import registry as registry_module
from tctf_dynamo.model.sortable import (
    decode_sortable_datetime,
    decode_sortable_number,
    encode_sortable_date,
    encode_sortable_datetime,
    encode_sortable_number,
)
from tctf_dynamo.model.templates import escape_key_text, unescape_key_text
from tctf_dynamo.testing.schema_checks import check_key_schema
from tctf_dynamo.testing.strategies import entities, key_text

FAST = settings(max_examples=300, deadline=None)

# DynamoDB's whole range: 38 significant digits, exponents -130..125
dynamo_decimals = st.builds(
    lambda digits, exponent, negative: Decimal(f"{'-' if negative else ''}{digits}E{exponent}"),
    st.integers(0, 10**limits.MAX_NUMBER_PRECISION - 1),
    st.integers(-130, 125 - limits.MAX_NUMBER_PRECISION + 1),
    st.booleans(),
)
ints = st.integers(-(10**38) + 1, 10**38 - 1)
finite_floats = st.floats(allow_nan=False, allow_infinity=False).filter(
    lambda number: number == 0 or 1e-130 <= abs(number) < 9e125
)


def assert_order_preserved(low, high, encode):
    a, b = encode(low).encode(), encode(high).encode()
    assert (a < b) == (low < high)
    assert (a == b) == (low == high)


@FAST
@given(ints, ints)
def test_int_encoding_orders_like_ints(low, high):
    assert_order_preserved(low, high, encode_sortable_number)


@FAST
@given(dynamo_decimals, dynamo_decimals)
def test_decimal_encoding_orders_like_decimals(low, high):
    assert_order_preserved(low, high, encode_sortable_number)


@FAST
@given(finite_floats, finite_floats)
def test_float_encoding_orders_like_floats(low, high):
    assert_order_preserved(low, high, encode_sortable_number)


@FAST
@given(st.one_of(ints, dynamo_decimals))
def test_numbers_round_trip_exactly(number):
    assert decode_sortable_number(encode_sortable_number(number)) == number


@FAST
@given(finite_floats)
def test_floats_round_trip_exactly(number):
    assert float(decode_sortable_number(encode_sortable_number(number))) == number


@FAST
@given(dynamo_decimals, dynamo_decimals, st.sampled_from(["#X", "", "Z", "#"]))
def test_number_encoding_is_prefix_free(low, high, suffix):
    """Order holds whatever literal follows the number in the template."""
    a = (encode_sortable_number(low) + suffix).encode()
    b = (encode_sortable_number(high) + suffix).encode()
    if low != high:
        assert (a < b) == (low < high)


aware = st.datetimes(
    timezones=st.sampled_from([UTC, None]).flatmap(
        lambda tz: st.just(UTC) if tz else st.timezones()
    )
)


@settings(max_examples=100, deadline=None)
@given(aware, aware)
def test_datetime_encoding_orders_like_instants(low, high):
    try:
        assert_order_preserved(low, high, encode_sortable_datetime)
    except Exception as error:  # only conversion past year 9999/1 may be refused
        assert getattr(error, "code", None) == "INVALID_KEY"


@FAST
@given(st.datetimes(timezones=st.just(UTC)))
def test_datetime_round_trips_and_has_its_day_as_prefix(moment):
    text = encode_sortable_datetime(moment)
    assert decode_sortable_datetime(text) == moment
    assert text.startswith(encode_sortable_date(moment.date()))


@FAST
@given(st.dates(), st.dates())
def test_date_encoding_orders_like_dates(low, high):
    assert_order_preserved(low, high, encode_sortable_date)


@FAST
@given(key_text())
def test_escaped_text_never_holds_the_delimiter_and_round_trips(text):
    escaped = escape_key_text(text)
    assert "#" not in escaped
    assert unescape_key_text(escaped) == text


# ---------------------------------------------------------------- a realistic table


class Status(IntEnum):
    OPEN = 1
    PAID = 2
    SHIPPED = 3


def build_platform() -> Table:
    table = Table("platform", indexes=[GSI("GSI1"), GSI("GSI2")])

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
        session_id: UUID
        created_at: datetime
        expires_at: datetime | None = None

    class Settings(Entity, table=table, pk="USER#{user_id}", sk="SETTINGS"):
        user_id: str
        theme: Literal["light", "dark"] = "light"

    class Order(
        Entity,
        table=table,
        pk="ORDER#{order_id}",
        sk="META",
        gsi1=("USER#{user_id}", "ORDER#{placed_on}#{order_id}"),
        gsi2=("STATUS#{status}", "{total}#{order_id}"),
    ):
        order_id: str
        user_id: str
        placed_on: date
        status: Status
        total: Decimal

    class OrderLine(Entity, table=table, pk="ORDER#{order_id}", sk="LINE#{line_no}"):
        order_id: str
        line_no: int
        sku: str
        quantity: int
        unit_price: Decimal

    class Escrow(Entity, table=table, pk="ESCROW#{escrow_id}", sk="META"):
        escrow_id: str
        amount: Decimal
        status: Literal["FUNDED", "RELEASED"]

    return table


def test_check_key_schema_passes_on_a_realistic_table():
    table = build_platform()
    assert len(table.entities) == 6
    check_key_schema(table, max_examples=40)


def test_check_key_schema_catches_a_collision_the_class_checks_were_kept_from(monkeypatch):
    """With the class-definition check switched off, two entities share key shapes."""
    monkeypatch.setattr(registry_module, "_check_pair", lambda new, old: None)
    table = Table("broken")

    class Invoice(Entity, table=table, pk="DOC#{doc_id}", sk="V#{version_no}"):
        doc_id: str
        version_no: int

    class Receipt(Entity, table=table, pk="DOC#{doc_id}", sk="V#{version_no}"):
        doc_id: str
        version_no: int

    with pytest.raises(AssertionError, match="same primary key"):
        check_key_schema(table, max_examples=200)


def test_check_key_schema_catches_prefix_capture(monkeypatch):
    monkeypatch.setattr(registry_module, "_check_pair", lambda new, old: None)
    table = Table("broken")

    class Current(Entity, table=table, pk="T#{tenant}", sk="SESSION#{session_id}"):
        tenant: Literal["t"]
        session_id: str

    class Archived(Entity, table=table, pk="T#{tenant}", sk="SESSION#ARCHIVED#{session_id}"):
        tenant: Literal["t"]
        session_id: str

    with pytest.raises(AssertionError, match="begins_with"):
        check_key_schema(table, max_examples=100)


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_generated_entities_round_trip_through_items(data):
    table = PLATFORM
    for entity in table.entities.values():
        instance = data.draw(entities(entity))
        assert entity.from_item(instance.to_item()) == instance
        assert table.decode_item(instance.to_item()) == instance


PLATFORM = build_platform()


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_keys_from_fields_are_the_keys_of_instances_and_of_the_validating_path(data):
    for entity in PLATFORM.entities.values():
        instance = data.draw(entities(entity))
        fields = {name: getattr(instance, name) for name in entity.key_fields()}
        wire = entity.key(**fields)
        assert wire == instance.primary_key()
        for key in entity.__entity_plan__.primary.keys:  # every field through its codec
            text = key._checked(key.template.format(key.texts(fields, key.fields)))
            assert wire[key.attribute] == {key.wire_type: text}


def test_key_fields_of_another_type_are_validated_into_the_same_key():
    line = PLATFORM.entities["OrderLine"]
    assert line.key(order_id="o1", line_no="7") == line.key(order_id="o1", line_no=7)
