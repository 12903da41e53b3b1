"""Each validator: the accepted edge and the refused edge."""

from __future__ import annotations

from typing import Any

import pytest

from tctf_dynamo import limits
from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode, InvalidInputError, SchemaError
from tctf_dynamo.validation import (
    DEFAULT_UNSAFE_VALUE_POLICY,
    KeyAttribute,
    UnsafeValuePolicy,
    check_unsafe_values,
    validate_attribute_name,
    validate_batch_size,
    validate_index_keys,
    validate_index_name,
    validate_item,
    validate_key,
    validate_table_name,
)
from tctf_dynamo.wire.codec import encode_item, item_size

PK = KeyAttribute("PK", "S")
SK = KeyAttribute("SK", "S")
SCHEMA = [PK, SK]


def refusal(code: ErrorCode, call: Any, *args: Any, **kwargs: Any) -> DynamoDBServiceError:
    with pytest.raises(DynamoDBServiceError) as caught:
        call(*args, **kwargs)
    assert caught.value.code is code
    return caught.value


# ---------------------------------------------------------------- names


@pytest.mark.parametrize("name", ["abc", "a" * 255, "My_Table-1.v2", "___"])
def test_table_and_index_names_accepted(name: str) -> None:
    validate_table_name(name)
    validate_index_name(name)


@pytest.mark.parametrize("name", ["ab", "a" * 256, "", "has space", "tab/le", "tablé", "a#b"])
def test_table_and_index_names_refused(name: str) -> None:
    error = refusal(ErrorCode.INVALID_TABLE_NAME, validate_table_name, name)
    assert isinstance(error, InvalidInputError)
    refusal(ErrorCode.INVALID_INDEX_NAME, validate_index_name, name)


def test_table_name_error_never_echoes_the_name() -> None:
    error = refusal(ErrorCode.INVALID_TABLE_NAME, validate_table_name, "secret name")
    assert "secret" not in str(error)
    assert error.details["length"] == len("secret name")


def test_non_string_table_name_refused() -> None:
    refusal(ErrorCode.INVALID_TABLE_NAME, validate_table_name, 123)


def test_attribute_name_edges() -> None:
    validate_attribute_name("a")
    validate_attribute_name("a" * limits.MAX_ATTRIBUTE_NAME_BYTES)
    validate_attribute_name("é" * (limits.MAX_KEY_ATTRIBUTE_NAME_BYTES // 2), key=True)  # 254 B
    validate_attribute_name("a" * limits.MAX_KEY_ATTRIBUTE_NAME_BYTES, key=True)
    refusal(ErrorCode.INVALID_ATTRIBUTE_NAME, validate_attribute_name, "")
    refusal(ErrorCode.INVALID_ATTRIBUTE_NAME, validate_attribute_name, "", key=True)
    error = refusal(
        ErrorCode.INVALID_ATTRIBUTE_NAME,
        validate_attribute_name,
        "a" * (limits.MAX_ATTRIBUTE_NAME_BYTES + 1),
    )
    assert error.details == {"size": 65_536, "limit": 65_535, "key": False}
    error = refusal(ErrorCode.INVALID_ATTRIBUTE_NAME, validate_attribute_name, "é" * 128, key=True)
    assert error.details["size"] == 256
    refusal(ErrorCode.INVALID_ATTRIBUTE_NAME, validate_attribute_name, "\ud800")


# ---------------------------------------------------------------- keys


def test_valid_keys() -> None:
    validate_key({"PK": {"S": "a"}, "SK": {"S": "b"}}, SCHEMA)
    validate_key({"id": {"N": "-1.5"}}, [KeyAttribute("id", "N")])
    validate_key({"id": {"B": b"\x00"}}, [KeyAttribute("id", "B")])


def test_missing_sort_key_named() -> None:
    error = refusal(ErrorCode.INVALID_KEY, validate_key, {"PK": {"S": "a"}}, SCHEMA)
    assert error.details == {"attribute": "SK"}
    assert "sort" in error.message


def test_extra_key_attribute_refused() -> None:
    error = refusal(
        ErrorCode.INVALID_KEY, validate_key, {"PK": {"S": "a"}, "other": {"S": "b"}}, [PK]
    )
    assert error.details == {"attributes": ["other"]}


def test_wrong_key_type_names_expected_and_actual() -> None:
    error = refusal(ErrorCode.INVALID_KEY, validate_key, {"PK": {"N": "1"}}, [PK])
    assert error.details == {"attribute": "PK", "expected": "S", "actual": "N"}


@pytest.mark.parametrize("av", [{"S": ""}, {"B": b""}])
def test_empty_key_values_refused(av: dict[str, Any]) -> None:
    schema = [KeyAttribute("k", next(iter(av)))]  # type: ignore[arg-type]
    refusal(ErrorCode.INVALID_KEY, validate_key, {"k": av}, schema)


@pytest.mark.parametrize("av", [{"N": "abc"}, {"N": "1E+200"}, {"N": "1" * 39}, {"N": 5}])
def test_invalid_numeric_keys_refused(av: dict[str, Any]) -> None:
    refusal(ErrorCode.INVALID_KEY, validate_key, {"k": av}, [KeyAttribute("k", "N")])


@pytest.mark.parametrize("av", [{}, {"S": "a", "N": "1"}, "a", {"S": 5}, {"B": "not bytes"}])
def test_malformed_key_values_refused(av: Any) -> None:
    schema = [KeyAttribute("k", "B" if av == {"B": "not bytes"} else "S")]
    refusal(ErrorCode.INVALID_KEY, validate_key, {"k": av}, schema)


@pytest.mark.parametrize("character", ["\x00", "\n", "\x1f", "\x7f", "\x85", "\x9f"])
def test_control_characters_in_wire_keys_are_accepted_as_dynamodb_accepts_them(
    character: str,
) -> None:
    """DynamoDB keys are any non-empty UTF-8 string; only key *templates* refuse control
    characters, because the library composes their text (see model.templates)."""
    validate_key({"PK": {"S": f"a{character}b"}}, [PK])
    validate_index_keys(
        {"GSI1PK": {"S": f"a{character}b"}}, {"GSI1": [KeyAttribute("GSI1PK", "S")]}
    )


def test_characters_next_to_the_control_ranges_accepted() -> None:
    validate_key({"PK": {"S": " ~\xa0é"}}, [PK])


def test_partition_key_size_edge_ascii_and_multibyte() -> None:
    validate_key({"PK": {"S": "a" * 2048}}, [PK])
    validate_key({"PK": {"S": "€" * 682 + "ab"}}, [PK])  # 2,046 + 2 bytes
    for too_big in ("a" * 2049, "€" * 683):  # 2,049 bytes
        error = refusal(ErrorCode.KEY_TOO_LARGE, validate_key, {"PK": {"S": too_big}}, [PK])
        assert error.details == {"attribute": "PK", "size": 2049, "limit": 2048}
    refusal(
        ErrorCode.KEY_TOO_LARGE,
        validate_key,
        {"PK": {"B": b"x" * 2049}},
        [KeyAttribute("PK", "B")],
    )


def test_sort_key_size_edge() -> None:
    validate_key({"PK": {"S": "a"}, "SK": {"S": "é" * 512}}, SCHEMA)
    error = refusal(
        ErrorCode.KEY_TOO_LARGE,
        validate_key,
        {"PK": {"S": "a"}, "SK": {"S": "é" * 512 + "x"}},
        SCHEMA,
    )
    assert error.details == {"attribute": "SK", "size": 1025, "limit": 1024}


@pytest.mark.parametrize("schema", [[], [PK, SK, KeyAttribute("X", "S")]])
def test_bad_schema_is_a_schema_error(schema: list[KeyAttribute]) -> None:
    with pytest.raises(SchemaError):
        validate_key({"PK": {"S": "a"}}, schema)


def test_key_attribute_is_frozen() -> None:
    with pytest.raises(AttributeError):
        PK.name = "other"  # type: ignore[misc]


# ---------------------------------------------------------------- items


def _item_of_size(size: int) -> dict[str, Any]:
    item: dict[str, Any] = {"PK": {"S": "p"}, "SK": {"S": "s"}, "body": {"S": ""}}
    item["body"] = {"S": "x" * (size - item_size(item))}
    assert item_size(item) == size
    return item


def test_item_size_edge() -> None:
    assert validate_item(_item_of_size(limits.MAX_ITEM_SIZE_BYTES), SCHEMA) == 409_600
    error = refusal(
        ErrorCode.ITEM_TOO_LARGE,
        validate_item,
        _item_of_size(limits.MAX_ITEM_SIZE_BYTES + 1),
        SCHEMA,
    )
    assert error.details == {"size": 409_601, "limit": 409_600}


def test_item_returns_its_size() -> None:
    item = encode_item({"PK": "p", "SK": "s", "n": 12})
    assert validate_item(item, SCHEMA) == item_size(item) == 2 + 1 + 2 + 1 + 1 + 2


def test_item_checks_keys_and_names() -> None:
    refusal(ErrorCode.INVALID_KEY, validate_item, {"PK": {"S": "p"}}, SCHEMA)
    refusal(
        ErrorCode.INVALID_ATTRIBUTE_NAME,
        validate_item,
        {"PK": {"S": "p"}, "SK": {"S": "s"}, "": {"S": "x"}},
        SCHEMA,
    )
    long_key_name = "k" * 256
    refusal(
        ErrorCode.INVALID_ATTRIBUTE_NAME,
        validate_item,
        {long_key_name: {"S": "p"}},
        [KeyAttribute(long_key_name, "S")],
    )
    validate_item({"PK": {"S": "p"}, "SK": {"S": "s"}, "n" * 256: {"S": "x"}}, SCHEMA)


def test_item_unsafe_values_by_policy() -> None:
    item = encode_item({"PK": "p", "SK": "s", "html": "<script>x</script>"})
    error = refusal(ErrorCode.UNSAFE_VALUE, validate_item, item, SCHEMA)
    assert error.details == {"attribute": "html", "pattern": "script_tag"}
    validate_item(item, SCHEMA, None)
    validate_item(item, SCHEMA, UnsafeValuePolicy.disabled())
    validate_item(item, SCHEMA, UnsafeValuePolicy(allowed_attributes=frozenset({"html"})))


# ---------------------------------------------------------------- batches


def test_batch_size_edges() -> None:
    validate_batch_size(0, 25, "BatchWriteItem")
    validate_batch_size(25, 25, "BatchWriteItem")
    error = refusal(ErrorCode.BATCH_SIZE_EXCEEDED, validate_batch_size, 26, 25, "BatchWriteItem")
    assert error.details == {"count": 26, "limit": 25, "operation": "BatchWriteItem"}
    refusal(ErrorCode.BATCH_SIZE_EXCEEDED, validate_batch_size, -1, 25, "BatchWriteItem")


# ---------------------------------------------------------------- unsafe values


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("<script>alert(1)</script>", "script_tag"),
        ("< SCRIPT src=x>", "script_tag"),
        ("<ScRiPt\n>", "script_tag"),
        ("<iframe src=//evil>", "iframe_tag"),
        ("javascript:alert(1)", "javascript_url"),
        ("JAVASCRIPT:alert(1)", "javascript_url"),
        ("java\tscript:alert(1)", "javascript_url"),
        ("java\x00scr\nipt :x", "javascript_url"),
        ("<a href='vbscript:msgbox'>", "vbscript_url"),
        ("data:text/html;base64,PHNjcmlwdD4=", "data_html_url"),
        ("DATA: text/html,x", "data_html_url"),
        ("<img src=x onerror=alert(1)>", "event_handler"),
        ("<svg/onload=alert(1)>", "event_handler"),
        ("<a href='x'onclick = go()>", "event_handler"),
        ("<body ONLOAD=x", "event_handler"),
    ],
)
def test_unsafe_patterns_refused(text: str, pattern: str) -> None:
    error = refusal(
        ErrorCode.UNSAFE_VALUE, check_unsafe_values, {"v": text}, DEFAULT_UNSAFE_VALUE_POLICY
    )
    assert error.details == {"attribute": "v", "pattern": pattern}
    assert text not in str(error)


@pytest.mark.parametrize(
    "text",
    [
        "turn on=off",
        "location=home",
        "a <b>bold</b> statement on=1",
        "x < y and onload=1",
        "time: 12:30",
        "mailto:someone@example.com",
        "https://example.com/javascript",
        "the data: text, html and more",
        "<p>ordinary markup</p>",
        "<scripture>",
        "",
    ],
)
def test_ordinary_text_accepted(text: str) -> None:
    check_unsafe_values({"v": text}, DEFAULT_UNSAFE_VALUE_POLICY)


def test_unsafe_values_found_at_any_depth_in_python_and_wire_form() -> None:
    python_item = {"doc": {"list": ["ok", {"deep": {"tags": ["fine", "<script>"]}}]}}
    error = refusal(
        ErrorCode.UNSAFE_VALUE, check_unsafe_values, python_item, DEFAULT_UNSAFE_VALUE_POLICY
    )
    assert error.details["attribute"] == "doc.list[1].deep.tags[1]"
    wire_item = encode_item(python_item)
    error = refusal(
        ErrorCode.UNSAFE_VALUE, check_unsafe_values, wire_item, DEFAULT_UNSAFE_VALUE_POLICY
    )
    assert error.details["attribute"] == "doc.list[1].deep.tags[1]"
    refusal(
        ErrorCode.UNSAFE_VALUE,
        check_unsafe_values,
        encode_item({"tags": {"ok", "javascript:x"}}),
        DEFAULT_UNSAFE_VALUE_POLICY,
    )


def test_policy_relaxations() -> None:
    item = {"html": "<script>", "other": "<script>"}
    check_unsafe_values(item, UnsafeValuePolicy.disabled())
    relaxed = UnsafeValuePolicy(allowed_attributes=frozenset({"html"}))
    error = refusal(ErrorCode.UNSAFE_VALUE, relaxed.check, item)
    assert error.details["attribute"] == "other"
    relaxed.check({"html": "<script>"})


def test_policy_is_a_frozen_value() -> None:
    assert UnsafeValuePolicy() == DEFAULT_UNSAFE_VALUE_POLICY
    assert UnsafeValuePolicy(allowed_attributes={"a"}).allowed_attributes == frozenset({"a"})
    with pytest.raises(AttributeError):
        DEFAULT_UNSAFE_VALUE_POLICY.enabled = False  # type: ignore[misc]


def test_non_string_values_are_not_scanned() -> None:
    check_unsafe_values({"b": b"<script>", "n": 5, "z": None}, DEFAULT_UNSAFE_VALUE_POLICY)


@pytest.mark.timeout(20)
def test_scan_of_long_strings_is_linear() -> None:
    # Adversarial inputs for backtracking: many tag openings with no closing bracket.
    for text in ("<a " * 130_000, "<a" + " onx" * 100_000, "x" * 399_999 + ":"):
        check_unsafe_values({"v": text}, DEFAULT_UNSAFE_VALUE_POLICY)
