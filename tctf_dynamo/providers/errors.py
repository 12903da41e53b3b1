"""Translate every backend failure into the library's error tree, once, from tables.

Providers call :func:`translate_exception` (or :func:`translate_client_error`) in their one
``except`` clause and ``raise translate_exception(exc, operation) from exc``, so no
botocore exception leaves ``providers/`` and the original stays reachable as
``__cause__``. Everything we know about AWS error codes lives in the tables below; adding
a code is adding a row.

Our messages name the operation and the AWS error code only. AWS's own message may quote
request values, so it is kept apart in ``details["aws_message"]`` for whoever decides to
log it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from botocore import exceptions as boto_errors

from tctf_dynamo.errors import (
    CancellationReason,
    DynamoDBServiceError,
    ErrorCode,
    TransactionCancelledError,
    error_for,
)

__all__ = [
    "parse_reasons_from_message",
    "refusal",
    "translate_client_error",
    "translate_exception",
    "transport_failure",
]

TRANSACTION_CANCELED_CODE: Final = "TransactionCanceledException"
CONDITIONAL_CHECK_FAILED_CODE: Final = "ConditionalCheckFailedException"
HTTP_SERVICE_UNAVAILABLE: Final = 503
HTTP_SERVER_ERROR: Final = 500

_CODE_BY_AWS_ERROR: Final[Mapping[str, ErrorCode]] = {
    CONDITIONAL_CHECK_FAILED_CODE: ErrorCode.CONDITION_FAILED,
    "TransactionConflictException": ErrorCode.TRANSACTION_CONFLICT,
    "TransactionInProgressException": ErrorCode.TRANSACTION_IN_PROGRESS,
    "ReplicatedWriteConflictException": ErrorCode.TRANSACTION_CONFLICT,
    "ProvisionedThroughputExceededException": ErrorCode.THROTTLED,
    "ThrottlingException": ErrorCode.THROTTLED,
    "RequestLimitExceeded": ErrorCode.THROTTLED,
    "LimitExceededException": ErrorCode.THROTTLED,
    "InternalServerError": ErrorCode.INTERNAL_ERROR,
    "InternalFailure": ErrorCode.INTERNAL_ERROR,
    "ServiceUnavailable": ErrorCode.SERVICE_UNAVAILABLE,
    "ServiceUnavailableException": ErrorCode.SERVICE_UNAVAILABLE,
    "ResourceNotFoundException": ErrorCode.TABLE_NOT_FOUND,
    "AccessDeniedException": ErrorCode.ACCESS_DENIED,
    "UnrecognizedClientException": ErrorCode.ACCESS_DENIED,
    "InvalidSignatureException": ErrorCode.ACCESS_DENIED,
    "MissingAuthenticationToken": ErrorCode.ACCESS_DENIED,
    "IncompleteSignature": ErrorCode.ACCESS_DENIED,
    "ExpiredTokenException": ErrorCode.ACCESS_DENIED,
    "ValidationException": ErrorCode.SERVICE_VALIDATION_FAILED,
    "SerializationException": ErrorCode.SERVICE_VALIDATION_FAILED,
    "IdempotentParameterMismatchException": ErrorCode.IDEMPOTENT_PARAMETER_MISMATCH,
    "ItemCollectionSizeLimitExceededException": ErrorCode.ITEM_COLLECTION_SIZE_LIMIT,
    "ResourceInUseException": ErrorCode.TABLE_ALREADY_EXISTS,
}
"""AWS error code (``response["Error"]["Code"]``) to our code; exact names, no guessing."""

_CODE_BY_CANCELLATION_REASON: Final[Mapping[str, ErrorCode | None]] = {
    "None": None,
    "ConditionalCheckFailed": ErrorCode.CONDITION_FAILED,
    "TransactionConflict": ErrorCode.TRANSACTION_CONFLICT,
    "ThrottlingError": ErrorCode.THROTTLED,
    "ProvisionedThroughputExceeded": ErrorCode.THROTTLED,
    "RequestLimitExceeded": ErrorCode.THROTTLED,
    "ItemCollectionSizeLimitExceeded": ErrorCode.ITEM_COLLECTION_SIZE_LIMIT,
    "ValidationError": ErrorCode.SERVICE_VALIDATION_FAILED,
}
"""``CancellationReasons[i]["Code"]`` to our code; ``None`` means action i was not at fault."""

_RETRYABLE_REASONS: Final = frozenset({ErrorCode.TRANSACTION_CONFLICT, ErrorCode.THROTTLED})

_CODE_BY_EXCEPTION: Final[Sequence[tuple[type[Exception], ErrorCode]]] = (
    # timeouts first: ConnectTimeoutError is also a ConnectionError
    (boto_errors.ConnectTimeoutError, ErrorCode.TIMEOUT),
    (boto_errors.ReadTimeoutError, ErrorCode.TIMEOUT),
    (boto_errors.ConnectionError, ErrorCode.CONNECTION_ERROR),
    (boto_errors.HTTPClientError, ErrorCode.CONNECTION_ERROR),
    (boto_errors.ChecksumError, ErrorCode.CONNECTION_ERROR),
    (boto_errors.IncompleteReadError, ErrorCode.CONNECTION_ERROR),
    (boto_errors.NoCredentialsError, ErrorCode.INVALID_CONFIGURATION),
    (boto_errors.PartialCredentialsError, ErrorCode.INVALID_CONFIGURATION),
    (boto_errors.CredentialRetrievalError, ErrorCode.INVALID_CONFIGURATION),
    (boto_errors.ProfileNotFound, ErrorCode.INVALID_CONFIGURATION),
    (boto_errors.ConfigParseError, ErrorCode.INVALID_CONFIGURATION),
    (boto_errors.BaseEndpointResolverError, ErrorCode.INVALID_CONFIGURATION),
    (boto_errors.ParamValidationError, ErrorCode.SERVICE_VALIDATION_FAILED),
    (boto_errors.ValidationError, ErrorCode.SERVICE_VALIDATION_FAILED),
)
"""botocore's transport and configuration failures, most specific class first."""

_REASONS_IN_MESSAGE: Final = re.compile(r"\[([^\[\]]*)\]\s*$")


def translate_exception(exc: Exception, operation: str) -> DynamoDBServiceError:
    """Return the library error for any failure raised while sending ``operation``.

    Library errors pass through unchanged, so a provider can wrap code that already
    raises them.
    """
    if isinstance(exc, DynamoDBServiceError):
        return exc
    if isinstance(exc, boto_errors.ClientError):
        return translate_client_error(exc, operation)
    return transport_failure(operation, _code_for_exception(exc), type(exc).__name__)


def transport_failure(
    operation: str, code: ErrorCode, exception_name: str, **extra: Any
) -> DynamoDBServiceError:
    """The error for a failure before any answer came back (connection, timeout)."""
    details = _details(operation, aws_code=None, http_status=None, aws_message=None)
    details["exception"] = exception_name
    details.update(extra)
    return error_for(code, f"DynamoDB {operation} failed: {exception_name}", details)


def refusal(
    operation: str, aws_code: str, http_status: int, aws_message: str, **extra: Any
) -> DynamoDBServiceError:
    """The error for a plain error answer (no cancellation reasons, no item)."""
    details = _details(operation, aws_code, http_status, aws_message)
    details.update(extra)
    message = f"DynamoDB refused {operation}: {aws_code}"
    return error_for(_code_for_client_error(aws_code, http_status), message, details)


def translate_client_error(exc: boto_errors.ClientError, operation: str) -> DynamoDBServiceError:
    """Return the library error for an error response DynamoDB (or a stand-in) sent."""
    response: Mapping[str, Any] = exc.response
    error = response.get("Error") or {}
    aws_code = str(error.get("Code") or "").rpartition("#")[2]
    aws_message = str(error.get("Message") or response.get("message") or "")
    http_status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    details = _details(operation, aws_code, http_status, aws_message)
    message = f"DynamoDB refused {operation}: {aws_code or f'HTTP {http_status}'}"
    if aws_code == TRANSACTION_CANCELED_CODE:
        return _transaction_cancelled(response, aws_message, message, details)
    if aws_code == CONDITIONAL_CHECK_FAILED_CODE and "Item" in response:
        details["item"] = response["Item"]
    return error_for(_code_for_client_error(aws_code, http_status), message, details)


def _code_for_client_error(aws_code: str, http_status: int | None) -> ErrorCode:
    known = _CODE_BY_AWS_ERROR.get(aws_code)
    if known is not None:
        return known
    if http_status == HTTP_SERVICE_UNAVAILABLE:
        return ErrorCode.SERVICE_UNAVAILABLE
    if http_status is not None and http_status >= HTTP_SERVER_ERROR:
        return ErrorCode.INTERNAL_ERROR
    return ErrorCode.PROVIDER_ERROR


def _code_for_exception(exc: Exception) -> ErrorCode:
    for exception_type, code in _CODE_BY_EXCEPTION:
        if isinstance(exc, exception_type):
            return code
    return ErrorCode.PROVIDER_ERROR


def _details(
    operation: str, aws_code: str | None, http_status: int | None, aws_message: str | None
) -> dict[str, Any]:
    return {
        "operation": operation,
        "aws_code": aws_code,
        "http_status": http_status,
        "aws_message": aws_message,
    }


def _transaction_cancelled(
    response: Mapping[str, Any],
    aws_message: str,
    message: str,
    details: dict[str, Any],
) -> TransactionCancelledError:
    raw_reasons = response.get("CancellationReasons")
    if raw_reasons is None:
        raw_reasons = parse_reasons_from_message(aws_message)
    reasons = [_reason(index, raw) for index, raw in enumerate(raw_reasons)]
    failed = [reason for reason in reasons if reason.code is not None]
    retryable = bool(failed) and all(r.code in _RETRYABLE_REASONS for r in failed)
    summary = ", ".join(f"{r.index}: {r.code.value}" for r in failed if r.code is not None)
    return TransactionCancelledError(
        f"{message} ({summary or 'no reason given'})", reasons, details, retryable=retryable
    )


def _reason(index: int, raw: Mapping[str, Any]) -> CancellationReason:
    aws_code = str(raw.get("Code") or "None")
    code = _CODE_BY_CANCELLATION_REASON.get(aws_code, ErrorCode.PROVIDER_ERROR)
    return CancellationReason(index, code, str(raw.get("Message") or ""), item=raw.get("Item"))


def parse_reasons_from_message(aws_message: str) -> list[dict[str, str]]:
    """Recover cancellation reasons from the message, for backends that only put them there.

    AWS and moto end the message with the reason codes in action order:
    ``"... specific reasons [None, ConditionalCheckFailed]"``. No list, no reasons.
    """
    match = _REASONS_IN_MESSAGE.search(aws_message)
    if match is None or not match.group(1).strip():
        return []
    return [{"Code": code.strip()} for code in match.group(1).split(",")]
