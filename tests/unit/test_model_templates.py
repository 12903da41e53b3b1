"""Key templates: parsing, escaping, splitting, prefixes and the collision rules."""

from __future__ import annotations

import pytest

from tctf_dynamo.errors import ErrorCode, InvalidInputError, SchemaError
from tctf_dynamo.model.collisions import can_produce_same_key, prefix_captures
from tctf_dynamo.model.templates import KeyTemplate, escape_key_text, unescape_key_text


def parse(source: str | None) -> KeyTemplate | None:
    return None if source is None else KeyTemplate.parse(source)


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("USER#{user_id", "unbalanced"),
        ("USER#user_id}", "unbalanced"),
        ("USER#{}", "empty field"),
        ("USER#{ }", "empty field"),
        ("{a}{b}", "two fields in one segment"),
        ("{a}-{b}", "two fields in one segment"),
        ("USER##{a}", "empty segment"),
        ("USER#", "empty segment"),
        ("#USER", "empty segment"),
        ("__tctf_breaker#{a}", "reserved prefix"),
        ("X#__tctf_y", "reserved prefix"),
        ("{a}#{a}", "repeats a field"),
        ("{not-an-id}", "not an identifier"),
        ("", "non-empty"),
    ],
)
def test_malformed_templates_are_schema_errors(source, fragment):
    with pytest.raises(SchemaError, match=fragment) as caught:
        KeyTemplate.parse(source)
    assert caught.value.code is ErrorCode.INVALID_SCHEMA


def test_template_fields_static_prefix_and_prefix_through():
    template = KeyTemplate.parse("SESSION#{created_at}#{session_id}")
    assert template.fields == ("created_at", "session_id")
    assert template.static_prefix == "SESSION#"
    texts = {"created_at": "2024", "session_id": "s1"}
    assert template.format(texts) == "SESSION#2024#s1"
    assert template.prefix_through(texts, 0) == "SESSION#"
    assert template.prefix_through(texts, 1) == "SESSION#2024#"
    assert template.prefix_through(texts, 2) == "SESSION#2024#s1"


def test_segment_with_literal_around_the_field_splits_back():
    template = KeyTemplate.parse("ORDER#LINE{n}X")
    assert template.static_prefix == "ORDER#LINE"
    assert template.split("ORDER#LINEXXX") == {"n": "XX"}
    assert template.split("ORDER#LINEX") is None  # the field cannot be empty
    assert template.split("ORDER#LINE1Y") is None


def test_static_template():
    template = KeyTemplate.parse("PROFILE")
    assert template.is_static and template.static_prefix == "PROFILE"
    assert template.split("PROFILE") == {}
    assert template.split("PROFILES") is None


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [("1#ADMIN", "1%23ADMIN"), ("50%", "50%25"), ("%23", "%2523"), ("é漢", "é漢")],
)
def test_escaping_round_trips_and_removes_the_delimiter(raw, escaped):
    assert escape_key_text(raw) == escaped
    assert unescape_key_text(escaped) == raw


@pytest.mark.parametrize("value", ["", "a\x00b", "tab\there", "\x7f", "\x85"])
def test_empty_and_control_characters_are_invalid_keys(value):
    with pytest.raises(InvalidInputError) as caught:
        escape_key_text(value, "user_id")
    assert caught.value.code is ErrorCode.INVALID_KEY
    assert caught.value.details["field"] == "user_id"
    if value:
        assert value not in caught.value.message


@pytest.mark.parametrize("text", ["%", "%2", "%41", "a%zz"])
def test_malformed_escapes_are_refused(text):
    with pytest.raises(InvalidInputError):
        unescape_key_text(text)


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("USER#{a}", "USER#{b}", True),
        ("USER#{a}", "ORDER#{b}", False),
        ("USER#{a}", "USER#{a}#X", False),
        ("{a}", "USER", True),
        ("LINE{n}", "LINE{n}X", True),
        ("LINE{n}", "ITEM{n}", False),
        ("A{n}B", "AX{n}", True),
        ("PROFILE", "PROFILE", True),
        ("PROFILE", "SETTINGS", False),
        (None, None, True),
        ("X", None, False),
    ],
)
def test_can_produce_same_key(first, second, same):
    assert can_produce_same_key(parse(first), parse(second)) is same
    assert can_produce_same_key(parse(second), parse(first)) is same


@pytest.mark.parametrize(
    ("query", "other", "captured"),
    [
        ("SESSION#{id}", "SESSION#ARCHIVED#{id}", True),
        ("A#{x}", "A#B#{y}", True),
        ("SESSION#{id}", "SETTINGS", False),
        ("LINE{n}", "LINES", True),
        ("LINE{n}", "LIN{x}", True),
        ("ORDER#{id}", "ORDERS#{id}", False),
        ("PROFILE", "PROFILE#{x}", False),  # static keys are read by equality
        ("{x}", "ANYTHING", True),
        ("A#B#{x}", "A#{y}", False),
    ],
)
def test_prefix_captures(query, other, captured):
    assert prefix_captures(parse(query), parse(other)) is captured
