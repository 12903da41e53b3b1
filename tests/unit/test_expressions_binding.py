"""Binding expressions to pydantic models: unknown attributes and ill-typed values."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

import pytest
from pydantic import BaseModel, Field

from tctf_dynamo.errors import ErrorCode, InvalidInputError
from tctf_dynamo.expressions import (
    Projection,
    Update,
    attr,
    bind,
    check_condition,
    check_key_condition,
    check_projection,
    check_update,
    if_not_exists,
    key,
    list_append,
    size,
)

KEYS = {"PK": str, "SK": str}


class Address(BaseModel):
    city: str
    zip_code: str = Field(alias="zip")


class Kind(StrEnum):
    SALE = "SALE"
    REFUND = "REFUND"


class Order(BaseModel):
    order_id: str
    amount: Decimal
    count: int = 0
    ratio: float | None = None
    status: Literal["FUNDED", "RELEASED"]
    kind: Kind = Kind.SALE
    flag: bool = False
    created: datetime
    day: date | None = None
    ident: UUID | None = None
    tags: set[str] = set()
    scores: frozenset[int] = frozenset()
    items: list[str] = []
    lines: list[Address] = []
    address: Address | None = None
    meta: dict[str, int] = {}
    raw: bytes = b""
    extra: Any = None
    note: Annotated[str, Field(max_length=10)] = ""
    display: str = Field(default="", serialization_alias="displayName")


def refused(check: Any) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as caught:
        check()
    assert caught.value.code is ErrorCode.INVALID_EXPRESSION
    return caught.value


def test_misspelled_attribute_is_named_with_the_model() -> None:
    error = refused(lambda: check_condition(attr("stauts") == "FUNDED", Order))
    assert "'stauts'" in error.message
    assert "Order" in error.message
    assert error.details == {"attribute": "stauts", "model": "Order"}


def test_messages_never_echo_values() -> None:
    error = refused(lambda: check_condition(attr("count") == "secret-value", Order))
    assert "secret-value" not in str(error)
    assert "secret-value" not in repr(error.details)
    assert error.details["attribute"] == "count"


@pytest.mark.parametrize(
    "condition",
    [
        attr("amount") == 1,
        attr("amount") < 2.5,
        attr("count") == Decimal("3"),
        attr("ratio") == None,  # noqa: E711
        attr("status") == "FUNDED",
        attr("status") < "Z",
        attr("status").begins_with("FUN"),
        attr("kind") == Kind.SALE,
        attr("kind") == "REFUND",
        attr("flag") == True,  # noqa: E712
        attr("created") > datetime(2024, 1, 1, tzinfo=UTC),
        attr("created").begins_with("2024-"),
        attr("day").between(date(2024, 1, 1), date(2024, 2, 1)),
        attr("ident").begins_with("0f"),
        attr("note") == "short",
        attr("raw").begins_with(b"\x00"),
        attr("count").is_in(1, 2, Decimal("3.0")),
        attr("PK") == "USER#1",
        attr("SK").begins_with("ORDER#"),
        attr("count") < attr("amount"),
        size(attr("tags")) > 1,
        size("items") == 0,
        size("address") == 2,
        attr("tags").contains("x"),
        attr("scores").contains(3),
        attr("items").contains("a"),
        attr("order_id").contains("abc"),
        attr("items").contains(attr("order_id")),
        attr("extra.anything[3].deep") == [1, "x"],
        attr("tags") == {"a", "b"},
        attr("items") == ["a"],
        attr("meta") == {"x": 1},
        attr("address") == {"city": "Paris", "zip": "75001"},
        attr("status").attribute_type("S") & attr("day").exists() | attr("ratio").not_exists(),
        ~(attr("count") > 1),
    ],
)
def test_well_typed_conditions_pass(condition: Any) -> None:
    check_condition(condition, Order, KEYS)


@pytest.mark.parametrize(
    "condition",
    [
        attr("count") == "3",
        attr("count") == True,  # noqa: E712
        attr("count") == None,  # noqa: E711
        attr("order_id") == Decimal("1"),
        attr("amount") > "10",
        attr("flag") == 1,
        attr("status") == "FUNDEDX",
        attr("status") == 1,
        attr("status").is_in("FUNDED", "LOST"),
        attr("kind") == "OTHER",
        attr("count").begins_with("1"),
        attr("flag").begins_with("t"),
        attr("raw").begins_with("text"),
        attr("created") > "2024-01-01",
        attr("day") == datetime(2024, 1, 1, tzinfo=UTC),
        attr("count").between("1", "2"),
        attr("tags").contains(1),
        attr("scores").contains("x"),
        attr("count").contains(1),
        attr("items").contains(1),
        size("count") > 1,
        size("tags") > "1",
        attr("tags") == {1},
        attr("items") == "a",
        attr("meta") == {"x": "y"},
        (attr("count") == 1) & (attr("nope") == 1),
        attr("count") < attr("nope"),
        attr("tags").contains(attr("nope")),
        attr("SORT") == "x",
    ],
)
def test_ill_typed_or_unknown_conditions_are_refused(condition: Any) -> None:
    refused(lambda: check_condition(condition, Order, KEYS))


def test_extra_attributes_are_only_allowed_when_given() -> None:
    check_condition(attr("PK") == "x", Order, KEYS)
    refused(lambda: check_condition(attr("PK") == "x", Order))
    refused(lambda: check_condition(attr("PK") == 1, Order, KEYS))


@pytest.mark.parametrize(
    "condition",
    [
        attr("address.city") == "Paris",
        attr("address.zip") == "75001",
        attr("lines[0].city") == "Paris",
        attr("items[2]") == "x",
        attr("meta.anything") == 3,
    ],
)
def test_nested_paths_are_followed(condition: Any) -> None:
    check_condition(condition, Order)


@pytest.mark.parametrize(
    ("condition", "attribute"),
    [
        (attr("address.town") == "Paris", "address.town"),
        (attr("address.zip_code") == "75001", "address.zip_code"),
        (attr("lines.city") == "Paris", "lines.city"),
        (attr("lines[0].town") == "Paris", "lines[0].town"),
        (attr("count.x") == 1, "count.x"),
        (attr("meta[0]") == 1, "meta[0]"),
    ],
)
def test_unknown_nested_paths_are_named(condition: Any, attribute: str) -> None:
    error = refused(lambda: check_condition(condition, Order))
    assert attribute in error.message


def test_wrong_types_deep_inside_are_refused() -> None:
    refused(lambda: check_condition(attr("items[2]") == 1, Order))
    refused(lambda: check_condition(attr("meta.anything") == "x", Order))
    refused(lambda: check_condition(attr("address.city") == 1, Order))
    refused(lambda: check_condition(attr("count[0]") == 1, Order))


def test_aliases_follow_by_alias() -> None:
    check_condition(attr("displayName") == "x", Order)
    refused(lambda: check_condition(attr("display") == "x", Order))
    check_condition(attr("display") == "x", Order, by_alias=False)
    refused(lambda: check_condition(attr("displayName") == "x", Order, by_alias=False))
    check_condition(attr("address.zip_code") == "x", Order, by_alias=False)


@pytest.mark.parametrize(
    "update",
    [
        Update().set("status", "RELEASED"),
        Update().set("amount", attr("amount") - Decimal("2.5")),
        Update().set("count", if_not_exists("count", 0) + 1),
        Update().set("ratio", None),
        Update().set("items", list_append(attr("items"), ["x"])),
        Update().set("items", list_append(["x"], if_not_exists("items", []))),
        Update().set("address.city", "Lyon"),
        Update().set("address", {"city": "Lyon", "zip": "69000"}),
        Update().set("lines[0].city", "Lyon"),
        Update().set("created", datetime(2024, 1, 1, tzinfo=UTC)),
        Update().set("order_id", attr("PK")),
        Update().remove("ratio", "items[0]"),
        Update().add("count", 1).add("amount", Decimal("1.5")),
        Update().add("tags", {"a"}).add("scores", {1, 2}),
        Update().delete("tags", {"a"}),
        Update().set("extra", object()),
    ],
)
def test_well_typed_updates_pass(update: Update) -> None:
    check_update(update, Order, KEYS)


@pytest.mark.parametrize(
    "update",
    [
        Update().set("stauts", "RELEASED"),
        Update().set("status", "LOST"),
        Update().set("count", "1"),
        Update().set("count", None),
        Update().set("order_id", attr("order_id") + 1),
        Update().set("count", attr("count") + attr("nope")),
        Update().set("count", if_not_exists("nope", 0)),
        Update().set("count", list_append(attr("count"), [1])),
        Update().set("items", list_append(attr("items"), [1])),
        Update().set("address.city", 1),
        Update().remove("order_id"),
        Update().remove("address.city"),  # required in the nested model
        Update().remove("nope"),
        Update().add("order_id", 1),
        Update().add("flag", 1),
        Update().add("tags", {1}),
        Update().add("count", {1}),
        Update().delete("count", {1}),
        Update().delete("tags", {1}),
        Update().delete("items", {"a"}),
    ],
)
def test_ill_typed_or_unknown_updates_are_refused(update: Update) -> None:
    refused(lambda: check_update(update, Order, KEYS))


def test_projection_and_key_condition_binding() -> None:
    check_projection(Projection("status", "address.city", "PK"), Order, KEYS)
    refused(lambda: check_projection(Projection("status", "stauts"), Order))
    check_key_condition((key("PK") == "p") & key("SK").begins_with("x"), Order, KEYS)
    refused(lambda: check_key_condition(key("PK") == "p", Order))
    refused(lambda: check_key_condition(key("PK") == 1, Order, KEYS))
    refused(
        lambda: check_key_condition((key("PK") == "p") & key("SK").begins_with(b"x"), Order, KEYS)
    )


def test_bind_dispatches_and_returns_the_expression() -> None:
    condition = attr("count") > 1
    assert bind(condition, Order) is condition
    update = Update().set("count", 2)
    assert bind(update, Order) is update
    projection = Projection("count")
    assert bind(projection, Order) is projection
    key_condition = key("PK") == "p"
    assert bind(key_condition, Order, KEYS) is key_condition
    refused(lambda: bind(attr("nope").exists(), Order))
    with pytest.raises(TypeError):
        bind("status", Order)  # type: ignore[type-var]


def test_binding_needs_a_pydantic_model_class() -> None:
    with pytest.raises(TypeError):
        check_condition(attr("a") == 1, dict)  # type: ignore[arg-type]
