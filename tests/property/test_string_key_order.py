"""Sort keys built from strings compare as UTF-8 bytes exactly as the field tuples compare.

DynamoDB orders sort keys by their UTF-8 bytes; a range over leading fields is only right
when that order is the order of the tuples the keys were made from, whatever the strings
hold (spaces, ``!``, ``"``, ``#``, ``$``, ``%``, anything printable).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tctf_dynamo.model.templates import KeyTemplate, escape_key_text, unescape_key_text

TRICKY = ' !"#$%&a\u00e9\U0001f600'
"""The characters at and around the delimiter, drawn often so that prefixes are common."""
key_strings = st.text(
    alphabet=st.sampled_from(TRICKY) | st.characters(blacklist_categories=("Cs", "Cc")),
    min_size=1,
    max_size=8,
)
TEMPLATE = KeyTemplate.parse("ROW#{name}#{other}")


def _key(name: str, other: str) -> bytes:
    texts = {"name": escape_key_text(name), "other": escape_key_text(other)}
    return TEMPLATE.format(texts).encode("utf-8")


tails = st.text(alphabet=st.sampled_from(TRICKY), max_size=3)


@st.composite
def name_pairs(draw: st.DrawFn) -> tuple[str, str]:
    """Two names that often share a prefix, one often a prefix of the other."""
    common = draw(key_strings)
    return common + draw(tails), common + draw(tails)


@settings(max_examples=500, deadline=None)
@given(names=name_pairs(), others=st.tuples(key_strings, key_strings))
def test_key_bytes_order_is_tuple_order(names: tuple[str, str], others: tuple[str, str]) -> None:
    first, second = (names[0], others[0]), (names[1], others[1])
    a, b = _key(*first), _key(*second)
    assert (a < b) == (first < second)
    assert (a == b) == (first == second)


@settings(max_examples=500, deadline=None)
@given(value=key_strings)
def test_escaped_text_round_trips_and_sorts_above_the_delimiter(value: str) -> None:
    escaped = escape_key_text(value)
    assert unescape_key_text(escaped) == value
    assert TEMPLATE.split(TEMPLATE.format({"name": escaped, "other": escaped})) == {
        "name": escaped,
        "other": escaped,
    }
    assert min(escaped) > "#"


def test_characters_below_the_delimiter_keep_their_order() -> None:
    names = sorted(["a", "a b", "a!", 'a"', "a#", "a$", "a%", "a&", "ab", "a\u00e9", "b"])
    keys = [_key(name, "x") for name in names]
    assert keys == sorted(keys)
