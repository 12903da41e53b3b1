"""Range queries over string sort-key fields select exactly what Python's tuple order does.

Rows with arbitrary printable strings (spaces, ``!``, ``"``, ``#``, ``$``, ``%``, accents,
emoji) are stored on the embedded backend; every range condition on the leading field, and
on the whole key, must return the rows whose ``(name, n)`` tuples lie in that range.
"""

from __future__ import annotations

import operator
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tctf_dynamo import DynamoDBService, Entity, Repository, Table

TABLE = Table("string-key-ranges")
TRICKY = ' !"#$%&a\u00e9\U0001f600'
key_strings = st.text(
    alphabet=st.sampled_from(TRICKY) | st.characters(blacklist_categories=("Cs", "Cc")),
    min_size=1,
    max_size=6,
)


class Row(Entity, table=TABLE, pk="P#{part}", sk="R#{name}#{n}"):
    part: str
    name: str
    n: int


RANGES: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def check_ranges(
    rows: Repository[Row], part: str, stored: set[tuple[str, int]], bound: tuple[str, int]
) -> None:
    """Every range on the leading field and on the whole key, against Python's order."""
    for name, compare in RANGES.items():
        query = rows.query(part=part)
        leading = {(r.name, r.n) for r in getattr(query, name)(name=bound[0]).all()}
        assert leading == {row for row in stored if compare(row[:1], bound[:1])}, name
        whole = {(r.name, r.n) for r in getattr(query, name)(name=bound[0], n=bound[1]).all()}
        assert whole == {row for row in stored if compare(row, bound)}, name
    low, high = sorted([bound[0], min(stored)[0]])
    between = {
        (r.name, r.n) for r in rows.query(part=part).between({"name": low}, {"name": high}).all()
    }
    assert between == {row for row in stored if low <= row[0] <= high}


def put_rows(rows: Repository[Row], part: str, stored: set[tuple[str, int]]) -> None:
    rows.batch_put([Row(part=part, name=name, n=n) for name, n in stored])


@pytest.fixture(scope="module")
def rows() -> Iterator[Repository[Row]]:
    service = DynamoDBService.embedded()
    service.create_table(TABLE)
    yield Repository(Row, service)
    service.close()


@st.composite
def row_sets(draw: st.DrawFn) -> tuple[set[tuple[str, int]], tuple[str, int]]:
    """Rows whose names often share prefixes, and a bound near them."""
    common = draw(key_strings)
    tails = st.text(alphabet=st.sampled_from(TRICKY), max_size=3)
    names = st.one_of(key_strings, tails.map(lambda tail: common + tail))
    stored = draw(st.sets(st.tuples(names, st.integers(-3, 3)), min_size=1, max_size=8))
    bound = draw(st.tuples(names, st.integers(-3, 3)))
    return stored, bound


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=row_sets())
def test_string_ranges_follow_tuple_order(
    rows: Repository[Row], case: tuple[set[tuple[str, int]], tuple[str, int]]
) -> None:
    stored, bound = case
    part = uuid.uuid4().hex
    put_rows(rows, part, stored)
    check_ranges(rows, part, stored, bound)
