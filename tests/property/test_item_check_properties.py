"""The one-walk item check says "valid, of this size" only when every rule would.

:func:`tctf_dynamo.validation.item_check.checked_size` stands in for three walks of an item (its
AttributeValue rules, its size, its unsafe strings). Generated wire items, many of them
broken in one of the ways those rules refuse, are checked against the rules themselves:
the walk either declines (None) or gives exactly the size the rules give. And
``validate_item`` as a whole, fast walk included, must answer exactly as the rules applied
one after the other, in their order: same size, or same error code and details.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tctf_dynamo import limits
from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode
from tctf_dynamo.validation import (
    DEFAULT_UNSAFE_VALUE_POLICY,
    KeyAttribute,
    UnsafeValuePolicy,
    check_unsafe_values,
    validate_attribute_name,
    validate_item,
)
from tctf_dynamo.validation.item_check import checked_size
from tctf_dynamo.validation.unsafe_values import _UNSAFE_PATTERN, unsafe_match
from tctf_dynamo.wire.attribute_values import check_attribute_values
from tctf_dynamo.wire.sizes import item_size

SETTINGS = settings(max_examples=400, deadline=None)
SCHEMA = [KeyAttribute("PK", "S"), KeyAttribute("SK", "S")]

# ---------------------------------------------------------------- generated values

# fmt: off
_RISKY = [
    "<script>", "< iframe", "javascript:", "java\tscript :", "vbscript:", "data: text/html",
    "<b onclick=x>", "care: fragile", "12:30:00", "t:", "A:", "<p>", "é", "\ud800",
]
_NUMBERS = [
    "0", "7", "-12", "3.25", "0.5", "007", "1.50", "-0", ".5", "5.", "1e5", "1E+3", "NaN",
    "Infinity", "1E-131", "x", "--1", "1.2.3",
]
# fmt: on
texts = (
    st.text(max_size=12)
    | st.sampled_from(_RISKY)
    | st.builds("".join, st.lists(st.sampled_from([*_RISKY, "x", " ", ":"]), max_size=4))
)
numbers = (
    st.sampled_from([*_NUMBERS, "", "1" * 38, "1" * 39, "9" * 40])
    | st.integers(-(10**40), 10**40).map(str)
    | st.decimals(allow_nan=False).map(str)
)
binaries = st.binary(max_size=6) | st.builds(bytearray, st.binary(max_size=3))
odd = st.none() | st.integers() | st.just(1.5) | st.just("text") | st.just([])

valid_scalars = st.one_of(
    st.builds(lambda text: {"S": text}, texts),
    st.builds(lambda number: {"N": number}, st.integers(-(10**20), 10**20).map(str)),
    st.builds(lambda flag: {"BOOL": flag}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda payload: {"B": payload}, binaries),
    st.builds(lambda members: {"SS": sorted(members)}, st.sets(texts, min_size=1, max_size=3)),
)
broken_scalars = st.one_of(
    st.builds(lambda number: {"N": number}, numbers),
    st.builds(lambda flag: {"BOOL": flag}, odd),
    st.builds(lambda null: {"NULL": null}, st.booleans() | odd),
    st.builds(lambda payload: {"B": payload}, odd),
    st.builds(lambda members: {"SS": members}, st.lists(texts, max_size=3) | odd),
    st.builds(lambda members: {"NS": members}, st.lists(numbers, max_size=3) | odd),
    st.builds(lambda members: {"BS": members}, st.lists(binaries, max_size=3) | odd),
    st.builds(lambda payload: {"S": payload}, odd),
    st.builds(lambda payload: {"N": payload}, odd),
    st.sampled_from([{}, {"S": "a", "N": "1"}, {"X": "1"}, "bare", None]),
)


def _mostly(
    valid: st.SearchStrategy[Any], broken: st.SearchStrategy[Any]
) -> st.SearchStrategy[Any]:
    """``valid`` nine times in ten: an item with many values still keeps all rules often."""
    return st.integers(0, 9).flatmap(lambda draw: broken if draw == 0 else valid)


scalars = _mostly(valid_scalars, broken_scalars)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    lists = st.builds(lambda elements: {"L": elements}, st.lists(children, max_size=3))
    maps = st.builds(lambda entries: {"M": entries}, st.dictionaries(texts, children, max_size=3))
    broken = st.one_of(
        st.builds(lambda elements: {"L": tuple(elements)}, st.lists(children, max_size=2)),
        st.builds(
            lambda entries: {"M": entries}, st.dictionaries(st.integers(), children, max_size=1)
        ),
        st.builds(lambda payload: {"M": payload}, odd),
        st.builds(lambda payload: {"L": payload}, odd),
    )
    return _mostly(lists | maps, broken)


values = st.recursive(scalars, _containers, max_leaves=12)
names = st.sampled_from(["a", "name", "note", "html", "x" * 300, "", "é", "\ud800"]) | st.text(
    min_size=1, max_size=6
)
items = st.builds(
    lambda rest, pk, sk: {"PK": pk, "SK": sk, **rest},
    st.dictionaries(names, values, max_size=6),
    st.sampled_from([{"S": "USER#1"}] * 18 + [{"S": ""}, {"N": "1"}]),
    st.sampled_from([{"S": "META"}] * 19 + [{"S": "x" * 1025}]),
)
policies = st.sampled_from(
    [
        None,
        DEFAULT_UNSAFE_VALUE_POLICY,
        UnsafeValuePolicy.disabled(),
        UnsafeValuePolicy(allowed_attributes={"html", "note"}),
    ]
)


# ---------------------------------------------------------------- the rules, one by one


def _rules_size(item: dict[str, Any], policy: UnsafeValuePolicy | None) -> int | None:
    """What the three rules say: the size, or None when one of them refuses."""
    try:
        check_attribute_values(item)
        size = item_size(item)
        if policy is not None:
            check_unsafe_values(item, policy)
    except DynamoDBServiceError:
        return None
    return size


def _reference_validate(item: dict[str, Any], policy: UnsafeValuePolicy | None) -> int:
    """``validate_item`` as the rules apply one after the other, without the walk."""
    validate_item({"PK": item["PK"], "SK": item["SK"]}, SCHEMA, None)  # the key checks
    check_attribute_values(item)
    for name in item:
        validate_attribute_name(name, key=name in ("PK", "SK"))
    size = item_size(item)
    if size > limits.MAX_ITEM_SIZE_BYTES:
        raise DynamoDBServiceError(ErrorCode.ITEM_TOO_LARGE, "too large", {"size": size})
    if policy is not None:
        check_unsafe_values(item, policy)
    return size


def _outcome(check: Any, *args: Any) -> tuple[str, Any]:
    try:
        return "size", check(*args)
    except DynamoDBServiceError as error:
        details = {k: v for k, v in error.details.items() if k not in ("limit",)}
        return error.code.value, details


@SETTINGS
@given(items, policies)
def test_the_walk_accepts_only_what_the_rules_accept_and_sizes_it_alike(
    item: dict[str, Any], policy: UnsafeValuePolicy | None
) -> None:
    found = checked_size(item, policy)
    if found is not None:
        assert found == _rules_size(item, policy)


@SETTINGS
@given(items, policies)
def test_validate_item_answers_as_the_rules_in_their_order(
    item: dict[str, Any], policy: UnsafeValuePolicy | None
) -> None:
    assert _outcome(validate_item, item, SCHEMA, policy) == _outcome(
        _reference_validate, item, policy
    )


# ---------------------------------------------------------------- the unsafe-string filter

_UNSAFE_ALPHABET = "javscriptdJVSDATHtmlx:<>=/ \t\n\x00\x1f\u00a0\u2028o"


@settings(max_examples=1000, deadline=None)
@given(
    st.text(_UNSAFE_ALPHABET, max_size=30) | st.builds("".join, st.lists(st.sampled_from(_RISKY)))
)
def test_unsafe_match_finds_what_the_pattern_finds(text: str) -> None:
    expected = _UNSAFE_PATTERN.search(text)
    found = unsafe_match(text)
    assert (found is None) == (expected is None)
    if found is not None and expected is not None:
        assert found.lastgroup == expected.lastgroup


# ---------------------------------------------------------------- the walk is taken


def _ordinary_item() -> dict[str, Any]:
    return {
        "PK": {"S": "CUSTOMER#C1"},
        "SK": {"S": "ORDER#O1"},
        "quantity": {"N": "3"},
        "total": {"N": "12.50"},
        "paid": {"BOOL": True},
        "created_at": {"S": "2024-01-01T00:00:00.000001Z"},
        "tags": {"L": [{"S": "gift"}, {"S": "crème"}]},
        "labels": {"SS": ["a", "b"]},
        "scores": {"NS": ["1", "2.5"]},
        "address": {"M": {"street": {"S": "1 Main Street"}, "zip": {"S": "01101"}}},
        "blob": {"B": b"\x00\x01"},
        "gone": {"NULL": True},
        "note": {"S": "Handle with care: fragile"},
    }


def test_ordinary_items_take_the_walk() -> None:
    item = _ordinary_item()
    assert checked_size(item, DEFAULT_UNSAFE_VALUE_POLICY) == item_size(item)


@pytest.mark.parametrize(
    ("name", "av"),
    [
        ("note", {"S": "<script>alert(1)</script>"}),
        ("tags", {"L": [{"S": "ok"}, {"S": "javascript:go()"}]}),
        ("labels", {"SS": ["fine", "<iframe src=x>"]}),
        ("address", {"M": {"city": {"M": {"name": {"S": "data:text/html,x"}}}}}),
    ],
)
def test_unsafe_strings_are_refused_with_their_path(name: str, av: dict[str, Any]) -> None:
    item = {**_ordinary_item(), name: av}
    assert checked_size(item, DEFAULT_UNSAFE_VALUE_POLICY) is None
    with pytest.raises(DynamoDBServiceError) as caught:
        validate_item(item, SCHEMA)
    assert caught.value.code is ErrorCode.UNSAFE_VALUE
    assert caught.value.details["attribute"].split(".")[0].split("[")[0] == name
    assert checked_size(item, UnsafeValuePolicy(allowed_attributes={name})) == item_size(item)


@pytest.mark.parametrize("extra", [0, 1])
def test_item_too_large_at_exactly_the_dynamodb_byte_count(extra: int) -> None:
    item = _ordinary_item()
    base = item_size(item)
    filler = "x" * (limits.MAX_ITEM_SIZE_BYTES - base - len("filler") - 3 - 1 - 1 + extra)
    item["filler"] = {"M": {"t": {"S": filler}}}  # 3 + 1 per entry + "t" + the text
    size = limits.MAX_ITEM_SIZE_BYTES + extra
    assert checked_size(item, DEFAULT_UNSAFE_VALUE_POLICY) == size
    if extra:
        with pytest.raises(DynamoDBServiceError) as caught:
            validate_item(item, SCHEMA)
        assert caught.value.code is ErrorCode.ITEM_TOO_LARGE
        assert caught.value.details["size"] == size
    else:
        assert validate_item(item, SCHEMA) == size
