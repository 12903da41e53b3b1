"""The shared circuit breaker in the outages it exists for, across two OS processes.

Each worker is a separate interpreter whose breaker keeps its state in DynamoDB: a sync
service over a ``DynamoDBStateStore``, or (the async driver) an async service on the real
async transport (``AsyncDynamoDBService.from_endpoint``, one event loop for the worker's
life) over an ``AsyncDynamoDBStateStore`` on ``AsyncHttpProvider``. Data and store each
go through their own fault proxy in front of moto server, so DynamoDB can fail as a
whole (503 to everything), or only the store can stop answering while the data path stays healthy.
Workers take commands on stdin and answer one JSON line per command.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tctf_dynamo import DynamoDBServiceError, ErrorCode, RetryPolicy
from tctf_dynamo.aio import AsyncDynamoDBService
from tctf_dynamo.providers.boto3 import Boto3Provider
from tctf_dynamo.providers.http_async import AsyncHttpProvider
from tctf_dynamo.resilience.async_stores import AsyncDynamoDBStateStore
from tctf_dynamo.resilience.breaker import CircuitBreaker
from tctf_dynamo.resilience.state import BreakerState, CircuitState
from tctf_dynamo.resilience.stores import DynamoDBStateStore
from tests.faultproxy import FaultProxy, ProxyMode

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
THRESHOLD = 3
STORE_TIMEOUT = 0.3
STORE_RETRY_INTERVAL = 1.0
SLACK = 0.25
"""Seconds an operation may take beyond the store's budget on a loaded machine."""
CREDENTIALS = {"region_name": "us-east-1", "aws_access_key_id": "k", "aws_secret_access_key": "s"}

WORKER = f"""
import asyncio, json, sys, time
from tctf_dynamo import DynamoDBService
from tctf_dynamo.aio import AsyncDynamoDBService
from tctf_dynamo.errors import CircuitOpenError, DynamoDBServiceError
from tctf_dynamo.providers.boto3 import Boto3Provider
from tctf_dynamo.providers.http_async import AsyncHttpProvider
from tctf_dynamo.resilience.async_stores import AsyncDynamoDBStateStore
from tctf_dynamo.resilience.breaker import CircuitBreaker
from tctf_dynamo.resilience.stores import DynamoDBStateStore

driver, data_endpoint, store_endpoint, data_table, store_table = sys.argv[1:6]
credentials = {CREDENTIALS!r}
if driver == "sync":
    store = Boto3Provider.from_endpoint(store_endpoint, **credentials)
    state_store = DynamoDBStateStore(store, store_table, sort_key=None)
else:
    runner = asyncio.Runner()  # one loop for the worker's life, as a server process has
    store = AsyncHttpProvider.from_endpoint(store_endpoint, **credentials)
    state_store = AsyncDynamoDBStateStore(store, store_table, sort_key=None)
breaker = CircuitBreaker(
    state_store,
    "shared",
    failure_threshold={THRESHOLD},
    reset_timeout=60.0,
    store_timeout={STORE_TIMEOUT},
    store_retry_interval={STORE_RETRY_INTERVAL},
)
if driver == "sync":
    service = DynamoDBService.from_endpoint(
        data_endpoint, breaker=breaker, timeout=2.0, **credentials
    )
else:
    service = AsyncDynamoDBService.from_endpoint(
        data_endpoint, breaker=breaker, timeout=2.0, **credentials
    )
request = {{"TableName": data_table, "Key": {{"PK": {{"S": "k"}}}}}}


def operate():
    if driver == "sync":
        service.execute("GetItem", request)
    else:
        runner.run(service.execute("GetItem", request))


print(json.dumps({{"ready": True}}), flush=True)
for line in sys.stdin:
    count = int(line)
    ok, refused_at, slowest = 0, None, 0.0
    for index in range(count):
        started = time.monotonic()
        try:
            operate()
            ok += 1
        except CircuitOpenError:
            refused_at = index if refused_at is None else refused_at
        except DynamoDBServiceError:
            pass
        slowest = max(slowest, time.monotonic() - started)
    print(json.dumps({{
        "ok": ok,
        "refused_at": refused_at,
        "slowest": slowest,
        "store_reachable": breaker.store_reachable,
    }}), flush=True)
"""


class Worker:
    """One OS process running operations on command."""

    def __init__(
        self, driver: str, data: str, store: str, data_table: str, store_table: str
    ) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", WORKER, driver, data, store, data_table, store_table],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self._answer() == {"ready": True}

    def run(self, operations: int) -> dict[str, Any]:
        """Send ``operations`` GetItems and report how they went."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"{operations}\n")
        self.process.stdin.flush()
        return self._answer()

    def _answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, "the worker died"
        return json.loads(line)  # type: ignore[no-any-return]

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def tables(moto_endpoint: str) -> Iterator[tuple[str, str]]:
    """A data table with one item and a dedicated breaker table, made on moto directly."""
    data_table, store_table = f"data-{uuid.uuid4().hex[:8]}", f"brk-{uuid.uuid4().hex[:8]}"
    with Boto3Provider.from_endpoint(moto_endpoint, **CREDENTIALS) as direct:
        DynamoDBStateStore.create_table(direct, store_table)
        direct.call(
            "CreateTable",
            {
                "TableName": data_table,
                "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
        )
        direct.call("PutItem", {"TableName": data_table, "Item": {"PK": {"S": "k"}}})
        yield data_table, store_table
        for name in (data_table, store_table):
            direct.call("DeleteTable", {"TableName": name})


@pytest.fixture
def store_proxy(moto_endpoint: str) -> Iterator[FaultProxy]:
    """A second proxy, for the breaker store only."""
    with FaultProxy(moto_endpoint) as proxy:
        yield proxy


@pytest.fixture(params=["sync", "async"])
def driver(request: pytest.FixtureRequest) -> str:
    """Which API the workers use: the sync service, or the async breaker and store."""
    return request.param  # type: ignore[no-any-return]


def workers(driver: str, data: str, store: str, tables: tuple[str, str]) -> list[Worker]:
    return [Worker(driver, data, store, *tables) for _ in range(2)]


def test_with_dynamodb_failing_each_process_opens_its_circuit_within_the_threshold(
    driver: str, fault_proxy: FaultProxy, tables: tuple[str, str]
) -> None:
    pair = workers(driver, fault_proxy.endpoint, fault_proxy.endpoint, tables)
    try:
        fault_proxy.set_mode(ProxyMode.UNAVAILABLE)
        reports = [worker.run(THRESHOLD + 3) for worker in pair]
    finally:
        for worker in pair:
            worker.stop()
    for report in reports:
        assert report["ok"] == 0
        assert report["refused_at"] is not None
        assert report["refused_at"] <= THRESHOLD  # at most THRESHOLD calls reached DynamoDB
        assert report["store_reachable"] is False


def test_an_unreachable_store_costs_at_most_its_budget_and_the_shared_state_resumes(
    driver: str,
    fault_proxy: FaultProxy,
    store_proxy: FaultProxy,
    tables: tuple[str, str],
    moto_endpoint: str,
) -> None:
    pair = workers(driver, fault_proxy.endpoint, store_proxy.endpoint, tables)
    try:
        store_proxy.set_mode(ProxyMode.HANG)
        outage = [worker.run(20) for worker in pair]
        store_proxy.set_mode(ProxyMode.PASS)
        with Boto3Provider.from_endpoint(moto_endpoint, **CREDENTIALS) as direct:
            shared = DynamoDBStateStore(direct, tables[1], sort_key=None)
            opened = BreakerState(CircuitState.OPEN, (), time.time(), None, 1)
            assert shared.compare_and_set("shared", None, opened)  # another process opened it
        time.sleep(STORE_RETRY_INTERVAL)
        after = [worker.run(2) for worker in pair]
    finally:
        for worker in pair:
            worker.stop()
    for report in outage:
        assert report["ok"] == 20  # the data path is healthy: nothing refused, nothing failed
        assert report["slowest"] <= STORE_TIMEOUT + SLACK
        assert report["store_reachable"] is False
    for report in after:
        assert report["refused_at"] == 0  # the shared state decides again
        assert report["store_reachable"] is True


def test_a_probe_cancelled_in_flight_is_handed_back_to_the_next_caller(
    fault_proxy: FaultProxy, tables: tuple[str, str], moto_endpoint: str
) -> None:
    """An async service on the real transport, its breaker's state in DynamoDB: the circuit
    opened in an outage, the probe sent once ``reset_timeout`` passed is cancelled while
    the server holds it. A cancellation says nothing about DynamoDB, so the next call is
    let through as the probe, not refused until the lost probe would time out."""
    data_table, store_table = tables
    now = [time.time()]
    request = {"TableName": data_table, "Key": {"PK": {"S": "k"}}}

    async def scenario() -> list[ErrorCode | None]:
        store = AsyncHttpProvider.from_endpoint(moto_endpoint, **CREDENTIALS)
        breaker = CircuitBreaker(
            AsyncDynamoDBStateStore(store, store_table, sort_key=None),
            "cancelled-probe",
            failure_threshold=1,
            reset_timeout=60.0,
            clock=lambda: now[0],
        )
        service = AsyncDynamoDBService.from_endpoint(
            fault_proxy.endpoint, breaker=breaker, retry=RetryPolicy.none(), **CREDENTIALS
        )
        seen: list[ErrorCode | None] = []

        async def get() -> None:
            try:
                await service.execute("GetItem", request)
                seen.append(None)
            except DynamoDBServiceError as error:
                seen.append(error.code)

        fault_proxy.set_mode(ProxyMode.UNAVAILABLE)
        await get()  # opens the circuit
        now[0] += 61.0  # the probe is due
        fault_proxy.set_mode(ProxyMode.HANG)
        probe = asyncio.create_task(get())
        while fault_proxy.stats("GetItem").arrived < 2:
            await asyncio.sleep(0.01)
        probe.cancel()
        with pytest.raises(asyncio.CancelledError):
            await probe
        fault_proxy.set_mode(ProxyMode.PASS)
        await get()  # the next caller
        await get()
        await service.close()
        await store.close()
        return seen

    assert asyncio.run(scenario()) == [ErrorCode.SERVICE_UNAVAILABLE, None, None]
