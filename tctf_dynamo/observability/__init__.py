"""Metrics and spans from the library's own view of each operation.

* :class:`EmbeddedMetricsSink` and :class:`OpenTelemetryMetricsSink` are event sinks
  (pass one as ``DynamoDBService(events=...)``) turning the resilience events into
  CloudWatch embedded-metric-format documents or OpenTelemetry metrics: throttles,
  retries, unprocessed batch entries, consumed capacity, breaker transitions, latency.
  :func:`measures` is the one rule both follow.
* :func:`instrument` makes one OpenTelemetry span per library operation (needs the
  ``otel`` extra); :func:`uninstrument` stops it.

Nothing here imports OpenTelemetry until an OpenTelemetry adapter is used. See
``docs/observability.md``.
"""

from __future__ import annotations

from tctf_dynamo.observability._emf import EmbeddedMetricsSink
from tctf_dynamo.observability._measures import METRICS, Measure, measures
from tctf_dynamo.observability._otel_metrics import OpenTelemetryMetricsSink
from tctf_dynamo.observability._tracing import instrument, is_instrumented, uninstrument

__all__ = [
    "METRICS",
    "EmbeddedMetricsSink",
    "Measure",
    "OpenTelemetryMetricsSink",
    "instrument",
    "is_instrumented",
    "measures",
    "uninstrument",
]
