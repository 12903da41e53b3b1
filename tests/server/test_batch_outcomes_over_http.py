"""Batch writes whose answers are lost, over HTTP through the fault proxy.

A BatchWriteItem whose every attempt is applied and then loses its answer (the proxy
forwards it to moto server, then resets the connection) ends in doubt: its entries are
reported *unknown*, never "not written". Entries refused before reaching the server are
reported unprocessed, and the table holds exactly what each report says, through the
sync API and the async one alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from tctf_dynamo import Table, UnprocessedItemsError
from tctf_dynamo.aio import AsyncDynamoDBService
from tctf_dynamo.aio import batch as async_batch
from tctf_dynamo.batch import bulk_get_items, bulk_write_items
from tests.aio_support import Blocking
from tests.faultproxy import (
    RESET_AFTER,
    THROTTLE,
    UNPROCESSED,
    Fault,
    FaultProxy,
    RequestInfo,
)
from tests.server.outcome_fixtures import CREDENTIALS, PATIENT, SLOW_COMMIT, through, truth
from tests.uow_apis import AsyncUnits, SyncUnits, units

__all__ = ["units"]  # the fixture: the non-atomic unit below runs on both APIs
Units = SyncUnits | AsyncUnits

pytestmark = pytest.mark.server


@pytest.fixture
def world(
    fault_proxy: FaultProxy, moto_endpoint: str, table_name: str
) -> Iterator[SimpleNamespace]:
    table = Table(table_name)
    clean = truth(moto_endpoint)
    clean.create_table(table)
    service = through(fault_proxy.endpoint)
    service.key_schema(table)
    yield SimpleNamespace(table=table, clean=clean, service=service, proxy=fault_proxy)
    fault_proxy.wait_idle(10)
    clean.delete_table(table, missing_ok=True)
    service.close()
    clean.close()


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest, world: SimpleNamespace) -> SimpleNamespace:
    """The bulk write of one API and a service of it through the proxy (the async one on
    the real async transport)."""
    if request.param == "sync":
        return SimpleNamespace(service=world.service, bulk_write_items=bulk_write_items)
    runner = asyncio.Runner()
    service = AsyncDynamoDBService.from_endpoint(
        world.proxy.endpoint, retry=PATIENT, timeout=6.0, **CREDENTIALS
    )
    functions = Blocking(async_batch, runner)
    return SimpleNamespace(
        service=Blocking(service, runner), bulk_write_items=functions.bulk_write_items
    )


def _holding(pk: str, fault: Fault) -> Any:
    """A rule: every BatchWriteItem carrying the item ``pk`` meets ``fault``."""

    def rule(info: RequestInfo) -> Fault | None:
        if info.operation != "BatchWriteItem" or info.body is None:
            return None
        writes = [w for ws in info.body["RequestItems"].values() for w in ws]
        held = any(w.get("PutRequest", {}).get("Item", {}).get("PK") == {"S": pk} for w in writes)
        return fault if held else None

    return rule


def _items(count: int) -> list[dict[str, Any]]:
    return [{"PK": f"P{i:03d}", "SK": "A", "n": i} for i in range(count)]


def _stored(world: SimpleNamespace, count: int) -> list[bool]:
    keys = [{"PK": f"P{i:03d}", "SK": "A"} for i in range(count)]
    found = bulk_get_items(world.clean, world.table.name, keys, consistent=True)
    return [item is not None for item in found]


def test_lost_answers_of_applied_writes_are_reported_unknown(
    world: SimpleNamespace, api: SimpleNamespace
) -> None:
    world.proxy.set_rule(_holding("P030", RESET_AFTER))
    with pytest.raises(UnprocessedItemsError) as caught:
        api.bulk_write_items(api.service, world.table.name, puts=_items(75), max_workers=1)
    error = caught.value
    unknown = [request["PutRequest"]["Item"]["PK"]["S"] for _, request in error.unknown]
    assert unknown == [f"P{i:03d}" for i in range(25, 50)]
    assert error.unprocessed == []
    assert error.details["cause_code"] == "OUTCOME_UNKNOWN"
    assert world.proxy.stats("BatchWriteItem").forwarded >= 3
    assert all(_stored(world, 75))  # the doubt was real: every write of it was applied


def test_refused_writes_are_unprocessed_and_not_stored(
    world: SimpleNamespace, api: SimpleNamespace
) -> None:
    world.proxy.set_rule(_holding("P030", THROTTLE))
    with pytest.raises(UnprocessedItemsError) as caught:
        api.bulk_write_items(api.service, world.table.name, puts=_items(75), max_workers=1)
    error = caught.value
    unprocessed = [request["PutRequest"]["Item"]["PK"]["S"] for _, request in error.unprocessed]
    assert unprocessed == [f"P{i:03d}" for i in range(25, 50)]
    assert error.unknown == []
    world.proxy.set_rule(None)
    stored = _stored(world, 75)
    assert stored == [not 25 <= i < 50 for i in range(75)]


def test_entries_the_server_leaves_unprocessed_are_retried_until_stored(
    world: SimpleNamespace, api: SimpleNamespace
) -> None:
    """Every BatchWriteItem is cut to its first entry and the rest come back as
    UnprocessedItems: each round retries what is left, until every entry is stored."""
    world.proxy.set_rule(lambda info: UNPROCESSED if info.operation == "BatchWriteItem" else None)
    api.bulk_write_items(api.service, world.table.name, puts=_items(6), max_workers=1)
    assert world.proxy.stats("BatchWriteItem").arrived == 6  # one entry applied per round
    world.proxy.set_rule(None)
    assert all(_stored(world, 6))


def test_a_non_atomic_unit_tells_intents_in_doubt_from_intents_not_applied(
    world: SimpleNamespace, units: Units
) -> None:
    from tctf_dynamo import Entity

    class Thing(Entity, table=world.table, pk="T#{thing_id}", sk="A"):
        thing_id: str

    def rule(info: RequestInfo) -> Fault | None:
        if info.operation != "BatchWriteItem" or info.body is None:
            return None
        return RESET_AFTER if "T#a00" in str(info.body) else THROTTLE

    world.proxy.set_rule(rule)
    uow = units.unit(world.service, atomic=False)
    names = [f"a{i:02d}" for i in range(25)] + [f"b{i:02d}" for i in range(5)]
    for name in names:
        uow.put(Thing(thing_id=name))
    with pytest.raises(UnprocessedItemsError) as caught:
        uow.commit()
    outcomes = [result.outcome for result in caught.value.unprocessed]
    assert outcomes == ["unknown"] * 25 + ["not_applied"] * 5
    assert caught.value.details["unknown_indexes"] == list(range(25))
    world.proxy.set_rule(None)
    stored = [
        world.clean.get_item(world.table, {"PK": f"T#{name}", "SK": "A"}, consistent=True)
        for name in names
    ]
    assert [item is not None for item in stored] == [True] * 25 + [False] * 5


@pytest.mark.parametrize("hold", ["request", "answer"])
def test_a_bulk_write_cancelled_in_flight_reports_its_writes_truthfully(
    world: SimpleNamespace, hold: str
) -> None:
    """An async bulk write on the real transport is cancelled while the proxy holds its
    second BatchWriteItem (before forwarding it, or after, holding the answer). The
    ``CancelledError`` carries the report: the held chunk is unknown, the chunk never sent
    unprocessed, and the table holds the first chunk, not the last (the held one may or may
    not have been applied: that is what unknown says)."""
    held = Fault.delay_before(SLOW_COMMIT) if hold == "request" else Fault.delay_after(SLOW_COMMIT)
    world.proxy.set_rule(_holding("P030", held))
    service = AsyncDynamoDBService.from_endpoint(
        world.proxy.endpoint, retry=PATIENT, timeout=6.0, **CREDENTIALS
    )

    async def scenario() -> BaseException | None:
        job = asyncio.create_task(
            async_batch.bulk_write_items(service, world.table.name, puts=_items(75), max_workers=1)
        )
        while world.proxy.stats("BatchWriteItem").arrived < 2:
            await asyncio.sleep(0.01)  # the second chunk is held
        job.cancel()
        try:
            with pytest.raises(asyncio.CancelledError) as cancelled:
                await job
        finally:
            await service.close()
        return cancelled.value.__cause__

    report = asyncio.run(scenario())
    assert isinstance(report, UnprocessedItemsError)
    unknown = [request["PutRequest"]["Item"]["PK"]["S"] for _, request in report.unknown]
    unprocessed = [r["PutRequest"]["Item"]["PK"]["S"] for _, r in report.unprocessed]
    assert unknown == [f"P{i:03d}" for i in range(25, 50)]
    assert unprocessed == [f"P{i:03d}" for i in range(50, 75)]
    world.proxy.wait_idle(10)
    world.proxy.set_rule(None)
    stored = _stored(world, 75)
    assert stored[:25] == [True] * 25 and stored[50:] == [False] * 25
    assert len(set(stored[25:50])) == 1  # the held request was applied whole or not at all
