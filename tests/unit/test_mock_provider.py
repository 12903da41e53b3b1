"""Test doubles (MockProvider, RecordingProvider) and Boto3Provider without any network.

Boto3Provider's HTTP traffic is answered by a ``before-send`` hook on its own client, which
is also how the tests count attempts: botocore's retries must be off.
"""

from __future__ import annotations

import copy
import io
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest
from botocore import exceptions as boto_errors
from botocore.awsrequest import AWSPreparedRequest, AWSResponse

from tctf_dynamo.errors import (
    ConditionFailedError,
    DynamoDBServiceError,
    ErrorCode,
    InvalidInputError,
    ThrottledError,
    TransientError,
)
from tctf_dynamo.providers import (
    Boto3Provider,
    MockProvider,
    Provider,
    RecordedCall,
    RecordingProvider,
)

GET = {"TableName": "t", "Key": {"PK": {"S": "a"}}}
ITEM = {"Item": {"PK": {"S": "a"}, "n": {"N": "1"}}}


def answer(operation: str, request: dict[str, Any]) -> dict[str, Any]:
    return {"operation": operation, "echo": request}


# MockProvider ---------------------------------------------------------------------------


def test_mock_provider_answers_from_its_handler() -> None:
    provider = MockProvider(answer)
    assert provider.call("GetItem", GET) == {"operation": "GetItem", "echo": GET}


def test_mock_provider_satisfies_the_protocol_and_closes() -> None:
    with MockProvider(answer) as provider:
        assert isinstance(provider, Provider)
    assert provider.closed


def test_mock_provider_lets_the_handler_simulate_library_errors() -> None:
    def throttle(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        raise ThrottledError(ErrorCode.THROTTLED, "slow down")

    with pytest.raises(ThrottledError):
        MockProvider(throttle).call("GetItem", GET)


def test_mock_provider_translates_raw_botocore_errors_like_real_providers() -> None:
    def refuse(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        response: Any = {"Error": {"Code": "ConditionalCheckFailedException", "Message": ""}}
        raise boto_errors.ClientError(response, operation)

    with pytest.raises(ConditionFailedError) as caught:
        MockProvider(refuse).call("PutItem", GET)
    assert isinstance(caught.value.__cause__, boto_errors.ClientError)


def test_mock_provider_lets_bugs_in_the_handler_surface_unchanged() -> None:
    def broken(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        raise KeyError("oops")

    with pytest.raises(KeyError):
        MockProvider(broken).call("GetItem", GET)


# RecordingProvider ----------------------------------------------------------------------


def test_recording_provider_records_exact_copies_in_order() -> None:
    recorder = RecordingProvider(MockProvider(lambda op, req: copy.deepcopy(ITEM)))
    request = {"TableName": "t", "Key": {"PK": {"S": "a"}}}
    response = recorder.call("GetItem", request)
    recorder.call("PutItem", {"TableName": "t", "Item": {"PK": {"S": "b"}}})
    request["Key"]["PK"]["S"] = "changed later"
    response["Item"]["n"]["N"] = "999"

    first, second = recorder.calls
    assert first == RecordedCall("GetItem", GET, response=ITEM)
    assert first.succeeded
    assert second.operation == "PutItem"
    assert recorder.operations == ["GetItem", "PutItem"]
    assert recorder.requests("PutItem") == [{"TableName": "t", "Item": {"PK": {"S": "b"}}}]


def test_recorded_calls_are_frozen() -> None:
    recorder = RecordingProvider(MockProvider(answer))
    recorder.call("GetItem", GET)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        recorder.calls[0].operation = "PutItem"  # type: ignore[misc]


def test_recording_provider_records_errors_and_reraises_them() -> None:
    error = ThrottledError(ErrorCode.THROTTLED, "slow down")

    def fail(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        raise error

    recorder = RecordingProvider(MockProvider(fail))
    with pytest.raises(ThrottledError):
        recorder.call("GetItem", GET)
    (call,) = recorder.calls
    assert call.error is error
    assert call.response is None
    assert not call.succeeded


def test_recording_provider_clear_and_close_reach_the_inner_provider() -> None:
    inner = MockProvider(answer)
    with RecordingProvider(inner) as recorder:
        recorder.call("GetItem", GET)
        recorder.clear()
        assert recorder.calls == []
    assert inner.closed


def test_recording_provider_records_every_call_under_threads() -> None:
    recorder = RecordingProvider(MockProvider(answer))
    threads = [
        threading.Thread(target=lambda: [recorder.call("GetItem", GET) for _ in range(50)])
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(recorder.calls) == 400


# Boto3Provider, answered in-process --------------------------------------------------------


class _Body(io.BytesIO):
    def stream(self, **_: Any) -> Iterator[bytes]:
        data = self.read()
        if data:
            yield data


Canned = Callable[[AWSPreparedRequest], tuple[int, dict[str, str], bytes]]


def canned(status: int, body: dict[str, Any] | None = None, aws_code: str | None = None) -> Canned:
    headers = {"x-amzn-errortype": aws_code} if aws_code else {}
    payload = json.dumps(body).encode() if body is not None else b""
    return lambda request: (status, headers, payload)


class Endpoint:
    """Stands in for the network on one client; counts every attempt botocore makes."""

    def __init__(self, provider: Boto3Provider, reply: Canned) -> None:
        self.attempts: list[AWSPreparedRequest] = []
        self.reply = reply
        provider.client.meta.events.register("before-send.dynamodb", self._send)

    def _send(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        self.attempts.append(request)
        status, headers, body = self.reply(request)
        return AWSResponse(request.url, status, headers, _Body(body))  # type: ignore[arg-type]


@pytest.fixture
def provider() -> Iterator[Boto3Provider]:
    with Boto3Provider.from_endpoint(
        "http://127.0.0.1:9",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ) as built:
        yield built


def test_botocore_config_turns_retries_off_and_applies_settings() -> None:
    built = Boto3Provider.from_endpoint(
        "http://127.0.0.1:9",
        region_name="eu-west-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        connect_timeout=1.5,
        read_timeout=7.0,
        max_pool_connections=3,
    )
    config = built.client.meta.config
    assert config.retries == {"total_max_attempts": 1, "mode": "standard"}
    assert (config.connect_timeout, config.read_timeout) == (1.5, 7.0)
    assert config.max_pool_connections == 3
    assert config.tcp_keepalive is True
    assert built.client.meta.region_name == "eu-west-1"
    built.close()


@pytest.mark.parametrize(
    ("reply", "category", "code"),
    [
        (
            canned(500, {"__type": "InternalServerError"}, "InternalServerError"),
            TransientError,
            ErrorCode.INTERNAL_ERROR,
        ),
        (canned(500), TransientError, ErrorCode.INTERNAL_ERROR),
        (canned(503), TransientError, ErrorCode.SERVICE_UNAVAILABLE),
        (
            canned(400, {"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException"}),
            ThrottledError,
            ErrorCode.THROTTLED,
        ),
        (
            canned(
                400,
                {
                    "__type": "com.amazonaws.dynamodb.v20120810#"
                    "ProvisionedThroughputExceededException"
                },
            ),
            ThrottledError,
            ErrorCode.THROTTLED,
        ),
    ],
)
def test_retryable_failures_are_attempted_exactly_once(
    provider: Boto3Provider,
    reply: Canned,
    category: type[DynamoDBServiceError],
    code: ErrorCode,
) -> None:
    endpoint = Endpoint(provider, reply)
    with pytest.raises(category) as caught:
        provider.call("GetItem", GET)
    assert caught.value.code is code
    assert len(endpoint.attempts) == 1


@pytest.mark.parametrize("validate", [False, True])
def test_parameter_validation_is_off_unless_asked_for(validate: bool) -> None:
    built = Boto3Provider.from_endpoint(
        "http://127.0.0.1:9",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        parameter_validation=validate,
    )
    endpoint = Endpoint(built, canned(200, {}))
    request = {**GET, "ConsistentRead": "not a boolean"}
    if validate:
        with pytest.raises(DynamoDBServiceError) as caught:
            built.call("GetItem", request)
        assert caught.value.code is ErrorCode.SERVICE_VALIDATION_FAILED
        assert endpoint.attempts == []
    else:
        built.call("GetItem", request)
        assert len(endpoint.attempts) == 1
    built.close()


def test_call_returns_the_parsed_response_without_metadata(provider: Boto3Provider) -> None:
    endpoint = Endpoint(provider, canned(200, ITEM))
    assert provider.call("GetItem", GET) == ITEM
    (sent,) = endpoint.attempts
    assert sent.headers["X-Amz-Target"] == b"DynamoDB_20120810.GetItem"
    assert json.loads(sent.body or b"") == GET


def test_call_never_modifies_the_callers_request(provider: Boto3Provider) -> None:
    Endpoint(provider, canned(200, {}))
    request: dict[str, Any] = {
        "TransactItems": [
            {"ConditionCheck": {**GET, "ConditionExpression": "attribute_exists(PK)"}}
        ]
    }
    provider.call("TransactWriteItems", request)
    assert "ClientRequestToken" not in request


def test_connection_failures_are_translated(provider: Boto3Provider) -> None:
    def refuse(request: AWSPreparedRequest) -> tuple[int, dict[str, str], bytes]:
        raise boto_errors.EndpointConnectionError(endpoint_url=request.url)

    endpoint = Endpoint(provider, refuse)
    with pytest.raises(TransientError) as caught:
        provider.call("GetItem", GET)
    assert caught.value.code is ErrorCode.CONNECTION_ERROR
    assert isinstance(caught.value.__cause__, boto_errors.EndpointConnectionError)
    assert len(endpoint.attempts) == 1


def test_unknown_operations_are_refused(provider: Boto3Provider) -> None:
    with pytest.raises(DynamoDBServiceError) as caught:
        provider.call("DropEverything", {})
    assert caught.value.code is ErrorCode.PROVIDER_ERROR


def test_close_is_idempotent_and_refuses_later_calls(provider: Boto3Provider) -> None:
    provider.close()
    provider.close()
    assert provider.closed
    with pytest.raises(InvalidInputError) as caught:
        provider.call("GetItem", GET)
    assert caught.value.code is ErrorCode.INVALID_STATE


def test_wrapping_a_user_client_can_leave_it_open(provider: Boto3Provider) -> None:
    wrapper = Boto3Provider.from_client(provider.client, close_client=False)
    Endpoint(provider, canned(200, ITEM))
    wrapper.close()
    assert provider.call("GetItem", GET) == ITEM


def test_a_client_of_another_service_is_refused() -> None:
    import botocore.session

    s3 = botocore.session.get_session().create_client(
        "s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    with pytest.raises(InvalidInputError) as caught:
        Boto3Provider(s3)
    assert caught.value.code is ErrorCode.INVALID_CONFIGURATION


def test_missing_region_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    with pytest.raises(InvalidInputError) as caught:
        Boto3Provider.from_endpoint(
            "http://127.0.0.1:9", aws_access_key_id="x", aws_secret_access_key="y"
        ).call("ListTables", {})
    assert caught.value.code is ErrorCode.INVALID_CONFIGURATION
