"""Updates: every action's text, immutability, overlap and operand rules, the dict form."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tctf_dynamo.errors import ErrorCode, InvalidInputError
from tctf_dynamo.expressions import (
    Placeholders,
    Update,
    attr,
    compile_update,
    if_not_exists,
    list_append,
    size,
)


def compiled(update: Update) -> tuple[str, dict[str, str], dict[str, Any]]:
    placeholders = Placeholders()
    text = compile_update(update, placeholders)
    return text, placeholders.names, placeholders.values


def test_set_a_value() -> None:
    assert compiled(Update().set("status", "RELEASED")) == (
        "SET #n0 = :v0",
        {"#n0": "status"},
        {":v0": {"S": "RELEASED"}},
    )


def test_set_with_arithmetic() -> None:
    amount = Decimal("250")
    assert compiled(Update().set("balance", attr("balance") - amount)) == (
        "SET #n0 = #n0 - :v0",
        {"#n0": "balance"},
        {":v0": {"N": "250"}},
    )
    assert compiled(Update().set("n", 1 + attr("m")))[0] == "SET #n0 = :v0 + #n1"
    assert compiled(Update().set("n", 10 - attr("m")))[0] == "SET #n0 = :v0 - #n1"
    assert compiled(Update().set("n", attr("a") + attr("b")))[0] == "SET #n0 = #n1 + #n2"


def test_set_with_if_not_exists() -> None:
    assert compiled(Update().set("x", if_not_exists("x", 0))) == (
        "SET #n0 = if_not_exists(#n0, :v0)",
        {"#n0": "x"},
        {":v0": {"N": "0"}},
    )
    assert compiled(Update().set("n", if_not_exists("n", 0) + 1))[0] == (
        "SET #n0 = if_not_exists(#n0, :v0) + :v1"
    )


def test_list_append_and_prepend() -> None:
    assert compiled(Update().set("items", list_append(attr("items"), ["v"]))) == (
        "SET #n0 = list_append(#n0, :v0)",
        {"#n0": "items"},
        {":v0": {"L": [{"S": "v"}]}},
    )
    assert compiled(Update().set("items", list_append(["v"], attr("items"))))[0] == (
        "SET #n0 = list_append(:v0, #n0)"
    )
    assert compiled(Update().set("items", list_append(if_not_exists("items", []), [1])))[0] == (
        "SET #n0 = list_append(if_not_exists(#n0, :v0), :v1)"
    )


def test_set_copies_another_attribute() -> None:
    assert compiled(Update().set("a", attr("b"))) == ("SET #n0 = #n1", {"#n0": "a", "#n1": "b"}, {})


def test_remove_add_delete() -> None:
    update = Update().remove("a", "tags[1]").add("count", 1).delete("labels", {"x"})
    assert compiled(update) == (
        "REMOVE #n0, #n1[1] ADD #n2 :v0 DELETE #n3 :v1",
        {"#n0": "a", "#n1": "tags", "#n2": "count", "#n3": "labels"},
        {":v0": {"N": "1"}, ":v1": {"SS": ["x"]}},
    )
    assert compiled(Update().add("labels", {"b", "a"}))[2] == {":v0": {"SS": ["a", "b"]}}


def test_clauses_come_in_a_fixed_order_and_actions_in_call_order() -> None:
    update = Update().add("n", 1).remove("r").set("b", 2).delete("d", {1}).set("a", 3)
    assert compiled(update)[0] == ("SET #n0 = :v0, #n1 = :v1 REMOVE #n2 ADD #n3 :v2 DELETE #n4 :v3")


def test_each_call_returns_a_new_update() -> None:
    base = Update().set("a", 1)
    extended = base.set("b", 2)
    assert base.actions != extended.actions
    assert len(base.actions) == 1
    assert base.set("b", 2) == extended
    assert base.merge(Update().add("n", 1)).paths == (attr("a").path, attr("n").path)


@pytest.mark.parametrize(
    "build",
    [
        lambda: Update().set("a", 1).set("a", 2),
        lambda: Update().set("a", 1).set("a.b", 2),
        lambda: Update().set("a.b", 1).remove("a"),
        lambda: Update().remove("tags", "tags[1]"),
        lambda: Update().add("n", 1).set("n", 2),
        lambda: Update().set("a", 1).merge(Update().delete("a", {"x"})),
        lambda: Update.from_parts(set={"a": 1}, add={"a": 1}),
    ],
)
def test_overlapping_paths_are_refused_when_built(build: Any) -> None:
    with pytest.raises(InvalidInputError) as caught:
        build()
    assert caught.value.code is ErrorCode.INVALID_EXPRESSION
    assert len(caught.value.details["paths"]) == 2


def test_disjoint_list_elements_do_not_overlap() -> None:
    update = Update().set("tags[0]", "x").remove("tags[1]")
    assert compiled(update)[0] == "SET #n0[0] = :v0 REMOVE #n0[1]"


@pytest.mark.parametrize(
    "build",
    [
        lambda: Update().add("n", "1"),
        lambda: Update().add("n", True),
        lambda: Update().add("n", set()),
        lambda: Update().add("n", [1]),
        lambda: Update().add("a.b", 1),
        lambda: Update().delete("s", "x"),
        lambda: Update().delete("s", set()),
        lambda: Update().delete("s[0]", {"x"}),
        lambda: Update().remove(),
        lambda: Update().set("n", attr("n") + "1"),
        lambda: Update().set("n", (attr("n") + 1) + 1),
        lambda: Update().set("n", list_append(attr("a"), "not a list")),
        lambda: Update().set("n", attr("n") + list_append(attr("a"), [1])),
        lambda: Update().set("n", size("a")),
        lambda: Update().set("n", if_not_exists("n", attr("m") + 1)),
    ],
)
def test_invalid_actions_are_refused_when_built(build: Any) -> None:
    with pytest.raises(InvalidInputError) as caught:
        build()
    assert caught.value.code is ErrorCode.INVALID_EXPRESSION


def test_list_append_operands_must_encode_as_lists() -> None:
    with pytest.raises(InvalidInputError):
        compile_update(
            Update().set("a", list_append(attr("a"), if_not_exists("b", 1))), Placeholders()
        )


def test_an_empty_update_cannot_be_compiled() -> None:
    assert Update().is_empty
    with pytest.raises(InvalidInputError):
        compile_update(Update(), Placeholders())


def test_from_parts_matches_the_builder() -> None:
    from_parts = Update.from_parts(
        set={"status": "RELEASED", "n": attr("n") + 1},
        add={"balance": Decimal("250")},
        remove=["old", "tags[0]"],
        delete={"labels": {"x"}},
    )
    built = (
        Update()
        .set("status", "RELEASED")
        .set("n", attr("n") + 1)
        .remove("old", "tags[0]")
        .add("balance", Decimal("250"))
        .delete("labels", {"x"})
    )
    assert from_parts == built
    assert Update.from_parts() == Update()


def test_debug_and_repr() -> None:
    update = Update().set("balance", attr("balance") - 5).remove("a").add("n", 1)
    assert update.debug() == "SET balance = balance - 5 REMOVE a ADD n 1"
    assert repr(update) == "<Update SET balance = balance - ? REMOVE a ADD n ?>"
    assert repr(Update()) == "<Update (no actions)>"
