"""Properties of compiled expressions: every placeholder defined, every definition used."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tctf_dynamo.expressions import (
    Condition,
    Path,
    Placeholders,
    Update,
    attr,
    build_request_parts,
    compile_condition,
    evaluate,
    size,
)

NAMES = st.sampled_from(["status", "name", "size", "data", "a", "b.c", "weird name", "#x", ":v0"])
INDEXES = st.integers(min_value=0, max_value=3)


@st.composite
def paths(draw: st.DrawFn) -> Path:
    first = draw(NAMES)
    rest = draw(st.lists(st.one_of(NAMES, INDEXES), max_size=3))
    return Path((first, *rest))


NUMBERS = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.decimals(min_value=-1000, max_value=1000, places=3, allow_nan=False),
)
ORDERED = st.one_of(NUMBERS, st.text(max_size=5), st.binary(max_size=4))
SCALARS = st.one_of(ORDERED, st.booleans(), st.none())
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(min_size=1, max_size=3), inner, max_size=3),
    ),
    max_leaves=4,
) | st.sets(st.text(max_size=3), min_size=1, max_size=3)


@st.composite
def comparisons(draw: st.DrawFn) -> Condition:
    subject = attr(draw(paths()))
    operator = draw(st.sampled_from(["=", "<>", "<", "<=", ">", ">="]))
    other: Any = draw(VALUES if operator in ("=", "<>") else ORDERED)
    if draw(st.booleans()):
        # DynamoDB refuses a path compared with itself; that refusal has its own unit test.
        other = attr(draw(paths().filter(lambda path: path != subject.path)))
    compare = {
        "=": subject.__eq__,
        "<>": subject.__ne__,
        "<": subject.__lt__,
        "<=": subject.__le__,
        ">": subject.__gt__,
        ">=": subject.__ge__,
    }[operator]
    return compare(other)


@st.composite
def leaves(draw: st.DrawFn) -> Condition:
    path = draw(paths())
    low, high = sorted(draw(st.lists(NUMBERS, min_size=2, max_size=2)))
    options: list[Condition] = [
        draw(comparisons()),
        attr(path).between(low, high),
        attr(path).is_in(*draw(st.lists(SCALARS, min_size=1, max_size=4))),
        attr(path).begins_with(draw(st.text(min_size=1, max_size=4))),
        attr(path).contains(draw(SCALARS)),
        attr(path).exists(),
        attr(path).not_exists(),
        attr(path).attribute_type(draw(st.sampled_from(["S", "N", "L", "M", "NULL"]))),
        size(path) >= draw(st.integers(min_value=0, max_value=5)),
    ]
    return draw(st.sampled_from(options))


CONDITIONS = st.recursive(
    leaves(),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda pair: pair[0] & pair[1]),
        st.tuples(inner, inner).map(lambda pair: pair[0] | pair[1]),
        inner.map(lambda condition: ~condition),
    ),
    max_leaves=8,
)


def assert_placeholders_match(text: str, names: dict[str, str], values: dict[str, Any]) -> None:
    assert set(re.findall(r"#n\d+", text)) == set(names)
    assert set(re.findall(r":v\d+", text)) == set(values)
    assert len(set(names.values())) == len(names), "a name got two placeholders"


@settings(max_examples=200, deadline=None)
@given(CONDITIONS)
def test_condition_placeholders_are_exactly_the_dict_keys(condition: Condition) -> None:
    placeholders = Placeholders()
    text = compile_condition(condition, placeholders)
    assert_placeholders_match(text, placeholders.names, placeholders.values)


@settings(max_examples=100, deadline=None)
@given(CONDITIONS, CONDITIONS)
def test_request_parts_share_placeholders_across_expressions(
    filter_condition: Condition, condition: Condition
) -> None:
    parts = build_request_parts(filter=filter_condition, condition=condition)
    text = parts["FilterExpression"] + " " + parts["ConditionExpression"]
    assert_placeholders_match(
        text, parts.get("ExpressionAttributeNames", {}), parts.get("ExpressionAttributeValues", {})
    )
    assert parts == build_request_parts(filter=filter_condition, condition=condition)


@st.composite
def updates(draw: st.DrawFn) -> Update:
    update = Update()
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        kind = draw(st.sampled_from(["set", "arith", "remove", "add", "delete"]))
        path = draw(paths())
        if kind in ("add", "delete"):
            path = Path((path.top,))
        if any(path.overlaps(existing) for existing in update.paths):
            continue
        if kind == "set":
            update = update.set(path, draw(VALUES))
        elif kind == "arith":
            update = update.set(path, attr(draw(paths())) + draw(NUMBERS))
        elif kind == "remove":
            update = update.remove(path)
        elif kind == "add":
            update = update.add(path, draw(NUMBERS))
        else:
            update = update.delete(path, draw(st.sets(st.text(), min_size=1)))
    return update


@settings(max_examples=200, deadline=None)
@given(updates(), CONDITIONS)
def test_update_placeholders_are_exactly_the_dict_keys(
    update: Update, condition: Condition
) -> None:
    if update.is_empty:
        return
    parts = build_request_parts(update=update, condition=condition)
    text = parts["UpdateExpression"] + " " + parts["ConditionExpression"]
    assert_placeholders_match(
        text, parts.get("ExpressionAttributeNames", {}), parts.get("ExpressionAttributeValues", {})
    )


ITEMS = st.dictionaries(
    st.sampled_from(["status", "name", "size", "data", "a"]),
    VALUES,
    max_size=5,
)


@settings(max_examples=200, deadline=None)
@given(CONDITIONS, ITEMS)
def test_negation_and_de_morgan_hold_in_evaluation(
    condition: Condition, item: dict[str, Any]
) -> None:
    assert evaluate(~condition, item) is not evaluate(condition, item)
    other = attr("status").exists()
    assert evaluate(~(condition & other), item) == evaluate(~condition | ~other, item)


@settings(max_examples=100, deadline=None)
@given(st.decimals(min_value=-(10**6), max_value=10**6, places=4, allow_nan=False))
def test_equal_numbers_share_one_placeholder(number: Decimal) -> None:
    placeholders = Placeholders()
    compile_condition((attr("a") == number) & (attr("b") == number + 0), placeholders)
    assert len(placeholders.values) == 1
