"""One rule for what each resilience event counts as a metric, shared by every adapter.

Names and units are CloudWatch's (what the embedded metric format and Powertools Metrics
write); the OpenTelemetry adapter maps them to its own instrument names.
"""

from __future__ import annotations

from typing import Final

import attrs

from tctf_dynamo.resilience.events import (
    BreakerTransition,
    ConsumedCapacity,
    Event,
    RetriesExhausted,
    RetryScheduled,
    Throttled,
    UnprocessedItems,
)

__all__ = ["METRICS", "Measure", "measures"]

METRICS: Final = {
    "Throttles": "Count",
    "Retries": "Count",
    "RetriesExhausted": "Count",
    "UnprocessedItems": "Count",
    "ConsumedCapacity": "None",
    "BreakerTransitions": "Count",
    "Latency": "Milliseconds",
    "Failures": "Count",
}
"""Every metric the adapters write, with its CloudWatch unit."""

Dimensions = tuple[tuple[str, str], ...]


@attrs.frozen
class Measure:
    """One value of one metric, with the dimensions it is recorded under."""

    name: str
    value: float
    dimensions: Dimensions

    @property
    def unit(self) -> str:
        return METRICS[self.name]


def measures(event: Event) -> tuple[Measure, ...]:
    """What ``event`` adds to the metrics (nothing for an event no metric counts)."""
    if isinstance(event, BreakerTransition):
        transition: Dimensions = (("Breaker", event.name), ("State", event.to_state))
        return (Measure("BreakerTransitions", 1, transition),)
    where = _where(event.operation, event.table)
    if isinstance(event, Throttled):
        return (Measure("Throttles", 1, where),)
    if isinstance(event, RetryScheduled):
        return (Measure("Retries", 1, where),)
    if isinstance(event, RetriesExhausted):
        return (Measure("RetriesExhausted", 1, where),)
    if isinstance(event, UnprocessedItems):
        return (Measure("UnprocessedItems", event.count, where),)
    if isinstance(event, ConsumedCapacity):
        return (Measure("ConsumedCapacity", event.capacity_units, where),)
    latency = Measure("Latency", event.duration * 1000.0, where)
    if event.error_code is None:
        return (latency,)
    return (latency, Measure("Failures", 1, where))


def _where(operation: str, table: str | None) -> Dimensions:
    if table is None:
        return (("Operation", operation),)
    return (("Operation", operation), ("Table", table))
