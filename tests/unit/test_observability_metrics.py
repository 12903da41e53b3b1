"""The one rule from events to metrics, and the EMF documents written from it."""

from __future__ import annotations

import json

import pytest

from tctf_dynamo.observability import METRICS, EmbeddedMetricsSink, Measure, measures
from tctf_dynamo.resilience import (
    BreakerTransition,
    ConsumedCapacity,
    OperationCompleted,
    RetriesExhausted,
    RetryScheduled,
    Throttled,
    UnprocessedItems,
)

WHERE = (("Operation", "PutItem"), ("Table", "t"))


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (Throttled("PutItem", "t", 1), [Measure("Throttles", 1, WHERE)]),
        (RetryScheduled("PutItem", "t", 1, 0.1, "THROTTLED"), [Measure("Retries", 1, WHERE)]),
        (RetriesExhausted("PutItem", "t", 3, "THROTTLED"), [Measure("RetriesExhausted", 1, WHERE)]),
        (UnprocessedItems("PutItem", "t", 7), [Measure("UnprocessedItems", 7, WHERE)]),
        (ConsumedCapacity("PutItem", "t", 2.5), [Measure("ConsumedCapacity", 2.5, WHERE)]),
        (
            BreakerTransition("main", "closed", "open"),
            [Measure("BreakerTransitions", 1, (("Breaker", "main"), ("State", "open")))],
        ),
        (OperationCompleted("PutItem", "t", 1, 0.25), [Measure("Latency", 250.0, WHERE)]),
        (
            OperationCompleted("PutItem", None, 3, 0.5, "THROTTLED"),
            [
                Measure("Latency", 500.0, (("Operation", "PutItem"),)),
                Measure("Failures", 1, (("Operation", "PutItem"),)),
            ],
        ),
    ],
)
def test_each_event_counts_as_one_rule_says(event: object, expected: list[Measure]) -> None:
    assert list(measures(event)) == expected  # type: ignore[arg-type]
    assert all(measure.unit == METRICS[measure.name] for measure in expected)


def test_counts_are_summed_and_latencies_kept_per_dimension_set() -> None:
    lines: list[str] = []
    sink = EmbeddedMetricsSink("App", service="orders", write=lines.append, clock=lambda: 1.5)
    for _ in range(3):
        sink.emit(Throttled("PutItem", "t", 1))
    sink.emit(OperationCompleted("PutItem", "t", 1, 0.002))
    sink.emit(OperationCompleted("PutItem", "t", 1, 0.004))
    sink.emit(Throttled("GetItem", "t", 1))
    documents = sink.flush()
    assert [json.loads(line) for line in lines] == documents
    put, get = documents
    assert put["_aws"] == {
        "Timestamp": 1500,
        "CloudWatchMetrics": [
            {
                "Namespace": "App",
                "Dimensions": [["service", "Operation", "Table"]],
                "Metrics": [
                    {"Name": "Throttles", "Unit": "Count"},
                    {"Name": "Latency", "Unit": "Milliseconds"},
                ],
            }
        ],
    }
    assert (put["service"], put["Operation"], put["Table"]) == ("orders", "PutItem", "t")
    assert put["Throttles"] == 3
    assert put["Latency"] == pytest.approx([2.0, 4.0])
    assert (get["Operation"], get["Throttles"]) == ("GetItem", 1)
    assert sink.flush() == [], "a flush starts afresh"


def test_more_than_100_samples_go_to_further_documents() -> None:
    sink = EmbeddedMetricsSink(write=lambda _: None)
    for _ in range(250):
        sink.emit(OperationCompleted("GetItem", "t", 1, 0.001))
    documents = sink.flush()
    assert [len(document["Latency"]) for document in documents] == [100, 100, 50]


def test_log_metrics_flushes_when_the_handler_raises() -> None:
    lines: list[str] = []
    sink = EmbeddedMetricsSink(write=lines.append)

    @sink.log_metrics
    def handler(event: dict[str, str], context: object) -> None:
        sink.emit(Throttled("PutItem", event["table"], 1))
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        handler({"table": "t"}, None)
    (line,) = lines
    assert json.loads(line)["Throttles"] == 1
