"""The fast JSON path's pure pieces, and the fast and botocore paths compared request by request.

Every comparison runs the same call through ``Boto3Provider(fast_path=True)`` and
``Boto3Provider(fast_path=False)`` over clients whose ``before-send`` hook answers with a
canned response, so what is compared is exactly what each path sends and what it makes
of the answer.
"""

from __future__ import annotations

import base64
import io
import json
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import botocore.session
import pytest
from botocore import UNSIGNED
from botocore import exceptions as boto_errors
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.parsers import create_parser
from botocore.serialize import create_serializer
from hypothesis import given, settings
from hypothesis import strategies as st

from tctf_dynamo.errors import (
    CancellationReason,
    DynamoDBServiceError,
    ErrorCode,
    TransactionCancelledError,
)
from tctf_dynamo.providers import Boto3Provider, EmbeddedProvider, client_config
from tctf_dynamo.providers.wire import (
    DATA_OPERATIONS,
    decode_response,
    encode_request,
    error_response,
    verify_crc32,
)
from tests.wire_items import wire_items

SESSION = botocore.session.get_session()
SERVICE = SESSION.get_service_model("dynamodb")
TABLE = "things"
KEY = {"PK": {"S": "THING#1"}, "SK": {"S": "META"}}
GET = {"TableName": TABLE, "Key": KEY}
ALL_BYTES = bytes(range(256))
PREFIX = "com.amazonaws.dynamodb.v20120810#"


# -- canned answers ---------------------------------------------------------------------------


class _Body(io.BytesIO):
    def stream(self, **_: Any) -> Iterator[bytes]:
        data = self.read()
        if data:
            yield data


Reply = Callable[[AWSPreparedRequest], tuple[int, dict[str, str], bytes]]


def answer(status: int, body: bytes | dict[str, Any] | None, **headers: str) -> Reply:
    payload = json.dumps(body).encode() if isinstance(body, dict) else (body or b"")
    return lambda request: (status, dict(headers), payload)


class Wire:
    """Answers one client's requests with ``reply`` and keeps every request it saw."""

    def __init__(self, provider: Boto3Provider, reply: Reply) -> None:
        self.sent: list[AWSPreparedRequest] = []
        self.reply = reply
        provider.client.meta.events.register(
            "before-send.dynamodb",
            self._send,  # type: ignore[arg-type]  # stubs say handlers return None
        )

    def _send(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        self.sent.append(request)
        status, headers, body = self.reply(request)
        return AWSResponse(request.url, status, headers, _Body(body))  # type: ignore[arg-type]


def build(fast: bool, **config: Any) -> Boto3Provider:
    client = SESSION.create_client(
        "dynamodb",
        region_name="eu-west-1",
        endpoint_url=config.pop("endpoint_url", "http://127.0.0.1:9"),
        aws_access_key_id="AKID",
        aws_secret_access_key="secret",
        aws_session_token=config.pop("token", None),
        config=client_config(**config),
    )
    return Boto3Provider(client, fast_path=fast)


@pytest.fixture(params=[True, False], ids=["fast", "botocore"])
def fast(request: pytest.FixtureRequest) -> bool:
    flag: bool = request.param
    return flag


def both(reply: Reply, **config: Any) -> tuple[tuple[Boto3Provider, Wire], ...]:
    pairs = []
    for flag in (True, False):
        provider = build(flag, **config)
        pairs.append((provider, Wire(provider, reply)))
    return tuple(pairs)


def outcome(provider: Boto3Provider, operation: str, request: dict[str, Any]) -> Any:
    """The response, or the library error's identity and the botocore response behind it."""
    try:
        return provider.call(operation, request)
    except DynamoDBServiceError as error:
        cause = error.__cause__
        raw = dict(getattr(cause, "response", {}) or {})
        metadata = dict(raw.pop("ResponseMetadata", {}))
        metadata.pop("MaxAttemptsReached", None)
        reasons = [
            {name: getattr(reason, name) for name in CancellationReason.__slots__}
            for reason in getattr(error, "reasons", [])
        ]
        return {
            "type": type(error).__name__,
            "code": error.code,
            "details": error.details,
            "retryable": error.retryable,
            "reasons": reasons,
            "cause": type(cause).__name__,
            "raw": raw,
            "metadata": metadata,
        }


def body_of(request: AWSPreparedRequest) -> bytes:
    body = request.body
    assert isinstance(body, bytes)
    return body


def header(request: AWSPreparedRequest, name: str) -> bytes:
    """A header as botocore sends it: UTF-8 bytes."""
    value: Any = request.headers[name]
    assert isinstance(value, bytes)
    return value


def same_outcome(operation: str, request: dict[str, Any], reply: Reply) -> Any:
    (fast, _), (slow, _) = both(reply)
    fast_result, slow_result = outcome(fast, operation, request), outcome(slow, operation, request)
    assert fast_result == slow_result
    return fast_result


# -- encoding ---------------------------------------------------------------------------------


def test_binary_values_are_sent_as_base64_text() -> None:
    request = {
        "Item": {
            "b": {"B": b"\x00\xff"},
            "ba": {"B": bytearray(b"ab")},
            "mv": {"B": memoryview(b"xyz")},
            "bs": {"BS": [b"\x01", bytearray(b"\x02")]},
        }
    }
    sent = json.loads(encode_request(request))
    assert sent["Item"] == {
        "b": {"B": "AP8="},
        "ba": {"B": "YWI="},
        "mv": {"B": "eHl6"},
        "bs": {"BS": ["AQ==", "Ag=="]},
    }


def test_the_body_is_compact_ascii_json() -> None:
    body = encode_request({"TableName": TABLE, "Item": {"s": {"S": "ü€"}}})
    assert b" " not in body
    assert body.isascii()
    assert json.loads(body)["Item"]["s"]["S"] == "ü€"


def test_sets_are_sent_as_lists_and_unknown_types_are_refused() -> None:
    assert json.loads(encode_request({"SS": frozenset({"a"})})) == {"SS": ["a"]}
    with pytest.raises(TypeError, match="object cannot be sent"):
        encode_request({"N": object()})


# -- decoding ---------------------------------------------------------------------------------


def test_binary_values_come_back_as_bytes_at_any_depth() -> None:
    encoded = base64.b64encode(ALL_BYTES).decode()
    body = json.dumps(
        {
            "Item": {
                "b": {"B": encoded},
                "bs": {"BS": [encoded, "AA=="]},
                "l": {"L": [{"B": "AA=="}, {"M": {"x": {"BS": ["AQ=="]}}}]},
                "B": {"S": "an attribute named B"},
                "BS": {"M": {"B": {"S": "x"}}},
            }
        }
    ).encode()
    item = decode_response(body)["Item"]
    assert item["b"] == {"B": ALL_BYTES}
    assert item["bs"] == {"BS": [ALL_BYTES, b"\x00"]}
    assert item["l"] == {"L": [{"B": b"\x00"}, {"M": {"x": {"BS": [b"\x01"]}}}]}
    assert item["B"] == {"S": "an attribute named B"}
    assert item["BS"] == {"M": {"B": {"S": "x"}}}


def test_tables_named_like_binary_tags_are_left_alone() -> None:
    body = json.dumps(
        {
            "Responses": {"B": [{"k": {"S": "v"}}], "BS": []},
            "UnprocessedKeys": {"B": {"Keys": [{"k": {"B": "AQ=="}}]}},
        }
    ).encode()
    decoded = decode_response(body)
    assert decoded["Responses"] == {"B": [{"k": {"S": "v"}}], "BS": []}
    assert decoded["UnprocessedKeys"] == {"B": {"Keys": [{"k": {"B": b"\x01"}}]}}


def test_binary_keys_spelled_with_escapes_are_still_decoded() -> None:
    assert decode_response(b'{"Item":{"b":{"\\u0042":"AQ=="}}}') == {"Item": {"b": {"B": b"\x01"}}}


def test_an_empty_body_is_an_empty_response() -> None:
    assert decode_response(b"") == {}


def test_the_crc32_header_is_checked_when_present() -> None:
    body = b'{"Item":{}}'
    verify_crc32({"x-amz-crc32": str(zlib.crc32(body))}, body)
    verify_crc32({}, body)
    with pytest.raises(boto_errors.ChecksumError):
        verify_crc32({"x-amz-crc32": str(zlib.crc32(body) ^ 1)}, body)


# -- the same as botocore's serializer and parser, for any item --------------------------------

ITEMS = wire_items()


@settings(max_examples=150, deadline=None)
@given(item=ITEMS)
def test_the_body_means_what_botocores_serializer_writes(item: dict[str, Any]) -> None:
    request = {"TableName": TABLE, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}
    serializer = create_serializer("json", include_validation=False)
    theirs = serializer.serialize_to_request(request, SERVICE.operation_model("PutItem"))
    assert json.loads(encode_request(request)) == json.loads(theirs["body"])


@settings(max_examples=150, deadline=None)
@given(item=ITEMS, table=st.sampled_from(["B", "BS", TABLE]))
def test_responses_read_as_botocores_parser_reads_them(item: dict[str, Any], table: str) -> None:
    for operation, response in (
        ("GetItem", {"Item": item}),
        ("BatchGetItem", {"Responses": {table: [item]}, "UnprocessedKeys": {}}),
        ("Query", {"Items": [item, item], "Count": 2, "ScannedCount": 2}),
    ):
        body = encode_request(response)
        shape: Any = SERVICE.operation_model(operation).output_shape
        parsed = create_parser("json").parse(
            {"status_code": 200, "headers": {}, "body": body}, shape
        )
        parsed.pop("ResponseMetadata")
        assert decode_response(body) == parsed


# -- error answers ----------------------------------------------------------------------------


def test_error_shape_matches_botocores_for_a_cancelled_transaction() -> None:
    body = {
        "__type": f"{PREFIX}TransactionCanceledException",
        "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, ConditionalCheckFailed]",
        "CancellationReasons": [
            {"Code": "None"},
            {"Code": "ConditionalCheckFailed", "Item": {"b": {"B": "AQ=="}}, "Message": "x"},
        ],
    }
    parsed = error_response(400, {"x-amzn-RequestId": "R1"}, json.dumps(body).encode(), SERVICE)
    assert parsed["Error"] == {"Code": "TransactionCanceledException", "Message": body["Message"]}
    assert parsed["CancellationReasons"][1]["Item"] == {"b": {"B": b"\x01"}}
    assert parsed["ResponseMetadata"]["RequestId"] == "R1"
    assert parsed["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_response_metadata_is_the_same_from_botocores_headers_or_a_plain_mapping() -> None:
    """botocore's case-insensitive headers are read through a shortcut; any mapping works."""
    received = {"x-amzn-RequestId": "R1", "Content-Type": "application/x-amz-json-1.0"}
    body = json.dumps({"__type": f"{PREFIX}ResourceNotFoundException"}).encode()
    headers = AWSResponse("u", 400, received, None).headers
    from_botocore = error_response(400, headers, body, SERVICE)
    from_mapping = error_response(400, received, body, SERVICE)
    assert (
        from_botocore["ResponseMetadata"]
        == from_mapping["ResponseMetadata"]
        == {
            "RequestId": "R1",
            "HTTPStatusCode": 400,
            "HTTPHeaders": {"x-amzn-requestid": "R1", "content-type": "application/x-amz-json-1.0"},
            "RetryAttempts": 0,
        }
    )


ERROR_ANSWERS = {
    "condition failed with item": answer(
        400,
        {
            "__type": f"{PREFIX}ConditionalCheckFailedException",
            "message": "The conditional request failed",
            "Item": {"PK": {"S": "THING#1"}, "b": {"B": "AAE="}, "bs": {"BS": ["AQ=="]}},
        },
        **{"x-amzn-RequestId": "REQ"},
    ),
    "cancelled with reasons": answer(
        400,
        {
            "__type": f"{PREFIX}TransactionCanceledException",
            "Message": "Transaction cancelled [None, ConditionalCheckFailed]",
            "CancellationReasons": [
                {"Code": "None"},
                {"Code": "ConditionalCheckFailed", "Message": "no", "Item": {"b": {"B": "AQ=="}}},
            ],
        },
    ),
    "cancelled, reasons in message": answer(
        400,
        {
            "__type": "TransactionCanceledException",
            "message": "cancelled [TransactionConflict, None]",
        },
    ),
    "missing table": answer(
        400,
        {"__type": f"{PREFIX}ResourceNotFoundException", "message": "Requested resource not found"},
    ),
    "validation": answer(
        400, {"__type": "com.amazon.coral.validate#ValidationException", "message": "bad"}
    ),
    "throttled": answer(
        400, {"__type": f"{PREFIX}ProvisionedThroughputExceededException", "message": "slow"}
    ),
    "access denied with colon": answer(
        403, {"__type": "UnrecognizedClientException:http://x", "Message": "who"}
    ),
    "unknown code": answer(400, {"__type": f"{PREFIX}SomethingNew", "message": "new"}),
    "no type": answer(400, {"message": "no type"}),
    "html 502": answer(502, b"<html><body>Bad gateway</body></html>"),
    "empty 500": answer(500, None),
    "empty 503": answer(503, None),
    "json 500": answer(500, {"__type": f"{PREFIX}InternalServerError", "message": "oops"}),
    "text 400": answer(400, b"not json at all"),
    "empty 400": answer(400, None),
}  # fmt: skip


@pytest.mark.parametrize("reply", ERROR_ANSWERS.values(), ids=ERROR_ANSWERS.keys())
def test_error_answers_become_the_same_library_errors(reply: Reply) -> None:
    result = same_outcome("TransactWriteItems", {"TransactItems": []}, reply)
    assert isinstance(result, dict)
    assert set(result) >= {"type", "code", "details"}


def test_a_condition_failure_carries_the_decoded_item() -> None:
    result = same_outcome(
        "PutItem", {"TableName": TABLE, "Item": KEY}, ERROR_ANSWERS["condition failed with item"]
    )
    assert result["code"] is ErrorCode.CONDITION_FAILED
    assert result["details"]["item"]["b"] == {"B": b"\x00\x01"}
    assert result["metadata"]["RequestId"] == "REQ"


def test_cancellation_reasons_keep_their_order_and_items() -> None:
    (fast, _), _ = both(ERROR_ANSWERS["cancelled with reasons"])
    with pytest.raises(TransactionCancelledError) as caught:
        fast.call("TransactWriteItems", {"TransactItems": []})
    first, second = caught.value.reasons
    assert (first.code, second.code) == (None, ErrorCode.CONDITION_FAILED)
    assert second.item == {"b": {"B": b"\x01"}}


def test_the_botocore_error_class_is_the_modeled_one() -> None:
    (fast, _), _ = both(ERROR_ANSWERS["missing table"])
    with pytest.raises(DynamoDBServiceError) as caught:
        fast.call("GetItem", GET)
    assert caught.value.code is ErrorCode.TABLE_NOT_FOUND
    assert type(caught.value.__cause__).__name__ == "ResourceNotFoundException"
    assert isinstance(caught.value.__cause__, boto_errors.ClientError)


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        (boto_errors.EndpointConnectionError(endpoint_url="http://x"), ErrorCode.CONNECTION_ERROR),
        (boto_errors.ReadTimeoutError(endpoint_url="http://x"), ErrorCode.TIMEOUT),
        (boto_errors.ConnectTimeoutError(endpoint_url="http://x"), ErrorCode.TIMEOUT),
        (boto_errors.ConnectionClosedError(endpoint_url="http://x"), ErrorCode.CONNECTION_ERROR),
    ],
)
def test_transport_failures_are_translated_alike(failure: Exception, code: ErrorCode) -> None:
    def fail(request: AWSPreparedRequest) -> tuple[int, dict[str, str], bytes]:
        raise failure

    result = same_outcome("GetItem", GET, fail)
    assert result["code"] is code
    assert result["cause"] == type(failure).__name__


def test_a_corrupted_answer_is_a_retryable_connection_error() -> None:
    body = b'{"Item":{}}'
    provider = build(True)
    Wire(provider, answer(200, body, **{"x-amz-crc32": str(zlib.crc32(body) ^ 1)}))
    with pytest.raises(DynamoDBServiceError) as caught:
        provider.call("GetItem", GET)
    assert caught.value.code is ErrorCode.CONNECTION_ERROR
    assert caught.value.retryable


def test_an_intact_answer_passes_the_crc32_check() -> None:
    body = b'{"Item":{"b":{"B":"AQ=="}}}'
    provider = build(True)
    Wire(provider, answer(200, body, **{"x-amz-crc32": str(zlib.crc32(body))}))
    assert provider.call("GetItem", GET) == {"Item": {"b": {"B": b"\x01"}}}


@pytest.mark.parametrize("body", [b"[1, 2]", b"<html>ok</html>"])
def test_a_success_status_without_a_json_object_is_a_provider_error(body: bytes) -> None:
    provider = build(True)
    Wire(provider, answer(200, body))
    with pytest.raises(DynamoDBServiceError) as caught:
        provider.call("GetItem", GET)
    assert caught.value.code is ErrorCode.PROVIDER_ERROR


# -- what is sent -----------------------------------------------------------------------------

SUCCESS = answer(200, {"Item": {"b": {"B": "AQ=="}}, "ConsumedCapacity": {"TableName": TABLE}})


def test_successful_answers_are_the_same_on_both_paths() -> None:
    result = same_outcome("GetItem", GET, SUCCESS)
    assert result == {"Item": {"b": {"B": b"\x01"}}, "ConsumedCapacity": {"TableName": TABLE}}


BINARY_KEY = {**KEY, "b": {"B": ALL_BYTES}}
ITEM = {
    **BINARY_KEY,
    "bs": {"BS": [b"\x00", ALL_BYTES]},
    "l": {"L": [{"B": b"\x01"}, {"NULL": True}]},
}
STATEMENT = {"Statement": "SELECT * FROM things WHERE b = ?", "Parameters": [{"B": ALL_BYTES}]}
WRITE = {
    "TableName": TABLE,
    "Item": ITEM,
    "ConditionExpression": "attribute_not_exists(#k)",
    "ExpressionAttributeNames": {"#k": "PK"},
    "ReturnValues": "ALL_OLD",
}
REQUESTS: dict[str, dict[str, Any]] = {
    "GetItem": {"TableName": TABLE, "Key": BINARY_KEY, "ConsistentRead": True},
    "PutItem": WRITE,
    "UpdateItem": {"TableName": TABLE, "Key": KEY, "UpdateExpression": "SET b = :b",
                   "ExpressionAttributeValues": {":b": {"B": ALL_BYTES}}},
    "DeleteItem": {"TableName": TABLE, "Key": BINARY_KEY},
    "Query": {"TableName": TABLE, "KeyConditionExpression": "PK = :p", "Limit": 10,
              "ExpressionAttributeValues": {":p": {"S": "x"}}, "ExclusiveStartKey": BINARY_KEY},
    "Scan": {"TableName": TABLE, "Segment": 0, "TotalSegments": 2, "ExclusiveStartKey": BINARY_KEY},
    "BatchGetItem": {"RequestItems": {TABLE: {"Keys": [BINARY_KEY, KEY]}}},
    "BatchWriteItem": {"RequestItems": {TABLE: [{"PutRequest": {"Item": ITEM}},
                                                {"DeleteRequest": {"Key": KEY}}]}},
    "TransactGetItems": {"TransactItems": [{"Get": {"TableName": TABLE, "Key": BINARY_KEY}}]},
    "TransactWriteItems": {"ClientRequestToken": "token-1", "TransactItems": [
        {"Put": {"TableName": TABLE, "Item": ITEM}},
        {"ConditionCheck": {"TableName": TABLE, "Key": KEY, "ConditionExpression": "b = :b",
                            "ExpressionAttributeValues": {":b": {"B": b"\x02"}}}}]},
    "ExecuteStatement": STATEMENT,
    "BatchExecuteStatement": {"Statements": [STATEMENT]},
    "ExecuteTransaction": {"TransactStatements": [STATEMENT], "ClientRequestToken": "token-1"},
}  # fmt: skip


def test_every_fast_operation_has_a_request_here() -> None:
    assert set(REQUESTS) == DATA_OPERATIONS


@pytest.mark.parametrize("operation", sorted(DATA_OPERATIONS))
def test_each_operation_is_sent_as_botocore_sends_it(operation: str) -> None:
    (fast, fast_wire), (slow, slow_wire) = both(answer(200, {}), token="session-token")
    request = REQUESTS[operation]
    fast.call(operation, request)
    slow.call(operation, request)
    (mine,), (theirs,) = fast_wire.sent, slow_wire.sent
    assert (mine.method, mine.url) == (theirs.method, theirs.url) == ("POST", "http://127.0.0.1:9/")
    assert json.loads(body_of(mine)) == json.loads(body_of(theirs))
    assert mine.headers["X-Amz-Target"] == f"DynamoDB_20120810.{operation}".encode()
    for name in ("X-Amz-Target", "Content-Type", "X-Amz-Security-Token"):
        assert mine.headers[name] == theirs.headers[name], name
    assert _agent(mine) == _agent(theirs)
    assert int(mine.headers["Content-Length"]) == len(body_of(mine))
    assert _without_signature(mine) == _without_signature(theirs)


def _agent(request: AWSPreparedRequest) -> list[bytes]:
    """The User-Agent without the per-request list of botocore features used (``m/...``)."""
    return [part for part in header(request, "User-Agent").split() if not part.startswith(b"m/")]


def _without_signature(request: AWSPreparedRequest) -> str:
    return header(request, "Authorization").decode().rpartition(", Signature=")[0]


def test_requests_are_signed_for_the_clients_region_and_credentials() -> None:
    provider = build(True)
    wire = Wire(provider, SUCCESS)
    provider.call("GetItem", GET)
    (sent,) = wire.sent
    authorization = header(sent, "Authorization").decode()
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKID/")
    assert "/eu-west-1/dynamodb/aws4_request" in authorization
    assert "SignedHeaders=content-type;host;x-amz-date;x-amz-target" in authorization
    assert sent.headers["X-Amz-Date"]


def test_an_unsigned_client_sends_no_signature() -> None:
    provider = build(True, signature_version=UNSIGNED)
    wire = Wire(provider, SUCCESS)
    provider.call("GetItem", GET)
    (sent,) = wire.sent
    assert "Authorization" not in sent.headers


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:9/prefix", "https://example.com:8443/a/"])
def test_the_url_is_the_one_botocore_builds_from_the_endpoint(endpoint: str) -> None:
    (fast, fast_wire), (slow, slow_wire) = both(SUCCESS, endpoint_url=endpoint)
    fast.call("GetItem", GET)
    slow.call("GetItem", GET)
    assert fast_wire.sent[0].url == slow_wire.sent[0].url
    assert fast_wire.sent[0].url.startswith(endpoint.rstrip("/"))


def test_aws_itself_is_reached_at_the_regional_endpoint() -> None:
    client = SESSION.create_client(
        "dynamodb",
        region_name="eu-west-1",
        aws_access_key_id="AKID",
        aws_secret_access_key="secret",
        config=client_config(),
    )
    provider = Boto3Provider(client)
    wire = Wire(provider, SUCCESS)
    provider.call("GetItem", GET)
    assert wire.sent[0].url == "https://dynamodb.eu-west-1.amazonaws.com/"


def test_a_missing_idempotency_token_is_filled_in_on_a_copy() -> None:
    provider = build(True)
    wire = Wire(provider, answer(200, {}))
    request: dict[str, Any] = {"TransactItems": []}
    provider.call("TransactWriteItems", request)
    provider.call("TransactWriteItems", {"TransactItems": [], "ClientRequestToken": "mine"})
    first, second = (json.loads(body_of(sent)) for sent in wire.sent)
    assert request == {"TransactItems": []}
    assert len(first["ClientRequestToken"]) == 36
    assert second["ClientRequestToken"] == "mine"


@pytest.mark.parametrize("validate", [True, False])
def test_botocore_validation_runs_only_when_the_client_asks_for_it(validate: bool) -> None:
    provider = build(True, parameter_validation=validate)
    wire = Wire(provider, answer(200, {}))
    request = {**GET, "ConsistentRead": "not a boolean"}
    if validate:
        with pytest.raises(DynamoDBServiceError) as caught:
            provider.call("GetItem", request)
        assert caught.value.code is ErrorCode.SERVICE_VALIDATION_FAILED
        assert wire.sent == []
    else:
        provider.call("GetItem", request)
        assert len(wire.sent) == 1


def test_table_management_stays_on_botocores_path(fast: bool) -> None:
    provider = build(fast)
    Wire(provider, answer(200, {"Table": {"TableName": TABLE, "CreationDateTime": 1700000000.5}}))
    described = provider.call("DescribeTable", {"TableName": TABLE})
    assert described["Table"]["CreationDateTime"].year == 2023


def test_fast_path_is_the_default_and_can_be_turned_off() -> None:
    assert build(True).fast_path
    assert not build(False).fast_path
    endpoint = Boto3Provider.from_endpoint(
        "http://127.0.0.1:9", region_name="us-east-1",
        aws_access_key_id="a", aws_secret_access_key="b", fast_path=False,
    )  # fmt: skip
    assert not endpoint.fast_path
    assert not Boto3Provider.from_client(endpoint.client, fast_path=False).fast_path
    assert Boto3Provider.from_client(endpoint.client, close_client=False).fast_path


def test_the_embedded_provider_answers_the_fast_path() -> None:
    with EmbeddedProvider() as embedded:
        assert embedded._provider.fast_path
        embedded.call(
            "CreateTable",
            {
                "TableName": TABLE,
                "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "B"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
        )
        item = {"PK": {"B": ALL_BYTES}, "bs": {"BS": [b"\x00", b"\x01"]}}
        embedded.call("PutItem", {"TableName": TABLE, "Item": item})
        got = embedded.call("GetItem", {"TableName": TABLE, "Key": {"PK": {"B": ALL_BYTES}}})
        assert got["Item"]["PK"] == {"B": ALL_BYTES}
        assert sorted(got["Item"]["bs"]["BS"]) == [b"\x00", b"\x01"]


@pytest.mark.parametrize(
    "options",
    [{}, {"use_fips_endpoint": True}, {"use_dualstack_endpoint": True}],
    ids=["default", "fips", "dualstack"],
)
def test_fast_path_resolves_endpoints_as_botocore_does(monkeypatch, options) -> None:
    """Account-ID endpoints, FIPS and dual-stack: the URL botocore would use, per request."""
    import botocore.session
    from botocore.awsrequest import AWSResponse

    from tctf_dynamo.providers.boto3 import Boto3Provider, client_config

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_ACCOUNT_ID", "123456789012")

    class _Body:
        def stream(self, **_: object):
            yield b"{}"

    seen: list[str] = []

    def answer(request, **_: object) -> AWSResponse:
        seen.append(request.url)
        return AWSResponse(request.url, 200, {}, _Body())

    client = botocore.session.Session().create_client(
        "dynamodb", region_name="us-east-1", config=client_config(**options)
    )
    client.meta.events.register("before-send.dynamodb.*", answer)
    for fast in (False, True, True):
        provider = Boto3Provider(client, fast_path=fast, close_client=False)
        provider.call("GetItem", {"TableName": "t", "Key": {"PK": {"S": "a"}}})
    assert seen[0] == seen[1] == seen[2]
    if not options.get("use_fips_endpoint"):
        assert "123456789012" in seen[0]
