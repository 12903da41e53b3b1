"""Metrics adapters count exactly what the events report, under injected faults.

One workload (the Lambda example's handler) runs on the embedded backend behind a
fault-injecting provider that throttles calls and returns batch entries unprocessed. The
events reach a collecting sink, the CloudWatch EMF sink and the OpenTelemetry metrics
sink at once; the totals each adapter writes must equal the counts of the events.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from examples import lambda_metrics
from tctf_dynamo import DynamoDBService, RetryPolicy
from tctf_dynamo.observability import EmbeddedMetricsSink, OpenTelemetryMetricsSink
from tctf_dynamo.providers import EmbeddedProvider
from tctf_dynamo.resilience import (
    CallbackEventSink,
    CollectingEventSink,
    ConsumedCapacity,
    OperationCompleted,
    RetryScheduled,
    Throttled,
    UnprocessedItems,
)
from tctf_dynamo.testing.faults import FaultInjectingProvider, FaultRates

ORDERS = 80


@pytest.fixture
def meter() -> Iterator[tuple[Any, Any]]:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    yield provider, reader
    provider.shutdown()


def otel_totals(reader: Any) -> dict[str, float]:
    totals: Counter[str] = Counter()
    data = reader.get_metrics_data()
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    # counters have a value; the latency histogram counts its samples
                    totals[metric.name] += getattr(point, "value", None) or point.count
    return dict(totals)


def emf_totals(lines: list[str]) -> tuple[dict[str, float], int]:
    totals: Counter[str] = Counter()
    samples = 0
    for line in lines:
        document = json.loads(line)
        (directive,) = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "Orders"
        for dimension_set in directive["Dimensions"]:
            assert all(name in document for name in dimension_set)
        for metric in directive["Metrics"]:
            value = document[metric["Name"]]
            if isinstance(value, list):
                samples += len(value) if metric["Name"] == "Latency" else 0
                totals[metric["Name"]] += sum(value)
            else:
                totals[metric["Name"]] += value
    return dict(totals), samples


def test_emf_and_opentelemetry_metrics_match_the_events(meter: tuple[Any, Any]) -> None:
    meter_provider, reader = meter
    inner = EmbeddedProvider()
    DynamoDBService(inner).create_table(lambda_metrics.table)
    faulty = FaultInjectingProvider(
        inner,
        seed=11,
        rates={
            "*": FaultRates(throttle=0.3),
            "BatchWriteItem": FaultRates(unprocessed=0.5, throttle=0.2),
        },
    )
    lines: list[str] = []
    emf = EmbeddedMetricsSink(namespace="Orders", service="orders", write=lines.append)
    collected = CollectingEventSink()
    otel = OpenTelemetryMetricsSink(meter_provider)
    service = DynamoDBService(
        faulty,
        retry=RetryPolicy(max_attempts=30, base_delay=0.0),
        sleep=lambda _: None,
        consumed_capacity=True,
        events=CallbackEventSink([collected.emit, otel.emit, emf.emit]),
    )
    handler = lambda_metrics.make_handler(service, emf)
    orders = [{"id": f"o{i}", "customer": "c", "total": "1.50"} for i in range(ORDERS)]
    for start in range(0, ORDERS, 40):
        assert handler({"orders": orders[start : start + 40]}, None)["stored"] == 40

    throttles = len(collected.of_type(Throttled))
    retries = len(collected.of_type(RetryScheduled))
    unprocessed = sum(event.count for event in collected.of_type(UnprocessedItems))
    completed = collected.of_type(OperationCompleted)
    capacity = sum(event.capacity_units for event in collected.of_type(ConsumedCapacity))
    assert throttles == faulty.injected["throttle"] > 0
    assert unprocessed > 0
    assert retries >= throttles

    totals, samples = emf_totals(lines)
    assert totals["Throttles"] == throttles
    assert totals["Retries"] == retries
    assert totals["UnprocessedItems"] == unprocessed
    assert totals.get("ConsumedCapacity", 0) == pytest.approx(capacity)
    assert samples == len(completed)

    measured = otel_totals(reader)
    assert measured["tctf_dynamo.throttles"] == throttles
    assert measured["tctf_dynamo.retries"] == retries
    assert measured["tctf_dynamo.unprocessed_items"] == unprocessed
    assert measured["tctf_dynamo.operation.duration"] == len(completed)
    assert measured.get("tctf_dynamo.consumed_capacity", 0) == pytest.approx(capacity)


def test_the_lambda_example_writes_emf_lines_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    lambda_metrics.main()
    out = capsys.readouterr().out.splitlines()
    documents = [json.loads(line) for line in out if line.startswith('{"_aws"')]
    assert documents, "the handler flushed its metrics"
    assert {document["service"] for document in documents} == {"orders"}
    operations = {document["Operation"] for document in documents}
    assert {"BatchWriteItem", "GetItem"} <= operations
    assert out[-1] == "{'stored': 30, 'first_total': '9.9'}"
