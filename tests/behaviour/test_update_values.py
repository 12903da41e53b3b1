"""Nothing an update writes is unreadable: values are checked against the field they target.

Runs on every backend and through both APIs: a refused update must send nothing at all,
over HTTP as in process.
"""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field

from tctf_dynamo import (
    Entity,
    ErrorCode,
    InvalidInputError,
    Table,
    attr,
    if_not_exists,
    list_append,
)

pytestmark = pytest.mark.both_apis


class Label(BaseModel):
    text: str = Field(max_length=4)
    colours: set[str] = Field(default_factory=set)


def build(table_name: str) -> SimpleNamespace:
    table = Table(table_name)

    class Product(Entity, table=table, pk="P#{pid}", sk="META"):
        pid: str
        stock: int = Field(default=0, le=100)
        count: int = 0
        price: Decimal = Decimal(0)
        name: str = Field(default="n", max_length=5)
        code: Annotated[str, Field(pattern=r"^[A-Z]+$")] = "A"
        status: Literal["OPEN", "SHUT"] = "OPEN"
        label: Label | None = None
        notes: list[str] = Field(default_factory=list)
        short: list[str] = Field(default_factory=list, max_length=2)
        keep: list[str] = Field(default_factory=lambda: ["k"], min_length=1)
        tags: set[str] = Field(default_factory=set)
        few: set[str] = Field(default_factory=set, min_length=0, max_length=3)

    return SimpleNamespace(table=table, Product=Product)


@pytest.fixture
def shop(backend: SimpleNamespace, table_name: str) -> Any:
    built = build(table_name)
    backend.service.create_table(built.table)
    recording = backend.recording()
    built.recorder = recording.recorder
    built.service = recording.service
    built.repo = backend.repository(built.Product, recording.service)
    built.repo.put(built.Product(pid="p1", label=Label(text="ab")))
    built.recorder.clear()
    yield built
    backend.service.delete_table(built.table, missing_ok=True)


REFUSED: list[tuple[str, dict[str, Any]]] = [
    ("float into int", {"set": {"count": 1.5}}),
    ("float added to int", {"add": {"count": 0.5}}),
    ("over le=", {"set": {"stock": 101}}),
    ("over max_length", {"set": {"name": "toolong"}}),
    ("pattern", {"set": {"code": "abc"}}),
    ("literal", {"set": {"status": "GONE"}}),
    ("nested field constraint", {"set": {"label.text": "toolong"}}),
    ("nested model constraint", {"set": {"label": {"text": "toolong"}}}),
    ("nested model missing field", {"set": {"label": {"colours": {"red"}}}}),
    ("ADD to a bounded number", {"add": {"stock": 1}}),
    ("arithmetic on a bounded number", {"set": {"stock": attr("stock") + 1}}),
    ("copying an int into a str", {"set": {"name": attr("count")}}),
    ("copying a str of other bounds", {"set": {"name": attr("code")}}),
    ("if_not_exists copying another field", {"set": {"name": if_not_exists("code", "A")}}),
    ("appending to a bounded list", {"set": {"short": list_append(attr("short"), ["x"])}}),
    ("appending numbers to strings", {"set": {"notes": list_append(attr("notes"), [1])}}),
    ("ADD to a bounded set", {"add": {"few": {"x"}}}),
    ("removing a required nested field", {"remove": ["label.text"]}),
    ("setting an element of a bounded list", {"set": {"short[0]": "x"}}),
    ("removing an element of a list with min_length", {"remove": ["keep[0]"]}),
]


@pytest.mark.parametrize(("case", "update"), REFUSED, ids=[case for case, _ in REFUSED])
def test_an_update_the_model_could_not_read_back_is_refused_and_nothing_is_sent(
    shop: Any, case: str, update: dict[str, Any]
) -> None:
    with pytest.raises(InvalidInputError) as raised:
        shop.repo.update({"pid": "p1"}, **update)
    assert raised.value.code in (ErrorCode.INVALID_EXPRESSION, ErrorCode.INVALID_ITEM)
    assert shop.recorder.calls == []
    assert shop.repo.get(pid="p1") == shop.Product(pid="p1", label=Label(text="ab"))


def test_a_unit_of_work_refuses_the_same_updates_before_committing(
    backend: SimpleNamespace, shop: Any
) -> None:
    uow = backend.unit(shop.service)
    for _, update in REFUSED:
        with pytest.raises(InvalidInputError):
            uow.update(shop.Product, {"pid": "p1"}, **update)
    with pytest.raises(InvalidInputError):
        uow.update(shop.Product, {"pid": "p2"}, upsert=True, set={"stock": 500})
    assert len(uow) == 0
    assert shop.recorder.calls == []


ACCEPTED: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"set": {"count": 2.0, "stock": 100}}, {"count": 2, "stock": 100}),
    ({"add": {"count": 3, "price": Decimal("1.5")}}, {"count": 3, "price": Decimal("1.5")}),
    ({"set": {"count": attr("count") + 2}}, {"count": 2}),
    ({"set": {"label.text": "abcd"}}, {"label": Label(text="abcd")}),
    ({"set": {"notes": list_append(attr("notes"), ["a", "b"])}}, {"notes": ["a", "b"]}),
    ({"set": {"short": ["a", "b"]}}, {"short": ["a", "b"]}),
    ({"add": {"tags": {"x"}}, "delete": {"few": {"y"}}}, {"tags": {"x"}}),
    ({"set": {"name": if_not_exists("name", "dflt")}}, {}),
    ({"set": {"tags": set()}}, {}),
]


@pytest.mark.parametrize(("update", "changes"), ACCEPTED)
def test_valid_updates_still_apply_and_read_back(
    shop: Any, update: dict[str, Any], changes: dict[str, Any]
) -> None:
    # idempotent=False sends UpdateItem: dynalite has no TransactWriteItems
    stored = shop.repo.update({"pid": "p1"}, idempotent=False, **update)
    expected = shop.Product(pid="p1", label=Label(text="ab")).model_copy(update=changes)
    assert stored == expected
    assert shop.repo.get(pid="p1") == expected


def test_a_nested_model_with_an_empty_set_is_stored_and_reads_back_its_default(
    shop: Any,
) -> None:
    product = shop.Product(pid="p3", label=Label(text="a"))
    shop.repo.put(product)
    assert shop.repo.get(pid="p3") == product
    shop.repo.update({"pid": "p3"}, set={"label": Label(text="b")})
    assert shop.repo.get(pid="p3").label == Label(text="b")
    shop.repo.update({"pid": "p3"}, set={"label": {"text": "c", "colours": set()}})
    assert shop.repo.get(pid="p3").label == Label(text="c")


def test_an_update_item_with_a_key_and_no_actions_creates_the_item(
    backend: SimpleNamespace, shop: Any
) -> None:
    if backend.name == "moto":
        pytest.skip("moto server fails an UpdateItem without actions (DynamoDB accepts it)")
    key = {"PK": "bare", "SK": "key"}
    assert backend.service.update_item(shop.table.name, key) == key
    assert backend.service.get_item(shop.table.name, key) == key
