"""Bulk batches over HTTP against dynalite and moto server.

dynalite cuts a BatchGetItem response at about 1 MB and returns the rest as
UnprocessedKeys even when nothing is failing: 300 items of about 100 KB (30 MB) take
dozens of rounds, which must all be followed, with the default retry policy.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tctf_dynamo import DynamoDBService, Table
from tctf_dynamo.batch import batch_get, batch_write, bulk_get, bulk_write
from tctf_dynamo.errors import ErrorCode, InvalidInputError
from tctf_dynamo.providers import RecordingProvider

pytestmark = pytest.mark.server

LARGE_ITEMS = 300
FILLER = "x" * 100_000


@pytest.fixture(params=["dynalite", "moto"])
def service(request: pytest.FixtureRequest, table_name: str) -> Iterator[DynamoDBService]:
    endpoint = request.getfixturevalue(f"{request.param}_endpoint")
    built = DynamoDBService.from_endpoint(
        endpoint,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        max_workers=4,
    )
    built.create_table(Table(table_name))
    yield built
    built.delete_table(table_name, missing_ok=True)
    built.close()


def _item(index: int, filler: str = "") -> dict[str, Any]:
    item = {"PK": {"S": f"P#{index % 7}"}, "SK": {"S": f"S#{index:05d}"}, "n": {"N": str(index)}}
    if filler:
        item["blob"] = {"S": filler}
    return item


def _key(index: int) -> dict[str, Any]:
    return {"PK": {"S": f"P#{index % 7}"}, "SK": {"S": f"S#{index:05d}"}}


def test_bulk_get_of_large_items_follows_every_unprocessed_round(
    service: DynamoDBService, table_name: str, request: pytest.FixtureRequest
) -> None:
    bulk_write(service, puts=[(table_name, _item(i, FILLER)) for i in range(LARGE_ITEMS)])
    recorder = RecordingProvider(service.provider)
    reading = DynamoDBService(recorder, max_workers=4, sleep=lambda _: None)
    found = bulk_get(reading, table_name, [_key(i) for i in range(LARGE_ITEMS)])
    assert [int(item["n"]["N"]) if item else None for item in found] == list(range(LARGE_ITEMS))
    assert all(item is not None and item["blob"]["S"] == FILLER for item in found)
    sent = recorder.requests("BatchGetItem")
    assert all(len(get["RequestItems"][table_name]["Keys"]) <= 100 for get in sent)
    if request.node.callspec.params["service"] == "dynalite":
        assert len(sent) > 20  # about ten 100 KB items per 1 MB response


def test_bulk_write_and_delete_many_small_items(service: DynamoDBService, table_name: str) -> None:
    bulk_write(service, puts=[(table_name, _item(i)) for i in range(1_000)])
    bulk_write(service, deletes=[(table_name, _key(i)) for i in range(0, 1_000, 2)])
    found = bulk_get(service, table_name, [_key(i) for i in range(1_000)])
    assert [item is not None for item in found] == [i % 2 == 1 for i in range(1_000)]


def test_single_requests_at_the_limits(service: DynamoDBService, table_name: str) -> None:
    batch_write(service, puts=[(table_name, _item(i)) for i in range(25)])
    found = batch_get(service, table_name, [_key(i) for i in range(100)])
    assert sum(item is not None for item in found) == 25
    with pytest.raises(InvalidInputError) as caught:
        batch_write(service, puts=[(table_name, _item(i)) for i in range(26)])
    assert caught.value.code is ErrorCode.BATCH_SIZE_EXCEEDED
