"""Encoding, decoding and size accounting of single values and items."""

from __future__ import annotations

import enum
import uuid
from collections import OrderedDict
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from tctf_dynamo import limits
from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode, InvalidInputError
from tctf_dynamo.wire.codec import (
    attribute_value_size,
    decode,
    decode_item,
    decode_number,
    encode,
    encode_item,
    encode_number,
    item_size,
)


class Color(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


class Status(enum.StrEnum):
    OPEN = "open"


class Tag(str):
    pass


def refused(value: Any) -> DynamoDBServiceError:
    with pytest.raises(InvalidInputError) as caught:
        encode(value)
    assert caught.value.code is ErrorCode.UNSUPPORTED_TYPE
    return caught.value


# ---------------------------------------------------------------- scalars


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        ("x", {"S": "x"}),
        ("", {"S": ""}),
        (True, {"BOOL": True}),
        (False, {"BOOL": False}),
        (0, {"N": "0"}),
        (-17, {"N": "-17"}),
        (Decimal("1.50"), {"N": "1.5"}),
        (Decimal("-0.0"), {"N": "0"}),
        (Decimal("1E+2"), {"N": "100"}),
        (Decimal("1.0"), {"N": "1"}),
        (1.1, {"N": "1.1"}),
        (1.0, {"N": "1"}),
        (-0.0, {"N": "0"}),
        (1e16, {"N": "10000000000000000"}),
        (1.5e-7, {"N": "0.00000015"}),
        (None, {"NULL": True}),
        (b"\x00\xff", {"B": b"\x00\xff"}),
        (bytearray(b"ab"), {"B": b"ab"}),
        (memoryview(b"ab"), {"B": b"ab"}),
        (date(2024, 2, 29), {"S": "2024-02-29"}),
        (
            uuid.UUID("12345678-1234-5678-1234-567812345678"),
            {"S": "12345678-1234-5678-1234-567812345678"},
        ),
        (Color.RED, {"S": "red"}),
        (Level.HIGH, {"N": "3"}),
        (Status.OPEN, {"S": "open"}),
        (Tag("t"), {"S": "t"}),
    ],
)
def test_encode_scalar(value: Any, wire: dict[str, Any]) -> None:
    encoded = encode(value)
    assert encoded == wire
    assert type(next(iter(encoded.values()))) is type(next(iter(wire.values())))


def test_bool_is_never_a_number() -> None:
    assert encode(True) == {"BOOL": True}
    assert encode(1) == {"N": "1"}
    refused({True, False})


def test_aware_datetime_is_utc_fixed_width() -> None:
    paris = timezone(timedelta(hours=2))
    assert encode(datetime(2024, 5, 1, 14, 0, tzinfo=paris)) == {"S": "2024-05-01T12:00:00.000000Z"}
    assert encode(datetime(2024, 5, 1, 12, 0, 0, 5, tzinfo=UTC)) == {
        "S": "2024-05-01T12:00:00.000005Z"
    }
    assert encode(datetime(5, 1, 1, tzinfo=UTC)) == {"S": "0005-01-01T00:00:00.000000Z"}


def test_datetime_strings_sort_like_times() -> None:
    base = datetime(2024, 1, 1, tzinfo=UTC)
    times = [base + timedelta(microseconds=step**3) for step in range(0, 2000, 37)]
    times += [datetime(999, 12, 31, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC)]
    texts = [encode(moment)["S"] for moment in times]
    assert sorted(texts) == [encode(moment)["S"] for moment in sorted(times)]
    assert len({len(text) for text in texts}) == 1


def test_naive_datetime_refused() -> None:
    error = refused(datetime(2024, 1, 1))
    assert "zone" in error.message


def test_datetime_out_of_range_in_utc_refused() -> None:
    refused(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))))


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_float_nan_and_infinity_refused(value: float) -> None:
    refused(value)


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity")])
def test_decimal_nan_and_infinity_refused(value: Decimal) -> None:
    refused(value)


def test_unsupported_object_refused_with_type_name() -> None:
    error = refused(object())
    assert error.details["type"] == "object"
    refused(1 + 2j)


# ---------------------------------------------------------------- numbers


def test_precision_edge() -> None:
    assert encode_number(Decimal("1." + "2" * 37)) == "1." + "2" * 37
    assert encode_number(10**38 - 1) == "9" * 38
    assert encode_number(10**50) == "1" + "0" * 50  # one significant digit
    with pytest.raises(InvalidInputError) as caught:
        encode_number(Decimal("1." + "2" * 38))
    assert caught.value.details == {"digits": 39, "limit": limits.MAX_NUMBER_PRECISION}
    with pytest.raises(InvalidInputError):
        encode_number(10**38 + 1)


def test_magnitude_edges() -> None:
    assert encode_number(limits.MAX_NUMBER_MAGNITUDE) == "9" * 38 + "0" * 88
    assert encode_number(limits.MAX_NUMBER_MAGNITUDE.copy_negate()) == "-" + "9" * 38 + "0" * 88
    assert encode_number(limits.MIN_NUMBER_MAGNITUDE) == "0." + "0" * 129 + "1"
    assert encode_number(int(limits.MAX_NUMBER_MAGNITUDE)) == "9" * 38 + "0" * 88
    for too_far in (Decimal("1E+126"), Decimal("-1E+126"), 10**126, Decimal("1E-131")):
        with pytest.raises(InvalidInputError) as caught:
            encode_number(too_far)
        assert caught.value.code is ErrorCode.UNSUPPORTED_TYPE
    assert encode_number(Decimal("0E-200")) == "0"


def test_float_is_exact_through_its_shortest_repr() -> None:
    assert encode_number(0.1) == "0.1"
    assert encode_number(2.5e-300 * 0) == "0"
    with pytest.raises(InvalidInputError):
        encode_number(1e-200)


def test_encode_number_refuses_bool_and_non_numbers() -> None:
    with pytest.raises(InvalidInputError):
        encode_number(True)
    with pytest.raises(InvalidInputError):
        encode_number("1")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        ("42", 42, int),
        ("-7", -7, int),
        ("1.5", Decimal("1.5"), Decimal),
        ("1E+3", Decimal(1000), Decimal),
        ("1.0", Decimal("1.0"), Decimal),
        ("0." + "0" * 129 + "1", Decimal("1E-130"), Decimal),
    ],
)
def test_decode_number(text: str, value: Any, kind: type) -> None:
    decoded = decode_number(text)
    assert decoded == value
    assert type(decoded) is kind


@pytest.mark.parametrize("text", ["", "-", "abc", "NaN", "Infinity", "1..2"])
def test_decode_number_refuses_non_numbers(text: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        decode_number(text)
    assert caught.value.code is ErrorCode.UNSUPPORTED_TYPE


# ---------------------------------------------------------------- collections


def test_collections() -> None:
    assert encode([1, "a", [None]]) == {"L": [{"N": "1"}, {"S": "a"}, {"L": [{"NULL": True}]}]}
    assert encode((1,)) == {"L": [{"N": "1"}]}
    assert encode({"a": {"b": True}}) == {"M": {"a": {"M": {"b": {"BOOL": True}}}}}
    assert encode(OrderedDict(a=1)) == {"M": {"a": {"N": "1"}}}
    assert encode([]) == {"L": []}
    assert encode({}) == {"M": {}}


def test_sets() -> None:
    assert sorted(encode({"b", "a"})["SS"]) == ["a", "b"]
    assert sorted(encode(frozenset({1, Decimal("2.5"), 3.5}))["NS"]) == ["1", "2.5", "3.5"]
    assert sorted(encode({b"x", b"y"})["BS"]) == [b"x", b"y"]
    assert encode({Tag("t")}) == {"SS": ["t"]}
    assert encode({Level.HIGH}) == {"NS": ["3"]}
    assert encode({0.1, Decimal("0.1")}) == {"NS": ["0.1"]}  # one number to DynamoDB


@pytest.mark.parametrize("value", [set(), frozenset()])
def test_empty_set_refused(value: Any) -> None:
    assert "empty" in refused(value).message


@pytest.mark.parametrize("value", [{"a", 1}, {1, b"x"}, {"a", b"x"}, {None}, {(1,)}])
def test_mixed_or_unsupported_set_refused(value: Any) -> None:
    refused(value)


def test_invalid_number_in_set_refused() -> None:
    refused({1, float("nan")})
    refused({Decimal("1E+200")})


def test_non_string_map_key_refused() -> None:
    error = refused({"ok": {1: "x"}})
    assert error.details["attribute"] == "ok"


def test_error_names_the_nested_path_never_the_value() -> None:
    with pytest.raises(InvalidInputError) as caught:
        encode_item({"tags": ["a", "b", "c", object()]})
    assert caught.value.details["attribute"] == "tags[3]"
    with pytest.raises(InvalidInputError) as caught:
        encode_item({"profile": {"addresses": [{"city": "secret", "since": datetime(2020, 1, 1)}]}})
    assert caught.value.details["attribute"] == "profile.addresses[0].since"
    assert "secret" not in str(caught.value)


def test_document_depth_limit() -> None:
    def nested(levels: int) -> Any:
        value: Any = "leaf"
        for level in range(levels):
            value = [value] if level % 2 else {"k": value}
        return value

    assert encode(nested(limits.MAX_DOCUMENT_DEPTH))
    error = refused(nested(limits.MAX_DOCUMENT_DEPTH + 1))
    assert error.details["limit"] == limits.MAX_DOCUMENT_DEPTH


def test_encode_item_refuses_non_string_names() -> None:
    with pytest.raises(InvalidInputError) as caught:
        encode_item({1: "x"})  # type: ignore[dict-item]
    assert caught.value.code is ErrorCode.UNSUPPORTED_TYPE


# ---------------------------------------------------------------- decoding


def test_decode_every_type() -> None:
    wire: dict[str, Any] = {
        "s": {"S": "x"},
        "n": {"N": "12"},
        "d": {"N": "1.25"},
        "t": {"BOOL": True},
        "z": {"NULL": True},
        "b": {"B": b"\x01"},
        "l": {"L": [{"S": "a"}, {"N": "1"}]},
        "m": {"M": {"k": {"S": "v"}}},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "1.5"]},
        "bs": {"BS": [b"a"]},
    }
    assert decode_item(wire) == {
        "s": "x",
        "n": 12,
        "d": Decimal("1.25"),
        "t": True,
        "z": None,
        "b": b"\x01",
        "l": ["a", 1],
        "m": {"k": "v"},
        "ss": {"a", "b"},
        "ns": {1, Decimal("1.5")},
        "bs": {b"a"},
    }
    assert type(decode({"B": bytearray(b"x")})) is bytes


@pytest.mark.parametrize(
    "av", [{}, {"S": "a", "N": "1"}, {"X": "1"}, {"N": "abc"}, "S", {"L": [{"Q": 1}]}]
)
def test_decode_refuses_malformed_values(av: Any) -> None:
    with pytest.raises(InvalidInputError) as caught:
        decode(av)
    assert caught.value.code is ErrorCode.INVALID_ITEM


def test_decode_error_names_path() -> None:
    with pytest.raises(InvalidInputError) as caught:
        decode_item({"doc": {"M": {"list": {"L": [{"S": "a"}, {"BAD": 1}]}}}})
    assert caught.value.details["attribute"] == "doc.list[1]"


def test_round_trip_of_an_item() -> None:
    item = {
        "PK": "USER#1",
        "n": 5,
        "amount": Decimal("12.34"),
        "nested": {"list": [1, "two", None, True, b"\x00"], "empty": {}},
        "roles": {"admin"},
    }
    assert decode_item(encode_item(item)) == item


# ---------------------------------------------------------------- sizes


@pytest.mark.parametrize(
    ("av", "size"),
    [
        ({"S": ""}, 0),
        ({"S": "abc"}, 3),
        ({"S": "é"}, 2),
        ({"S": "€"}, 3),
        ({"S": "😀"}, 4),
        ({"B": b"\x00\x01\x02"}, 3),
        ({"BOOL": False}, 1),
        ({"NULL": True}, 1),
        ({"N": "0"}, 1),
        ({"N": "-0"}, 1),
        ({"N": "1"}, 2),
        ({"N": "12"}, 2),
        ({"N": "123"}, 3),
        ({"N": "1234"}, 3),
        ({"N": "1.2"}, 3),  # pairs "01" "20"
        ({"N": "12.3"}, 3),
        ({"N": "0.05"}, 2),
        ({"N": "0.5"}, 2),
        ({"N": "100"}, 2),
        ({"N": "-1"}, 3),
        ({"N": "-12.5"}, 4),
        ({"N": "1E+2"}, 2),
        ({"N": "1.2E-7"}, 2),  # exponent -7 is odd: one pair "12"
        ({"N": "9" * 38}, 20),
        ({"N": "9" * 38 + "0" * 88}, 20),
        ({"SS": ["ab", "c"]}, 3),
        ({"NS": ["1", "-12.5"]}, 6),
        ({"BS": [b"ab", b""]}, 2),
        ({"L": []}, 3),
        ({"M": {}}, 3),
        ({"L": [{"S": "ab"}, {"N": "1"}]}, 3 + (1 + 2) + (1 + 2)),
        ({"M": {"key": {"S": "ab"}}}, 3 + 1 + 3 + 2),
        ({"M": {"a": {"L": [{"NULL": True}]}}}, 3 + 1 + 1 + (3 + 1 + 1)),
    ],
)
def test_attribute_value_size(av: dict[str, Any], size: int) -> None:
    assert attribute_value_size(av) == size


def test_item_size_adds_utf8_names() -> None:
    assert item_size({"a": {"S": "xy"}, "é": {"N": "1"}}) == (1 + 2) + (2 + 2)
    assert item_size({}) == 0


def test_item_size_names_malformed_attribute() -> None:
    with pytest.raises(InvalidInputError) as caught:
        item_size({"good": {"S": "x"}, "bad": {"N": "x1"}})
    assert caught.value.code is ErrorCode.INVALID_ITEM
    assert caught.value.details["attribute"] == "bad"


_SET_ENCODING_PROBE = """
import json, sys
from decimal import Decimal
from tctf_dynamo.wire.codec import encode
from tctf_dynamo import Entity, Table

class Tagged(Entity, table=Table("probe"), pk="T#{tag_id}", sk="META"):
    tag_id: str
    labels: set[str]
    counts: set[int]

names = {"fragile", "cold", "heavy", "late", "zeta", "alpha", "mid"}
items = [
    encode({"labels": names, "numbers": {Decimal("1.5"), 3, 20, -4}, "blobs": {b"b", b"a"}}),
    Tagged(tag_id="x", labels=names, counts={17, 3, 900, -2}).to_item(),
]
print(json.dumps(items, default=lambda b: b.hex()))
"""


def test_equal_sets_encode_identically_whatever_the_hash_seed() -> None:
    """A replay under a client token must send the same bytes from any process."""
    import os
    import subprocess
    import sys

    outputs = set()
    for seed in ("0", "1", "2", "12345"):
        result = subprocess.run(
            [sys.executable, "-c", _SET_ENCODING_PROBE],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.add(result.stdout)
    assert len(outputs) == 1
    items = __import__("json").loads(outputs.pop())
    assert items[0]["M"]["labels"]["SS"] == sorted(items[0]["M"]["labels"]["SS"])
    assert items[1]["counts"]["NS"] == ["-2", "3", "17", "900"]
