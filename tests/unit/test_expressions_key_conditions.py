"""Key conditions: partition equality plus at most one sort condition."""

from __future__ import annotations

from typing import Any

import pytest

from tctf_dynamo import limits
from tctf_dynamo.errors import ErrorCode, InvalidInputError
from tctf_dynamo.expressions import (
    KeyCondition,
    KeyPredicate,
    Placeholders,
    compile_key_condition,
    key,
)


def compiled(condition: KeyCondition | KeyPredicate) -> tuple[str, dict[str, str], dict[str, Any]]:
    placeholders = Placeholders()
    text = compile_key_condition(condition, placeholders)
    return text, placeholders.names, placeholders.values


def test_partition_only() -> None:
    assert compiled(key("PK") == "USER#1") == (
        "#n0 = :v0",
        {"#n0": "PK"},
        {":v0": {"S": "USER#1"}},
    )


@pytest.mark.parametrize(
    ("sort", "text"),
    [
        (key("SK") == "a", "#n1 = :v1"),
        (key("SK") < "a", "#n1 < :v1"),
        (key("SK") <= "a", "#n1 <= :v1"),
        (key("SK") > "a", "#n1 > :v1"),
        (key("SK") >= "a", "#n1 >= :v1"),
        (key("SK").begins_with("a"), "begins_with(#n1, :v1)"),
    ],
)
def test_partition_and_each_sort_operator(sort: KeyPredicate, text: str) -> None:
    assert compiled((key("PK") == "p") & sort) == (
        f"#n0 = :v0 AND {text}",
        {"#n0": "PK", "#n1": "SK"},
        {":v0": {"S": "p"}, ":v1": {"S": "a"}},
    )


def test_between_sort_condition() -> None:
    condition = (key("PK") == "p") & key("SK").between("a", "b")
    assert compiled(condition)[0] == "#n0 = :v0 AND #n1 BETWEEN :v1 AND :v2"


def test_sort_condition_may_come_first() -> None:
    assert (key("SK") > "a") & (key("PK") == "p") == (key("PK") == "p") & (key("SK") > "a")


def test_constructor_form_equals_operator_form() -> None:
    built = KeyCondition(partition=("PK", "p"), sort=key("SK").begins_with("x"))
    assert built == (key("PK") == "p") & key("SK").begins_with("x")
    assert KeyCondition(partition=("PK", "p"), sort=("SK", "s")) == (key("PK") == "p") & (
        key("SK") == "s"
    )


def test_numbers_and_binaries_are_key_values() -> None:
    assert compiled((key("PK") == 7) & (key("SK") > b"\x01"))[2] == {
        ":v0": {"N": "7"},
        ":v1": {"B": b"\x01"},
    }


@pytest.mark.parametrize(
    "build",
    [
        lambda: (key("PK") == "p") & (key("SK") > "a") & (key("SK") < "z"),
        lambda: (key("PK") > "p") & (key("SK") > "a"),
        lambda: KeyCondition(partition=key("PK") > "p"),
        lambda: KeyCondition(partition=("PK", "p"), sort=("PK", "q")),
        lambda: KeyCondition(partition="PK"),
        lambda: KeyCondition(partition=("PK", "p")) & KeyCondition(partition=("SK", "s")),
        lambda: key("PK") != "p",
        lambda: key(""),
        lambda: key("x" * (limits.MAX_KEY_ATTRIBUTE_NAME_BYTES + 1)),
    ],
)
def test_what_query_cannot_express_is_refused_when_built(build: Any) -> None:
    with pytest.raises(InvalidInputError) as caught:
        build()
    assert caught.value.code is ErrorCode.INVALID_EXPRESSION


def test_a_sort_predicate_alone_is_not_a_key_condition() -> None:
    with pytest.raises(InvalidInputError):
        compile_key_condition(key("SK").begins_with("a"), Placeholders())


@pytest.mark.parametrize(
    "condition",
    [
        key("PK") == [1],
        key("PK") == True,  # noqa: E712
        (key("PK") == "p") & key("SK").begins_with(1),
        (key("PK") == "p") & key("SK").between("b", "a"),
    ],
)
def test_key_values_must_be_strings_numbers_or_binaries(condition: Any) -> None:
    with pytest.raises(InvalidInputError):
        compile_key_condition(condition, Placeholders())


def test_key_names_are_literal_and_key_attr_is_unhashable() -> None:
    assert compiled(key("a.b") == 1)[1] == {"#n0": "a.b"}
    with pytest.raises(TypeError):
        hash(key("PK"))
    with pytest.raises(TypeError):
        bool(key("PK") == "p")


def test_debug_and_repr() -> None:
    condition = (key("PK") == "USER#1") & key("SK").begins_with("ORDER#")
    assert condition.debug() == "PK = 'USER#1' AND begins_with(SK, 'ORDER#')"
    assert repr(condition) == "<KeyCondition PK = ? AND begins_with(SK, ?)>"
    assert repr(key("SK")) == "key('SK')"
