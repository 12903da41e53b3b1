"""FaultInjectingProvider does what it says: the right errors, partial batches, counts."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest

from tctf_dynamo.errors import (
    DynamoDBServiceError,
    ErrorCode,
    InvalidInputError,
    OperationTimeoutError,
    ThrottledError,
    TransientError,
)
from tctf_dynamo.resilience.classification import classify
from tctf_dynamo.testing.faults import FaultInjectingProvider, FaultRates
from tests.unit.resilience_fakes import DictTableProvider, HandlerProvider


def put(pk: str) -> dict[str, Any]:
    return {"TableName": "t", "Item": {"PK": {"S": pk}, "n": {"N": "1"}}}


def ok_provider() -> HandlerProvider:
    return HandlerProvider(lambda operation, request: {"ok": operation})


@pytest.mark.parametrize(
    ("rates", "error_type", "code", "forwarded"),
    [
        (FaultRates(throttle=1.0), ThrottledError, ErrorCode.THROTTLED, False),
        (FaultRates(connection_error=1.0), TransientError, ErrorCode.CONNECTION_ERROR, False),
        (FaultRates(timeout_before=1.0), OperationTimeoutError, ErrorCode.TIMEOUT, False),
        (FaultRates(timeout_after=1.0), OperationTimeoutError, ErrorCode.TIMEOUT, True),
    ],
    ids=["throttle", "connection", "timeout_before", "timeout_after"],
)
def test_each_fault_raises_like_a_provider(
    rates: FaultRates, error_type: type[Exception], code: ErrorCode, forwarded: bool
) -> None:
    inner = DictTableProvider()
    provider = FaultInjectingProvider(inner, seed=1, rates=rates)
    with pytest.raises(error_type) as raised:
        provider.call("PutItem", put("a"))
    error = raised.value
    assert isinstance(error, DynamoDBServiceError)
    assert error.code is code
    assert error.details["operation"] == "PutItem"
    assert classify(error).retryable
    assert (("t" in inner.tables) and bool(inner.tables["t"])) is forwarded


def test_throttle_carries_the_aws_code_and_status() -> None:
    provider = FaultInjectingProvider(ok_provider(), seed=1, rates=FaultRates(throttle=1.0))
    with pytest.raises(ThrottledError) as raised:
        provider.call("GetItem", {})
    assert raised.value.details["aws_code"] == "ProvisionedThroughputExceededException"
    assert raised.value.details["http_status"] == 400


def test_server_errors_are_internal_errors_or_unavailable() -> None:
    provider = FaultInjectingProvider(ok_provider(), seed=3, rates=FaultRates(server_error=1.0))
    codes: Counter[ErrorCode] = Counter()
    for _ in range(50):
        with pytest.raises(TransientError) as raised:
            provider.call("GetItem", {})
        codes[raised.value.code] += 1
    assert set(codes) == {ErrorCode.INTERNAL_ERROR, ErrorCode.SERVICE_UNAVAILABLE}
    assert provider.injected == Counter({"server_error": 50})


def test_rates_by_operation_with_a_default() -> None:
    inner = ok_provider()
    rates = {"PutItem": FaultRates(throttle=1.0), "*": FaultRates(connection_error=1.0)}
    provider = FaultInjectingProvider(inner, seed=1, rates=rates)
    with pytest.raises(ThrottledError):
        provider.call("PutItem", put("a"))
    with pytest.raises(TransientError) as raised:
        provider.call("GetItem", {})
    assert raised.value.code is ErrorCode.CONNECTION_ERROR
    only_put = FaultInjectingProvider(inner, seed=1, rates={"PutItem": FaultRates(throttle=1.0)})
    assert only_put.call("GetItem", {}) == {"ok": "GetItem"}


def test_no_rates_means_no_faults() -> None:
    inner = ok_provider()
    provider = FaultInjectingProvider(inner, seed=1, rates=FaultRates())
    for _ in range(20):
        assert provider.call("PutItem", put("a")) == {"ok": "PutItem"}
    assert provider.injected == Counter()
    assert len(inner.calls) == 20


def test_unprocessed_is_ignored_outside_batches() -> None:
    inner = ok_provider()
    provider = FaultInjectingProvider(inner, seed=1, rates=FaultRates(unprocessed=1.0))
    assert provider.call("PutItem", put("a")) == {"ok": "PutItem"}
    assert provider.injected == Counter()


def write_request(count: int) -> dict[str, Any]:
    return {
        "RequestItems": {
            "a": [{"PutRequest": {"Item": {"PK": {"S": f"a{i}"}}}} for i in range(count)],
            "b": [{"DeleteRequest": {"Key": {"PK": {"S": f"b{i}"}}}} for i in range(count)],
        },
        "ReturnConsumedCapacity": "TOTAL",
    }


@pytest.mark.parametrize("seed", range(20))
def test_partial_batch_write_returns_exactly_what_it_did_not_apply(seed: int) -> None:
    inner = HandlerProvider(lambda operation, request: {"UnprocessedItems": {}})
    provider = FaultInjectingProvider(inner, seed=seed, rates=FaultRates(unprocessed=1.0))
    request = write_request(6)
    response = provider.call("BatchWriteItem", request)
    unprocessed = response["UnprocessedItems"]
    held = [(t, w) for t, writes in unprocessed.items() for w in writes]
    assert held, "at least one request is held back"
    assert all(writes for writes in unprocessed.values()), "no empty table lists"
    sent = [
        (t, w)
        for _, req in inner.calls
        for t, writes in req["RequestItems"].items()
        for w in writes
    ]
    original = [(t, w) for t, writes in request["RequestItems"].items() for w in writes]
    assert sorted(map(repr, sent + held)) == sorted(map(repr, original))
    for _, req in inner.calls:
        assert req["ReturnConsumedCapacity"] == "TOTAL"
        assert all(req["RequestItems"].values())


def test_partial_batch_write_keeps_the_inner_providers_unprocessed_items() -> None:
    leftover = {"a": [{"PutRequest": {"Item": {"PK": {"S": "inner"}}}}]}
    inner = HandlerProvider(lambda operation, request: {"UnprocessedItems": leftover})
    provider = FaultInjectingProvider(inner, seed=5, rates=FaultRates(unprocessed=1.0))
    for _ in range(10):
        response = provider.call("BatchWriteItem", write_request(6))
        if inner.calls:
            break
    assert {"PutRequest": {"Item": {"PK": {"S": "inner"}}}} in response["UnprocessedItems"]["a"]


@pytest.mark.parametrize("seed", range(10))
def test_partial_batch_get_returns_unprocessed_keys_with_their_settings(seed: int) -> None:
    inner = DictTableProvider()
    for i in range(8):
        inner.call("PutItem", {"TableName": "t", "Item": {"PK": {"S": f"k{i}"}}})
    provider = FaultInjectingProvider(inner, seed=seed, rates=FaultRates(unprocessed=1.0))
    spec = {
        "Keys": [{"PK": {"S": f"k{i}"}} for i in range(8)],
        "ConsistentRead": True,
        "ProjectionExpression": "#p",
        "ExpressionAttributeNames": {"#p": "PK"},
    }
    response = provider.call("BatchGetItem", {"RequestItems": {"t": spec}})
    unprocessed = response["UnprocessedKeys"]["t"]
    assert unprocessed["ConsistentRead"] is True
    assert unprocessed["ProjectionExpression"] == "#p"
    assert unprocessed["ExpressionAttributeNames"] == {"#p": "PK"}
    returned = [item["PK"]["S"] for item in response["Responses"]["t"]]
    held = [key["PK"]["S"] for key in unprocessed["Keys"]]
    assert held
    assert sorted(returned + held) == [f"k{i}" for i in range(8)]


def test_same_seed_same_faults() -> None:
    rates = FaultRates(throttle=0.3, connection_error=0.2)

    def outcomes(seed: int) -> list[str]:
        provider = FaultInjectingProvider(ok_provider(), seed=seed, rates=rates)
        seen = []
        for _ in range(50):
            try:
                provider.call("GetItem", {})
                seen.append("ok")
            except DynamoDBServiceError as error:
                seen.append(error.code.value)
        return seen

    assert outcomes(42) == outcomes(42)
    assert outcomes(42) != outcomes(43)


def test_counts_are_exact_under_threads() -> None:
    inner = ok_provider()
    lock = threading.Lock()
    successes = 0
    provider = FaultInjectingProvider(inner, seed=9, rates=FaultRates(throttle=0.5))

    def worker() -> None:
        nonlocal successes
        for _ in range(250):
            try:
                provider.call("GetItem", {})
            except ThrottledError:
                continue
            with lock:
                successes += 1

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert provider.injected["throttle"] + successes == 2000
    assert 800 < provider.injected["throttle"] < 1200


@pytest.mark.parametrize(
    "options",
    [{"throttle": 1.5}, {"timeout_after": -0.1}, {"throttle": 0.6, "server_error": 0.6}],
    ids=repr,
)
def test_invalid_rates_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(InvalidInputError) as raised:
        FaultRates(**options)
    assert raised.value.code is ErrorCode.INVALID_CONFIGURATION


def test_close_reaches_the_inner_provider() -> None:
    closed: list[bool] = []

    class Closable(DictTableProvider):
        def close(self) -> None:
            closed.append(True)

    with FaultInjectingProvider(Closable(), seed=1, rates=FaultRates()):
        pass
    assert closed == [True]
