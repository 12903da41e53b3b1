"""Pre-encoded parts: a BatchWriteItem body with spliced parts is the plain encoder's bytes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tctf_dynamo.providers.base import EncodedPart, splices_parts
from tctf_dynamo.providers.wire_format import encode_request, encoded_part

_PLAIN = json.JSONEncoder(separators=(",", ":"), check_circular=False)


def _put(item: dict[str, Any]) -> dict[str, Any]:
    return {"PutRequest": {"Item": item}}


def _request(*tables: tuple[str, list[Any]], **extra: Any) -> dict[str, Any]:
    return {"RequestItems": dict(tables), **extra}


def _with_parts(request: dict[str, Any]) -> dict[str, Any]:
    """The same request, every write of every table pre-encoded."""
    items = {
        table: [encoded_part(write) for write in writes]
        for table, writes in request["RequestItems"].items()
    }
    return {**request, "RequestItems": items}


TRICKY = [
    {"PK": {"S": "plain"}, "SK": {"S": "A"}},
    {"PK": {"S": "é ü 漢字 \U0001f600"}, "SK": {"S": 'quote " backslash \\ slash /'}},
    {"PK": {"S": "controls \n\t\r\x00\x1f \u2028 \u2029"}, "SK": {"S": "</script>"}},
    {"PK": {"S": "k"}, "n": {"N": "-1.5E+10"}, "ok": {"BOOL": True}, "z": {"NULL": True}},
    {"PK": {"S": "k"}, "m": {"M": {"ключ": {"L": [{"S": "x"}, {"NS": ["1", "2"]}]}}}},
    {"PK": {"S": "k"}, "b": {"B": b"\x00\xff"}, "bs": {"BS": [b"a", b"\xfe"]}},
]


def test_a_part_is_the_dict_it_was_made_from() -> None:
    write = _put(TRICKY[1])
    part = encoded_part(write)
    assert isinstance(part, EncodedPart)
    assert part == write
    assert json.loads(part.json) == json.loads(encode_request(write))


@pytest.mark.parametrize("item", TRICKY)
def test_a_body_with_parts_is_byte_identical_to_encoding_it_whole(item: dict[str, Any]) -> None:
    request = _request(("orders", [_put(item), _put(TRICKY[0])]))
    assert encode_request(_with_parts(request)) == encode_request(request)


def test_plain_requests_and_their_spliced_form_agree_with_the_plain_encoder() -> None:
    request = _request(("orders", [_put(item) for item in TRICKY[:4]]))
    expected = _PLAIN.encode(request).encode("ascii")
    assert encode_request(request) == expected
    assert encode_request(_with_parts(request)) == expected


def test_several_tables_deletes_and_other_members_keep_their_places() -> None:
    delete = {"DeleteRequest": {"Key": {"PK": {"S": "gone"}}}}
    request = {
        "ReturnConsumedCapacity": "TOTAL",
        "RequestItems": {"first ü": [_put(TRICKY[1]), delete], "second": [_put(TRICKY[2])]},
        "ReturnItemCollectionMetrics": "SIZE",
    }
    mixed = {
        **request,
        "RequestItems": {
            "first ü": [encoded_part(_put(TRICKY[1])), delete],
            "second": [encoded_part(_put(TRICKY[2]))],
        },
    }
    assert encode_request(mixed) == encode_request(request)


_text = st.text(max_size=12)
_value = st.recursive(
    st.one_of(
        st.builds(lambda s: {"S": s}, _text),
        st.builds(lambda n: {"N": str(n)}, st.integers()),
        st.builds(lambda b: {"BOOL": b}, st.booleans()),
        st.builds(lambda b: {"B": b}, st.binary(max_size=8)),
    ),
    lambda inner: st.one_of(
        st.builds(lambda values: {"L": values}, st.lists(inner, max_size=3)),
        st.builds(lambda values: {"M": values}, st.dictionaries(_text, inner, max_size=3)),
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.dictionaries(_text, _value, min_size=1, max_size=4), min_size=1, max_size=5))
def test_any_items_spliced_are_byte_identical(items: list[dict[str, Any]]) -> None:
    request = _request(("t", [_put(item) for item in items]))
    assert encode_request(_with_parts(request)) == encode_request(request)


def test_only_providers_that_write_json_themselves_splice() -> None:
    class Writes:
        splices_parts = True

    assert splices_parts(Writes())
    assert not splices_parts(object())
