"""The library's own spans: one per library operation, carrying what that layer knows.

OpenTelemetry's SDK with an in-memory exporter records them; ``instrument`` is
process-wide, so the fixture removes it again.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from tctf_dynamo import DynamoDBService, Entity, Repository, RetryPolicy, Table, UnitOfWork, attr
from tctf_dynamo.aio import AsyncDynamoDBService, AsyncRepository
from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode
from tctf_dynamo.observability import instrument, is_instrumented, uninstrument
from tctf_dynamo.providers import EmbeddedProvider
from tctf_dynamo.resilience import observers
from tctf_dynamo.testing.faults import FaultInjectingProvider, FaultRates
from tests.aio_support import Blocking, ThreadedAsyncProvider

table = Table("spans")


class Account(Entity, table=table, pk="ACCOUNT#{account_id}", sk="META"):
    account_id: str
    balance: Decimal = Decimal(0)


@pytest.fixture
def spans() -> Iterator[Any]:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrument(tracer_provider=provider)
    try:
        yield exporter
    finally:
        uninstrument()


@pytest.fixture
def service() -> DynamoDBService:
    service = DynamoDBService.embedded(consumed_capacity=True)
    service.create_table(table)
    return service


@pytest.fixture(params=["sync", "async"])
def accounts(request: pytest.FixtureRequest, service: DynamoDBService) -> Any:
    """The repository of accounts through the sync or the async API (one backend)."""
    if request.param == "sync":
        return Repository(Account, service)
    provider = ThreadedAsyncProvider(service.provider)
    twin = AsyncDynamoDBService(provider, consumed_capacity=True)
    return Blocking(AsyncRepository(Account, twin))


def attributes(span: Any) -> dict[str, Any]:
    return dict(span.attributes)


def test_a_repository_call_is_one_span_with_its_entity(accounts: Any, spans: Any) -> None:
    accounts.put(Account(account_id="a1"))
    spans.clear()
    assert accounts.get(account_id="a1") is not None
    (span,) = spans.get_finished_spans()
    assert span.name == "tctf_dynamo Repository.get"
    found = attributes(span)
    assert found["tctf_dynamo.entity"] == "Account"
    assert found["tctf_dynamo.operations"] == 1
    assert found["tctf_dynamo.attempts"] == 1
    assert found["tctf_dynamo.retries"] == 0
    assert found["tctf_dynamo.breaker.state"] == "none"
    assert found["aws.dynamodb.table_names"] == ("spans",)
    assert found["tctf_dynamo.consumed_capacity"] > 0


def test_retries_are_counted_on_the_operations_span(spans: Any) -> None:
    inner = EmbeddedProvider()
    DynamoDBService(inner).create_table(table)
    faulty = FaultInjectingProvider(inner, seed=1, rates=FaultRates(throttle=0.5))
    service = DynamoDBService(
        faulty, retry=RetryPolicy(max_attempts=50, base_delay=0.0), sleep=lambda _: None
    )
    accounts = Repository(Account, service)
    spans.clear()
    for number in range(10):
        accounts.put(Account(account_id=f"a{number}"))
    finished = spans.get_finished_spans()
    assert [span.name for span in finished] == ["tctf_dynamo Repository.put"] * 10
    retries = sum(attributes(span)["tctf_dynamo.retries"] for span in finished)
    assert retries == faulty.injected["throttle"] > 0


def test_the_plain_item_api_gets_a_span_per_operation(service: DynamoDBService, spans: Any) -> None:
    service.put_item(table, {"PK": "X", "SK": "Y"})
    (span,) = spans.get_finished_spans()
    assert span.name == "tctf_dynamo PutItem"
    assert attributes(span)["tctf_dynamo.operation"] == "PutItem"


def test_a_unit_of_work_commit_is_one_span_with_its_intents(
    service: DynamoDBService, spans: Any
) -> None:
    with UnitOfWork(service) as uow:
        uow.put(Account(account_id="a1"))
        uow.put(Account(account_id="a2"))
    (span,) = spans.get_finished_spans()
    assert span.name == "tctf_dynamo UnitOfWork.commit"
    assert attributes(span)["tctf_dynamo.intents"] == 2
    assert attributes(span)["tctf_dynamo.operations"] == 1


def test_a_bulk_job_is_one_span_over_every_chunk(service: DynamoDBService, spans: Any) -> None:
    accounts = Repository(Account, service)
    accounts.batch_put(Account(account_id=f"a{number}") for number in range(60))
    (span,) = spans.get_finished_spans()
    assert span.name == "tctf_dynamo Repository.batch_put"
    assert attributes(span)["tctf_dynamo.operations"] == 3, "25 + 25 + 10 writes"


def test_a_query_page_is_one_span(accounts: Any, spans: Any) -> None:
    accounts.put(Account(account_id="a1"))
    spans.clear()
    assert len(accounts.query(account_id="a1").all()) == 1
    (span,) = spans.get_finished_spans()
    assert span.name == "tctf_dynamo Query.page"
    assert attributes(span)["tctf_dynamo.entity"] == "Account"


def test_a_failed_operation_marks_its_span(accounts: Any, spans: Any) -> None:
    accounts.create(Account(account_id="a1"))
    spans.clear()
    with pytest.raises(DynamoDBServiceError) as caught:
        accounts.create(Account(account_id="a1"))
    assert caught.value.code is ErrorCode.CONDITION_FAILED
    (span,) = spans.get_finished_spans()
    assert span.status.status_code.name == "ERROR"
    assert attributes(span)["tctf_dynamo.error_code"] == "CONDITION_FAILED"
    assert [event.name for event in span.events] == ["exception"]
    assert attributes(span)["tctf_dynamo.operations"] == 1


def test_a_failed_plain_call_marks_its_own_span(service: DynamoDBService, spans: Any) -> None:
    service.put_item(table, {"PK": "X", "SK": "Y"})
    spans.clear()
    with pytest.raises(DynamoDBServiceError):
        service.put_item(table, {"PK": "X", "SK": "Y"}, condition=attr("PK").not_exists())
    (span,) = spans.get_finished_spans()
    assert span.name == "tctf_dynamo PutItem"
    assert span.status.status_code.name == "ERROR"
    assert attributes(span)["tctf_dynamo.error_code"] == "CONDITION_FAILED"
    assert [event.name for event in span.events] == ["exception"]


def test_spans_a_sampler_drops_cost_no_attributes(service: DynamoDBService) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ALWAYS_OFF)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrument(tracer_provider=provider)
    try:
        accounts = Repository(Account, service)
        accounts.put(Account(account_id="a1"))
        with pytest.raises(DynamoDBServiceError):
            accounts.create(Account(account_id="a1"))
        assert accounts.get(account_id="a1") is not None
    finally:
        uninstrument()
    assert exporter.get_finished_spans() == ()


def test_uninstrumented_the_library_makes_no_spans(service: DynamoDBService) -> None:
    assert not is_instrumented()
    assert observers.current() is None
    assert observers.scope("Repository.get", entity="Account") is observers.scope("x")


def test_without_opentelemetry_instrument_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(__import__("sys").modules, "opentelemetry.trace", None)
    with pytest.raises(DynamoDBServiceError) as caught:
        instrument()
    assert caught.value.code is ErrorCode.INVALID_CONFIGURATION
    assert "tctf-dynamo[otel]" in caught.value.message
    assert observers.current() is None
