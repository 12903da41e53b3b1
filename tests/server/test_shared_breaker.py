"""Two OS processes share one circuit breaker through a DynamoDB table on moto server."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tctf_dynamo.providers.boto3 import Boto3Provider
from tctf_dynamo.resilience.breaker import CircuitBreaker
from tctf_dynamo.resilience.state import CircuitState
from tctf_dynamo.resilience.stores import DynamoDBStateStore
from tests.breaker_drivers import DRIVERS, Driver

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]

# Runs in a separate interpreter: argv = endpoint, table, action ("fail" or "check").
PROCESS_SCRIPT = """
import json, sys
from tctf_dynamo.errors import CircuitOpenError, ErrorCode, error_for
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
