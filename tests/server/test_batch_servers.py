"""Bulk batches over HTTP against dynalite and moto server.

dynalite cuts a BatchGetItem response at about 1 MB and returns the rest as
UnprocessedKeys even when nothing is failing: 300 items of about 100 KB (30 MB) take
dozens of rounds, which must all be followed, with the default retry policy. Each test
runs on the sync API and the async one, the latter on the real async transport
(:class:`~tctf_dynamo.providers.http_async.AsyncHttpProvider`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from tctf_dynamo import DynamoDBService, Table, batch
from tctf_dynamo.aio import AsyncDynamoDBService
from tctf_dynamo.aio import batch as async_batch
from tctf_dynamo.errors import ErrorCode, InvalidInputError
from tctf_dynamo.providers import Provider, RecordingProvider
from tctf_dynamo.providers.mock_async import AsyncRecordingProvider
from tests.aio_support import Blocking, awaited

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


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest) -> SimpleNamespace:
    """The batch functions of one API; ``serve(provider)``, a service of that API on the
    same endpoint that never really sleeps its backoffs; ``record(provider)``, a recorder
    of that API's requests to hand to ``serve``."""
    if request.param == "sync":
        return SimpleNamespace(
            functions=batch,
            serve=lambda provider: DynamoDBService(provider, max_workers=4, sleep=lambda _: None),
            record=RecordingProvider,
        )
    runner = asyncio.Runner()

    async def no_sleep(_: float) -> None:
        return None

    def serve(provider: Provider | AsyncRecordingProvider) -> Any:
        own = provider if isinstance(provider, AsyncRecordingProvider) else awaited(provider)
        return Blocking(AsyncDynamoDBService(own, max_workers=4, sleep=no_sleep), runner)

    return SimpleNamespace(
        functions=Blocking(async_batch, runner),
        serve=serve,
        record=lambda provider: AsyncRecordingProvider(awaited(provider)),
    )


def _item(index: int, filler: str = "") -> dict[str, Any]:
    item = {"PK": {"S": f"P#{index % 7}"}, "SK": {"S": f"S#{index:05d}"}, "n": {"N": str(index)}}
    if filler:
        item["blob"] = {"S": filler}
    return item


def _key(index: int) -> dict[str, Any]:
    return {"PK": {"S": f"P#{index % 7}"}, "SK": {"S": f"S#{index:05d}"}}


def test_bulk_get_of_large_items_follows_every_unprocessed_round(
    service: DynamoDBService, table_name: str, request: pytest.FixtureRequest, api: Any
) -> None:
    batch.bulk_write(service, puts=[(table_name, _item(i, FILLER)) for i in range(LARGE_ITEMS)])
    recorder = api.record(service.provider)
    reading = api.serve(recorder)
    found = api.functions.bulk_get(reading, table_name, [_key(i) for i in range(LARGE_ITEMS)])
    assert [int(item["n"]["N"]) if item else None for item in found] == list(range(LARGE_ITEMS))
    assert all(item is not None and item["blob"]["S"] == FILLER for item in found)
    sent = recorder.requests("BatchGetItem")
    assert all(len(get["RequestItems"][table_name]["Keys"]) <= 100 for get in sent)
    if request.node.callspec.params["service"] == "dynalite":
        assert len(sent) > 20  # about ten 100 KB items per 1 MB response


def test_bulk_write_and_delete_many_small_items(
    service: DynamoDBService, table_name: str, api: Any
) -> None:
    ours, functions = api.serve(service.provider), api.functions
    functions.bulk_write(ours, puts=[(table_name, _item(i)) for i in range(1_000)])
    functions.bulk_write(ours, deletes=[(table_name, _key(i)) for i in range(0, 1_000, 2)])
    found = functions.bulk_get(ours, table_name, [_key(i) for i in range(1_000)])
    assert [item is not None for item in found] == [i % 2 == 1 for i in range(1_000)]


def test_single_requests_at_the_limits(service: DynamoDBService, table_name: str, api: Any) -> None:
    ours, functions = api.serve(service.provider), api.functions
    functions.batch_write(ours, puts=[(table_name, _item(i)) for i in range(25)])
    found = functions.batch_get(ours, table_name, [_key(i) for i in range(100)])
    assert sum(item is not None for item in found) == 25
    with pytest.raises(InvalidInputError) as caught:
        functions.batch_write(ours, puts=[(table_name, _item(i)) for i in range(26)])
    assert caught.value.code is ErrorCode.BATCH_SIZE_EXCEEDED
