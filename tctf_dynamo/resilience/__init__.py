"""Retries with backoff and jitter, one deadline per operation, and a circuit breaker.

Everything here works on providers and errors only, never on models; clock, sleep and
random are injected so every behaviour is testable without waiting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from tctf_dynamo import _lazy

if TYPE_CHECKING:
    from tctf_dynamo.resilience.async_stores import AsyncDynamoDBStateStore
    from tctf_dynamo.resilience.breaker import CircuitBreaker, Permit
    from tctf_dynamo.resilience.classification import Classification, classify
    from tctf_dynamo.resilience.deadline import DEFAULT_TIMEOUT_SECONDS, Deadline, attempt_timeout
    from tctf_dynamo.resilience.events import (
        LOGGER_NAME,
        BreakerTransition,
        CallbackEventSink,
        CollectingEventSink,
        ConsumedCapacity,
        Event,
        EventSink,
        OperationCompleted,
        RetriesExhausted,
        RetryScheduled,
        Throttled,
        UnprocessedItems,
        publish,
    )
    from tctf_dynamo.resilience.pipeline import ResiliencePipeline
    from tctf_dynamo.resilience.policy import RetryPolicy
    from tctf_dynamo.resilience.state import BreakerState, CircuitState
    from tctf_dynamo.resilience.stores import (
        RESERVED_KEY_PREFIX,
        AsyncStateStore,
        DynamoDBStateStore,
        MemoryStateStore,
        StateStore,
    )

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "LOGGER_NAME",
    "RESERVED_KEY_PREFIX",
    "AsyncDynamoDBStateStore",
    "AsyncStateStore",
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
    "OperationCompleted",
    "Permit",
    "ResiliencePipeline",
    "RetriesExhausted",
    "RetryPolicy",
    "RetryScheduled",
    "StateStore",
    "Throttled",
    "UnprocessedItems",
    "attempt_timeout",
    "classify",
    "publish",
]

_HOMES: Final = {
    "AsyncDynamoDBStateStore": "tctf_dynamo.resilience.async_stores",
    "AsyncStateStore": "tctf_dynamo.resilience.stores",
    "BreakerState": "tctf_dynamo.resilience.state",
    "BreakerTransition": "tctf_dynamo.resilience.events",
    "CallbackEventSink": "tctf_dynamo.resilience.events",
    "CircuitBreaker": "tctf_dynamo.resilience.breaker",
    "CircuitState": "tctf_dynamo.resilience.state",
    "Classification": "tctf_dynamo.resilience.classification",
    "CollectingEventSink": "tctf_dynamo.resilience.events",
    "ConsumedCapacity": "tctf_dynamo.resilience.events",
    "DEFAULT_TIMEOUT_SECONDS": "tctf_dynamo.resilience.deadline",
    "Deadline": "tctf_dynamo.resilience.deadline",
    "attempt_timeout": "tctf_dynamo.resilience.deadline",
    "DynamoDBStateStore": "tctf_dynamo.resilience.stores",
    "Event": "tctf_dynamo.resilience.events",
    "EventSink": "tctf_dynamo.resilience.events",
    "LOGGER_NAME": "tctf_dynamo.resilience.events",
    "MemoryStateStore": "tctf_dynamo.resilience.stores",
    "OperationCompleted": "tctf_dynamo.resilience.events",
    "Permit": "tctf_dynamo.resilience.breaker",
    "RESERVED_KEY_PREFIX": "tctf_dynamo.resilience.stores",
    "ResiliencePipeline": "tctf_dynamo.resilience.pipeline",
    "RetriesExhausted": "tctf_dynamo.resilience.events",
    "RetryPolicy": "tctf_dynamo.resilience.policy",
    "RetryScheduled": "tctf_dynamo.resilience.events",
    "StateStore": "tctf_dynamo.resilience.stores",
    "Throttled": "tctf_dynamo.resilience.events",
    "UnprocessedItems": "tctf_dynamo.resilience.events",
    "classify": "tctf_dynamo.resilience.classification",
    "publish": "tctf_dynamo.resilience.events",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562)."""
    return _lazy.load(__name__, _HOMES, name)


def __dir__() -> list[str]:
    return _lazy.names(__name__, __all__)
