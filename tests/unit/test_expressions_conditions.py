"""Conditions: the exact text and placeholders of each operator, combinators, value semantics."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tctf_dynamo.errors import ErrorCode, InvalidInputError
from tctf_dynamo.expressions import Condition, Placeholders, attr, compile_condition, size
from tctf_dynamo.expressions.conditions import MAX_IN_OPERANDS, And, Compare, Or
from tctf_dynamo.expressions.operands import Value
from tctf_dynamo.expressions.paths import Path


def compiled(condition: Condition) -> tuple[str, dict[str, str], dict[str, Any]]:
    placeholders = Placeholders()
    text = compile_condition(condition, placeholders)
    return text, placeholders.names, placeholders.values


@pytest.mark.parametrize(
    ("condition", "text"),
    [
        (attr("a") == 1, "#n0 = :v0"),
        (attr("a") != 1, "#n0 <> :v0"),
        (attr("a") < 1, "#n0 < :v0"),
        (attr("a") <= 1, "#n0 <= :v0"),
        (attr("a") > 1, "#n0 > :v0"),
        (attr("a") >= 1, "#n0 >= :v0"),
    ],
)
def test_comparisons(condition: Condition, text: str) -> None:
    assert compiled(condition) == (text, {"#n0": "a"}, {":v0": {"N": "1"}})


def test_reflected_comparisons_keep_the_attribute_on_the_left() -> None:
    assert compiled(1 < attr("a"))[0] == "#n0 > :v0"  # noqa: SIM300
    assert compiled(1 == attr("a"))[0] == "#n0 = :v0"  # type: ignore[arg-type]  # noqa: SIM300


def test_between() -> None:
    assert compiled(attr("n").between(1, 5)) == (
        "#n0 BETWEEN :v0 AND :v1",
        {"#n0": "n"},
        {":v0": {"N": "1"}, ":v1": {"N": "5"}},
    )


def test_begins_with_contains_and_existence() -> None:
    assert compiled(attr("s").begins_with("ab")) == (
        "begins_with(#n0, :v0)",
        {"#n0": "s"},
        {":v0": {"S": "ab"}},
    )
    assert compiled(attr("tags").contains("x"))[0] == "contains(#n0, :v0)"
    assert compiled(attr("a.b").exists()) == (
        "attribute_exists(#n0.#n1)",
        {"#n0": "a", "#n1": "b"},
        {},
    )
    assert compiled(attr("a").not_exists())[0] == "attribute_not_exists(#n0)"


def test_attribute_type_sends_the_type_as_a_value() -> None:
    assert compiled(attr("a").attribute_type("NS")) == (
        "attribute_type(#n0, :v0)",
        {"#n0": "a"},
        {":v0": {"S": "NS"}},
    )


def test_attribute_type_refuses_unknown_tags() -> None:
    with pytest.raises(InvalidInputError):
        attr("a").attribute_type("STRING")


def test_is_in() -> None:
    assert compiled(attr("a").is_in("x", "y", "x")) == (
        "#n0 IN (:v0, :v1, :v0)",
        {"#n0": "a"},
        {":v0": {"S": "x"}, ":v1": {"S": "y"}},
    )


def test_is_in_allows_one_to_a_hundred_operands() -> None:
    attr("a").is_in(*range(MAX_IN_OPERANDS))
    for count in (0, MAX_IN_OPERANDS + 1):
        with pytest.raises(InvalidInputError) as caught:
            attr("a").is_in(*range(count))
        assert caught.value.code is ErrorCode.INVALID_EXPRESSION


@pytest.mark.parametrize(
    "build", [lambda: size(attr("tags")), lambda: attr("tags").size(), lambda: size("tags")]
)
def test_size_compares_like_an_attribute(build: Any) -> None:
    assert compiled(build() > 2) == ("size(#n0) > :v0", {"#n0": "tags"}, {":v0": {"N": "2"}})
    assert compiled(build().between(1, 3))[0] == "size(#n0) BETWEEN :v0 AND :v1"
    assert compiled(build().is_in(1, 2))[0] == "size(#n0) IN (:v0, :v1)"


def test_attribute_compared_with_attribute_and_size() -> None:
    assert compiled(attr("a") < attr("b")) == ("#n0 < #n1", {"#n0": "a", "#n1": "b"}, {})
    assert compiled(attr("n") >= size("tags"))[0] == "#n0 >= size(#n1)"
    assert compiled(attr("tags").contains(attr("favourite")))[0] == "contains(#n0, #n1)"


def test_and_or_flatten_into_one_node() -> None:
    a, b, c, d = (attr(name) == 1 for name in "abcd")
    assert a & b & c == And((a, b, c))
    assert (a & b) & (c & d) == And((a, b, c, d))
    assert a | b | c == Or((a, b, c))
    assert isinstance(a & (b | c), And)
    assert len((a & (b | c)).conditions) == 2  # type: ignore[attr-defined]


def test_precedence_is_made_explicit_with_parentheses() -> None:
    a, b, c = attr("a") == 1, attr("b") == 2, attr("c") == 3
    assert compiled((a | b) & c)[0] == "(#n0 = :v0 OR #n1 = :v1) AND #n2 = :v2"
    assert compiled(a | (b & c))[0] == "#n0 = :v0 OR (#n1 = :v1 AND #n2 = :v2)"
    assert compiled(~(a & b))[0] == "NOT (#n0 = :v0 AND #n1 = :v1)"
    assert compiled(a & ~b)[0] == "#n0 = :v0 AND NOT (#n1 = :v1)"


def test_bool_of_a_condition_raises_so_and_or_cannot_drop_one() -> None:
    condition = attr("a") == 1
    with pytest.raises(TypeError):
        bool(condition)
    with pytest.raises(TypeError):
        _ = condition and attr("b") == 2
    with pytest.raises(TypeError):
        if attr("a") == 1:
            pass


def test_conditions_compare_structurally_and_hash() -> None:
    assert (attr("a") == 1) == (attr("a") == 1)
    assert (attr("a") == 1) != (attr("a") == 2)
    assert (attr("a") == 1) != (attr("a") == True)  # noqa: E712 - BOOL is not N
    assert len({attr("a") == 1, attr("a") == 1, attr("a") < 1}) == 2
    assert (attr("a") == 1) in [attr("b") == 1, attr("a") == 1]


def test_attr_is_unhashable_because_eq_builds_a_condition() -> None:
    with pytest.raises(TypeError):
        hash(attr("a"))
    with pytest.raises(TypeError):
        _ = {attr("a"): 1}
    assert isinstance(attr("a") == attr("b"), Compare)


def test_nodes_store_plain_paths_and_values() -> None:
    condition = attr("a.b") == Decimal("1.5")
    assert condition == Compare(Path(("a", "b")), "=", Value(Decimal("1.5")))


def test_combining_with_non_conditions_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        _ = (attr("a") == 1) & True
    with pytest.raises(TypeError):
        _ = (attr("a") == 1) | "x"


def test_begins_with_takes_a_value_not_a_path() -> None:
    with pytest.raises(InvalidInputError):
        attr("a").begins_with(attr("b"))


def test_debug_shows_real_names_and_values_and_repr_hides_values() -> None:
    condition = (attr("status") == "FUNDED") & attr("address.city").begins_with("Par") | ~(
        size("tags") > 2
    )
    assert condition.debug() == (
        "(status = 'FUNDED' AND begins_with(address.city, 'Par')) OR NOT (size(tags) > 2)"
    )
    assert repr(condition) == (
        "<Or (status = ? AND begins_with(address.city, ?)) OR NOT (size(tags) > ?)>"
    )
    assert "FUNDED" not in repr(condition)
    assert attr(("weird.name",)).exists().debug() == 'attribute_exists("weird.name")'
    assert repr(attr("a.b")) == "attr('a.b')"


@pytest.mark.parametrize(
    "build",
    [
        lambda: attr("a") == attr("a"),
        lambda: attr("a.b") < attr("a.b"),
        lambda: size("a") == size("a"),
        lambda: attr("a").between(attr("a"), 3),
        lambda: attr("a").is_in(1, attr("a")),
        lambda: attr("a").contains(attr("a")),
    ],
)
def test_the_subject_cannot_reappear_among_the_operands(build: Any) -> None:
    with pytest.raises(InvalidInputError) as caught:
        build()
    assert caught.value.code is ErrorCode.INVALID_EXPRESSION


def test_distinct_paths_and_repeated_values_are_fine() -> None:
    assert compiled(attr("a") == attr("b"))[0] == "#n0 = #n1"
    assert compiled(size("a") == attr("a"))[0] == "size(#n0) = #n0"
    assert compiled(attr("a").between(1, 1))[0] == "#n0 BETWEEN :v0 AND :v0"
