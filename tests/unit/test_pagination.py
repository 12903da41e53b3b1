"""Cursor codec: round trips, rotation, expiry, binding, and one error for every failure."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import string
import subprocess
import sys
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest

from tctf_dynamo.errors import ErrorCode, InvalidInputError
from tctf_dynamo.limits import (
    MAX_KEY_ATTRIBUTE_NAME_BYTES,
    MAX_PARTITION_KEY_BYTES,
    MAX_SORT_KEY_BYTES,
)
from tctf_dynamo.pagination import (
    CURSOR_KEYS_ENV_VAR,
    MAX_TOKEN_CHARS,
    CursorCodec,
    CursorKey,
    query_fingerprint,
)

NOW = 1_700_000_000.0
TTL = 600.0
TABLE = "platform"
FINGERPRINT = query_fingerprint({"KeyConditionExpression": "#pk = :pk"})
BIND: dict[str, Any] = {"table": TABLE, "index": None, "fingerprint": FINGERPRINT}
TABLE_KEY: dict[str, dict[str, Any]] = {"PK": {"S": "USER#1"}, "SK": {"S": "SESSION#2024-01-01"}}
GSI_KEY: dict[str, dict[str, Any]] = {
    **TABLE_KEY,
    "GSI1PK": {"N": "42.5"},
    "GSI1SK": {"B": b"\x00\xffbinary\x80"},
}
URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")


def make_key(key_id: str) -> CursorKey:
    return CursorKey(key_id, hashlib.sha256(key_id.encode()).digest())


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_codec(*key_ids: str, clock: Clock | None = None) -> CursorCodec:
    return CursorCodec([make_key(k) for k in key_ids or ("k1",)], ttl=TTL, clock=clock or Clock())


def raw(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def assert_invalid_token(call: Callable[[], object]) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as caught:
        call()
    error = caught.value
    assert type(error) is InvalidInputError
    assert error.code is ErrorCode.INVALID_PAGINATION_TOKEN
    assert error.message == "pagination token is invalid or expired"
    assert str(error) == "[INVALID_PAGINATION_TOKEN] pagination token is invalid or expired"
    assert error.details == {}
    assert error.retryable is False
    assert error.__cause__ is None
    assert error.__context__ is None
    return error


def config_error(call: Callable[[], object]) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as caught:
        call()
    assert caught.value.code is ErrorCode.INVALID_CONFIGURATION
    return caught.value


# ------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("key", [TABLE_KEY, GSI_KEY, {"PK": {"B": b""}}, {"PK": {"N": "-1E+5"}}])
def test_round_trip_gives_back_the_wire_key(key: dict[str, Any]) -> None:
    codec = make_codec()
    assert codec.decode(codec.encode(key, **BIND), **BIND) == key


def test_round_trip_through_a_gsi_binding() -> None:
    codec = make_codec()
    bind = {**BIND, "index": "GSI1"}
    assert codec.decode(codec.encode(GSI_KEY, **bind), **bind) == GSI_KEY


def test_binary_values_come_back_as_bytes() -> None:
    codec = make_codec()
    key: dict[str, dict[str, Any]] = {
        "PK": {"B": bytearray(b"\x01\x02")},
        "SK": {"B": memoryview(b"\x03")},
    }
    decoded = codec.decode(codec.encode(key, **BIND), **BIND)
    assert decoded == {"PK": {"B": b"\x01\x02"}, "SK": {"B": b"\x03"}}
    assert all(type(value["B"]) is bytes for value in decoded.values())


def test_tokens_are_url_safe_without_padding() -> None:
    token = make_codec().encode(GSI_KEY, **BIND)
    assert URL_SAFE.fullmatch(token)


def test_the_key_never_appears_in_clear() -> None:
    token = make_codec().encode(TABLE_KEY, **BIND)
    for clear in (b"USER#1", b"SESSION", b"PK"):
        assert clear not in raw(token)
    assert "USER" not in token


def test_two_encodes_of_one_key_differ_and_both_decode() -> None:
    codec = make_codec()
    first, second = codec.encode(TABLE_KEY, **BIND), codec.encode(TABLE_KEY, **BIND)
    assert first != second
    assert codec.decode(first, **BIND) == codec.decode(second, **BIND) == TABLE_KEY


def test_the_largest_possible_gsi_key_fits_under_the_token_cap() -> None:
    names = [c * MAX_KEY_ATTRIBUTE_NAME_BYTES for c in "abcd"]
    sizes = [MAX_PARTITION_KEY_BYTES, MAX_SORT_KEY_BYTES] * 2
    key = {name: {"B": os.urandom(size)} for name, size in zip(names, sizes, strict=True)}
    codec = make_codec()
    token = codec.encode(key, **BIND)
    assert len(token) <= MAX_TOKEN_CHARS
    assert codec.decode(token, **BIND) == key


# ---------------------------------------------------------------------------- rotation


def test_rotation_old_cursors_decode_while_the_old_key_is_listed() -> None:
    old_cursor = make_codec("old").encode(TABLE_KEY, **BIND)
    rotated = make_codec("new", "old")
    assert rotated.decode(old_cursor, **BIND) == TABLE_KEY
    assert_invalid_token(lambda: make_codec("new").decode(old_cursor, **BIND))


def test_rotation_new_cursors_use_the_first_key() -> None:
    rotated = make_codec("new", "old")
    cursor = rotated.encode(TABLE_KEY, **BIND)
    assert raw(cursor)[2 : 2 + len("new")] == b"new"
    assert make_codec("new").decode(cursor, **BIND) == TABLE_KEY
    assert_invalid_token(lambda: make_codec("old").decode(cursor, **BIND))
    assert rotated.key_ids == ("new", "old")


def test_a_listed_key_id_with_another_secret_fails() -> None:
    cursor = make_codec("k1").encode(TABLE_KEY, **BIND)
    impostor = CursorCodec([CursorKey("k1", hashlib.sha256(b"other").digest())])
    assert_invalid_token(lambda: impostor.decode(cursor, **BIND))


# ------------------------------------------------------------------------------ expiry


def test_a_cursor_is_valid_up_to_exactly_ttl() -> None:
    clock = Clock()
    codec = make_codec(clock=clock)
    cursor = codec.encode(TABLE_KEY, **BIND)
    clock.now = NOW + TTL
    assert codec.decode(cursor, **BIND) == TABLE_KEY


def test_a_cursor_just_past_ttl_fails() -> None:
    clock = Clock()
    codec = make_codec(clock=clock)
    cursor = codec.encode(TABLE_KEY, **BIND)
    clock.now = NOW + TTL + 0.001
    assert_invalid_token(lambda: codec.decode(cursor, **BIND))


def test_a_cursor_from_the_future_is_accepted_within_the_clock_skew_only() -> None:
    issuer = make_codec(clock=Clock(NOW + 30))
    far_issuer = make_codec(clock=Clock(NOW + 61))
    reader = make_codec()
    assert reader.decode(issuer.encode(TABLE_KEY, **BIND), **BIND) == TABLE_KEY
    assert_invalid_token(lambda: reader.decode(far_issuer.encode(TABLE_KEY, **BIND), **BIND))


# ----------------------------------------------------------------------------- binding


@pytest.mark.parametrize(
    ("made_for", "used_for"),
    [
        (BIND, {**BIND, "table": "other"}),
        (BIND, {**BIND, "index": "GSI1"}),
        ({**BIND, "index": "GSI1"}, {**BIND, "index": "GSI2"}),
        ({**BIND, "index": "GSI1"}, BIND),
        (BIND, {**BIND, "fingerprint": query_fingerprint({"KeyConditionExpression": "x"})}),
    ],
)
def test_a_cursor_fails_on_another_table_index_or_query(
    made_for: dict[str, Any], used_for: dict[str, Any]
) -> None:
    codec = make_codec()
    cursor = codec.encode(TABLE_KEY, **made_for)
    assert_invalid_token(lambda: codec.decode(cursor, **used_for))


# -------------------------------------------------------------- every failure is the same


def _valid() -> str:
    return make_codec().encode(TABLE_KEY, **BIND)


def _flip(byte_index: int) -> str:
    data = bytearray(raw(_valid()))
    data[byte_index] ^= 0x01
    return b64url(bytes(data))


def _non_canonical() -> str:
    """A token spelling the same bytes as a valid one, but with a spare low bit set."""
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
    for length in range(1, 4):
        token = make_codec().encode({"PK": {"S": "x" * length}}, **BIND)
        if len(token) % 4 in (2, 3):
            tweaked = token[:-1] + alphabet[alphabet.index(token[-1]) ^ 1]
            assert raw(tweaked) == raw(token)
            return tweaked
    raise AssertionError("no token length leaves spare bits")


def _sealed_with(plaintext: bytes, *, key_id: str = "k1", version: int = 1) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    header = bytes((version, len(key_id))) + key_id.encode()
    aad = header + b'["platform",null,"' + FINGERPRINT.encode() + b'"]'
    nonce = os.urandom(12)
    return b64url(header + nonce + AESGCM(make_key(key_id).secret).encrypt(nonce, plaintext, aad))


BAD_TOKENS: dict[str, Callable[[], object]] = {
    "not a string": lambda: raw(_valid()),
    "none": lambda: None,
    "empty": lambda: "",
    "padding": lambda: _valid() + "==",
    "standard alphabet": lambda: _valid().replace("-", "+").replace("_", "/") + "+/",
    "non-ascii": lambda: _valid() + "é",
    "impossible length": lambda: _valid() + "A" * (1 if len(_valid()) % 4 != 1 else 2),
    "non-canonical base64": lambda: _non_canonical(),
    "truncated": lambda: _valid()[:-4],
    "header only": lambda: b64url(b"\x01\x02k1"),
    "too long": lambda: "A" * (MAX_TOKEN_CHARS + 4),
    "version flipped": lambda: _flip(0),
    "key id flipped": lambda: _flip(2),
    "nonce flipped": lambda: _flip(5),
    "tag flipped": lambda: _flip(-1),
    "unknown key id": lambda: make_codec("zz").encode(TABLE_KEY, **BIND),
    "wrong version sealed": lambda: _sealed_with(b'{"iat":0,"key":{}}', version=2),
    "plaintext not json": lambda: _sealed_with(b"not json"),
    "plaintext not utf-8": lambda: _sealed_with(b"\xff\xfe"),
    "plaintext missing key": lambda: _sealed_with(f'{{"iat":{NOW}}}'.encode()),
    "plaintext empty key": lambda: _sealed_with(f'{{"iat":{NOW},"key":{{}}}}'.encode()),
    "plaintext bad type": lambda: _sealed_with(
        f'{{"iat":{NOW},"key":{{"PK":{{"SS":["a"]}}}}}}'.encode()
    ),
    "plaintext bad base64": lambda: _sealed_with(
        f'{{"iat":{NOW},"key":{{"PK":{{"B":"!!"}}}}}}'.encode()
    ),
    "plaintext nan time": lambda: _sealed_with(b'{"iat":NaN,"key":{"PK":{"S":"a"}}}'),
    "plaintext bool time": lambda: _sealed_with(b'{"iat":true,"key":{"PK":{"S":"a"}}}'),
    "plaintext huge time": lambda: _sealed_with(
        b'{"iat":1' + b"0" * 400 + b',"key":{"PK":{"S":"a"}}}'
    ),
    "expired": lambda: make_codec(clock=Clock(NOW - TTL - 1)).encode(TABLE_KEY, **BIND),
}


@pytest.mark.parametrize("make_token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_every_failure_raises_the_same_error(make_token: Callable[[], object]) -> None:
    token = make_token()
    assert_invalid_token(lambda: make_codec("k1").decode(token, **BIND))  # type: ignore[arg-type]


def test_a_well_formed_hand_sealed_token_is_accepted() -> None:
    """Guards the table above: its sealed cases fail for their content, not their framing."""
    token = _sealed_with(f'{{"iat":{NOW},"key":{{"PK":{{"B":"AA=="}}}}}}'.encode())
    assert make_codec().decode(token, **BIND) == {"PK": {"B": b"\x00"}}


def test_flipping_any_bit_of_a_token_fails() -> None:
    codec = make_codec()
    data = raw(codec.encode(GSI_KEY, **BIND))
    for bit in range(len(data) * 8):
        flipped = bytearray(data)
        flipped[bit // 8] ^= 1 << (bit % 8)
        token = b64url(bytes(flipped))
        assert_invalid_token(partial(codec.decode, token, **BIND))


def test_a_non_canonical_spelling_is_refused_for_that_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG, logger="tctf_dynamo.pagination"):
        assert_invalid_token(lambda: make_codec().decode(_non_canonical(), **BIND))
    assert "canonical" in caplog.text


def test_the_cause_is_logged_at_debug_without_token_or_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = make_key("k1")
    clock = Clock()
    codec = CursorCodec([key], ttl=TTL, clock=clock)
    token = codec.encode(TABLE_KEY, **BIND)
    clock.now = NOW + TTL + 1
    with caplog.at_level(logging.DEBUG, logger="tctf_dynamo.pagination"):
        assert_invalid_token(lambda: codec.decode(token, **BIND))
    assert [r.levelno for r in caplog.records] == [logging.DEBUG]
    assert "expired" in caplog.text
    assert token not in caplog.text
    assert key.to_config_entry().split(":")[1] not in caplog.text


def test_caller_mistakes_in_the_binding_are_not_blamed_on_the_token() -> None:
    codec = make_codec()
    token = codec.encode(TABLE_KEY, **BIND)
    for bad, code in (
        ({"table": ""}, ErrorCode.INVALID_TABLE_NAME),
        ({"index": ""}, ErrorCode.INVALID_INDEX_NAME),
        ({"fingerprint": None}, ErrorCode.UNSUPPORTED_TYPE),
    ):
        with pytest.raises(InvalidInputError) as caught:
            codec.decode(token, **{**BIND, **bad})
        assert caught.value.code is code


# ------------------------------------------------------------------ encode refuses input


@pytest.mark.parametrize(
    "key",
    [
        {},
        {"PK": "USER#1"},
        {"PK": {"SS": ["a"]}},
        {"PK": {"S": 1}},
        {"PK": {"B": "text"}},
        {"PK": {"S": "a", "N": "1"}},
        {"": {"S": "a"}},
        {"x" * (MAX_KEY_ATTRIBUTE_NAME_BYTES + 1): {"S": "a"}},
        {"PK": {"S": "\ud800"}},
        {"PK": {"S": "\x00" * 3000}, "SK": {"S": "\x01" * 3000}},
    ],
    ids=["empty", "bare", "set", "int", "b-str", "two", "noname", "longname", "surrogate", "big"],
)
def test_encode_refuses_what_is_not_a_key(key: Any) -> None:
    with pytest.raises(InvalidInputError) as caught:
        make_codec().encode(key, **BIND)
    assert caught.value.code is ErrorCode.INVALID_KEY
    assert "USER" not in caught.value.message


# ---------------------------------------------------------------------------------- keys


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        (os.urandom(16), "exactly 32 bytes"),
        (os.urandom(33), "exactly 32 bytes"),
        (b"\x00" * 32, "distinct"),
        (b"\xaa" * 32, "distinct"),
        (bytes(range(32)), "regular sequence"),
        (bytes(range(200, 232)), "regular sequence"),
        (string.ascii_letters[:32].encode(), "printable"),
        (b"0123456789abcdefghijklmnopqrstuv", "printable"),
    ],
)
def test_weak_secrets_are_refused_without_printing_them(secret: bytes, reason: str) -> None:
    error = config_error(lambda: CursorKey("k1", secret))
    assert reason in error.message
    assert "k1" in error.message
    for shown in (secret.hex(), base64.b64encode(secret).decode(), repr(secret)):
        assert shown not in str(error)


def test_a_secret_must_be_bytes() -> None:
    error = config_error(lambda: CursorKey("k1", "x" * 32))  # type: ignore[arg-type]
    assert "bytes" in error.message


@pytest.mark.parametrize("key_id", ["", "x" * 17, "has space", "a:b", "a,b", "é"])
def test_bad_key_ids_are_refused_without_echo(key_id: str) -> None:
    error = config_error(lambda: CursorKey(key_id, make_key("ok").secret))
    assert "1-16 characters" in error.message
    if key_id:
        assert key_id not in error.message


def test_the_secret_is_not_in_the_repr() -> None:
    key = make_key("k1")
    assert repr(key) == "CursorKey(key_id='k1')"
    assert key.secret.hex() not in repr(CursorCodec([key]))


def test_generate_draws_distinct_full_length_keys() -> None:
    first, second = CursorKey.generate("a"), CursorKey.generate("a")
    assert len(first.secret) == 32
    assert first.secret != second.secret


@pytest.mark.parametrize(
    "encode",
    [
        lambda s: base64.b64encode(s).decode(),
        lambda s: base64.urlsafe_b64encode(s).decode(),
        lambda s: base64.b64encode(s).decode().rstrip("="),
        lambda s: (
            " " + base64.b64encode(s).decode()[:20] + "\n" + base64.b64encode(s).decode()[20:]
        ),
    ],
    ids=["standard", "urlsafe", "unpadded", "whitespace"],
)
def test_from_base64_reads_common_spellings(encode: Callable[[bytes], str]) -> None:
    secret = make_key("x").secret
    assert CursorKey.from_base64("k1", encode(secret)) == CursorKey("k1", secret)


def test_from_base64_refuses_non_base64() -> None:
    error = config_error(lambda: CursorKey.from_base64("k1", "not*base64!"))
    assert "not valid base64" in error.message
    assert "not*base64" not in error.message


# -------------------------------------------------------------------- codec configuration


def test_a_codec_needs_keys() -> None:
    error = config_error(lambda: CursorCodec([]))
    assert "CursorKey.generate" in error.message


def test_key_ids_must_be_unique() -> None:
    key = make_key("k1")
    config_error(lambda: CursorCodec([key, CursorKey("k1", make_key("k2").secret)]))


@pytest.mark.parametrize("ttl", [0, -1, float("nan"), float("inf"), True, "60"])
def test_ttl_must_be_a_positive_number(ttl: Any) -> None:
    config_error(lambda: CursorCodec([make_key("k1")], ttl=ttl))


def test_keys_must_be_cursor_keys() -> None:
    config_error(lambda: CursorCodec([b"k" * 32]))  # type: ignore[list-item]


# ------------------------------------------------------------------------------ from_env


def test_from_env_reads_keys_newest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    new, old = make_key("new"), make_key("old")
    monkeypatch.setenv(CURSOR_KEYS_ENV_VAR, f" {new.to_config_entry()} , {old.to_config_entry()},")
    codec = CursorCodec.from_env(ttl=TTL, clock=Clock())
    assert codec.key_ids == ("new", "old")
    assert codec.ttl == TTL
    cursor = make_codec("old").encode(TABLE_KEY, **BIND)
    assert codec.decode(cursor, **BIND) == TABLE_KEY


def test_from_env_reads_a_named_variable_or_mapping() -> None:
    environ = {"MY_KEYS": make_key("k9").to_config_entry()}
    assert CursorCodec.from_env("MY_KEYS", environ=environ).key_ids == ("k9",)


@pytest.mark.parametrize("value", [None, "", " , ,"])
def test_from_env_missing_says_how_to_make_a_key(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv(CURSOR_KEYS_ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(CURSOR_KEYS_ENV_VAR, value)
    error = config_error(CursorCodec.from_env)
    assert CURSOR_KEYS_ENV_VAR in error.message
    assert "CursorKey.generate" in error.message


def test_from_env_refuses_entries_without_an_id_and_never_echoes_them() -> None:
    secret_text = base64.b64encode(make_key("x").secret).decode()
    for entry in (secret_text, f"{make_key('a').to_config_entry()},{secret_text}"):
        error = config_error(partial(CursorCodec.from_env, environ={CURSOR_KEYS_ENV_VAR: entry}))
        assert secret_text not in str(error)


def test_from_env_refuses_weak_secrets() -> None:
    weak = base64.b64encode(b"\x00" * 32).decode()
    error = config_error(lambda: CursorCodec.from_env(environ={CURSOR_KEYS_ENV_VAR: f"k:{weak}"}))
    assert "not random" in error.message


# --------------------------------------------------------------------------- fingerprint

QUERY: dict[str, Any] = {
    "TableName": TABLE,
    "IndexName": "GSI1",
    "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :sk)",
    "FilterExpression": "#st = :st",
    "ProjectionExpression": "#pk, #sk",
    "ExpressionAttributeNames": {"#pk": "GSI1PK", "#sk": "GSI1SK", "#st": "status"},
    "ExpressionAttributeValues": {
        ":pk": {"S": "USER#1"},
        ":sk": {"B": b"\x00"},
        ":st": {"N": "1"},
    },
    "ScanIndexForward": False,
    "ConsistentRead": False,
}


def test_fingerprint_is_short_url_safe_and_stable() -> None:
    fingerprint = query_fingerprint(QUERY)
    assert len(fingerprint) == 22
    assert URL_SAFE.fullmatch(fingerprint)
    reordered = dict(reversed(list(QUERY.items())))
    assert query_fingerprint(reordered) == fingerprint


def test_fingerprint_ignores_page_size_and_start_key() -> None:
    paged = {**QUERY, "Limit": 10, "ExclusiveStartKey": {"PK": {"S": "x"}}}
    assert query_fingerprint(paged) == query_fingerprint({**QUERY, "Limit": 500})
    assert query_fingerprint(paged) == query_fingerprint(QUERY)


@pytest.mark.parametrize(
    "change",
    [
        {"IndexName": "GSI2"},
        {"KeyConditionExpression": "#pk = :pk"},
        {"FilterExpression": "#st <> :st"},
        {"ProjectionExpression": "#pk"},
        {"ExpressionAttributeNames": {"#pk": "PK", "#sk": "GSI1SK", "#st": "status"}},
        {"ExpressionAttributeValues": {":pk": {"S": "USER#2"}, ":sk": {"B": b"\x00"}}},
        {"ExpressionAttributeValues": {":pk": {"S": "USER#1"}, ":sk": {"S": "\x00"}}},
        {"ScanIndexForward": True},
        {"ConsistentRead": True},
        {"Select": "COUNT"},
    ],
)
def test_fingerprint_changes_with_the_query(change: dict[str, Any]) -> None:
    assert query_fingerprint({**QUERY, **change}) != query_fingerprint(QUERY)


def test_fingerprint_tells_types_apart_and_ignores_set_order() -> None:
    values = [b"1", "1", 1, 1.0, True, None, ["1"], {"1": "1"}]
    assert len({query_fingerprint({"v": value}) for value in values}) == len(values)
    assert query_fingerprint({"v": {"b", "a", "c"}}) == query_fingerprint({"v": {"c", "a", "b"}})


def test_fingerprint_is_the_same_in_another_process() -> None:
    code = (
        "from tctf_dynamo.pagination import query_fingerprint\n"
        "print(query_fingerprint({'v': {'x', 'y', 'z', b'q'}, 'a': {'b': 1, 'c': [b'\\x00']}}))"
    )
    local = query_fingerprint({"v": {"x", "y", "z", b"q"}, "a": {"b": 1, "c": [b"\x00"]}})
    for seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert out.stdout.strip() == local


@pytest.mark.parametrize("parts", [{"v": object()}, {"v": {1: "a"}}, ["not", "a", "mapping"]])
def test_fingerprint_refuses_values_it_cannot_encode(parts: Any) -> None:
    with pytest.raises(InvalidInputError) as caught:
        query_fingerprint(parts)
    assert caught.value.code is ErrorCode.UNSUPPORTED_TYPE


# --------------------------------------------------------------------------- import cost


def test_importing_the_module_does_not_import_cryptography() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import tctf_dynamo.pagination"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "tctf_dynamo.pagination" in result.stderr
    assert "cryptography" not in result.stderr
