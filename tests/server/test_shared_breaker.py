"""Two OS processes share one circuit breaker through a DynamoDB table on moto server."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tctf_dynamo import DynamoDBService, DynamoDBServiceError, ErrorCode, RetryPolicy, Table
from tctf_dynamo.aio import AsyncDynamoDBService
from tctf_dynamo.providers.boto3 import Boto3Provider
from tctf_dynamo.resilience.breaker import CircuitBreaker
from tctf_dynamo.resilience.state import CircuitState
from tctf_dynamo.resilience.stores import DynamoDBStateStore
from tests.breaker_drivers import DRIVERS, Driver
from tests.faultproxy import THROTTLE, FaultProxy

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]

# Runs in a separate interpreter: argv = endpoint, table, action ("fail" or "check").
PROCESS_SCRIPT = """
import json, sys
from tctf_dynamo.errors import CircuitOpenError, ErrorCode, error_for
from tctf_dynamo import DynamoDBService, DynamoDBServiceError, ErrorCode, RetryPolicy, Table
from tctf_dynamo.aio import AsyncDynamoDBService
from tctf_dynamo.providers.boto3 import Boto3Provider
from tctf_dynamo.resilience.breaker import CircuitBreaker
from tctf_dynamo.resilience.stores import DynamoDBStateStore

endpoint, table, action = sys.argv[1:4]
provider = Boto3Provider.from_endpoint(
    endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
)
breaker = CircuitBreaker(
    DynamoDBStateStore(provider, table, sort_key=None), "shared", failure_threshold=3
)
if action == "fail":
    for _ in range(3):
        breaker.record_failure(breaker.before_call(), error_for(ErrorCode.THROTTLED, "x"))
    print(json.dumps({"state": breaker.state().state.value}))
else:
    try:
        permit = breaker.before_call()
        print(json.dumps({"state": breaker.state().state.value, "probe": permit.probe}))
    except CircuitOpenError as error:
        print(json.dumps({"open": True, "retry_after": error.details["retry_after"]}))
provider.close()
"""


@pytest.fixture
def provider(moto_endpoint: str) -> Iterator[Boto3Provider]:
    with Boto3Provider.from_endpoint(
        moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ) as client:
        yield client


def run_process(endpoint: str, table: str, action: str) -> dict[str, object]:
    completed = subprocess.run(
        [sys.executable, "-c", PROCESS_SCRIPT, endpoint, table, action],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_failures_recorded_in_one_process_open_the_circuit_in_another(
    provider: Boto3Provider, moto_endpoint: str, table_name: str
) -> None:
    DynamoDBStateStore.create_table(provider, table_name)
    assert run_process(moto_endpoint, table_name, "check") == {"state": "closed", "probe": False}
    assert run_process(moto_endpoint, table_name, "fail") == {"state": "open"}
    seen_by_b = run_process(moto_endpoint, table_name, "check")
    assert seen_by_b["open"] is True
    assert 0 < float(seen_by_b["retry_after"]) <= 30.0  # type: ignore[arg-type]


@pytest.mark.parametrize("driver", DRIVERS, ids=lambda driver: driver.name)
def test_a_missing_breaker_table_over_http_disables_the_breaker(
    driver: Driver, provider: Boto3Provider, table_name: str
) -> None:
    breaker = CircuitBreaker(driver.dynamodb_store(provider, table_name), "absent")
    assert driver.probe(breaker) is False
    assert driver.state(breaker).state is CircuitState.DISABLED
    assert not driver.before_call(breaker).tracked


# ------------------------------------------- one breaker_table, a sync and an async service

CREDENTIALS = {"region_name": "us-east-1", "aws_access_key_id": "x", "aws_secret_access_key": "x"}
THRESHOLD = 5  # CircuitBreaker's default failure_threshold


class _ApiService:
    """A sync or an async service built from ``breaker_table``; calls return the error
    code they end with (None for success)."""

    def __init__(self, api: str, endpoint: str, breaker_table: str) -> None:
        options = {"breaker_table": breaker_table, "retry": RetryPolicy.none(), **CREDENTIALS}
        self.api = api
        if api == "sync":
            self._sync = DynamoDBService.from_endpoint(endpoint, **options)
        else:
            self._runner = asyncio.Runner()
            self._async = AsyncDynamoDBService.from_endpoint(endpoint, **options)
            self._runner.run(self._async.__aenter__())  # checks the breaker's table

    def get(self, table: Table) -> ErrorCode | None:
        key = {"PK": "a", "SK": "b"}
        try:
            if self.api == "sync":
                self._sync.get_item(table, key)
            else:
                self._runner.run(self._async.get_item(table, key))
        except DynamoDBServiceError as error:
            return error.code
        return None

    def close(self) -> None:
        if self.api == "sync":
            self._sync.close()
        else:
            self._runner.run(self._async.close())
            self._runner.close()


@pytest.mark.parametrize(("opener", "observer"), [("sync", "async"), ("async", "sync")])
def test_a_sync_and_an_async_service_with_one_breaker_table_share_an_open_circuit(
    opener: str,
    observer: str,
    provider: Boto3Provider,
    fault_proxy: FaultProxy,
    moto_endpoint: str,
    table_name: str,
) -> None:
    DynamoDBStateStore.create_table(provider, table_name)
    data = Table(f"{table_name}-data")
    DynamoDBService(provider).create_table(data)
    # the opener's reads of the data table are throttled; its breaker's reads and writes
    # of the breaker table go through the same proxy unharmed
    fault_proxy.set_rule(
        lambda info: (
            THROTTLE
            if info.operation == "GetItem" and (info.body or {}).get("TableName") == data.name
            else None
        )
    )
    failing = _ApiService(opener, fault_proxy.endpoint, table_name)
    try:
        failures = [failing.get(data) for _ in range(THRESHOLD)]
        assert failures == [ErrorCode.THROTTLED] * THRESHOLD  # sent: the circuit was closed
        assert failing.get(data) is ErrorCode.CIRCUIT_OPEN
    finally:
        failing.close()
    healthy = _ApiService(observer, moto_endpoint, table_name)  # a read state is cached 1 s
    try:
        assert healthy.get(data) is ErrorCode.CIRCUIT_OPEN  # the other API sees it open
    finally:
        healthy.close()
