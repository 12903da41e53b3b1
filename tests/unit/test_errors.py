"""The error contract: every code documented, categories by cause, no user values echoed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tctf_dynamo.errors import (
    ConditionFailedError,
    DynamoDBServiceError,
    ErrorCode,
    InvalidInputError,
    NotFoundError,
    RetriesExhaustedError,
    SchemaError,
    ThrottledError,
    TransientError,
    UnprocessedItemsError,
    error_for,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
DEDICATED = {
    ErrorCode.TRANSACTION_CANCELLED,
    ErrorCode.RETRIES_EXHAUSTED,
    ErrorCode.UNPROCESSED_ITEMS,
    ErrorCode.OUTCOME_UNKNOWN,
    ErrorCode.READ_BACK_FAILED,
}


def test_docs_have_a_section_for_exactly_every_code() -> None:
    documented = set(re.findall(r"^### ([A-Z_]+)$", DOCS.read_text(), flags=re.MULTILINE))
    assert documented == {code.value for code in ErrorCode}


@pytest.mark.parametrize("code", [c for c in ErrorCode if c not in DEDICATED])
def test_error_for_builds_a_category_for_every_plain_code(code: ErrorCode) -> None:
    error = error_for(code, "message")
    assert isinstance(error, DynamoDBServiceError)
    assert error.code is code
    assert type(error) is not DynamoDBServiceError


@pytest.mark.parametrize("code", sorted(DEDICATED))
def test_codes_with_structure_refuse_the_generic_builder(code: ErrorCode) -> None:
    with pytest.raises(ValueError):
        error_for(code, "message")


def test_categories_follow_causes() -> None:
    assert isinstance(error_for(ErrorCode.INVALID_KEY, "m"), InvalidInputError)
    assert isinstance(error_for(ErrorCode.INVALID_SCHEMA, "m"), SchemaError)
    assert isinstance(error_for(ErrorCode.ITEM_NOT_FOUND, "m"), NotFoundError)
    assert isinstance(error_for(ErrorCode.CONDITION_FAILED, "m"), ConditionFailedError)
    throttled = error_for(ErrorCode.THROTTLED, "m")
    assert isinstance(throttled, ThrottledError)
    assert isinstance(throttled, TransientError)
    assert throttled.retryable is True
    assert error_for(ErrorCode.CONDITION_FAILED, "m").retryable is False


def test_retries_exhausted_wraps_the_last_error() -> None:
    last = error_for(ErrorCode.THROTTLED, "slow down")
    error = RetriesExhaustedError("gave up", last_error=last, attempts=3)
    assert error.code is ErrorCode.RETRIES_EXHAUSTED
    assert error.details == {"attempts": 3, "last_code": "THROTTLED"}
    assert error.last_error is last
    assert error.retryable is False


def test_unprocessed_items_carries_exactly_what_is_left() -> None:
    error = UnprocessedItemsError("left", [{"k": 1}, {"k": 2}])
    assert error.unprocessed == [{"k": 1}, {"k": 2}]
    assert error.details["unprocessed_count"] == 2


def test_str_shows_code_and_message() -> None:
    error = error_for(ErrorCode.ITEM_TOO_LARGE, "item is 409601 bytes", {"size": 409_601})
    assert str(error) == "[ITEM_TOO_LARGE] item is 409601 bytes"
    assert "ITEM_TOO_LARGE" in repr(error)


def test_every_rule_listed_in_the_docs_names_real_codes() -> None:
    text = DOCS.read_text()
    rules = text[text.index("## Rules checked before sending") : text.index("## Codes")]
    rows = [line for line in rules.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) > 20
    for row in rows[1:]:
        codes = re.findall(r"`([A-Z][A-Z_]+)`", row.split("|")[2])
        assert codes, row
        assert {code for code in codes if code != "NULL"} <= {c.value for c in ErrorCode}, row
