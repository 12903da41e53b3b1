"""Queries, collections, pagination and scans, the same on every backend and through
both APIs."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from tctf_dynamo import ErrorCode, InvalidInputError, attr

pytestmark = pytest.mark.both_apis

T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def sessions(backend: SimpleNamespace, models: SimpleNamespace) -> Any:
    repository = backend.repository(models.Session)
    for day in range(10):
        repository.put(
            models.Session(
                user_id="u1",
                session_id=f"s{day}",
                created_at=T0 + timedelta(days=day),
                device="ios" if day % 2 else "web",
            )
        )
    repository.put(models.Session(user_id="u2", session_id="other", created_at=T0))
    backend.repository(models.User).create(
        models.User(user_id="u1", email="u1@example.com", name="Ada")
    )
    return repository


def _ids(items) -> list[str]:
    return [item.session_id for item in items]


def test_query_returns_only_the_entity_in_sort_key_order(sessions) -> None:
    assert _ids(sessions.query(user_id="u1")) == [f"s{day}" for day in range(10)]


def test_between_is_inclusive_on_template_fields(sessions) -> None:
    window = sessions.query(user_id="u1").between(
        {"created_at": T0 + timedelta(days=2)}, {"created_at": T0 + timedelta(days=4)}
    )
    assert _ids(window) == ["s2", "s3", "s4"]


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("gt", ["s8", "s9"]),
        ("gte", ["s7", "s8", "s9"]),
        ("lt", ["s0", "s1"]),
        ("lte", ["s0", "s1", "s2"]),
    ],
)
def test_comparisons_on_template_fields(sessions, method, expected) -> None:
    day = {"gt": 7, "gte": 7, "lt": 2, "lte": 2}[method]
    query = getattr(sessions.query(user_id="u1"), method)(created_at=T0 + timedelta(days=day))
    assert _ids(query) == expected


def test_reverse_limit_first_and_count(sessions) -> None:
    query = sessions.query(user_id="u1")
    assert _ids(query.reverse().limit(3)) == ["s9", "s8", "s7"]
    assert query.first().session_id == "s0"
    assert query.count() == 10
    assert query.filter(attr("device") == "ios").count() == 5


def test_filter_and_projection(sessions) -> None:
    ios = sessions.query(user_id="u1").filter(attr("device") == "ios")
    assert _ids(ios) == ["s1", "s3", "s5", "s7", "s9"]
    projected = sessions.query(user_id="u1").project("session_id").limit(2).all()
    assert projected == [{"session_id": "s0"}, {"session_id": "s1"}]


def test_pages_walk_everything_once_with_encrypted_cursors(sessions) -> None:
    query = sessions.query(user_id="u1").filter(attr("device") == "web")
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = query.page(cursor, size=2)
        seen.extend(_ids(page.items))
        pages += 1
        cursor = page.cursor
        if cursor is None:
            break
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        assert b"SESSION#" not in raw and b"USER#u1" not in raw
    assert seen == ["s0", "s2", "s4", "s6", "s8"]
    assert pages >= 3


def test_a_cursor_from_another_query_is_refused(sessions) -> None:
    page = sessions.query(user_id="u1").page(size=2)
    with pytest.raises(InvalidInputError) as caught:
        sessions.query(user_id="u1").reverse().page(page.cursor, size=2)
    assert caught.value.code is ErrorCode.INVALID_PAGINATION_TOKEN


def test_collection_returns_each_item_as_its_own_class(sessions, models) -> None:
    items = list(sessions.query(user_id="u1").collection())
    kinds = {type(item).__name__ for item in items}
    assert kinds == {"User", "Session"}
    assert len(items) == 11


def test_scan_returns_only_the_entity_including_parallel(sessions) -> None:
    everything = sorted(_ids(sessions.scan()))
    assert len(everything) == 11
    assert sorted(_ids(sessions.scan().parallel(3))) == everything


def test_a_limit_bounds_a_parallel_scan_too(sessions) -> None:
    assert len(list(sessions.scan().parallel(3).limit(4))) == 4
    assert len(sessions.scan().parallel(3).limit(4).all()) == 4
    assert sessions.scan().parallel(3).first() is not None
