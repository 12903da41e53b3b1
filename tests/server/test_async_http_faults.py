"""The async providers under faults on the wire: the sync fast path's codes and marking.

Each fault is injected by the fault proxy in front of moto server and of dynalite, once
for the sync fast path and once for an async provider
(:class:`~tctf_dynamo.providers.AsyncHttpProvider`, then
:class:`~tctf_dynamo.providers.AsyncBotocoreProvider`);
both must report the same error (class, code, details, retryability, cause) and so the
same outcome class, which is what decides retries and what a caller is told. Then what
only an async pool has: a whole-attempt timeout, a request that never got a connection,
and a cancelled call giving its connection back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from tctf_dynamo.aio import AsyncDynamoDBService
from tctf_dynamo.core.outcomes import Failure, failure_class
from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode, OutcomeUnknownError
from tctf_dynamo.model import Table
from tctf_dynamo.providers import (
    AsyncBotocoreProvider,
    AsyncHttpProvider,
    AsyncProvider,
    Boto3Provider,
)
from tctf_dynamo.resilience import RetryPolicy
from tests.faultproxy import (
    ERROR_500,
    ERROR_500_AFTER,
    ERROR_503,
    ERROR_503_AFTER,
    HANG_AFTER,
    RESET_AFTER,
    RESET_BEFORE,
    THROTTLE,
    THROTTLING,
    Fault,
    FaultProxy,
    ProxyMode,
)

pytestmark = pytest.mark.server

ATTEMPT = 0.5
"""The per-attempt timeout of these tests; every hold of the proxy is longer."""
PATIENT = 60.0
"""Provider defaults far above any bound below, so only ``ATTEMPT`` can end a wait."""
BOUND = 10.0
"""Bound on waits that end within ``ATTEMPT`` when the code is right."""
CREDENTIALS = {"region_name": "us-east-1", "aws_access_key_id": "x", "aws_secret_access_key": "x"}


@pytest.fixture(params=["moto", "dynalite"])
def proxied(request: pytest.FixtureRequest, table_name: str) -> Iterator[FaultProxy]:
    """The fault proxy in front of ``request.param`` (a fresh table on it)."""
    name = "fault_proxy" if request.param == "moto" else "dynalite_fault_proxy"
    proxy: FaultProxy = request.getfixturevalue(name)
    with Boto3Provider.from_endpoint(proxy.upstream, **CREDENTIALS) as direct:
        direct.call("CreateTable", Table(table_name).create_table_request())
        while direct.call("DescribeTable", {"TableName": table_name})["Table"]["TableStatus"] != (
            "ACTIVE"
        ):
            pass  # dynalite answers CreateTable before the table takes writes
        yield proxy
        direct.call("DeleteTable", {"TableName": table_name})


def sync_provider(proxy: FaultProxy) -> Boto3Provider:
    return Boto3Provider.from_endpoint(
        proxy.endpoint, connect_timeout=PATIENT, read_timeout=PATIENT, **CREDENTIALS
    )


def async_provider(proxy: FaultProxy, **extra: Any) -> AsyncHttpProvider:
    return AsyncHttpProvider.from_endpoint(
        proxy.endpoint, connect_timeout=PATIENT, read_timeout=PATIENT, **CREDENTIALS, **extra
    )


def put(table: str, pk: str) -> dict[str, Any]:
    return {"TableName": table, "Item": {"PK": {"S": pk}, "SK": {"S": "x"}}}


def get(table: str) -> dict[str, Any]:
    return {"TableName": table, "Key": {"PK": {"S": "warm"}, "SK": {"S": "x"}}}


def marking(error: DynamoDBServiceError) -> dict[str, Any]:
    """What the outcome rules and callers read of a failed attempt."""
    return {
        "type": type(error).__name__,
        "code": error.code,
        "details": error.details,
        "retryable": error.retryable,
        "failure": failure_class(error),
        "cause": type(error.__cause__).__name__,
    }


FAULTS = {
    "throttle": THROTTLE,
    "throttling": THROTTLING,
    "500": ERROR_500,
    "503": ERROR_503,
    "500-after": ERROR_500_AFTER,
    "503-after": ERROR_503_AFTER,
    "reset-before": RESET_BEFORE,
    "reset-after": RESET_AFTER,
    "hang-after": HANG_AFTER,
}


async def open_async(kind: str, proxy: FaultProxy) -> AsyncProvider:
    if kind == "aiobotocore":
        return await AsyncBotocoreProvider.from_endpoint(
            proxy.endpoint, connect_timeout=PATIENT, read_timeout=PATIENT, **CREDENTIALS
        )
    return async_provider(proxy)


@pytest.mark.parametrize("kind", ["http", "aiobotocore"])
@pytest.mark.parametrize("fault", list(FAULTS.values()), ids=list(FAULTS))
def test_each_fault_is_marked_as_the_sync_fast_path_marks_it(
    proxied: FaultProxy, table_name: str, fault: Fault, kind: str
) -> None:
    def sync_run() -> tuple[dict[str, Any], int]:
        with sync_provider(proxied) as provider:
            provider.call("GetItem", get(table_name))  # kept alive for the next request
            proxied.reset_stats()
            proxied.fail_next("PutItem", fault)
            with pytest.raises(DynamoDBServiceError) as raised:
                provider.call("PutItem", put(table_name, "s"), timeout=ATTEMPT)
        assert proxied.wait_idle(BOUND)
        return marking(raised.value), proxied.stats("PutItem").forwarded

    async def async_run() -> tuple[dict[str, Any], int]:
        async with await open_async(kind, proxied) as provider:
            await provider.call("GetItem", get(table_name))
            proxied.reset_stats()
            proxied.fail_next("PutItem", fault)
            with pytest.raises(DynamoDBServiceError) as raised:
                await asyncio.wait_for(
                    provider.call("PutItem", put(table_name, "a"), timeout=ATTEMPT), BOUND
                )
        assert proxied.wait_idle(BOUND)
        return marking(raised.value), proxied.stats("PutItem").forwarded

    expected = sync_run()
    assert asyncio.run(async_run()) == expected
    forwarded = expected[1]
    assert forwarded == int(fault.kind.forwards)
    if fault.kind.forwards:  # it may have been applied: never reported as not sent
        assert expected[0]["failure"] is Failure.AMBIGUOUS


def test_a_hung_server_is_a_timeout_within_the_attempt(proxied: FaultProxy, table_name: str):
    async def scenario() -> DynamoDBServiceError:
        async with async_provider(proxied) as provider:
            await provider.call("GetItem", get(table_name))
            proxied.set_mode(ProxyMode.HANG)
            try:
                with pytest.raises(DynamoDBServiceError) as raised:
                    await asyncio.wait_for(
                        provider.call("GetItem", get(table_name), timeout=ATTEMPT), BOUND
                    )
            finally:
                proxied.set_mode(ProxyMode.PASS)
            return raised.value

    error = asyncio.run(scenario())
    assert error.code is ErrorCode.TIMEOUT
    assert error.details["exception"] == "ReadTimeoutError"
    assert failure_class(error) is Failure.AMBIGUOUS


def test_a_request_that_never_got_a_connection_was_not_sent(proxied: FaultProxy, table_name: str):
    """With one connection held by a hung request, the next one times out waiting for
    the pool: a connect timeout, so the outcome rules know nothing was sent."""

    async def scenario() -> DynamoDBServiceError:
        async with async_provider(proxied, max_connections=1) as provider:
            proxied.fail_next("PutItem", HANG_AFTER)
            holder = asyncio.ensure_future(provider.call("PutItem", put(table_name, "held")))
            while proxied.stats("PutItem").arrived == 0:
                await asyncio.sleep(0.01)
            with pytest.raises(DynamoDBServiceError) as raised:
                await asyncio.wait_for(
                    provider.call("PutItem", put(table_name, "waits"), timeout=ATTEMPT), BOUND
                )
            holder.cancel()
            with pytest.raises(asyncio.CancelledError):
                await holder
            return raised.value

    error = asyncio.run(scenario())
    assert proxied.wait_idle(BOUND)
    assert error.code is ErrorCode.TIMEOUT
    assert error.details["exception"] == "ConnectTimeoutError"
    assert failure_class(error) is Failure.NOT_SENT
    assert proxied.stats("PutItem").arrived == 1, "the second request never left"


def test_a_cancelled_call_gives_its_connection_back(proxied: FaultProxy, table_name: str):
    async def scenario() -> dict[str, Any]:
        async with async_provider(proxied, max_connections=1) as provider:
            proxied.fail_next("GetItem", HANG_AFTER)
            hung = asyncio.ensure_future(provider.call("GetItem", get(table_name)))
            while proxied.stats("GetItem").arrived == 0:
                await asyncio.sleep(0.01)
            hung.cancel()
            with pytest.raises(asyncio.CancelledError):
                await hung
            # the pool's only connection must be free again for this to be answered
            return await asyncio.wait_for(
                provider.call("PutItem", put(table_name, "after"), timeout=BOUND / 2), BOUND
            )

    assert asyncio.run(scenario()) == {}
    assert proxied.wait_idle(BOUND)
    assert proxied.stats("PutItem").forwarded == 1


# -- through the async service: the outcome rules act on the marking ---------------------------

FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05, attempt_timeout=ATTEMPT)


def add_one(table: str) -> dict[str, Any]:
    return {
        "TableName": table,
        "Key": {"PK": {"S": "counter"}, "SK": {"S": "x"}},
        "UpdateExpression": "ADD #n :one",
        "ExpressionAttributeNames": {"#n": "n"},
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }


def stored_count(proxy: FaultProxy, table: str) -> int:
    with Boto3Provider.from_endpoint(proxy.upstream, **CREDENTIALS) as direct:
        item = direct.call(
            "GetItem",
            {"TableName": table, "Key": add_one(table)["Key"], "ConsistentRead": True},
        ).get("Item")
    return int(item["n"]["N"]) if item else 0


def test_a_throttled_attempt_is_resent_and_applied_once(proxied: FaultProxy, table_name: str):
    async def scenario() -> None:
        service = AsyncDynamoDBService(async_provider(proxied), retry=FAST_RETRY)
        async with service:
            proxied.fail_next("UpdateItem", THROTTLE)
            await service.execute("UpdateItem", add_one(table_name))

    asyncio.run(scenario())
    stats = proxied.stats("UpdateItem")
    assert (stats.arrived, stats.forwarded) == (2, 1)
    assert stored_count(proxied, table_name) == 1


def test_a_lost_answer_to_an_add_is_unknown_and_never_resent(proxied: FaultProxy, table_name: str):
    async def scenario() -> OutcomeUnknownError:
        service = AsyncDynamoDBService(async_provider(proxied), retry=FAST_RETRY)
        async with service:
            proxied.fail_next("UpdateItem", RESET_AFTER)
            with pytest.raises(OutcomeUnknownError) as raised:
                await service.execute("UpdateItem", add_one(table_name))
            return raised.value

    error = asyncio.run(scenario())
    assert error.last_error.details["exception"] == "ConnectionClosedError"
    assert proxied.stats("UpdateItem").forwarded == 1
    assert stored_count(proxied, table_name) == 1, "applied once, reported unknown"
