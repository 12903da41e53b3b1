"""A sample of the string range property, on dynalite, which orders keys by UTF-8 bytes.

The embedded tier runs the full hypothesis property (``tests/embedded``); here a fixed
set of names around the delimiter, each used as a bound, must select the same rows
from an independent implementation.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tctf_dynamo import DynamoDBService, Repository
from tests.embedded.test_string_key_ranges import TABLE, Row, check_ranges, put_rows

pytestmark = pytest.mark.server

NAMES = [
    "a",
    "a b",
    "a!",
    'a"',
    "a#",
    "a$",
    "a%",
    "a%20",
    "a&",
    "ab",
    "a\u00e9",
    "a\U0001f600",
    "$",
    "b",
]
STORED = {(name, n) for name in NAMES for n in (-1, 2)}


@pytest.fixture(scope="module")
def rows(dynalite_endpoint: str) -> Iterator[Repository[Row]]:
    service = DynamoDBService.from_endpoint(
        dynalite_endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    service.create_table(TABLE)
    yield Repository(Row, service)
    service.delete_table(TABLE)
    service.close()


@pytest.mark.parametrize("bound", NAMES)
def test_string_ranges_follow_tuple_order_on_dynalite(rows: Repository[Row], bound: str) -> None:
    part = uuid.uuid4().hex
    put_rows(rows, part, STORED)
    check_ranges(rows, part, STORED, (bound, 0))
