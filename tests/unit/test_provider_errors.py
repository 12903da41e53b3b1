"""The translation table, row by row, with ClientErrors shaped exactly as botocore builds them."""

from __future__ import annotations

from typing import Any

import pytest
from botocore import exceptions as boto_errors
from hypothesis import given, settings
from hypothesis import strategies as st

from tctf_dynamo.errors import (
    AccessDeniedError,
    ConditionFailedError,
    DynamoDBServiceError,
    ErrorCode,
    InvalidInputError,
    NotFoundError,
    OperationTimeoutError,
    ProviderError,
    ServiceValidationError,
    ThrottledError,
    TransactionCancelledError,
    TransactionInProgressError,
    TransientError,
)
from tctf_dynamo.providers.errors import (
    parse_reasons_from_message,
    translate_client_error,
    translate_exception,
)

SECRET = "s3cr3t-user-value"


def client_error(
    code: str,
    message: str = "",
    status: int = 400,
    operation: str = "PutItem",
    **extra: Any,
) -> boto_errors.ClientError:
    """A ClientError with the response dict botocore's JSON parser produces."""
    response: dict[str, Any] = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {
            "RequestId": "REQ1",
            "HTTPStatusCode": status,
            "HTTPHeaders": {"x-amzn-errortype": code},
            "RetryAttempts": 0,
        },
        **extra,
    }
    return boto_errors.ClientError(response, operation)  # type: ignore[arg-type]


ROWS = [
    ("ConditionalCheckFailedException", 400, ErrorCode.CONDITION_FAILED, ConditionFailedError),
    ("TransactionConflictException", 400, ErrorCode.TRANSACTION_CONFLICT, TransientError),
    (
        "TransactionInProgressException",
        400,
        ErrorCode.TRANSACTION_IN_PROGRESS,
        TransactionInProgressError,
    ),
    ("ProvisionedThroughputExceededException", 400, ErrorCode.THROTTLED, ThrottledError),
    ("ThrottlingException", 400, ErrorCode.THROTTLED, ThrottledError),
    ("RequestLimitExceeded", 400, ErrorCode.THROTTLED, ThrottledError),
    ("InternalServerError", 500, ErrorCode.INTERNAL_ERROR, TransientError),
    ("ServiceUnavailable", 503, ErrorCode.SERVICE_UNAVAILABLE, TransientError),
    ("ResourceNotFoundException", 400, ErrorCode.TABLE_NOT_FOUND, NotFoundError),
    ("AccessDeniedException", 400, ErrorCode.ACCESS_DENIED, AccessDeniedError),
    ("UnrecognizedClientException", 400, ErrorCode.ACCESS_DENIED, AccessDeniedError),
    ("InvalidSignatureException", 400, ErrorCode.ACCESS_DENIED, AccessDeniedError),
    ("MissingAuthenticationToken", 403, ErrorCode.ACCESS_DENIED, AccessDeniedError),
    ("ValidationException", 400, ErrorCode.SERVICE_VALIDATION_FAILED, ServiceValidationError),
    ("SerializationException", 400, ErrorCode.SERVICE_VALIDATION_FAILED, ServiceValidationError),
    (
        "IdempotentParameterMismatchException",
        400,
        ErrorCode.IDEMPOTENT_PARAMETER_MISMATCH,
        ServiceValidationError,
    ),
    (
        "ItemCollectionSizeLimitExceededException",
        400,
        ErrorCode.ITEM_COLLECTION_SIZE_LIMIT,
        ServiceValidationError,
    ),
    ("ResourceInUseException", 400, ErrorCode.TABLE_ALREADY_EXISTS, ServiceValidationError),
    # no known code: decided by the HTTP status
    ("500", 500, ErrorCode.INTERNAL_ERROR, TransientError),
    ("SomethingNew", 502, ErrorCode.INTERNAL_ERROR, TransientError),
    ("503", 503, ErrorCode.SERVICE_UNAVAILABLE, TransientError),
    ("SomethingNew", 400, ErrorCode.PROVIDER_ERROR, ProviderError),
]


@pytest.mark.parametrize(("aws_code", "status", "code", "category"), ROWS)
def test_each_aws_code_maps_to_one_code_and_category(
    aws_code: str, status: int, code: ErrorCode, category: type[DynamoDBServiceError]
) -> None:
    error = translate_client_error(client_error(aws_code, f"about {SECRET}", status), "PutItem")
    assert error.code is code
    assert isinstance(error, category)
    assert error.details == {
        "operation": "PutItem",
        "aws_code": aws_code,
        "http_status": status,
        "aws_message": f"about {SECRET}",
    }
    assert SECRET not in str(error)
    assert SECRET not in error.message


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        ("ThrottlingException", True),
        ("TransactionConflictException", True),
        ("InternalServerError", True),
        ("ConditionalCheckFailedException", False),
        ("ValidationException", False),
        ("AccessDeniedException", False),
    ],
)
def test_only_infrastructure_failures_are_retryable(code: str, retryable: bool) -> None:
    assert translate_client_error(client_error(code), "GetItem").retryable is retryable


def test_message_is_ours_and_names_operation_and_code() -> None:
    error = translate_client_error(client_error("ValidationException", "bad"), "UpdateItem")
    assert error.message == "DynamoDB refused UpdateItem: ValidationException"


def test_namespaced_codes_are_recognised() -> None:
    code = "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"
    assert translate_client_error(client_error(code), "Query").code is ErrorCode.TABLE_NOT_FOUND


def test_condition_failure_carries_the_old_item_when_asked_for() -> None:
    item = {"PK": {"S": "a"}, "n": {"N": "1"}}
    error = translate_client_error(
        client_error(
            "ConditionalCheckFailedException", "The conditional request failed", Item=item
        ),
        "PutItem",
    )
    assert error.details["item"] == item


def test_condition_failure_without_old_item_has_no_item_detail() -> None:
    error = translate_client_error(client_error("ConditionalCheckFailedException"), "PutItem")
    assert "item" not in error.details


REASON_ROWS = [
    ("None", None),
    ("ConditionalCheckFailed", ErrorCode.CONDITION_FAILED),
    ("TransactionConflict", ErrorCode.TRANSACTION_CONFLICT),
    ("ThrottlingError", ErrorCode.THROTTLED),
    ("ProvisionedThroughputExceeded", ErrorCode.THROTTLED),
    ("RequestLimitExceeded", ErrorCode.THROTTLED),
    ("ItemCollectionSizeLimitExceeded", ErrorCode.ITEM_COLLECTION_SIZE_LIMIT),
    ("ValidationError", ErrorCode.SERVICE_VALIDATION_FAILED),
    ("SomethingNew", ErrorCode.PROVIDER_ERROR),
]


def cancelled(reasons: list[dict[str, Any]] | None, message: str = "") -> TransactionCancelledError:
    extra = {} if reasons is None else {"CancellationReasons": reasons}
    error = translate_client_error(
        client_error(
            "TransactionCanceledException", message, operation="TransactWriteItems", **extra
        ),
        "TransactWriteItems",
    )
    assert isinstance(error, TransactionCancelledError)
    return error


@pytest.mark.parametrize(("aws_reason", "code"), REASON_ROWS)
def test_each_cancellation_reason_code_maps(aws_reason: str, code: ErrorCode | None) -> None:
    error = cancelled([{"Code": "None"}, {"Code": aws_reason, "Message": "m"}])
    assert error.code is ErrorCode.TRANSACTION_CANCELLED
    assert [reason.code for reason in error.reasons] == [None, code]
    assert [reason.index for reason in error.reasons] == [0, 1]


def test_cancellation_reasons_keep_order_message_and_item() -> None:
    item = {"PK": {"S": "b"}}
    error = cancelled(
        [
            {"Code": "None"},
            {
                "Code": "ConditionalCheckFailed",
                "Message": "The conditional request failed",
                "Item": item,
            },
            {"Code": "None"},
        ]
    )
    assert [r.code for r in error.reasons] == [None, ErrorCode.CONDITION_FAILED, None]
    assert error.reasons[1].item == item
    assert error.reasons[1].message == "The conditional request failed"
    assert error.reasons[0].item is None
    assert error.failed == [error.reasons[1]]
    assert error.details["aws_code"] == "TransactionCanceledException"
    assert "1: CONDITION_FAILED" in error.message


@pytest.mark.parametrize(
    ("codes", "retryable"),
    [
        (["None", "TransactionConflict"], True),
        (["ThrottlingError", "TransactionConflict"], True),
        (["ProvisionedThroughputExceeded", "None"], True),
        (["TransactionConflict", "ConditionalCheckFailed"], False),
        (["ConditionalCheckFailed"], False),
        (["ValidationError", "None"], False),
        (["None", "None"], False),
    ],
)
def test_cancellation_is_retryable_only_when_every_fault_is_transient(
    codes: list[str], retryable: bool
) -> None:
    assert cancelled([{"Code": c} for c in codes]).retryable is retryable


def test_reasons_are_parsed_from_the_message_when_the_response_has_none() -> None:
    message = (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, ConditionalCheckFailed]"
    )
    error = cancelled(None, message)
    assert [r.code for r in error.reasons] == [None, ErrorCode.CONDITION_FAILED]
    assert error.retryable is False


@pytest.mark.parametrize(
    ("message", "codes"),
    [
        ("... specific reasons [None, ConditionalCheckFailed]", ["None", "ConditionalCheckFailed"]),
        ("... specific reasons [TransactionConflict]", ["TransactionConflict"]),
        ("... specific reasons [None,ThrottlingError, None]", ["None", "ThrottlingError", "None"]),
        ("... specific reasons []", []),
        ("Transaction cancelled", []),
        ("", []),
    ],
)
def test_parse_reasons_from_message(message: str, codes: list[str]) -> None:
    assert parse_reasons_from_message(message) == [{"Code": c} for c in codes]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from([row[0] for row in REASON_ROWS]), min_size=1, max_size=100))
def test_parsed_reasons_stay_aligned_with_actions(codes: list[str]) -> None:
    message = f"Transaction cancelled, please refer cancellation reasons [{', '.join(codes)}]"
    error = cancelled(None, message)
    assert [r.index for r in error.reasons] == list(range(len(codes)))
    expected = dict(REASON_ROWS)
    assert [r.code for r in error.reasons] == [expected[c] for c in codes]


def test_cancellation_without_any_reasons_is_still_a_cancellation() -> None:
    error = cancelled(None, "Transaction cancelled")
    assert error.reasons == []
    assert error.retryable is False


EXCEPTION_ROWS: list[tuple[Exception, ErrorCode, type[DynamoDBServiceError]]] = [
    (
        boto_errors.EndpointConnectionError(endpoint_url="http://x"),
        ErrorCode.CONNECTION_ERROR,
        TransientError,
    ),
    (
        boto_errors.ConnectionClosedError(endpoint_url="http://x"),
        ErrorCode.CONNECTION_ERROR,
        TransientError,
    ),
    (boto_errors.ConnectionError(error="reset"), ErrorCode.CONNECTION_ERROR, TransientError),
    (
        boto_errors.ReadTimeoutError(endpoint_url="http://x"),
        ErrorCode.TIMEOUT,
        OperationTimeoutError,
    ),
    (
        boto_errors.ConnectTimeoutError(endpoint_url="http://x"),
        ErrorCode.TIMEOUT,
        OperationTimeoutError,
    ),
    (boto_errors.NoCredentialsError(), ErrorCode.INVALID_CONFIGURATION, InvalidInputError),
    (boto_errors.NoRegionError(), ErrorCode.INVALID_CONFIGURATION, InvalidInputError),
    (
        boto_errors.ParamValidationError(report=f"value {SECRET}"),
        ErrorCode.SERVICE_VALIDATION_FAILED,
        ServiceValidationError,
    ),
    (RuntimeError(SECRET), ErrorCode.PROVIDER_ERROR, ProviderError),
]


@pytest.mark.parametrize(("exc", "code", "category"), EXCEPTION_ROWS)
def test_transport_and_configuration_failures(
    exc: Exception, code: ErrorCode, category: type[DynamoDBServiceError]
) -> None:
    error = translate_exception(exc, "GetItem")
    assert error.code is code
    assert isinstance(error, category)
    assert error.details["operation"] == "GetItem"
    assert error.details["exception"] == type(exc).__name__
    assert {"aws_code", "http_status", "aws_message"} <= error.details.keys()
    assert SECRET not in str(error)


def test_translate_exception_routes_client_errors_through_the_code_table() -> None:
    error = translate_exception(client_error("ThrottlingException"), "Query")
    assert error.code is ErrorCode.THROTTLED


def test_library_errors_pass_through_unchanged() -> None:
    original = ConditionFailedError(ErrorCode.CONDITION_FAILED, "m")
    assert translate_exception(original, "PutItem") is original


def test_callers_keep_the_original_as_cause() -> None:
    original = client_error("ThrottlingException")
    with pytest.raises(ThrottledError) as caught:
        try:
            raise original
        except boto_errors.ClientError as exc:
            raise translate_exception(exc, "GetItem") from exc
    assert caught.value.__cause__ is original
