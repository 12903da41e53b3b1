"""Round trips and size accounting of the codec over generated documents."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tctf_dynamo import limits
from tctf_dynamo.errors import InvalidInputError
from tctf_dynamo.wire.codec import (
    decode,
    decode_item,
    encode,
    encode_item,
    encode_number,
    item_size,
)

SETTINGS = settings(max_examples=200, deadline=None)


def _decimal(negative: bool, digits: str, adjusted: int) -> Decimal:
    return Decimal((int(negative), tuple(int(d) for d in digits), adjusted - len(digits) + 1))


storable_decimals = st.builds(
    _decimal,
    st.booleans(),
    st.text("0123456789", min_size=1, max_size=limits.MAX_NUMBER_PRECISION).map(
        lambda digits: "1" + digits[1:] if digits[0] == "0" else digits
    ),
    st.integers(limits.MIN_NUMBER_MAGNITUDE.adjusted(), limits.MAX_NUMBER_MAGNITUDE.adjusted()),
)
storable_ints = st.integers(-(10**38) + 1, 10**38 - 1) | st.builds(
    lambda base, shift: base * 10**shift, st.integers(-(10**20), 10**20), st.integers(0, 80)
)
numbers = storable_ints | storable_decimals | st.just(Decimal(0))
scalars = (
    st.text(max_size=20)
    | numbers
    | st.booleans()
    | st.none()
    | st.binary(max_size=20)
    | st.frozensets(st.text(max_size=5), min_size=1, max_size=4)
    | st.frozensets(numbers, min_size=1, max_size=4)
    | st.frozensets(st.binary(max_size=5), min_size=1, max_size=4)
)
documents = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)
items = st.dictionaries(st.text(min_size=1, max_size=8), documents, max_size=6)


@SETTINGS
@given(documents)
def test_decode_inverts_encode(value: Any) -> None:
    assert decode(encode(value)) == value


@SETTINGS
@given(items)
def test_item_round_trip(item: dict[str, Any]) -> None:
    assert decode_item(encode_item(item)) == item


@SETTINGS
@given(numbers)
def test_number_text_is_canonical(number: int | Decimal) -> None:
    text = encode_number(number)
    assert Decimal(text) == number
    assert "E" not in text and "e" not in text
    assert not ("." in text and text.endswith("0"))
    assert encode_number(Decimal(text)) == text  # a fixed point


@SETTINGS
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_encode_exactly_as_their_shortest_repr_or_are_refused(number: float) -> None:
    exact = Decimal(repr(number))
    try:
        text = encode_number(number)
    except InvalidInputError:
        assert exact and not (-131 < exact.adjusted() <= 125)
    else:
        assert Decimal(text) == exact


@SETTINGS
@given(
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-7, minutes=-30))])),
    st.datetimes(timezones=st.just(UTC)),
)
def test_datetime_strings_order_like_instants(first: datetime, second: datetime) -> None:
    try:
        a, b = encode(first)["S"], encode(second)["S"]
    except InvalidInputError:  # an instant outside year 1..9999 once in UTC
        return
    assert (a < b) == (first < second)
    assert datetime.fromisoformat(a) == first


# ---------------------------------------------------------------- size reference


def _reference_number_size(text: str) -> int:
    """DynamoDB's rule written from its description: base-100 digits plus an exponent byte."""
    number = Decimal(text)
    if number == 0:
        return 1
    coefficient = str(int("".join(map(str, number.as_tuple().digits)))).rstrip("0")
    exponent = number.adjusted()
    size = 1 + math.ceil(len(coefficient) / 2)
    if len(coefficient) % 2 == 0 and exponent % 2 == 0:
        size += 1  # the first pair is "0d" and the last digit starts a pair of its own
    return size + (1 if number < 0 else 0)


def _reference_size(av: dict[str, Any]) -> int:
    ((kind, payload),) = av.items()
    if kind in ("S", "B"):
        return len(payload.encode() if kind == "S" else payload)
    if kind == "N":
        return _reference_number_size(payload)
    if kind in ("SS", "BS"):
        return sum(len(e.encode() if kind == "SS" else e) for e in payload)
    if kind == "NS":
        return sum(_reference_number_size(e) for e in payload)
    if kind in ("NULL", "BOOL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + _reference_size(e) for e in payload)
    return 3 + sum(1 + len(k.encode()) + _reference_size(v) for k, v in payload.items())


@SETTINGS
@given(items)
def test_item_size_matches_reference(item: dict[str, Any]) -> None:
    wire = encode_item(item)
    expected = sum(len(name.encode()) + _reference_size(av) for name, av in wire.items())
    assert item_size(wire) == expected


@SETTINGS
@given(numbers)
def test_number_size_ignores_notation(number: int | Decimal) -> None:
    canonical = encode_number(number)
    scientific = f"{Decimal(canonical):E}"
    assert item_size({"n": {"N": canonical}}) == item_size({"n": {"N": scientific}})
    assert item_size({"n": {"N": canonical}}) == 1 + _reference_number_size(canonical)
