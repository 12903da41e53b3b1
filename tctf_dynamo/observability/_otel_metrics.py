"""The resilience events as OpenTelemetry metrics (counters and one latency histogram).

Instruments, all prefixed ``tctf_dynamo.``, with the measure's dimensions as attributes
(``operation``, ``table``, ``breaker``, ``state``):

=================================  ==============  ====================================
instrument                         unit            counts
=================================  ==============  ====================================
``throttles``                      ``{throttle}``  throttled attempts
``retries``                        ``{retry}``     retries scheduled
``retries_exhausted``              ``{operation}`` operations that gave up
``unprocessed_items``              ``{item}``      batch entries returned unprocessed
``consumed_capacity``              ``{capacity}``  capacity units DynamoDB reported
``breaker.transitions``            ``{transition}`` circuit breaker state changes
``operation.failures``             ``{operation}`` operations that ended in an error
``operation.duration`` (histogram) ``s``           operation latency, retries included
=================================  ==============  ====================================
"""

from __future__ import annotations

from typing import Any, Final

from tctf_dynamo.observability._measures import measures
from tctf_dynamo.observability._otel import require_opentelemetry
from tctf_dynamo.resilience.events import Event

__all__ = ["OpenTelemetryMetricsSink"]

COUNTERS: Final = {
    "Throttles": ("throttles", "{throttle}", "Attempts DynamoDB throttled"),
    "Retries": ("retries", "{retry}", "Retries scheduled by the retry policy"),
    "RetriesExhausted": ("retries_exhausted", "{operation}", "Operations out of attempts"),
    "UnprocessedItems": ("unprocessed_items", "{item}", "Batch entries returned unprocessed"),
    "ConsumedCapacity": ("consumed_capacity", "{capacity}", "Capacity units consumed"),
    "BreakerTransitions": ("breaker.transitions", "{transition}", "Circuit breaker changes"),
    "Failures": ("operation.failures", "{operation}", "Operations that ended in an error"),
}
LATENCY: Final = "Latency"


class OpenTelemetryMetricsSink:
    """An :class:`~tctf_dynamo.resilience.EventSink` recording OpenTelemetry metrics.

    Uses ``meter_provider`` or the global one; needs ``opentelemetry-api``
    (``pip install 'tctf-dynamo[otel]'``). Thread-safe, as OpenTelemetry instruments are.
    """

    def __init__(self, meter_provider: Any = None, *, prefix: str = "tctf_dynamo") -> None:
        metrics = require_opentelemetry("metrics")
        provider = meter_provider if meter_provider is not None else metrics.get_meter_provider()
        meter = provider.get_meter("tctf_dynamo")
        self._counters = {
            name: meter.create_counter(f"{prefix}.{suffix}", unit=unit, description=text)
            for name, (suffix, unit, text) in COUNTERS.items()
        }
        self._duration = meter.create_histogram(
            f"{prefix}.operation.duration", unit="s", description="Operation latency"
        )

    def emit(self, event: Event) -> None:
        for measure in measures(event):
            attributes = {name.lower(): value for name, value in measure.dimensions}
            if measure.name == LATENCY:
                self._duration.record(measure.value / 1000.0, attributes)
            else:
                self._counters[measure.name].add(measure.value, attributes)
