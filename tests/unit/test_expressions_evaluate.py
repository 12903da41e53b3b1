"""Local evaluation of conditions and updates with DynamoDB's semantics."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from tctf_dynamo.errors import ErrorCode, ServiceValidationError
from tctf_dynamo.expressions import (
    Update,
    apply_update,
    attr,
    evaluate,
    if_not_exists,
    list_append,
    size,
)

ITEM: dict[str, Any] = {
    "s": "hello",
    "n": 5,
    "d": Decimal("2.5"),
    "b": b"\x01\x02\x03",
    "t": True,
    "f": False,
    "z": None,
    "ss": {"a", "b"},
    "ns": {1, 2},
    "bs": {b"x"},
    "l": ["a", 1, {"k": "v"}],
    "m": {"k": "v", "deep": {"x": 1}},
    "when": "2024-01-01T00:00:00.000000Z",
}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (attr("s") == "hello", True),
        (attr("n") == Decimal("5.0"), True),
        (attr("n") == 5.0, True),
        (attr("n") == "5", False),
        (attr("t") == True, True),  # noqa: E712
        (attr("t") == 1, False),
        (attr("z") == None, True),  # noqa: E711
        (attr("missing") == None, False),  # noqa: E711
        (attr("missing") == 1, False),
        (attr("missing") != 1, True),
        (attr("s") != "hello", False),
        (attr("s") != 5, True),
        (attr("n") > 4, True),
        (attr("n") > "4", False),
        (attr("missing") < 4, False),
        (attr("s") < "help", True),
        (attr("b") < b"\x02", True),
        (attr("ss") < {"z"}, False),
        (attr("d").between(2, 3), True),
        (attr("d").between(3, 4), False),
        (attr("s").between("a", 1), False),
        (attr("n").is_in(1, 5), True),
        (attr("n").is_in("5", 6), False),
        (attr("missing").is_in(1), False),
        (attr("s").begins_with("he"), True),
        (attr("s").begins_with("lo"), False),
        (attr("b").begins_with(b"\x01"), True),
        (attr("b").begins_with("\x01"), False),
        (attr("n").begins_with("5"), False),
        (attr("s").contains("ell"), True),
        (attr("ss").contains("a"), True),
        (attr("ss").contains("c"), False),
        (attr("ns").contains(Decimal("2.0")), True),
        (attr("bs").contains(b"x"), True),
        (attr("l").contains("a"), True),
        (attr("l").contains(1), True),
        (attr("l").contains({"k": "v"}), True),
        (attr("l").contains("z"), False),
        (attr("b").contains(b"\x02"), True),
        (attr("n").contains(5), False),
        (attr("s").contains(attr("m.k")), False),
        (attr("l").contains(attr("m.k")), False),
        (attr("ss") == {"b", "a"}, True),
        (attr("ns") == {Decimal("1.0"), 2}, True),
        (attr("l") == ["a", 1, {"k": "v"}], True),
        (attr("l") == ["a", 1], False),
        (attr("m") == {"deep": {"x": 1}, "k": "v"}, True),
        (attr("l[2].k") == "v", True),
        (attr("l[9]") == "v", False),
        (attr("m.deep.x") == 1, True),
        (attr("m.k[0]").exists(), False),
        (attr("s.x").exists(), False),
        (attr("z").exists(), True),
        (attr("missing").not_exists(), True),
        (attr("f").attribute_type("BOOL"), True),
        (attr("ns").attribute_type("NS"), True),
        (attr("ns").attribute_type("SS"), False),
        (attr("z").attribute_type("NULL"), True),
        (size("s") == 5, True),
        (size("b") == 3, True),
        (size("ss") == 2, True),
        (size("l") == 3, True),
        (size("m") == 2, True),
        (size("n") == 1, False),
        (size("missing") >= 0, False),
        (attr("n") > attr("d"), True),
        (attr("n") > attr("s"), False),
        (attr("when") > datetime(2023, 1, 1, tzinfo=UTC), True),
        ((attr("n") == 5) & (attr("s") == "x"), False),
        ((attr("n") == 5) | (attr("s") == "x"), True),
        (~(attr("missing") == 1), True),
    ],
)
def test_conditions(condition: Any, expected: bool) -> None:
    assert evaluate(condition, ITEM) is expected


def test_apply_update_reads_operands_before_the_update() -> None:
    update = Update().set("a", attr("b")).set("b", attr("a"))
    assert apply_update(update, {"a": 1, "b": 2}) == {"a": 2, "b": 1}


def test_apply_update_actions() -> None:
    item = {
        "n": 10,
        "l": ["a", "b", "c", "d"],
        "ss": {"x", "y"},
        "ns": {1},
        "m": {"k": "v"},
        "gone": 1,
    }
    update = (
        Update()
        .set("n", attr("n") - Decimal("0.5"))
        .set("m.new", [1])
        .set("l[9]", "e")
        .set("fresh", if_not_exists("fresh", 0) + 1)
        .remove("gone", "l[1]", "l[2]")
        .add("ns", {2})
        .add("count", 3)
        .delete("ss", {"x", "y"})
    )
    after = apply_update(update, item)
    assert after == {
        "n": Decimal("9.5"),
        "l": ["a", "d", "e"],
        "ns": {1, 2},
        "m": {"k": "v", "new": [1]},
        "fresh": 1,
        "count": 3,
    }
    assert item["l"] == ["a", "b", "c", "d"]


def test_apply_update_list_append_both_ways() -> None:
    item = {"l": [1]}
    assert apply_update(Update().set("l", list_append(attr("l"), [2])), item) == {"l": [1, 2]}
    assert apply_update(Update().set("l", list_append([0], attr("l"))), item) == {"l": [0, 1]}


@pytest.mark.parametrize(
    "update",
    [
        Update().set("n", attr("missing") + 1),
        Update().set("n", attr("s") + 1),
        Update().set("a", attr("missing")),
        Update().set("missing.x", 1),
        Update().set("s[0]", 1),
        Update().remove("missing.x"),
        Update().add("s", 1),
        Update().add("n", {"x"}),
        Update().delete("n", {1}),
        Update().set("l", list_append(attr("n"), [1])),
    ],
)
def test_apply_update_refuses_what_dynamodb_refuses(update: Update) -> None:
    with pytest.raises(ServiceValidationError) as caught:
        apply_update(update, {"n": 1, "s": "x", "l": []})
    assert caught.value.code is ErrorCode.SERVICE_VALIDATION_FAILED


def test_apply_update_arithmetic_is_exact() -> None:
    item = {"n": Decimal("12345678901234567890123456789012345677")}
    after = apply_update(Update().add("n", 1), item)
    assert after == {"n": 12345678901234567890123456789012345678}
