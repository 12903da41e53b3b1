"""The service's own operations behave the same through the sync and the async API:
one test body, run against both (the async one through ``tests.aio_support.Blocking``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tctf_dynamo import DynamoDBService, RetryPolicy, Table
from tctf_dynamo.aio import AsyncDynamoDBService
from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode, OutcomeUnknownError
from tctf_dynamo.providers import EmbeddedProvider, MockProvider, Provider, RecordingProvider
from tests.aio_support import Blocking, ThreadedAsyncProvider

TABLE = Table("apis")
FAST = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.002)

Build = Callable[..., Any]


def _sync(provider: Provider, **options: Any) -> Any:
    return DynamoDBService(provider, **options)


def _async(provider: Provider, **options: Any) -> Any:
    return Blocking(AsyncDynamoDBService(ThreadedAsyncProvider(provider), **options))


@pytest.fixture(params=[_sync, _async], ids=["sync", "async"])
def build(request: pytest.FixtureRequest) -> Build:
    builder: Build = request.param
    return builder


@pytest.fixture
def recorded() -> Iterator[RecordingProvider]:
    with RecordingProvider(EmbeddedProvider()) as provider:
        yield provider


def _item(key: str) -> dict[str, Any]:
    return {"PK": {"S": key}, "SK": {"S": "A"}, "n": {"N": "1"}}


def test_tables_and_items_round_trip(build: Build, recorded: RecordingProvider) -> None:
    service = build(recorded, retry=FAST)
    service.create_table(TABLE)
    assert service.describe_table(TABLE)["TableStatus"] == "ACTIVE"
    service.execute("PutItem", {"TableName": "apis", "Item": _item("a")})
    got = service.execute(
        "GetItem", {"TableName": "apis", "Key": {"PK": {"S": "a"}, "SK": {"S": "A"}}}
    )
    assert got["Item"] == _item("a")
    assert [k.name for k in service.key_schema("apis")] == ["PK", "SK"]
    service.delete_table(TABLE)
    with pytest.raises(DynamoDBServiceError) as caught:
        service.describe_table("apis")
    assert caught.value.code is ErrorCode.TABLE_NOT_FOUND


def test_both_apis_send_the_same_requests(recorded: RecordingProvider) -> None:
    sent: list[list[tuple[str, dict[str, Any]]]] = []
    for builder in (_sync, _async):
        recorded.clear()
        service = builder(recorded, retry=FAST)
        service.create_table(TABLE, wait=False)
        service.transact_write(
            [{"Put": {"TableName": "apis", "Item": _item("t")}}], client_request_token="tok-1"
        )
        service.delete_table(TABLE)
        sent.append([(c.operation, c.request) for c in recorded.calls])
    assert sent[0] == sent[1]
    assert [operation for operation, _ in sent[0]] == [
        "CreateTable",
        "TransactWriteItems",
        "DeleteTable",
    ]


def _flaky(fail_first: int, code: ErrorCode, exception: str | None = None) -> MockProvider:
    """Fails ``fail_first`` calls with ``code``, then answers ``{}``."""
    calls = {"n": 0}

    def handler(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        calls["n"] += 1
        if calls["n"] <= fail_first:
            from tctf_dynamo.providers.errors import transport_failure

            raise transport_failure(operation, code, exception or "ReadTimeoutError")
        return {}

    return MockProvider(handler)


def test_a_retried_read_succeeds_on_both(build: Build) -> None:
    service = build(_flaky(2, ErrorCode.CONNECTION_ERROR, "EndpointConnectionError"), retry=FAST)
    assert service.execute("GetItem", {"TableName": "apis", "Key": {}}) == {}


def test_an_ambiguous_non_idempotent_write_is_unknown_on_both(build: Build) -> None:
    """An ADD whose answer was lost is never resent: OUTCOME_UNKNOWN, not a retry."""
    provider = _flaky(1, ErrorCode.TIMEOUT)
    service = build(provider, retry=FAST)
    request = {
        "TableName": "apis",
        "Key": {"PK": {"S": "a"}, "SK": {"S": "A"}},
        "UpdateExpression": "ADD #n :one",
        "ExpressionAttributeNames": {"#n": "n"},
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }
    with pytest.raises(OutcomeUnknownError) as caught:
        service.execute("UpdateItem", request)
    assert caught.value.code is ErrorCode.OUTCOME_UNKNOWN
    assert caught.value.retryable is False


def test_retries_end_at_the_budget_on_both(build: Build) -> None:
    service = build(_flaky(10, ErrorCode.CONNECTION_ERROR, "EndpointConnectionError"), retry=FAST)
    with pytest.raises(DynamoDBServiceError) as caught:
        service.execute("GetItem", {"TableName": "apis", "Key": {}})
    assert caught.value.code is ErrorCode.RETRIES_EXHAUSTED
    assert caught.value.details["attempts"] == 3


class _IgnoresTimeout:
    """An async provider that never answers and never gives up by itself."""

    def __init__(self) -> None:
        self.calls = 0

    async def call(self, operation: str, request: dict[str, Any], *, timeout: Any = None) -> Any:
        import asyncio

        self.calls += 1
        await asyncio.Event().wait()

    async def close(self) -> None:
        return None


def test_the_async_driver_abandons_a_provider_that_ignores_its_timeout() -> None:
    """The deadline binds whatever the provider does: the attempt is abandoned after its
    socket timeout and a grace, as an ambiguous TIMEOUT (never a hang)."""
    import asyncio

    from tctf_dynamo.aio.driver import TIMEOUT_GRACE_SECONDS

    provider = _IgnoresTimeout()
    service = AsyncDynamoDBService(provider, retry=RetryPolicy(max_attempts=1), timeout=0.2)  # type: ignore[arg-type]
    loop = asyncio.new_event_loop()
    try:
        started = loop.time()
        with pytest.raises(DynamoDBServiceError) as caught:
            loop.run_until_complete(service.execute("GetItem", {"TableName": "apis", "Key": {}}))
        waited = loop.time() - started
    finally:
        loop.close()
    assert caught.value.code is ErrorCode.TIMEOUT
    assert caught.value.details["exception"] == "ReadTimeoutError"  # may have been applied
    assert provider.calls == 1
    assert waited < 0.2 + TIMEOUT_GRACE_SECONDS + 1.0
