"""Property: whatever an update asks for, the item stays readable by its entity.

Over a model whose fields carry pydantic constraints, arbitrary updates (values of any
type, ADD, REMOVE, arithmetic, copies of other fields, nested paths) either raise a coded
input error with nothing sent, or apply and leave an item the entity reads back.
Runs on the embedded backend with a bounded number of examples.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from tctf_dynamo import (
    DynamoDBService,
    EmbeddedProvider,
    Entity,
    InvalidInputError,
    RecordingProvider,
    Repository,
    Table,
    attr,
)


class Label(BaseModel):
    text: str = Field(max_length=4)
    colours: set[str] = Field(default_factory=set)


table = Table("update-properties")


class Gadget(Entity, table=table, pk="G#{gid}", sk="GADGET"):
    gid: str
    stock: int = Field(default=0, ge=0, le=100)
    count: int = 0
    ratio: float = Field(default=0.5, ge=0, lt=1)
    price: Decimal = Field(default=Decimal(0), max_digits=6, decimal_places=2)
    name: str = Field(default="n", min_length=1, max_length=5)
    code: Annotated[str, Field(pattern=r"^[A-Z]*$")] = ""
    status: Literal["OPEN", "SHUT"] = "OPEN"
    label: Label | None = None
    notes: list[str] = Field(default_factory=list, max_length=3)
    tags: set[str] = Field(default_factory=set)
    flag: bool = False


FIELDS = ["stock", "count", "ratio", "price", "name", "code", "status", "label", "notes",
          "tags", "flag"]  # fmt: skip

values = st.one_of(
    st.integers(-200, 200),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-2000, max_value=2000),
    st.text(max_size=7),
    st.none(),
    st.booleans(),
    st.sampled_from(["OPEN", "SHUT", "GONE", "ABC"]),
    st.lists(st.text(max_size=3), max_size=5),
    st.sets(st.text(min_size=1, max_size=3), max_size=3),
    st.fixed_dictionaries({"text": st.text(max_size=6)}),
)


@st.composite
def updates(draw: st.DrawFn) -> dict[str, Any]:
    fields = draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=3, unique=True))
    parts: dict[str, Any] = {"set": {}, "add": {}, "remove": []}
    for field in fields:
        kind = draw(st.sampled_from(["set", "set", "add", "remove", "copy", "plus", "nested"]))
        if kind == "set":
            parts["set"][field] = draw(values)
        elif kind == "add":
            parts["add"][field] = draw(values)
        elif kind == "remove":
            parts["remove"].append(field)
        elif kind == "copy":
            parts["set"][field] = attr(draw(st.sampled_from(FIELDS)))
        elif kind == "plus":
            parts["set"][field] = attr(field) + draw(st.integers(-3, 3))
        elif "label" not in fields:
            parts["set"]["label.text"] = draw(values)
    return {name: part for name, part in parts.items() if part}


recorder = RecordingProvider(EmbeddedProvider())
service = DynamoDBService(recorder)
service.create_table(table)
repository = Repository(Gadget, service)
START = Gadget(gid="g1", stock=50, label=Label(text="ab", colours={"c"}), tags={"a"}, notes=["x"])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(update=updates())
def test_an_update_is_refused_with_nothing_sent_or_leaves_a_readable_item(
    update: dict[str, Any],
) -> None:
    repository.put(START)
    recorder.clear()
    try:
        repository.update({"gid": "g1"}, idempotent=False, **update)
    except InvalidInputError as error:
        assert error.code  # a coded input error ...
        assert recorder.calls == []  # ... and nothing was sent
        return
    assert isinstance(repository.get(gid="g1", consistent=True), Gadget)
