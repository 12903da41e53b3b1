"""Order-preserving key encodings: exact texts and refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import IntEnum
from uuid import UUID

import pytest

from tctf_dynamo.errors import ErrorCode, InvalidInputError
from tctf_dynamo.model import sortable


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0, "1"),
        (Decimal("-0.0"), "1"),
        (1, "21301."),
        (Decimal("1.5"), "213015."),
        (-1, "01258:"),
        (Decimal("-1.5"), "012584:"),
        (100, "21321."),
        (Decimal("0.001"), "21271."),
        (Decimal("1E-130"), "20001."),
        (Decimal("9.9999999999999999999999999999999999999E+125"), "2255" + "9" * 38 + "."),
    ],
)
def test_number_texts(number, text):
    assert sortable.encode_sortable_number(number) == text
    assert sortable.decode_sortable_number(text) == number


@pytest.mark.parametrize(
    "number",
    [
        Decimal("1E-131"),
        Decimal("1E+126"),
        10**126,
        float("nan"),
        float("inf"),
        Decimal("NaN"),
        int("1" * 39),
    ],
)
def test_numbers_dynamodb_cannot_store_are_refused(number):
    with pytest.raises(InvalidInputError) as caught:
        sortable.encode_sortable_number(number)
    assert caught.value.code is ErrorCode.INVALID_KEY


@pytest.mark.parametrize("text", ["", "3", "2130", "21301", "2abc1.", "0999:", "20001:", "2300.1."])
def test_malformed_number_texts_are_refused(text):
    with pytest.raises(InvalidInputError):
        sortable.decode_sortable_number(text)


def test_datetime_is_fixed_width_utc_and_naive_is_refused():
    moment = datetime(2024, 5, 1, 12, 0, 0, 5, tzinfo=UTC)
    assert sortable.encode_sortable_datetime(moment) == "2024-05-01T12:00:00.000005Z"
    assert sortable.encode_sortable_datetime(datetime(5, 1, 1, tzinfo=UTC)).startswith("0005-")
    with pytest.raises(InvalidInputError, match="naive"):
        sortable.encode_sortable_datetime(datetime(2024, 5, 1))
    with pytest.raises(InvalidInputError):
        sortable.decode_sortable_datetime("2024-05-01")


def test_small_types():
    assert sortable.encode_sortable_bool(False) < sortable.encode_sortable_bool(True)
    assert sortable.decode_sortable_bool("true") is True
    assert sortable.encode_sortable_date(date(2024, 1, 2)) == "2024-01-02"
    ident = UUID(int=255)
    assert sortable.decode_sortable_uuid(sortable.encode_sortable_uuid(ident)) == ident
    with pytest.raises(InvalidInputError):
        sortable.decode_sortable_bool("yes")


def test_codec_lookup_and_int_enums_sort_by_value():
    class Level(IntEnum):
        LOW = 2
        HIGH = 10

    pair = sortable.sortable_codec_for(int)
    assert pair is not None
    encode, decode = sortable.enum_codec(Level, pair)
    assert encode(Level.LOW) < encode(Level.HIGH)
    assert decode(encode(Level.HIGH)) is Level.HIGH
    assert sortable.sortable_codec_for(str) is None
    assert sortable.sortable_codec_for(bool)[0] is sortable.encode_sortable_bool
    assert sortable.sortable_codec_for(datetime)[0] is sortable.encode_sortable_datetime
