"""The placeholder accumulator, request parts, limits and operand type checks."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tctf_dynamo import limits
from tctf_dynamo.errors import ErrorCode, InvalidInputError
from tctf_dynamo.expressions import (
    Condition,
    Placeholders,
    Projection,
    Update,
    attr,
    build_request_parts,
    compile_condition,
    compile_projection,
    compile_update,
    key,
    size,
)


def test_same_name_reuses_its_placeholder_even_inside_one_path() -> None:
    placeholders = Placeholders()
    text = compile_condition((attr("a.a") == 1) & (attr("a") == 2), placeholders)
    assert text == "#n0.#n0 = :v0 AND #n0 = :v1"
    assert placeholders.names == {"#n0": "a"}


def test_values_are_deduplicated_by_encoded_value() -> None:
    placeholders = Placeholders()
    condition = (attr("a") == 1) & (attr("b") == Decimal("1.0")) & (attr("c") == 1.0)
    assert compile_condition(condition, placeholders) == "#n0 = :v0 AND #n1 = :v0 AND #n2 = :v0"
    assert placeholders.values == {":v0": {"N": "1"}}


def test_bool_and_number_never_share_a_placeholder() -> None:
    placeholders = Placeholders()
    compile_condition((attr("a") == 1) & (attr("b") == True), placeholders)  # noqa: E712
    assert placeholders.values == {":v0": {"N": "1"}, ":v1": {"BOOL": True}}


def test_equal_sets_share_a_placeholder_and_are_sorted() -> None:
    placeholders = Placeholders()
    compile_condition((attr("a") == {"b", "a", "c"}) & (attr("b") == {"c", "a", "b"}), placeholders)
    assert placeholders.values == {":v0": {"SS": ["a", "b", "c"]}}


@pytest.mark.parametrize(
    "name", ["status", "name", "size", "data", "KEYS", "user id", "a-b", "1st"]
)
def test_reserved_words_and_odd_names_are_always_placeholders(name: str) -> None:
    placeholders = Placeholders()
    assert compile_condition(attr((name,)) == "x", placeholders) == "#n0 = :v0"
    assert placeholders.names == {"#n0": name}


def test_output_is_deterministic() -> None:
    def build() -> dict[str, object]:
        return build_request_parts(
            key_condition=(key("PK") == "USER#1") & key("SK").begins_with("ORDER#"),
            filter=(attr("tags") == {"z", "y", "x"}) | (size("items") > 3),
            projection=Projection("status", "items[0]"),
        )

    assert build() == build()
    assert repr(build()) == repr(build())


def test_request_parts_share_one_accumulator_in_a_fixed_order() -> None:
    parts = build_request_parts(
        condition=attr("version") == 3,
        update=Update().set("version", 4).set("status", "DONE"),
        projection=["status"],
    )
    assert parts == {
        "ConditionExpression": "#n0 = :v0",
        "UpdateExpression": "SET #n0 = :v1, #n1 = :v2",
        "ProjectionExpression": "#n1",
        "ExpressionAttributeNames": {"#n0": "version", "#n1": "status"},
        "ExpressionAttributeValues": {
            ":v0": {"N": "3"},
            ":v1": {"N": "4"},
            ":v2": {"S": "DONE"},
        },
    }


def test_empty_names_and_values_are_left_out() -> None:
    assert build_request_parts(projection=["a"]) == {
        "ProjectionExpression": "#n0",
        "ExpressionAttributeNames": {"#n0": "a"},
    }
    assert build_request_parts() == {}
    placeholders = Placeholders()
    assert placeholders.request_parts() == {}


def test_filter_and_key_condition_use_their_own_keys() -> None:
    parts = build_request_parts(key_condition=key("PK") == "p", filter=attr("a").exists())
    assert parts["KeyConditionExpression"] == "#n0 = :v0"
    assert parts["FilterExpression"] == "attribute_exists(#n1)"


def test_expression_over_the_size_limit_names_size_and_limit() -> None:
    names = [f"attribute_{index}" for index in range(600)]
    condition: Condition = attr(names[0]).exists()
    for name in names[1:]:
        condition = condition & attr(name).exists()
    with pytest.raises(InvalidInputError) as caught:
        build_request_parts(filter=condition)
    error = caught.value
    assert error.code is ErrorCode.INVALID_EXPRESSION
    assert error.details["expression"] == "FilterExpression"
    assert error.details["limit"] == limits.MAX_EXPRESSION_BYTES
    assert error.details["size"] > limits.MAX_EXPRESSION_BYTES


def test_expression_just_under_the_limit_compiles() -> None:
    condition: Condition = attr("a").exists()
    for index in range(1, 150):
        condition = condition & attr(f"a{index}").exists()
    text = compile_condition(condition, Placeholders())
    assert len(text.encode()) <= limits.MAX_EXPRESSION_BYTES


def test_a_failed_compile_leaves_the_accumulator_unchanged() -> None:
    placeholders = Placeholders()
    compile_condition(attr("a") == 1, placeholders)
    with pytest.raises(InvalidInputError):
        compile_condition((attr("b") == 2) & (attr("c") < {"x"}), placeholders)
    assert placeholders.names == {"#n0": "a"}
    assert placeholders.values == {":v0": {"N": "1"}}


def test_unsupported_values_raise_the_codec_error() -> None:
    with pytest.raises(InvalidInputError) as caught:
        compile_condition(attr("a") == object(), Placeholders())
    assert caught.value.code is ErrorCode.UNSUPPORTED_TYPE


@pytest.mark.parametrize(
    "condition",
    [
        attr("a") < {"x"},
        attr("a") >= [1],
        attr("a") > True,
        attr("a").between(None, 2),
        attr("a").begins_with(5),
        size("a") == "3",
        size("a").between("a", "b"),
    ],
)
def test_operands_of_the_wrong_type_are_invalid(condition: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        compile_condition(condition, Placeholders())  # type: ignore[arg-type]
    assert caught.value.code is ErrorCode.INVALID_EXPRESSION


def test_between_needs_one_type_and_ordered_bounds() -> None:
    compile_condition(attr("a").between(1, 1), Placeholders())
    compile_condition(attr("a").between(b"\x00", b"\x01"), Placeholders())
    for low, high in [(2, 1), ("b", "a"), (1, "a"), (Decimal("10"), 9.5)]:
        with pytest.raises(InvalidInputError):
            compile_condition(attr("a").between(low, high), Placeholders())


def test_compile_functions_refuse_the_wrong_expression_kind() -> None:
    with pytest.raises(InvalidInputError):
        compile_condition(Update().set("a", 1), Placeholders())  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        compile_update(attr("a") == 1, Placeholders())  # type: ignore[arg-type]


def test_projection_accepts_paths_and_rejects_overlap() -> None:
    placeholders = Placeholders()
    assert compile_projection(["a", "b.c", "a"], placeholders) == "#n0, #n1.#n2"
    assert compile_projection("d", placeholders) == "#n3"
    with pytest.raises(InvalidInputError) as caught:
        Projection("a", "a.b")
    assert caught.value.details == {"paths": ["a", "a.b"]}
    with pytest.raises(InvalidInputError):
        Projection()
    assert Projection("a", attr("b[0]")).debug() == "a, b[0]"
