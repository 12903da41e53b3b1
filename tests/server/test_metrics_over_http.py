"""Metrics count what happened on the wire: faults injected over HTTP, exact totals.

A workload runs against moto server through the fault proxy, which throttles attempts,
fails one with a 500, holds one answer back, and answers batches with most of their
entries unprocessed (the first entry applied, the others returned, as DynamoDB does under
load). Every count the CloudWatch EMF sink and the OpenTelemetry metrics sink write, per
operation, must equal the count derived from the faults the proxy injected; the proxy's
own statistics confirm it injected exactly those.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tctf_dynamo import DynamoDBService, Entity, Repository, RetryPolicy, Table
from tctf_dynamo.errors import RetriesExhaustedError
from tctf_dynamo.observability import EmbeddedMetricsSink, OpenTelemetryMetricsSink
from tctf_dynamo.resilience import CallbackEventSink
from tests.faultproxy import ERROR_500, THROTTLE, THROTTLING, UNPROCESSED, Fault, FaultProxy
from tests.faultproxy.faults import FaultKind

pytestmark = pytest.mark.server

ATTEMPTS = 4
READINGS = 10
HELD_SECONDS = 0.3
table = Table("metrics-over-http")


class Reading(Entity, table=table, pk="SENSOR#{sensor}", sk="AT#{at}"):
    sensor: str
    at: int
    value: int


@pytest.fixture
def meter() -> Iterator[tuple[Any, Any]]:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    yield provider, reader
    provider.shutdown()


def connect(endpoint: str, **options: Any) -> DynamoDBService:
    return DynamoDBService.from_endpoint(
        endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        **options,
    )


@pytest.fixture
def proxy(fault_proxy: FaultProxy, moto_endpoint: str) -> Iterator[FaultProxy]:
    admin = connect(moto_endpoint)
    admin.create_table(table)
    try:
        yield fault_proxy
    finally:
        admin.provider.call("DeleteTable", {"TableName": table.name})


def emf_counts(lines: list[str]) -> tuple[Counter[tuple[str, str]], dict[str, list[float]]]:
    """Per (metric, operation) totals, and each operation's latency samples (ms)."""
    counts: Counter[tuple[str, str]] = Counter()
    latencies: dict[str, list[float]] = {}
    for line in lines:
        document = json.loads(line)
        (directive,) = document["_aws"]["CloudWatchMetrics"]
        operation = document["Operation"]
        for metric in directive["Metrics"]:
            value = document[metric["Name"]]
            if metric["Name"] == "Latency":
                latencies.setdefault(operation, []).extend(value)
            else:
                counts[metric["Name"], operation] += value
    return counts, latencies


def otel_counts(reader: Any) -> tuple[Counter[tuple[str, str]], dict[str, tuple[int, float]]]:
    """Per (instrument, operation) totals, and each operation's latency (count, max s)."""
    counts: Counter[tuple[str, str]] = Counter()
    latencies: dict[str, tuple[int, float]] = {}
    for resource in reader.get_metrics_data().resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    operation = point.attributes["operation"]
                    if metric.name == "tctf_dynamo.operation.duration":
                        latencies[operation] = (point.count, point.max)
                    else:
                        counts[metric.name, operation] += point.value
    return counts, latencies


def workload(proxy: FaultProxy, service: DynamoDBService) -> None:
    """Each step queues its faults just before it runs (queues are per operation)."""
    readings = Repository(Reading, service)
    proxy.fail_next("PutItem", THROTTLE, times=2)
    readings.put(Reading(sensor="s", at=0, value=1))
    proxy.fail_next("GetItem", THROTTLING)
    proxy.fail_next("GetItem", ERROR_500)
    assert readings.get(sensor="s", at=0) is not None
    proxy.fail_next("GetItem", Fault.delay_before(HELD_SECONDS))
    assert readings.get(sensor="s", at=0) is not None
    proxy.fail_next("BatchWriteItem", UNPROCESSED, times=2)
    batch = [Reading(sensor="s", at=at, value=at) for at in range(1, READINGS + 1)]
    assert len(readings.batch_put(batch)) == READINGS
    proxy.fail_next("BatchGetItem", UNPROCESSED)
    keys = [{"sensor": "s", "at": at} for at in range(1, READINGS + 1)]
    assert len(readings.batch_get(keys)) == READINGS
    proxy.fail_next("DeleteItem", THROTTLE, times=ATTEMPTS)
    with pytest.raises(RetriesExhaustedError):
        readings.delete({"sensor": "s", "at": 0})


# What the faults above must produce, per (metric, operation):
EXPECTED = {
    ("Throttles", "PutItem"): 2,
    ("Retries", "PutItem"): 2,
    ("Throttles", "GetItem"): 1,  # the ThrottlingException; the 500 is retried, not a throttle
    ("Retries", "GetItem"): 2,
    # the first batch answer holds back 9 of 10 puts, the resend's 8 of 9; then all 8 land
    ("UnprocessedItems", "BatchWriteItem"): (READINGS - 1) + (READINGS - 2),
    ("UnprocessedItems", "BatchGetItem"): READINGS - 1,
    ("Throttles", "DeleteItem"): ATTEMPTS,
    ("Retries", "DeleteItem"): ATTEMPTS - 1,
    ("RetriesExhausted", "DeleteItem"): 1,
    ("Failures", "DeleteItem"): 1,
}
OPERATIONS = {"PutItem": 1, "GetItem": 2, "BatchWriteItem": 3, "BatchGetItem": 2, "DeleteItem": 1}
"""Operations each sink records a latency for: the batch resends are operations too."""
OTEL_NAMES = {
    "Throttles": "tctf_dynamo.throttles",
    "Retries": "tctf_dynamo.retries",
    "RetriesExhausted": "tctf_dynamo.retries_exhausted",
    "UnprocessedItems": "tctf_dynamo.unprocessed_items",
    "Failures": "tctf_dynamo.operation.failures",
}


def test_metrics_match_the_faults_injected_over_http(
    proxy: FaultProxy, meter: tuple[Any, Any]
) -> None:
    meter_provider, reader = meter
    lines: list[str] = []
    emf = EmbeddedMetricsSink(namespace="Readings", service="sensors", write=lines.append)
    otel = OpenTelemetryMetricsSink(meter_provider)
    service = connect(
        proxy.endpoint,
        retry=RetryPolicy(max_attempts=ATTEMPTS, base_delay=0.0),
        sleep=lambda _: None,
        events=CallbackEventSink([emf.emit, otel.emit]),
    )
    workload(proxy, service)
    emf.flush()

    injected = {
        (operation, kind): proxy.stats(operation).faults.get(kind, 0)
        for operation in OPERATIONS
        for kind in FaultKind
    }
    assert {key: count for key, count in injected.items() if count} == {
        ("PutItem", FaultKind.THROTTLE): 2,
        ("GetItem", FaultKind.THROTTLING): 1,
        ("GetItem", FaultKind.ERROR_500): 1,
        ("GetItem", FaultKind.DELAY_BEFORE): 1,
        ("BatchWriteItem", FaultKind.UNPROCESSED): 2,
        ("BatchGetItem", FaultKind.UNPROCESSED): 1,
        ("DeleteItem", FaultKind.THROTTLE): ATTEMPTS,
    }
    assert proxy.stats("BatchWriteItem").forwarded == OPERATIONS["BatchWriteItem"]

    emf_totals, emf_latencies = emf_counts(lines)
    assert dict(emf_totals) == EXPECTED
    assert {op: len(samples) for op, samples in emf_latencies.items()} == OPERATIONS
    assert max(emf_latencies["GetItem"]) >= HELD_SECONDS * 1000

    otel_totals, otel_latencies = otel_counts(reader)
    assert dict(otel_totals) == {(OTEL_NAMES[name], op): n for (name, op), n in EXPECTED.items()}
    assert {op: count for op, (count, _) in otel_latencies.items()} == OPERATIONS
    assert otel_latencies["GetItem"][1] >= HELD_SECONDS
