"""Cursors round-trip any key and refuse every single-bit change or truncation."""

from __future__ import annotations

import base64
import hashlib
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tctf_dynamo.errors import ErrorCode, InvalidInputError
from tctf_dynamo.pagination import CursorCodec, CursorKey, query_fingerprint

NOW = 1_700_000_000.0
CODEC = CursorCodec(
    [CursorKey(k, hashlib.sha256(k.encode()).digest()) for k in ("k1", "k0")],
    clock=lambda: NOW,
)
BIND: dict[str, Any] = {
    "table": "platform",
    "index": "GSI1",
    "fingerprint": query_fingerprint({"KeyConditionExpression": "#pk = :pk"}),
}

numbers = st.one_of(
    st.integers(min_value=-(10**38), max_value=10**38).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=6).map(str),
    st.just(str(Decimal("9.9999999999999999999999999999999999999E+125"))),
)
scalars = st.one_of(
    st.text(max_size=64).map(lambda text: {"S": text}),
    numbers.map(lambda number: {"N": number}),
    st.binary(max_size=64).map(lambda data: {"B": data}),
)
wire_keys = st.dictionaries(st.text(min_size=1, max_size=20), scalars, min_size=1, max_size=4)


def to_token(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def from_token(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def assert_refused(token: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        CODEC.decode(token, **BIND)
    assert caught.value.code is ErrorCode.INVALID_PAGINATION_TOKEN
    assert caught.value.details == {}


@settings(max_examples=200, deadline=None)
@given(wire_keys)
def test_any_key_round_trips(key: dict[str, Any]) -> None:
    assert CODEC.decode(CODEC.encode(key, **BIND), **BIND) == key


@settings(max_examples=200, deadline=None)
@given(wire_keys, st.data())
def test_flipping_any_single_bit_is_refused(key: dict[str, Any], data: st.DataObject) -> None:
    token_bytes = bytearray(from_token(CODEC.encode(key, **BIND)))
    bit = data.draw(st.integers(min_value=0, max_value=len(token_bytes) * 8 - 1), label="bit")
    token_bytes[bit // 8] ^= 1 << (bit % 8)
    assert_refused(to_token(bytes(token_bytes)))


@settings(max_examples=200, deadline=None)
@given(wire_keys, st.data())
def test_truncating_the_bytes_at_any_length_is_refused(
    key: dict[str, Any], data: st.DataObject
) -> None:
    token_bytes = from_token(CODEC.encode(key, **BIND))
    length = data.draw(st.integers(min_value=0, max_value=len(token_bytes) - 1), label="length")
    assert_refused(to_token(token_bytes[:length]))


@settings(max_examples=200, deadline=None)
@given(wire_keys, st.data())
def test_truncating_the_text_at_any_length_is_refused(
    key: dict[str, Any], data: st.DataObject
) -> None:
    token = CODEC.encode(key, **BIND)
    length = data.draw(st.integers(min_value=0, max_value=len(token) - 1), label="length")
    assert_refused(token[:length])


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300).map(to_token)))
def test_arbitrary_input_only_ever_raises_the_token_error(token: str) -> None:
    assert_refused(token)


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=10),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text() | st.binary(),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=5), inner, max_size=3)
            ),
            max_leaves=10,
        ),
    )
)
def test_fingerprint_ignores_mapping_order(parts: dict[str, Any]) -> None:
    assert query_fingerprint(reverse_mappings(parts)) == query_fingerprint(parts)


def reverse_mappings(value: Any) -> Any:
    """The same value with every mapping, at every depth, in reverse insertion order."""
    if isinstance(value, dict):
        return {k: reverse_mappings(v) for k, v in reversed(list(value.items()))}
    if isinstance(value, list):
        return [reverse_mappings(item) for item in value]
    return value
