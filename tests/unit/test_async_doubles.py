"""The async embedded backend and the async test doubles, each held to its sync twin.

Every test runs its coroutine with ``asyncio.run``; where a sync twin exists the same
calls go through both and the results must be equal.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tctf_dynamo.aio import AsyncDynamoDBService
from tctf_dynamo.errors import ConditionFailedError, DynamoDBServiceError, ErrorCode
from tctf_dynamo.model import Table
from tctf_dynamo.providers import (
    AsyncEmbeddedProvider,
    AsyncMockProvider,
    AsyncProvider,
    AsyncRecordingProvider,
    EmbeddedProvider,
    MockProvider,
    Provider,
    RecordingProvider,
)
from tctf_dynamo.testing import AsyncFaultInjectingProvider, FaultInjectingProvider, FaultRates

TABLE = "things"
WAIT_SECONDS = 10.0
"""Bound on waits that end at once when the code is right (never reached when healthy)."""


def key(pk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": "x"}}


def put(pk: str, **extra: Any) -> dict[str, Any]:
    return {"TableName": TABLE, "Item": {**key(pk), "b": {"B": pk.encode()}}, **extra}


def embedded_with_table() -> EmbeddedProvider:
    provider = EmbeddedProvider()
    provider.call("CreateTable", Table(TABLE).create_table_request())
    return provider


def outcome(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except DynamoDBServiceError as error:
        return (type(error).__name__, error.code, error.details)


async def async_outcome(call: Callable[[], Awaitable[Any]]) -> Any:
    try:
        return await call()
    except DynamoDBServiceError as error:
        return (type(error).__name__, error.code, error.details)


# -- the embedded backend ----------------------------------------------------------------------


def test_sync_and_async_faces_share_one_database() -> None:
    sync = embedded_with_table()

    async def scenario() -> dict[str, Any]:
        async with AsyncEmbeddedProvider.sharing(sync) as provider:
            await provider.call("PutItem", put("from-async"))
            return await provider.call("GetItem", {"TableName": TABLE, "Key": key("from-sync")})

    sync.call("PutItem", put("from-sync"))
    got = asyncio.run(scenario())
    assert got == {"Item": {**key("from-sync"), "b": {"B": b"from-sync"}}}
    written = sync.call("GetItem", {"TableName": TABLE, "Key": key("from-async")})
    assert written["Item"]["b"] == {"B": b"from-async"}
    assert not sync.closed, "closing the async face leaves the shared provider open"


def test_an_own_backend_is_private_and_dropped_on_close() -> None:
    other = embedded_with_table()

    async def scenario() -> tuple[Any, AsyncEmbeddedProvider]:
        provider = AsyncEmbeddedProvider()
        async with provider:
            missing = await async_outcome(
                lambda: provider.call("GetItem", {"TableName": TABLE, "Key": key("a")})
            )
        return missing, provider

    missing, provider = asyncio.run(scenario())
    assert missing[1] is ErrorCode.TABLE_NOT_FOUND
    assert provider.closed and provider.sync.closed
    closed = asyncio.run(async_outcome(lambda: provider.call("GetItem", {})))
    assert closed[1] is ErrorCode.INVALID_STATE
    asyncio.run(provider.close())  # twice is harmless
    assert other.call("DescribeTable", {"TableName": TABLE})["Table"]["TableName"] == TABLE


class _GatedEmbedded(EmbeddedProvider):
    """An embedded provider whose calls wait for a gate only the event loop opens."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.threads: list[threading.Thread] = []

    def call(self, operation: str, request: Any, *, timeout: float | None = None) -> Any:
        self.threads.append(threading.current_thread())
        opened = self.gate.wait(WAIT_SECONDS)
        assert opened, "the event loop never ran while the call was in flight"
        return super().call(operation, request, timeout=timeout)


def test_a_call_never_blocks_the_event_loop() -> None:
    inner = _GatedEmbedded()

    async def scenario() -> Any:
        async with AsyncEmbeddedProvider.sharing(inner) as provider:
            pending = asyncio.ensure_future(provider.call("ListTables", {}))
            await asyncio.sleep(0)  # the loop runs on while the worker waits
            inner.gate.set()
            return await pending

    assert asyncio.run(scenario()) == {"TableNames": []}
    assert inner.threads and all(t is not threading.main_thread() for t in inner.threads)


def test_errors_are_the_sync_providers_errors() -> None:
    sync = embedded_with_table()
    sync.call("PutItem", put("taken"))
    request = put("taken", ConditionExpression="attribute_not_exists(PK)")

    async def scenario() -> Any:
        async with AsyncEmbeddedProvider.sharing(sync) as provider:
            with pytest.raises(ConditionFailedError) as raised:
                await provider.call("PutItem", request)
            return raised.value

    error = asyncio.run(scenario())
    assert (error.code, error.details) == outcome(lambda: sync.call("PutItem", request))[1:]


# -- the mock and the recorder ------------------------------------------------------------------


def _handler(operation: str, request: dict[str, Any]) -> dict[str, Any]:
    if request.get("fail"):
        raise ClientError(
            {"Error": {"Code": "ConditionalCheckFailedException", "Message": "no"}}, operation
        )
    return {"echo": operation}


async def _slow_handler(operation: str, request: dict[str, Any]) -> dict[str, Any]:
    await asyncio.sleep(0)
    return _handler(operation, request)


@pytest.mark.parametrize("handler", [_handler, _slow_handler], ids=["plain", "coroutine"])
def test_the_async_mock_answers_and_translates_as_the_sync_mock(handler: Any) -> None:
    sync = MockProvider(_handler)
    calls = [("GetItem", {}, None), ("PutItem", {"fail": True}, 1.5)]
    expected = [outcome(lambda c=c: sync.call(c[0], c[1], timeout=c[2])) for c in calls]

    async def scenario() -> tuple[list[Any], AsyncMockProvider]:
        provider = AsyncMockProvider(handler)
        async with provider:
            got = [
                await async_outcome(lambda c=c: provider.call(c[0], c[1], timeout=c[2]))
                for c in calls
            ]
        return got, provider

    got, provider = asyncio.run(scenario())
    assert got == expected
    assert got[1][1] is ErrorCode.CONDITION_FAILED
    assert provider.timeouts == sync.timeouts == [None, 1.5]
    assert provider.closed


def test_the_async_recorder_keeps_what_the_sync_recorder_keeps() -> None:
    calls = [("GetItem", {"k": [1]}, None), ("PutItem", {"fail": True}, 2.0)]
    sync = RecordingProvider(MockProvider(_handler))
    for each in calls:
        outcome(lambda c=each: sync.call(c[0], c[1], timeout=c[2]))

    async def scenario() -> AsyncRecordingProvider:
        provider = AsyncRecordingProvider(AsyncMockProvider(_handler))
        for each in calls:
            await async_outcome(lambda c=each: provider.call(c[0], c[1], timeout=c[2]))
        return provider

    recorded = asyncio.run(scenario())

    def shape(recorder: Any) -> list[Any]:
        return [
            (c.operation, c.request, c.response, c.error and c.error.code, c.timeout)
            for c in recorder.calls
        ]

    assert shape(recorded) == shape(sync)
    assert recorded.operations == ["GetItem", "PutItem"]
    assert recorded.requests("GetItem") == [{"k": [1]}]
    recorded.clear()
    assert recorded.calls == []


def test_a_cancelled_call_is_not_recorded() -> None:
    async def hang(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        await asyncio.Event().wait()
        return {}

    async def scenario() -> AsyncRecordingProvider:
        provider = AsyncRecordingProvider(AsyncMockProvider(hang))
        task = asyncio.ensure_future(provider.call("GetItem", {}))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return provider

    assert asyncio.run(scenario()).calls == []


# -- fault injection ----------------------------------------------------------------------------

RATES = {
    "*": FaultRates(
        throttle=0.1,
        server_error=0.1,
        connection_error=0.1,
        timeout_before=0.1,
        timeout_after=0.1,
    ),
    "BatchWriteItem": FaultRates(unprocessed=0.5, throttle=0.1),
    "BatchGetItem": FaultRates(unprocessed=0.6),
}


def _workload() -> list[tuple[str, dict[str, Any]]]:
    calls: list[tuple[str, dict[str, Any]]] = []
    for index in range(30):
        pk = f"p{index}"
        calls.append(("PutItem", put(pk)))
        calls.append(("GetItem", {"TableName": TABLE, "Key": key(pk), "ConsistentRead": True}))
    puts = [{"PutRequest": {"Item": {**key(f"b{i}"), "n": {"N": str(i)}}}} for i in range(5)]
    keys = [key(f"b{i}") for i in range(5)]
    for _ in range(10):
        calls.append(("BatchWriteItem", {"RequestItems": {TABLE: puts}}))
        calls.append(("BatchGetItem", {"RequestItems": {TABLE: {"Keys": keys}}}))
    return calls


def _normalized(result: Any) -> Any:
    """Batch answers without their (unordered) item lists' order."""
    if isinstance(result, dict) and "Responses" in result:
        items = result["Responses"].get(TABLE, [])
        return {**result, "Responses": sorted(str(item) for item in items)}
    return result


def test_async_faults_are_the_sync_faults_for_the_same_seed() -> None:
    calls = _workload()
    sync_inner: Provider = embedded_with_table()
    sync = FaultInjectingProvider(sync_inner, seed=11, rates=RATES)
    expected = [_normalized(outcome(lambda c=c: sync.call(*c))) for c in calls]

    async def scenario() -> tuple[list[Any], Any]:
        inner: AsyncProvider = AsyncEmbeddedProvider(provider=embedded_with_table())
        async with AsyncFaultInjectingProvider(inner, seed=11, rates=RATES) as provider:
            got = [_normalized(await async_outcome(lambda c=c: provider.call(*c))) for c in calls]
            return got, provider.injected

    got, injected = asyncio.run(scenario())
    assert got == expected
    assert injected == sync.injected
    assert set(injected) >= {"throttle", "timeout_after", "unprocessed"}


def test_the_async_service_runs_on_the_embedded_backend() -> None:
    async def scenario() -> dict[str, Any]:
        async with AsyncDynamoDBService(AsyncEmbeddedProvider()) as service:
            await service.create_table(Table(TABLE))
            await service.execute("PutItem", put("s"))
            return await service.execute("GetItem", {"TableName": TABLE, "Key": key("s")})

    assert asyncio.run(scenario()) == {"Item": {**key("s"), "b": {"B": b"s"}}}
