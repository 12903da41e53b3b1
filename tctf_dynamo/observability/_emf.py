"""Metrics as CloudWatch embedded metric format (EMF) documents, as Powertools writes them.

Inside AWS Lambda, a JSON line on standard output with an ``_aws`` key becomes CloudWatch
metrics without any API call. :class:`EmbeddedMetricsSink` is an event sink that adds
each event's measures up in memory and writes one document per dimension set when
flushed: call :meth:`~EmbeddedMetricsSink.flush` at the end of each invocation, or
decorate the handler with :meth:`~EmbeddedMetricsSink.log_metrics`. Counts are summed
into one value per flush; latencies are kept as samples (at most 100 per document, as
the format allows, in further documents beyond that).
"""

from __future__ import annotations

import functools
import json
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

from tctf_dynamo.observability._measures import METRICS, Dimensions, Measure, measures
from tctf_dynamo.resilience.events import Event

__all__ = ["EmbeddedMetricsSink"]

MAX_VALUES_PER_METRIC: Final = 100
"""The embedded metric format takes at most 100 values of one metric per document."""
SAMPLED: Final = frozenset({"Latency"})
"""Metrics kept as samples; every other one is summed."""

F = TypeVar("F", bound=Callable[..., Any])


def _print_line(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class EmbeddedMetricsSink:
    """An :class:`~tctf_dynamo.resilience.EventSink` writing CloudWatch EMF documents.

    ``namespace`` is the CloudWatch namespace; ``service`` (like Powertools' ``service``)
    and ``dimensions`` are added to every dimension set. ``write`` receives each
    document as one JSON line (standard output by default); ``clock`` gives the
    document's timestamp in seconds. Thread-safe.
    """

    def __init__(
        self,
        namespace: str = "tctf_dynamo",
        *,
        service: str | None = None,
        dimensions: Mapping[str, str] | None = None,
        write: Callable[[str], object] = _print_line,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.namespace = namespace
        common = dict(dimensions or {})
        if service is not None:
            common["service"] = service
        self._common: Dimensions = tuple(common.items())
        self._write = write
        self._clock = clock
        self._lock = threading.Lock()
        self._groups: dict[Dimensions, dict[str, list[float]]] = {}

    def emit(self, event: Event) -> None:
        for measure in measures(event):
            self._add(measure)

    def _add(self, measure: Measure) -> None:
        with self._lock:
            metrics = self._groups.setdefault(self._common + measure.dimensions, {})
            values = metrics.setdefault(measure.name, [])
            if measure.name in SAMPLED or not values:
                values.append(measure.value)
            else:
                values[0] += measure.value

    def flush(self) -> list[dict[str, Any]]:
        """Write (and return) one document per dimension set, then start afresh."""
        with self._lock:
            groups, self._groups = self._groups, {}
        timestamp = int(self._clock() * 1000)
        documents = []
        for dimensions, metrics in groups.items():
            documents.extend(self._documents(timestamp, dimensions, metrics))
        for document in documents:
            self._write(json.dumps(document, separators=(",", ":")))
        return documents

    def _documents(
        self, timestamp: int, dimensions: Dimensions, metrics: dict[str, list[float]]
    ) -> list[dict[str, Any]]:
        documents: list[dict[str, Any]] = []
        offset = 0
        while True:
            chunk = {
                name: values[offset : offset + MAX_VALUES_PER_METRIC]
                for name, values in metrics.items()
                if values[offset : offset + MAX_VALUES_PER_METRIC]
            }
            if not chunk:
                return documents
            documents.append(self._document(timestamp, dimensions, chunk))
            offset += MAX_VALUES_PER_METRIC

    def _document(
        self, timestamp: int, dimensions: Dimensions, metrics: dict[str, list[float]]
    ) -> dict[str, Any]:
        directive = {
            "Namespace": self.namespace,
            "Dimensions": [[name for name, _ in dimensions]],
            "Metrics": [{"Name": name, "Unit": METRICS[name]} for name in metrics],
        }
        document: dict[str, Any] = {
            "_aws": {"Timestamp": timestamp, "CloudWatchMetrics": [directive]}
        }
        document.update(dict(dimensions))
        for name, values in metrics.items():
            document[name] = values if name in SAMPLED else values[0]
        return document

    def log_metrics(self, handler: F) -> F:
        """Decorate a Lambda handler so the metrics are flushed when it returns or raises."""

        @functools.wraps(handler)
        def flushing(*args: Any, **kwargs: Any) -> Any:
            try:
                return handler(*args, **kwargs)
            finally:
                self.flush()

        return flushing  # type: ignore[return-value]
