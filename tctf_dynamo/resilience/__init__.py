"""Retries with backoff and jitter, one deadline per operation, and a circuit breaker.

Everything here works on providers and errors only, never on models; clock, sleep and
random are injected so every behaviour is testable without waiting.
"""

from __future__ import annotations

from tctf_dynamo.resilience.breaker import CircuitBreaker, Permit
from tctf_dynamo.resilience.classification import Classification, classify
from tctf_dynamo.resilience.deadline import DEFAULT_TIMEOUT_SECONDS, Deadline
from tctf_dynamo.resilience.events import (
    LOGGER_NAME,
    BreakerTransition,
    CallbackEventSink,
    CollectingEventSink,
    ConsumedCapacity,
    Event,
    EventSink,
    RetriesExhausted,
    RetryScheduled,
    Throttled,
    publish,
)
from tctf_dynamo.resilience.pipeline import ResiliencePipeline
from tctf_dynamo.resilience.policy import RetryPolicy
from tctf_dynamo.resilience.state import BreakerState, CircuitState
from tctf_dynamo.resilience.stores import (
    RESERVED_KEY_PREFIX,
    DynamoDBStateStore,
    MemoryStateStore,
    StateStore,
)

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "LOGGER_NAME",
    "RESERVED_KEY_PREFIX",
    "BreakerState",
    "BreakerTransition",
    "CallbackEventSink",
    "CircuitBreaker",
    "CircuitState",
    "Classification",
    "CollectingEventSink",
    "ConsumedCapacity",
    "Deadline",
    "DynamoDBStateStore",
    "Event",
    "EventSink",
    "MemoryStateStore",
    "Permit",
    "ResiliencePipeline",
    "RetriesExhausted",
    "RetryPolicy",
    "RetryScheduled",
    "StateStore",
    "Throttled",
    "classify",
    "publish",
]
