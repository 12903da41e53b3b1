"""tctf_dynamo: single-table DynamoDB for Python.

Entities are pydantic models with key templates; repositories read and write them; a
unit of work commits many writes atomically; every request is validated first and sent
through retries, deadlines and a circuit breaker. See README.md and docs/.
"""

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
    ProviderError,
    RetriesExhaustedError,
    SchemaError,
    ServiceValidationError,
    ThrottledError,
    TransactionCancelledError,
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
from tctf_dynamo.pagination import CursorCodec, CursorKey
from tctf_dynamo.providers import (
    Boto3Provider,
    EmbeddedProvider,
    MockProvider,
    Provider,
    RecordingProvider,
)
from tctf_dynamo.query import Page, Query
from tctf_dynamo.repository import Repository
from tctf_dynamo.resilience import (
    CircuitBreaker,
    CollectingEventSink,
    DynamoDBStateStore,
    EventSink,
    MemoryStateStore,
    RetryPolicy,
)
from tctf_dynamo.service import DynamoDBService, ReadResult
from tctf_dynamo.uow import IntentResult, UnitOfWork, UnitState, read_together
from tctf_dynamo.validation import UnsafeValuePolicy

__version__ = "0.1.0"

__all__ = [
    "AccessDeniedError",
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
    "KeyCondition",
    "LSI",
    "MemoryStateStore",
    "MockProvider",
    "NotFoundError",
    "OperationTimeoutError",
    "Page",
    "Projection",
    "Provider",
    "ProviderError",
    "Query",
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
    "TransientError",
    "UnitOfWork",
    "UnitState",
    "UnprocessedItemsError",
    "UnsafeValuePolicy",
    "Update",
    "attr",
    "if_not_exists",
    "key",
    "list_append",
    "read_together",
    "size",
]
