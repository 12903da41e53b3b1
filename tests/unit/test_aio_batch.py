"""What only the async bulk job has: cancellation. Everything both APIs share is tested
once for both (tests/unit/test_batch_*.py run each body on the sync and the async API)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from tctf_dynamo.aio import AsyncDynamoDBService
from tctf_dynamo.aio.batch import bulk_get, bulk_write
from tctf_dynamo.errors import UnprocessedItemsError
from tests.unit.batch_fakes import _description, item_of, key_of

T = "things"


class Hanging:
    """Answers the first batch request at once and never answers any later one."""

    def __init__(self, hold: int) -> None:
        self.hold = hold
        self.held: list[list[str]] = []
        self.all_held = asyncio.Event()
        self.answered = 0

    async def call(
        self, operation: str, request: dict[str, Any], *, timeout: float | None = None
    ) -> dict[str, Any]:
        if operation == "DescribeTable":
            return {"Table": _description(request["TableName"])}
        if self.answered == 0:
            self.answered += 1
            return {"UnprocessedItems": {}, "Responses": {T: []}, "UnprocessedKeys": {}}
        entries = request["RequestItems"][T]
        keys = entries["Keys"] if operation == "BatchGetItem" else entries
        self.held.append([_pk(entry) for entry in keys])
        if len(self.held) == self.hold:
            self.all_held.set()
        await asyncio.Event().wait()
        raise AssertionError("never answered")

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> Hanging:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None


def _pk(entry: dict[str, Any]) -> str:
    wire = entry.get("PutRequest", {}).get("Item") or entry
    return str(wire["PK"]["S"])


async def _cancel_midway(kind: str) -> tuple[UnprocessedItemsError, Hanging, int]:
    provider = Hanging(hold=2)
    service = AsyncDynamoDBService(provider, max_workers=2)
    causes: list[BaseException | None] = []

    async def job() -> None:
        try:
            if kind == "write":
                await bulk_write(service, puts=[(T, item_of(f"p{i:03d}")) for i in range(100)])
            else:
                await bulk_get(service, T, [key_of(f"p{i:03d}") for i in range(400)])
        except asyncio.CancelledError as cancelled:
            causes.append(cancelled.__cause__)
            raise

    task = asyncio.create_task(job())
    await asyncio.wait_for(provider.all_held.wait(), timeout=30)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    left = len(asyncio.all_tasks()) - 1  # every task but this one
    (cause,) = causes
    assert isinstance(cause, UnprocessedItemsError)
    return cause, provider, left


def test_a_cancelled_bulk_write_reports_writes_in_flight_unknown_and_unsent_unprocessed() -> None:
    report, provider, left = asyncio.run(_cancel_midway("write"))
    assert left == 0  # no request outlives the job
    in_flight = sorted(pk for chunk in provider.held for pk in chunk)
    assert len(in_flight) == 50
    unknown = sorted(_pk(write) for _, write in report.unknown)
    assert unknown == in_flight  # may be stored: never reported "not written"
    unprocessed = {_pk(write) for _, write in report.unprocessed}
    sent = set(in_flight)
    assert len(unprocessed) == 25  # the request never sent
    assert not unprocessed & sent


def test_a_cancelled_bulk_get_reports_keys_in_flight_as_not_read() -> None:
    report, provider, left = asyncio.run(_cancel_midway("get"))
    assert left == 0
    assert report.unknown == []  # a read has no doubt
    in_flight = {pk for chunk in provider.held for pk in chunk}
    unprocessed = {_pk(key) for _, key in report.unprocessed}
    assert in_flight <= unprocessed
    assert len(unprocessed) == 300  # everything but the first request's keys
