"""Fields holding pydantic models: the compiled walk stores exactly what pydantic's dump
and the codec store, and anything it does not know takes that general path."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import IntEnum
from typing import Annotated, Any

import pydantic
import pytest

from tctf_dynamo import Entity, Table
from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode
from tctf_dynamo.model import nested
from tctf_dynamo.wire.codec import encode

TABLE = Table("nested-things")


class Level(IntEnum):
    LOW = 1
    HIGH = 2


class Geo(pydantic.BaseModel):
    lat: Decimal
    lon: Decimal


class Address(pydantic.BaseModel):
    street: str
    city: str | None = None
    number: int = 0
    since: datetime | None = None
    opened: date | None = None
    level: Level = Level.LOW
    codes: set[str] = {"a"}
    scores: list[int] = []
    extra: dict[str, str] = {}
    geo: Geo | None = None
    note: Annotated[str, pydantic.Field(max_length=50)] = "x"


class Line(pydantic.BaseModel):
    sku: str
    price: Decimal


class Serialized(pydantic.BaseModel):
    value: int

    @pydantic.field_serializer("value")
    def _twice(self, value: int) -> int:
        return value * 2


class Aliased(pydantic.BaseModel):
    value: str = pydantic.Field(serialization_alias="v")


class Thing(Entity, table=TABLE, pk="THING#{thing_id}", sk="T"):
    thing_id: str
    address: Address
    other: Address | None = None
    lines: list[Line] = pydantic.Field(default_factory=list)
    serialized: Serialized | None = None
    aliased: Aliased | None = None


def _general(value: Any) -> Any:
    """What the general path stores: pydantic's dump, then the codec."""
    return encode(
        pydantic.TypeAdapter(type(value)).dump_python(value, mode="python", by_alias=True)
    )


ADDRESSES = [
    Address(street="Main"),
    Address(
        street="Elm",
        city="Springfield",
        number=12,
        since=datetime(2024, 5, 1, 12, tzinfo=UTC),
        opened=date(2020, 1, 2),
        level=Level.HIGH,
        codes={"x", "y"},
        scores=[1, 2],
        extra={"k": "v"},
        geo=Geo(lat=Decimal("1.50"), lon=Decimal("-0.25")),
    ),
]


@pytest.mark.parametrize("address", ADDRESSES)
def test_a_plain_model_is_stored_as_the_general_path_stores_it(address: Address) -> None:
    item = Thing(thing_id="t", address=address).to_item()
    assert item["address"] == _general(address)


def test_lists_of_models_are_stored_as_the_general_path_stores_them() -> None:
    lines = [Line(sku="a", price=Decimal("1.10")), Line(sku="b", price=Decimal(3))]
    item = Thing(thing_id="t", address=ADDRESSES[0], lines=lines).to_item()
    assert item["lines"] == {"L": [_general(line) for line in lines]}


@pytest.mark.parametrize("address", ADDRESSES)
def test_models_round_trip(address: Address) -> None:
    thing = Thing(
        thing_id="t",
        address=address,
        other=ADDRESSES[1],
        lines=[Line(sku="a", price=Decimal("2.5"))],
    )
    assert Thing.from_item(thing.to_item()) == thing


def test_models_with_serializers_or_aliases_take_the_general_path() -> None:
    assert nested.model_converter(Serialized) is None
    assert nested.model_converter(Aliased) is None
    thing = Thing(
        thing_id="t",
        address=ADDRESSES[0],
        serialized=Serialized(value=2),
        aliased=Aliased(value="a"),
    )
    item = thing.to_item()
    assert item["serialized"] == {"M": {"value": {"N": "4"}}}
    assert item["aliased"] == {"M": {"v": {"S": "a"}}}


def test_a_subclass_instance_is_stored_as_its_declared_type() -> None:
    class Wider(Address):
        secret: str = "s"

    thing = Thing(thing_id="t", address=Wider(street="Main"))
    assert thing.to_item()["address"] == _general(Address(street="Main"))


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_value_the_codec_refuses_is_reported_by_the_general_path() -> None:
    thing = Thing(thing_id="t", address=Address(street="Main", number=1))
    thing.address.__dict__["number"] = object()  # bypassing validation on purpose
    with pytest.raises(DynamoDBServiceError) as caught:
        thing.to_item()
    assert caught.value.code is ErrorCode.UNSUPPORTED_TYPE


def test_a_malformed_nested_attribute_is_left_to_pydantic() -> None:
    item = Thing(thing_id="t", address=ADDRESSES[0]).to_item()
    item["address"] = {"M": {"street": {"N": "5"}, "unknown": {"S": "x"}}}
    with pytest.raises(DynamoDBServiceError) as caught:
        Thing.from_item(item)
    assert caught.value.code is ErrorCode.INVALID_ITEM


def test_an_empty_set_in_a_nested_model_is_omitted_as_the_general_path_does() -> None:
    item = Thing(thing_id="t", address=Address(street="Main", codes=set())).to_item()
    assert "codes" not in item["address"]["M"]
    assert item["address"]["M"]["street"] == {"S": "Main"}
