"""Service-level options: derived services, consumed capacity, the shared breaker."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tctf_dynamo import (
    CollectingEventSink,
    DynamoDBService,
    EmbeddedProvider,
    ErrorCode,
    InvalidInputError,
    MockProvider,
    RecordingProvider,
    RetryPolicy,
    Table,
)
from tctf_dynamo.aio import AsyncDynamoDBService
from tctf_dynamo.providers import AsyncEmbeddedProvider
from tctf_dynamo.resilience import CircuitState, ConsumedCapacity, DynamoDBStateStore
from tests.aio_support import async_twin


def test_with_retry_shares_backend_and_changes_only_the_policy() -> None:
    service = DynamoDBService.embedded()
    payments = service.with_retry(RetryPolicy(max_attempts=5))
    assert payments.provider is service.provider
    assert payments.pipeline.retry_policy.max_attempts == 5
    assert service.pipeline.retry_policy.max_attempts == 3
    table = Table("shared")
    service.create_table(table)
    service.put_item(table, {"PK": "a", "SK": "1"})
    assert payments.get_item(table, {"PK": "a", "SK": "1"}) == {"PK": "a", "SK": "1"}


@pytest.mark.parametrize("api", ["sync", "async"])
def test_consumed_capacity_is_requested_and_published(api: str) -> None:
    sink = CollectingEventSink()
    recorder = RecordingProvider(EmbeddedProvider())
    service = DynamoDBService(recorder, events=sink, consumed_capacity=True)
    table = Table("capacity")
    service.create_table(table)
    (service if api == "sync" else async_twin(service)).put_item(table, {"PK": "a", "SK": "1"})
    put = recorder.requests("PutItem")[0]
    assert put["ReturnConsumedCapacity"] == "TOTAL"
    events = sink.of_type(ConsumedCapacity)
    assert events and events[0].operation == "PutItem" and events[0].table == "capacity"


def test_without_the_option_no_capacity_is_requested() -> None:
    recorder = RecordingProvider(EmbeddedProvider())
    service = DynamoDBService(recorder)
    table = Table("capacity")
    service.create_table(table)
    service.put_item(table, {"PK": "a", "SK": "1"})
    assert "ReturnConsumedCapacity" not in recorder.requests("PutItem")[0]


def test_breaker_table_missing_means_one_warning_and_no_breaker(caplog) -> None:
    caplog.set_level(logging.WARNING)
    service = DynamoDBService.embedded(breaker_table="no-such-breaker-table")
    table = Table("works")
    service.create_table(table)
    service.put_item(table, {"PK": "a", "SK": "1"})
    assert service.get_item(table, {"PK": "a", "SK": "1"}) is not None
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1


def test_breaker_table_present_shares_state_through_dynamodb() -> None:
    provider = EmbeddedProvider()
    DynamoDBStateStore.create_table(provider, "breakers")
    service = DynamoDBService(provider, breaker_table="breakers")
    assert service.pipeline.breaker is not None
    assert not service.pipeline.breaker.disabled


def test_max_workers_must_be_positive() -> None:
    with pytest.raises(InvalidInputError) as caught:
        DynamoDBService(EmbeddedProvider(), max_workers=0)
    assert caught.value.code is ErrorCode.INVALID_CONFIGURATION


def test_paging_without_cursor_keys_says_how_to_configure_them() -> None:
    service = DynamoDBService.embedded()
    with pytest.raises(InvalidInputError) as caught:
        _ = service.cursors
    assert caught.value.code is ErrorCode.INVALID_CONFIGURATION
    assert "CursorCodec" in caught.value.message


def test_bulk_item_helpers_take_plain_values() -> None:
    service = DynamoDBService.embedded()
    table = Table("bulk-plain")
    service.create_table(table)
    service.bulk_write_items(table, puts=[{"PK": str(n), "SK": "x", "v": n} for n in range(60)])
    keys = [{"PK": str(n), "SK": "x"} for n in (0, 59, 60)]
    assert [item and item["v"] for item in service.bulk_get_items(table, keys)] == [0, 59, None]


def test_breaker_table_by_name_adapts_to_a_dedicated_table() -> None:
    provider = EmbeddedProvider()
    DynamoDBStateStore.create_table(provider, "dedicated-breakers")
    service = DynamoDBService(provider, breaker_table="dedicated-breakers")
    breaker = service.pipeline.breaker
    assert breaker is not None and not breaker.disabled
    assert breaker.state().state == "closed"


def test_a_store_whose_key_schema_does_not_fit_disables_the_breaker_once(caplog) -> None:
    from tctf_dynamo import CircuitBreaker

    caplog.set_level(logging.WARNING)
    provider = EmbeddedProvider()
    DynamoDBService(provider).create_table(Table("mismatched"))  # PK + SK
    store = DynamoDBStateStore(provider, "mismatched", sort_key=None)  # PK only: wrong
    service = DynamoDBService(provider, breaker=CircuitBreaker(store))
    table = Table("works")
    service.create_table(table)
    for n in range(3):
        service.put_item(table, {"PK": str(n), "SK": "1"})
    assert service.pipeline.breaker.disabled
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


@pytest.mark.parametrize("entered", [True, False], ids=["async-with", "first-call"])
def test_an_async_breaker_table_missing_means_one_warning_and_no_breaker(
    caplog: pytest.LogCaptureFixture, entered: bool
) -> None:
    caplog.set_level(logging.WARNING)
    table = Table("works")

    async def scenario() -> None:
        service = AsyncDynamoDBService.embedded(breaker_table="no-such-breaker-table")
        if entered:
            await service.__aenter__()
            assert service.pipeline.breaker is not None and service.pipeline.breaker.disabled
        await service.create_table(table)
        await service.put_item(table, {"PK": "a", "SK": "1"})
        assert await service.get_item(table, {"PK": "a", "SK": "1"}) is not None
        assert service.pipeline.breaker is not None and service.pipeline.breaker.disabled
        await service.close()

    asyncio.run(scenario())
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1


def test_an_async_breaker_table_keeps_the_state_in_an_awaited_store() -> None:
    provider = EmbeddedProvider()
    DynamoDBStateStore.create_table(provider, "breakers")
    sync = DynamoDBService(provider, breaker_table="breakers")
    table = Table("works")
    sync.create_table(table)

    async def scenario() -> CircuitState:
        shared = AsyncEmbeddedProvider.sharing(provider)
        async with AsyncDynamoDBService(shared, breaker_table="breakers") as service:
            breaker = service.pipeline.breaker
            assert breaker is not None and not breaker.disabled
            with pytest.raises(InvalidInputError) as caught:
                breaker.state()  # its store is awaited: blocking use is refused
            assert caught.value.code is ErrorCode.INVALID_CONFIGURATION
            await service.put_item(table, {"PK": "a", "SK": "1"})
            return (await breaker.state_async()).state

    assert asyncio.run(scenario()) is CircuitState.CLOSED
    assert sync.get_item(table, {"PK": "a", "SK": "1"}) == {"PK": "a", "SK": "1"}
    assert sync.pipeline.breaker is not None and sync.pipeline.breaker.state().state == "closed"


@pytest.mark.parametrize("service_type", [DynamoDBService, AsyncDynamoDBService])
def test_a_breaker_table_name_that_is_no_table_name_is_refused(service_type: type) -> None:
    with pytest.raises(InvalidInputError) as caught:
        service_type(MockProvider(_never), breaker_table="bad name!")
    assert caught.value.code is ErrorCode.INVALID_TABLE_NAME


def _never(operation: str, request: dict[str, object]) -> dict[str, object]:
    raise AssertionError(f"{operation} was sent")
