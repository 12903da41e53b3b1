"""tctf_dynamo: single-table DynamoDB for Python.

Entities are pydantic models with key templates; repositories read and write them; a
unit of work commits many writes atomically; every request is validated first and sent
through retries, deadlines and a circuit breaker. See README.md and docs/.

The library logs under ``tctf_dynamo`` and adds only a ``NullHandler``: where its
records go is the application's choice.
"""

import logging
from typing import TYPE_CHECKING, Any, Final

from tctf_dynamo import _lazy

if TYPE_CHECKING:
    from tctf_dynamo.aio import AsyncDynamoDBService, AsyncQuery, AsyncRepository
    from tctf_dynamo.aio.uow import AsyncUnitOfWork
    from tctf_dynamo.core.writes import item_size
    from tctf_dynamo.errors import (
        AccessDeniedError,
        CancellationReason,
        CircuitOpenError,
        ConditionFailedError,
        DynamoDBServiceError,
        ErrorCode,
        InvalidInputError,
        NotFoundError,
        OperationTimeoutError,
        OutcomeUnknownError,
        ProviderError,
        ReadBackFailedError,
        RetriesExhaustedError,
        SchemaError,
        ServiceValidationError,
        ThrottledError,
        TransactionCancelledError,
        TransactionInProgressError,
        TransientError,
        UnprocessedItemsError,
    )
    from tctf_dynamo.expressions import (
        Condition,
        KeyCondition,
        Projection,
        Update,
        attr,
        if_not_exists,
        key,
        list_append,
        size,
    )
    from tctf_dynamo.model import GSI, LSI, Entity, Table, TimestampFields
    from tctf_dynamo.model import Projection as IndexProjection
    from tctf_dynamo.model.reading import InvalidItem
    from tctf_dynamo.pagination import CursorCodec, CursorKey
    from tctf_dynamo.providers import (
        Boto3Provider,
        EmbeddedProvider,
        MockProvider,
        Provider,
        RecordingProvider,
    )
    from tctf_dynamo.resilience import (
        AsyncDynamoDBStateStore,
        CircuitBreaker,
        CollectingEventSink,
        DynamoDBStateStore,
        EventSink,
        MemoryStateStore,
        RetryPolicy,
    )
    from tctf_dynamo.sync.query import Page, Query
    from tctf_dynamo.sync.repository import Repository
    from tctf_dynamo.sync.service import DynamoDBService, ReadResult
    from tctf_dynamo.uow import IntentResult, UnitOfWork, UnitState, read_together
    from tctf_dynamo.validation import UnsafeValuePolicy

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "AccessDeniedError",
    "AsyncDynamoDBService",
    "AsyncDynamoDBStateStore",
    "AsyncQuery",
    "AsyncRepository",
    "AsyncUnitOfWork",
    "Boto3Provider",
    "CancellationReason",
    "CircuitBreaker",
    "CircuitOpenError",
    "CollectingEventSink",
    "Condition",
    "ConditionFailedError",
    "CursorCodec",
    "CursorKey",
    "DynamoDBService",
    "DynamoDBServiceError",
    "DynamoDBStateStore",
    "EmbeddedProvider",
    "Entity",
    "ErrorCode",
    "EventSink",
    "GSI",
    "IndexProjection",
    "IntentResult",
    "InvalidInputError",
    "InvalidItem",
    "KeyCondition",
    "LSI",
    "MemoryStateStore",
    "MockProvider",
    "NotFoundError",
    "OperationTimeoutError",
    "OutcomeUnknownError",
    "Page",
    "Projection",
    "Provider",
    "ProviderError",
    "Query",
    "ReadBackFailedError",
    "ReadResult",
    "RecordingProvider",
    "Repository",
    "RetriesExhaustedError",
    "RetryPolicy",
    "SchemaError",
    "ServiceValidationError",
    "Table",
    "ThrottledError",
    "TimestampFields",
    "TransactionCancelledError",
    "TransactionInProgressError",
    "TransientError",
    "UnitOfWork",
    "UnitState",
    "UnprocessedItemsError",
    "UnsafeValuePolicy",
    "Update",
    "attr",
    "if_not_exists",
    "item_size",
    "key",
    "list_append",
    "read_together",
    "size",
]

_HOMES: Final = {
    "AccessDeniedError": "tctf_dynamo.errors",
    "AsyncDynamoDBService": "tctf_dynamo.aio.service",
    "AsyncDynamoDBStateStore": "tctf_dynamo.resilience",
    "AsyncQuery": "tctf_dynamo.aio.query",
    "AsyncRepository": "tctf_dynamo.aio.repository",
    "AsyncUnitOfWork": "tctf_dynamo.aio.uow",
    "Boto3Provider": "tctf_dynamo.providers",
    "CancellationReason": "tctf_dynamo.errors",
    "CircuitBreaker": "tctf_dynamo.resilience",
    "CircuitOpenError": "tctf_dynamo.errors",
    "CollectingEventSink": "tctf_dynamo.resilience",
    "Condition": "tctf_dynamo.expressions",
    "ConditionFailedError": "tctf_dynamo.errors",
    "CursorCodec": "tctf_dynamo.pagination",
    "CursorKey": "tctf_dynamo.pagination",
    "DynamoDBService": "tctf_dynamo.sync.service",
    "DynamoDBServiceError": "tctf_dynamo.errors",
    "DynamoDBStateStore": "tctf_dynamo.resilience",
    "EmbeddedProvider": "tctf_dynamo.providers",
    "Entity": "tctf_dynamo.model",
    "ErrorCode": "tctf_dynamo.errors",
    "EventSink": "tctf_dynamo.resilience",
    "GSI": "tctf_dynamo.model",
    "IndexProjection": "tctf_dynamo.model:Projection",
    "IntentResult": "tctf_dynamo.uow",
    "InvalidInputError": "tctf_dynamo.errors",
    "InvalidItem": "tctf_dynamo.model.reading",
    "KeyCondition": "tctf_dynamo.expressions",
    "LSI": "tctf_dynamo.model",
    "MemoryStateStore": "tctf_dynamo.resilience",
    "MockProvider": "tctf_dynamo.providers",
    "NotFoundError": "tctf_dynamo.errors",
    "OperationTimeoutError": "tctf_dynamo.errors",
    "OutcomeUnknownError": "tctf_dynamo.errors",
    "ReadBackFailedError": "tctf_dynamo.errors",
    "TransactionInProgressError": "tctf_dynamo.errors",
    "Page": "tctf_dynamo.sync.query",
    "Projection": "tctf_dynamo.expressions",
    "Provider": "tctf_dynamo.providers",
    "ProviderError": "tctf_dynamo.errors",
    "Query": "tctf_dynamo.sync.query",
    "ReadResult": "tctf_dynamo.sync.service",
    "RecordingProvider": "tctf_dynamo.providers",
    "Repository": "tctf_dynamo.sync.repository",
    "RetriesExhaustedError": "tctf_dynamo.errors",
    "RetryPolicy": "tctf_dynamo.resilience",
    "SchemaError": "tctf_dynamo.errors",
    "ServiceValidationError": "tctf_dynamo.errors",
    "Table": "tctf_dynamo.model",
    "ThrottledError": "tctf_dynamo.errors",
    "TimestampFields": "tctf_dynamo.model",
    "TransactionCancelledError": "tctf_dynamo.errors",
    "TransientError": "tctf_dynamo.errors",
    "UnitOfWork": "tctf_dynamo.uow",
    "UnitState": "tctf_dynamo.uow",
    "UnprocessedItemsError": "tctf_dynamo.errors",
    "UnsafeValuePolicy": "tctf_dynamo.validation",
    "Update": "tctf_dynamo.expressions",
    "attr": "tctf_dynamo.expressions",
    "if_not_exists": "tctf_dynamo.expressions",
    "item_size": "tctf_dynamo.core.writes",
    "key": "tctf_dynamo.expressions",
    "list_append": "tctf_dynamo.expressions",
    "read_together": "tctf_dynamo.uow",
    "size": "tctf_dynamo.expressions",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562): cold starts stay cheap."""
    return _lazy.load(__name__, _HOMES, name)


def __dir__() -> list[str]:
    return _lazy.names(__name__, __all__)
