"""Every error the library raises, under one root.

Callers branch on ``error.code`` (a stable :class:`ErrorCode`) or catch a category
class. Categories group errors by *cause*, never by operation::

    DynamoDBServiceError                 root; .code .message .details .retryable
    ├── InvalidInputError                the request was refused before anything was sent
    │   └── SchemaError                  an entity or table definition is wrong (class time)
    ├── NotFoundError                    TABLE_NOT_FOUND, ITEM_NOT_FOUND
    ├── ConditionFailedError             CONDITION_FAILED (never retried)
    ├── TransactionCancelledError        TRANSACTION_CANCELLED, .reasons aligned to intents
    ├── AccessDeniedError                ACCESS_DENIED
    ├── ServiceValidationError           SERVICE_VALIDATION_FAILED (the server refused input),
    │                                    TABLE_ALREADY_EXISTS (ResourceInUseException),
    │                                    IDEMPOTENT_PARAMETER_MISMATCH (a token already used)
    ├── UnprocessedItemsError            UNPROCESSED_ITEMS, .unprocessed = exactly what is not done,
    │                                    .unknown = what may or may not be done
    ├── CircuitOpenError                 CIRCUIT_OPEN, failed fast without calling DynamoDB
    ├── OutcomeUnknownError              OUTCOME_UNKNOWN: a write may or may not be applied;
    │                                    never retried blindly (see docs/outcomes.md)
    ├── ReadBackFailedError              READ_BACK_FAILED: the write IS applied, reading it failed
    ├── TransactionInProgressError       TRANSACTION_IN_PROGRESS: a token's first request runs
    ├── TransientError                   infrastructure failures; retryable
    │   ├── ThrottledError               THROTTLED
    │   ├── OperationTimeoutError        TIMEOUT
    │   └── RetriesExhaustedError        RETRIES_EXHAUSTED, wraps the last failure
    └── ProviderError                    PROVIDER_ERROR, anything the backend said we do not know

Messages name attributes, sizes and limits. They never echo user values, because those
may be secrets or personal data that would otherwise end up in logs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

__all__ = [
    "AccessDeniedError",
    "CancellationReason",
    "CircuitOpenError",
    "ConditionFailedError",
    "DryRunStop",
    "DynamoDBServiceError",
    "ErrorCode",
    "InvalidInputError",
    "NotFoundError",
    "OperationInterruptedError",
    "OperationTimeoutError",
    "OutcomeUnknownError",
    "ProviderError",
    "ReadBackFailedError",
    "RetriesExhaustedError",
    "SchemaError",
    "ServiceValidationError",
    "ThrottledError",
    "TransactionCancelledError",
    "TransactionInProgressError",
    "TransientError",
    "UnprocessedItemsError",
    "error_for",
]


class ErrorCode(StrEnum):
    """Stable machine-readable codes; ``docs/errors.md`` has a section for each."""

    # input refused before sending
    INVALID_TABLE_NAME = "INVALID_TABLE_NAME"
    INVALID_INDEX_NAME = "INVALID_INDEX_NAME"
    INVALID_ATTRIBUTE_NAME = "INVALID_ATTRIBUTE_NAME"
    INVALID_KEY = "INVALID_KEY"
    KEY_TOO_LARGE = "KEY_TOO_LARGE"
    ITEM_TOO_LARGE = "ITEM_TOO_LARGE"
    INVALID_ITEM = "INVALID_ITEM"
    BATCH_SIZE_EXCEEDED = "BATCH_SIZE_EXCEEDED"
    TRANSACTION_TOO_LARGE = "TRANSACTION_TOO_LARGE"
    DUPLICATE_ITEM_IN_REQUEST = "DUPLICATE_ITEM_IN_REQUEST"
    INVALID_EXPRESSION = "INVALID_EXPRESSION"
    UNSUPPORTED_TYPE = "UNSUPPORTED_TYPE"
    UNSAFE_VALUE = "UNSAFE_VALUE"
    INVALID_PAGINATION_TOKEN = "INVALID_PAGINATION_TOKEN"
    INVALID_CONFIGURATION = "INVALID_CONFIGURATION"
    INVALID_SCHEMA = "INVALID_SCHEMA"
    INVALID_STATE = "INVALID_STATE"
    INVALID_INPUT = "INVALID_INPUT"
    # outcomes decided by the data
    CONDITION_FAILED = "CONDITION_FAILED"
    TRANSACTION_CANCELLED = "TRANSACTION_CANCELLED"
    ITEM_COLLECTION_SIZE_LIMIT = "ITEM_COLLECTION_SIZE_LIMIT"
    TABLE_NOT_FOUND = "TABLE_NOT_FOUND"
    TABLE_ALREADY_EXISTS = "TABLE_ALREADY_EXISTS"
    ITEM_NOT_FOUND = "ITEM_NOT_FOUND"
    # infrastructure
    TRANSACTION_CONFLICT = "TRANSACTION_CONFLICT"
    TRANSACTION_IN_PROGRESS = "TRANSACTION_IN_PROGRESS"
    THROTTLED = "THROTTLED"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    CONNECTION_ERROR = "CONNECTION_ERROR"
    TIMEOUT = "TIMEOUT"
    CIRCUIT_OPEN = "CIRCUIT_OPEN"
    RETRIES_EXHAUSTED = "RETRIES_EXHAUSTED"
    UNPROCESSED_ITEMS = "UNPROCESSED_ITEMS"
    # what became of a write
    OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"
    READ_BACK_FAILED = "READ_BACK_FAILED"
    INTERRUPTED = "INTERRUPTED"
    # refusals by the backend
    ACCESS_DENIED = "ACCESS_DENIED"
    SERVICE_VALIDATION_FAILED = "SERVICE_VALIDATION_FAILED"
    IDEMPOTENT_PARAMETER_MISMATCH = "IDEMPOTENT_PARAMETER_MISMATCH"
    PROVIDER_ERROR = "PROVIDER_ERROR"


class DynamoDBServiceError(Exception):
    """Root of every error the library raises.

    ``code`` is for machines, ``message`` for people, ``details`` carries structured
    context (attribute names, sizes, limits, attempt counts; never user values), and
    ``retryable`` tells whether sending the same request again may succeed.
    """

    default_retryable: bool = False

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        details: Mapping[str, Any] | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(f"[{code}] {message}")
        self.code = ErrorCode(code)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})
        self.retryable = self.default_retryable if retryable is None else retryable

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code.value!r}, message={self.message!r})"


class InvalidInputError(DynamoDBServiceError):
    """The library refused the request before sending anything."""


class SchemaError(InvalidInputError):
    """An entity, key template or table definition is wrong; raised at class definition."""


class NotFoundError(DynamoDBServiceError):
    """The table or item addressed does not exist."""


class ConditionFailedError(DynamoDBServiceError):
    """A condition expression evaluated false; the data decided, so it is never retried."""


class AccessDeniedError(DynamoDBServiceError):
    """The credentials in use may not perform the operation."""


class ServiceValidationError(DynamoDBServiceError):
    """The backend rejected the request as invalid (ValidationException)."""


class CircuitOpenError(DynamoDBServiceError):
    """The circuit breaker is open: the call failed fast without reaching DynamoDB."""


class TransientError(DynamoDBServiceError):
    """An infrastructure failure that may pass: throttling, 5xx, timeouts, conflicts."""

    default_retryable = True


class ThrottledError(TransientError):
    """DynamoDB refused the request for capacity or rate reasons."""


class OperationTimeoutError(TransientError):
    """The operation's deadline passed before it completed."""


class RetriesExhaustedError(TransientError):
    """Every attempt allowed by the retry policy failed; ``last_error`` is the final one."""

    def __init__(
        self,
        message: str,
        last_error: DynamoDBServiceError,
        attempts: int,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        merged = {"attempts": attempts, "last_code": last_error.code.value, **(details or {})}
        super().__init__(ErrorCode.RETRIES_EXHAUSTED, message, merged, retryable=False)
        self.last_error = last_error
        self.attempts = attempts


class TransactionInProgressError(DynamoDBServiceError):
    """An earlier request with the same ClientRequestToken is still running.

    Not a :class:`TransientError`: something *is* in flight. The library keeps asking
    with the same token until DynamoDB answers or the deadline ends (then
    :class:`OutcomeUnknownError`), so callers only meet it from :meth:`execute`.
    """

    default_retryable = True


class OutcomeUnknownError(DynamoDBServiceError):
    """A write was sent and may or may not have been applied; the library cannot tell.

    Never a :class:`TransientError`: retrying the business step could apply it twice.
    ``token`` is the ClientRequestToken the write was sent with (None for a write sent
    without one); ``settle`` says how to find out. ``last_error`` is the failure that
    left the doubt. ``request`` is the exact token-protected request (kept out of
    ``details`` and messages, as it holds values), to send again to settle the outcome.
    See docs/outcomes.md.
    """

    def __init__(
        self,
        message: str,
        *,
        last_error: DynamoDBServiceError,
        token: str | None,
        settle: str,
        details: Mapping[str, Any] | None = None,
        request: Mapping[str, Any] | None = None,
    ) -> None:
        merged = {
            "last_code": last_error.code.value,
            "token": token,
            "settle": settle,
            **(details or {}),
        }
        super().__init__(ErrorCode.OUTCOME_UNKNOWN, message, merged, retryable=False)
        self.last_error = last_error
        self.token = token
        self.settle = settle
        self.request: dict[str, Any] | None = dict(request) if request is not None else None


class OperationInterruptedError(DynamoDBServiceError):
    """INTERRUPTED: the caller stopped the operation (a cancelled task, KeyboardInterrupt)
    before this work was sent, or while its request may have been on its way (then it is
    the ``last_error`` of an OUTCOME_UNKNOWN). Recorded, never raised: the interruption
    itself propagates."""


class ReadBackFailedError(DynamoDBServiceError):
    """The write was applied (``applied`` is True); reading the item back afterwards failed.

    Do not send the write again: read the item instead. ``last_error`` is the read's failure.
    """

    applied = True

    def __init__(
        self,
        message: str,
        *,
        last_error: DynamoDBServiceError,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        merged = {"last_code": last_error.code.value, "applied": True, **(details or {})}
        super().__init__(ErrorCode.READ_BACK_FAILED, message, merged, retryable=False)
        self.last_error = last_error


class DryRunStop(Exception):  # noqa: N818 - a stop signal, not an error
    """Ends a dry run at a request whose answer the library would need to go on.

    Not a :class:`DynamoDBServiceError`: nothing failed, a dry run's provider
    (``tctf_dynamo.providers.dryrun``) raises it to stop the block there.

    The :class:`DryRun` context swallows it; outside one it propagates to the caller.
    """

    def __init__(self, operation: str) -> None:
        super().__init__(f"dry run stopped after {operation}: its answer needs a real table")
        self.operation = operation


class ProviderError(DynamoDBServiceError):
    """The backend failed in a way the library has no more specific code for."""


class CancellationReason:
    """Why one action of a cancelled transaction failed, aligned with its intent.

    ``index`` is the position of the intent in the unit of work, ``code`` one of
    CONDITION_FAILED, TRANSACTION_CONFLICT, THROTTLED, ITEM_COLLECTION_SIZE_LIMIT,
    SERVICE_VALIDATION_FAILED, or ``None`` when that action did not cause the cancellation.
    """

    __slots__ = ("code", "entity", "index", "item", "key", "message", "operation")

    def __init__(
        self,
        index: int,
        code: ErrorCode | None,
        message: str = "",
        *,
        operation: str = "",
        entity: str | None = None,
        key: Mapping[str, Any] | None = None,
        item: Any = None,
    ) -> None:
        self.index = index
        self.code = code
        self.message = message
        self.operation = operation
        self.entity = entity
        self.key = dict(key) if key is not None else None
        self.item = item

    def __repr__(self) -> str:
        code = self.code.value if self.code else None
        return (
            f"CancellationReason(index={self.index}, operation={self.operation!r}, "
            f"entity={self.entity!r}, code={code!r})"
        )


class TransactionCancelledError(DynamoDBServiceError):
    """A transaction was cancelled; ``reasons[i]`` belongs to the i-th intent."""

    def __init__(
        self,
        message: str,
        reasons: Sequence[CancellationReason],
        details: Mapping[str, Any] | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(ErrorCode.TRANSACTION_CANCELLED, message, details, retryable)
        self.reasons: list[CancellationReason] = list(reasons)

    @property
    def failed(self) -> list[CancellationReason]:
        """The reasons of the actions that caused the cancellation."""
        return [reason for reason in self.reasons if reason.code is not None]


class UnprocessedItemsError(DynamoDBServiceError):
    """A batch could not confirm all its work; everything it does not list was done.

    ``unprocessed`` holds exactly what was not applied; ``unknown`` what may or may not
    have been (a request whose answer was lost and never proven since: see
    docs/outcomes.md), in the same shape. Neither lists anything that was done.
    """

    def __init__(
        self,
        message: str,
        unprocessed: Sequence[Any],
        details: Mapping[str, Any] | None = None,
        *,
        unknown: Sequence[Any] = (),
    ) -> None:
        merged = {
            "unprocessed_count": len(unprocessed),
            "unknown_count": len(unknown),
            **(details or {}),
        }
        super().__init__(ErrorCode.UNPROCESSED_ITEMS, message, merged, retryable=True)
        self.unprocessed: list[Any] = list(unprocessed)
        self.unknown: list[Any] = list(unknown)


_CATEGORY_BY_CODE: dict[ErrorCode, type[DynamoDBServiceError]] = {
    ErrorCode.INVALID_TABLE_NAME: InvalidInputError,
    ErrorCode.INVALID_INDEX_NAME: InvalidInputError,
    ErrorCode.INVALID_ATTRIBUTE_NAME: InvalidInputError,
    ErrorCode.INVALID_KEY: InvalidInputError,
    ErrorCode.KEY_TOO_LARGE: InvalidInputError,
    ErrorCode.ITEM_TOO_LARGE: InvalidInputError,
    ErrorCode.INVALID_ITEM: InvalidInputError,
    ErrorCode.BATCH_SIZE_EXCEEDED: InvalidInputError,
    ErrorCode.TRANSACTION_TOO_LARGE: InvalidInputError,
    ErrorCode.DUPLICATE_ITEM_IN_REQUEST: InvalidInputError,
    ErrorCode.INVALID_EXPRESSION: InvalidInputError,
    ErrorCode.UNSUPPORTED_TYPE: InvalidInputError,
    ErrorCode.UNSAFE_VALUE: InvalidInputError,
    ErrorCode.INVALID_PAGINATION_TOKEN: InvalidInputError,
    ErrorCode.INVALID_CONFIGURATION: InvalidInputError,
    ErrorCode.INVALID_SCHEMA: SchemaError,
    ErrorCode.INVALID_STATE: InvalidInputError,
    ErrorCode.INVALID_INPUT: InvalidInputError,
    ErrorCode.CONDITION_FAILED: ConditionFailedError,
    ErrorCode.ITEM_COLLECTION_SIZE_LIMIT: ServiceValidationError,
    ErrorCode.TABLE_NOT_FOUND: NotFoundError,
    ErrorCode.TABLE_ALREADY_EXISTS: ServiceValidationError,
    ErrorCode.ITEM_NOT_FOUND: NotFoundError,
    ErrorCode.TRANSACTION_CONFLICT: TransientError,
    ErrorCode.TRANSACTION_IN_PROGRESS: TransactionInProgressError,
    ErrorCode.THROTTLED: ThrottledError,
    ErrorCode.SERVICE_UNAVAILABLE: TransientError,
    ErrorCode.INTERNAL_ERROR: TransientError,
    ErrorCode.CONNECTION_ERROR: TransientError,
    ErrorCode.TIMEOUT: OperationTimeoutError,
    ErrorCode.CIRCUIT_OPEN: CircuitOpenError,
    ErrorCode.ACCESS_DENIED: AccessDeniedError,
    ErrorCode.SERVICE_VALIDATION_FAILED: ServiceValidationError,
    ErrorCode.IDEMPOTENT_PARAMETER_MISMATCH: ServiceValidationError,
    ErrorCode.PROVIDER_ERROR: ProviderError,
    ErrorCode.INTERRUPTED: OperationInterruptedError,
}

_EXPLANATIONS: dict[ErrorCode, str] = {
    ErrorCode.IDEMPOTENT_PARAMETER_MISMATCH: (
        "the ClientRequestToken was used for a different request within the last 10 "
        "minutes; this request was NOT applied. The earlier request with that token may "
        "have been applied or may still be running: if it was this same write built "
        "differently (other values, another now=), find out what it did before sending "
        "the write again under a new token, which could apply it twice"
    ),
}
"""What the caller must know about a code, added to every message of that code, so
each path that raises it (the provider's table, the embedded backend) says the same."""


def error_for(
    code: ErrorCode,
    message: str,
    details: Mapping[str, Any] | None = None,
    retryable: bool | None = None,
) -> DynamoDBServiceError:
    """Build the error of the right category for ``code``.

    Codes whose errors carry extra structure (TRANSACTION_CANCELLED, RETRIES_EXHAUSTED,
    UNPROCESSED_ITEMS, OUTCOME_UNKNOWN, READ_BACK_FAILED) have their own constructors and
    are not built here.
    """
    category = _CATEGORY_BY_CODE.get(code)
    if category is None:
        raise ValueError(f"{code} has a dedicated error class; construct it directly")
    explanation = _EXPLANATIONS.get(code)
    if explanation is not None:
        message = f"{message}: {explanation}"
    return category(code, message, details, retryable)
