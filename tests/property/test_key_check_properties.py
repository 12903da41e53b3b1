"""The one-step key check answers exactly as the general key rules.

:func:`tctf_dynamo.validation.key_validator` accepts the common key (plain ASCII text in
every string attribute) without walking the rules one by one, and hands every other key
to :func:`~tctf_dynamo.validation.validate_key`. Generated keys, valid ones and keys
broken in each way the rules refuse (wrong type, empty, one byte over the limit,
non-ASCII, lone surrogates, missing or extra attributes, not a dict), must pass both or
be refused by both with the same code, message and details.
"""

from __future__ import annotations

from collections import UserDict
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tctf_dynamo import limits
from tctf_dynamo.errors import DynamoDBServiceError
from tctf_dynamo.validation import KeyAttribute, key_validator, validate_key

SCHEMAS = [
    [KeyAttribute("PK", "S"), KeyAttribute("SK", "S")],
    [KeyAttribute("id", "S")],
    [KeyAttribute("PK", "S"), KeyAttribute("n", "N")],
    [],
]
_EDGES = (limits.MAX_SORT_KEY_BYTES, limits.MAX_PARTITION_KEY_BYTES)
texts = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["a", "ORDER#1", "\x00\x1f", "é", "☃", "\ud800", "a\udfff"]),
    st.builds(
        lambda char, size, extra: char * (size + extra),
        st.sampled_from(["a", "é", "☃"]),
        st.sampled_from(_EDGES),
        st.integers(-1, 1),
    ),
)
values = st.one_of(
    st.builds(lambda text: {"S": text}, texts),
    st.builds(lambda number: {"N": str(number)}, st.integers()),
    st.sampled_from([{"N": "x"}, {"B": b"\x01"}, {"S": 5}, {}, {"S": "a", "N": "1"}, "a", None]),
    st.builds(lambda text: UserDict({"S": text}), texts),
)
names = st.sampled_from(["PK", "SK", "id", "n", "other"])
keys = st.one_of(
    st.dictionaries(names, values, max_size=3),
    st.builds(lambda pk, sk: {"PK": pk, "SK": sk}, values, values),
    st.builds(lambda pk, sk: UserDict({"PK": pk, "SK": sk}), values, values),
    st.builds(lambda value: {"id": value}, values),
)


def _outcome(check: Any, key: Any) -> tuple[str, str, dict[str, Any]] | None:
    try:
        check(key)
    except DynamoDBServiceError as error:
        return (str(error.code), str(error), dict(error.details))
    return None


@settings(max_examples=1500, deadline=None)
@given(key=keys, schema=st.sampled_from(SCHEMAS))
def test_the_one_step_check_and_the_general_rules_agree(key: Any, schema: Any) -> None:
    assert _outcome(key_validator(schema), key) == _outcome(
        lambda wire: validate_key(wire, schema), key
    )


def test_plain_keys_at_the_limits_pass_and_one_byte_more_fails() -> None:
    check = key_validator(SCHEMAS[0])
    pk, sk = "p" * limits.MAX_PARTITION_KEY_BYTES, "s" * limits.MAX_SORT_KEY_BYTES
    check({"PK": {"S": pk}, "SK": {"S": sk}})
    assert _outcome(check, {"PK": {"S": pk}, "SK": {"S": sk + "s"}}) is not None
    assert _outcome(check, {"PK": {"S": pk + "p"}, "SK": {"S": sk}}) is not None
    assert _outcome(check, {"PK": {"S": "a"}, "SK": {"S": ""}}) is not None
