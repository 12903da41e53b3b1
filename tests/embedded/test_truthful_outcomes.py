"""Every write reports applied, not applied or unknown, and never the wrong one.

Each test scripts the failures DynamoDB's callers meet (an answer lost after the write
was applied, a request lost before it arrived, a slow commit answered with
TransactionInProgress) around the embedded backend, which honours ClientRequestToken as
DynamoDB does, and checks what the caller is told against what the table holds.
Repository calls are checked through the sync and the async API (``api``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from tctf_dynamo import (
    ConditionFailedError,
    DynamoDBService,
    EmbeddedProvider,
    Entity,
    ErrorCode,
    OutcomeUnknownError,
    ReadBackFailedError,
    Repository,
    RetryPolicy,
    Table,
    TransientError,
    UnitState,
)
from tctf_dynamo.aio import AsyncDynamoDBService, AsyncRepository
from tctf_dynamo.errors import DynamoDBServiceError
from tctf_dynamo.providers.errors import refusal, transport_failure
from tests.aio_support import Blocking, ThreadedAsyncProvider, async_twin
from tests.uow_apis import AsyncUnits, SyncUnits, units

Units = SyncUnits | AsyncUnits  # the fixture `units`: these units run on both APIs
__all__ = ["units"]


table = Table("outcomes")


class Wallet(Entity, table=table, pk="WALLET#{wallet_id}", sk="META", version="version"):
    wallet_id: str
    balance: Decimal = Decimal(0)
    version: int = 0


class Marker(Entity, table=table, pk="MSG#{message_id}", sk="MARKER"):
    message_id: str
    kind: str = "seen"


class Account(Entity, table=table, pk="ACCOUNT#{account_id}", sk="META", timestamps=True):
    account_id: str
    credits: int = 0


Step = str | Callable[[], None]


class Scripted:
    """The embedded backend behind a script of failures, per operation, in call order.

    ``"ok"`` forwards; ``"applied_then_lost"`` forwards and then loses the answer (read
    timeout); ``"lost_before"`` resets the connection before the request arrives;
    ``"hold"`` keeps the request back (a slow commit) and times out; ``"in_progress"``
    answers TransactionInProgress; ``"commit_held"`` lets the held requests commit, then
    forwards; ``"throttle"`` refuses for capacity; a callable runs first, then forwards.
    """

    def __init__(self, inner: EmbeddedProvider, script: dict[str, list[Step]]) -> None:
        self.inner = inner
        self.script = {operation: list(steps) for operation, steps in script.items()}
        self.held: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[tuple[str, str]] = []

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        steps = self.script.get(operation)
        step = steps.pop(0) if steps else "ok"
        self.sent.append((operation, step if isinstance(step, str) else "hook"))
        if callable(step):
            step()
            return self.inner.call(operation, request)
        if step == "applied_then_lost":
            self.inner.call(operation, request)
            raise transport_failure(operation, ErrorCode.TIMEOUT, "ReadTimeoutError")
        if step == "lost_before":
            raise transport_failure(operation, ErrorCode.CONNECTION_ERROR, "ConnectionClosedError")
        if step == "hold":
            self.held.append((operation, request))
            raise transport_failure(operation, ErrorCode.TIMEOUT, "ReadTimeoutError")
        if step == "in_progress":
            raise refusal(operation, "TransactionInProgressException", 400, "in progress")
        if step == "throttle":
            raise refusal(operation, "ProvisionedThroughputExceededException", 400, "slow")
        if step == "commit_held":
            for held_operation, held_request in self.held:
                self.inner.call(held_operation, held_request)
        return self.inner.call(operation, request)

    def count(self, operation: str) -> int:
        return sum(1 for sent, _ in self.sent if sent == operation)

    def close(self) -> None:
        self.inner.close()


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    async def sleep_async(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def inner() -> Iterator[EmbeddedProvider]:
    with EmbeddedProvider() as provider:
        DynamoDBService(provider).create_table(table)
        yield provider


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest) -> str:
    """The API repository calls go through."""
    name: str = request.param
    return name


def scripted(
    inner: EmbeddedProvider,
    script: dict[str, list[Step]],
    *,
    timeout: float = 30.0,
    api: str = "sync",
) -> tuple[Any, Scripted]:
    """A service over ``script``: a DynamoDBService, or for ``api="async"`` an
    AsyncDynamoDBService behind ``Blocking`` (same options, same fake clock)."""
    provider = Scripted(inner, script)
    clock = FakeClock()
    options: dict[str, Any] = {
        "retry": RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=1.0),
        "timeout": timeout,
        "clock": clock,
    }
    if api == "async":
        threaded = ThreadedAsyncProvider(provider)  # type: ignore[arg-type]
        return Blocking(
            AsyncDynamoDBService(threaded, sleep=clock.sleep_async, **options)
        ), provider
    return DynamoDBService(provider, sleep=clock.sleep, **options), provider  # type: ignore[arg-type]


def repository(entity: type[Entity], service: Any) -> Any:
    """The repository of ``entity`` in the API ``service`` speaks."""
    if isinstance(service, Blocking):
        return Blocking(AsyncRepository(entity, service.target))
    return Repository(entity, service)


@pytest.fixture(params=["sync", "async"])
def plain_api(request: pytest.FixtureRequest) -> Callable[[DynamoDBService], Any]:
    """The plain-item API under test: the scripted service itself, or its async twin."""
    if request.param == "sync":
        return lambda service: service

    def twin(service: DynamoDBService) -> Any:
        async def sleep(seconds: float) -> None:
            service.sleep(seconds)

        return async_twin(service, sleep=sleep)

    return twin


def truth(inner: EmbeddedProvider) -> DynamoDBService:
    return DynamoDBService(inner)


def fund(inner: EmbeddedProvider, wallet_id: str, balance: str) -> None:
    Repository(Wallet, truth(inner)).create(Wallet(wallet_id=wallet_id, balance=Decimal(balance)))


def balance(inner: EmbeddedProvider, wallet_id: str) -> Decimal:
    return Repository(Wallet, truth(inner)).get_or_raise(wallet_id=wallet_id).balance


# ------------------------------------------------------------ 1. a slow commit


SLOW_COMMIT: list[Step] = ["hold", *["in_progress"] * 6, "commit_held"]


def test_a_slow_unit_of_work_commit_is_awaited_and_reported_applied(
    inner: EmbeddedProvider, units: Units
) -> None:
    fund(inner, "a", "100")
    service, provider = scripted(inner, {"TransactWriteItems": list(SLOW_COMMIT)})
    with units.unit(service) as uow:
        uow.update(Wallet, {"wallet_id": "a"}, add={"balance": Decimal("-30")})
    assert provider.count("TransactWriteItems") == len(SLOW_COMMIT)  # past max_attempts=3
    assert balance(inner, "a") == Decimal("70")


def test_a_slow_add_update_is_awaited_and_reported_applied(
    inner: EmbeddedProvider, api: str
) -> None:
    fund(inner, "a", "100")
    service, _ = scripted(inner, {"TransactWriteItems": list(SLOW_COMMIT)}, api=api)
    updated = repository(Wallet, service).update({"wallet_id": "a"}, add={"balance": Decimal(5)})
    assert updated.balance == Decimal("105")
    assert balance(inner, "a") == Decimal("105")


def test_a_commit_still_in_progress_at_the_deadline_is_unknown_with_its_token(
    inner: EmbeddedProvider, units: Units
) -> None:
    fund(inner, "a", "100")
    service, provider = scripted(
        inner, {"TransactWriteItems": ["hold", *["in_progress"] * 500]}, timeout=2.0
    )
    uow = units.unit(service, client_request_token="order-7")
    uow.update(Wallet, {"wallet_id": "a"}, add={"balance": Decimal("-30")})
    with pytest.raises(OutcomeUnknownError) as caught:
        uow.commit()
    error = caught.value
    assert not isinstance(error, TransientError)
    assert error.retryable is False
    assert error.token == "order-7"
    assert "order-7" in error.settle
    assert uow.state is UnitState.UNKNOWN and uow.error is error
    assert error.last_error.code in {ErrorCode.TRANSACTION_IN_PROGRESS, ErrorCode.TIMEOUT}
    assert provider.count("TransactWriteItems") > 3  # asked past the attempt budget
    # the held request commits later; settling with the token proves it, once
    provider.script["TransactWriteItems"] = ["commit_held"]
    assert service.settle(error) is True
    assert service.settle(error) is True
    assert balance(inner, "a") == Decimal("70")


def test_settling_a_commit_that_never_arrived_applies_it_once(
    inner: EmbeddedProvider, units: Units
) -> None:
    fund(inner, "a", "100")
    service, _ = scripted(inner, {"TransactWriteItems": ["lost_before"] * 50}, timeout=1.0)
    uow = units.unit(service)
    uow.update(Wallet, {"wallet_id": "a"}, add={"balance": Decimal("-30")})
    with pytest.raises(OutcomeUnknownError) as caught:
        uow.commit()
    assert balance(inner, "a") == Decimal("100")
    assert truth(inner).settle(caught.value) is True
    assert truth(inner).settle(caught.value) is True
    assert balance(inner, "a") == Decimal("70")


# ------------------------------------------------------------ 2. a lost create race


def test_a_create_race_lost_after_an_ambiguous_attempt_is_unknown_not_success(
    inner: EmbeddedProvider, api: str
) -> None:
    def competitor_creates_an_equal_marker() -> None:
        Repository(Marker, truth(inner)).create(Marker(message_id="m1"))

    service, _ = scripted(
        inner, {"PutItem": ["lost_before", competitor_creates_an_equal_marker]}, api=api
    )
    with pytest.raises(OutcomeUnknownError) as caught:
        repository(Marker, service).create(Marker(message_id="m1"))
    assert caught.value.token is None
    assert caught.value.last_error.code is ErrorCode.CONDITION_FAILED


def test_a_create_that_lost_no_attempt_reports_its_condition_failure(
    inner: EmbeddedProvider, api: str
) -> None:
    Repository(Marker, truth(inner)).create(Marker(message_id="m1"))
    service, _ = scripted(inner, {"PutItem": ["throttle"]}, api=api)
    with pytest.raises(ConditionFailedError):
        repository(Marker, service).create(Marker(message_id="m1"))


def test_a_create_whose_lost_attempt_was_not_applied_succeeds_on_resend(
    inner: EmbeddedProvider, api: str
) -> None:
    service, provider = scripted(inner, {"PutItem": ["lost_before"]}, api=api)
    repository(Marker, service).create(Marker(message_id="m1"))
    assert provider.count("PutItem") == 2
    assert Repository(Marker, truth(inner)).get(message_id="m1") is not None


# ------------------------------------------------------------ 3. read-back after commit


def test_a_committed_add_whose_read_back_fails_is_reported_applied(
    inner: EmbeddedProvider, api: str
) -> None:
    fund(inner, "a", "100")
    service, _ = scripted(inner, {"GetItem": ["throttle"] * 50}, api=api)
    with pytest.raises(ReadBackFailedError) as caught:
        repository(Wallet, service).update({"wallet_id": "a"}, add={"balance": Decimal(5)})
    error = caught.value
    assert not isinstance(error, TransientError)
    assert error.applied is True and error.retryable is False
    assert balance(inner, "a") == Decimal("105")


# ------------------------------------------------------------ 4. caller-token replay


MOMENT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_replaying_a_committed_unit_with_its_caller_token_reports_success_once(
    inner: EmbeddedProvider, units: Units
) -> None:
    Repository(Account, truth(inner)).create(Account(account_id="acc"))
    service = truth(inner)

    def commit_order() -> None:
        with units.unit(service, client_request_token="order-42", now=MOMENT) as uow:
            uow.update(Account, {"account_id": "acc"}, add={"credits": 5})

    commit_order()
    commit_order()  # a restart replays the step: DynamoDB answers the first commit's answer
    stored = Repository(Account, service).get_or_raise(account_id="acc", consistent=True)
    assert stored.credits == 5
    assert stored.updated_at == MOMENT


# ------------------------------------------------------------ 5. versioned set by key


def test_a_versioned_set_by_mapping_key_is_not_resent_after_a_lost_answer(
    inner: EmbeddedProvider, api: str
) -> None:
    fund(inner, "a", "100")
    service, provider = scripted(inner, {"UpdateItem": ["applied_then_lost"]}, api=api)
    with pytest.raises(OutcomeUnknownError):
        repository(Wallet, service).update({"wallet_id": "a"}, set={"balance": Decimal(7)})
    stored = Repository(Wallet, truth(inner)).get_or_raise(wallet_id="a")
    assert stored.version == 2  # created at 1, bumped once: the bump was not resent
    assert provider.count("UpdateItem") == 1


def test_a_versioned_set_by_mapping_key_is_resent_after_a_failure_before_sending(
    inner: EmbeddedProvider, api: str
) -> None:
    fund(inner, "a", "100")
    service, provider = scripted(inner, {"UpdateItem": ["throttle"]}, api=api)
    updated = repository(Wallet, service).update({"wallet_id": "a"}, set={"balance": Decimal(7)})
    assert updated.version == 2 and provider.count("UpdateItem") == 2


# ------------------------------------------------------------ 6. no blind resend


def test_a_plain_add_is_never_resent_after_a_lost_answer(
    inner: EmbeddedProvider, plain_api: Any
) -> None:
    service, provider = scripted(inner, {"UpdateItem": ["applied_then_lost"]})
    service = plain_api(service)
    truth(inner).put_item(table, {"PK": "COUNTER#c", "SK": "META", "n": 0})
    with pytest.raises(OutcomeUnknownError) as caught:
        service.update_item(table, {"PK": "COUNTER#c", "SK": "META"}, add={"n": 1})
    assert provider.count("UpdateItem") == 1
    assert caught.value.token is None
    stored = truth(inner).get_item(table, {"PK": "COUNTER#c", "SK": "META"})
    assert stored is not None and stored["n"] == 1


def test_an_add_without_a_token_is_never_resent_after_a_lost_answer(
    inner: EmbeddedProvider, api: str
) -> None:
    fund(inner, "a", "100")
    service, provider = scripted(inner, {"UpdateItem": ["applied_then_lost"]}, api=api)
    with pytest.raises(OutcomeUnknownError):
        repository(Wallet, service).update(
            {"wallet_id": "a"}, add={"balance": Decimal(5)}, idempotent=False
        )
    assert provider.count("UpdateItem") == 1
    assert balance(inner, "a") == Decimal("105")


def test_a_plain_add_is_resent_after_a_failure_before_sending(
    inner: EmbeddedProvider, plain_api: Any
) -> None:
    service, provider = scripted(inner, {"UpdateItem": ["throttle", "lost_before"]})
    service = plain_api(service)
    truth(inner).put_item(table, {"PK": "COUNTER#c", "SK": "META", "n": 0})
    with pytest.raises(OutcomeUnknownError):  # the reset may have come after DynamoDB read it
        service.update_item(table, {"PK": "COUNTER#c", "SK": "META"}, add={"n": 1})
    assert provider.count("UpdateItem") == 2


def test_an_unconditional_put_is_resent_and_reported_applied(
    inner: EmbeddedProvider, plain_api: Any
) -> None:
    service, provider = scripted(inner, {"PutItem": ["applied_then_lost", "applied_then_lost"]})
    service = plain_api(service)
    service.put_item(table, {"PK": "P#1", "SK": "META", "v": 1})
    assert provider.count("PutItem") == 3
    assert truth(inner).get_item(table, {"PK": "P#1", "SK": "META"}) == {
        "PK": "P#1",
        "SK": "META",
        "v": 1,
    }


def test_an_operation_that_ends_in_doubt_is_never_a_transient_error(
    inner: EmbeddedProvider, plain_api: Any
) -> None:
    service, _ = scripted(inner, {"PutItem": ["applied_then_lost"] * 3})
    service = plain_api(service)
    with pytest.raises(DynamoDBServiceError) as caught:
        service.put_item(table, {"PK": "P#1", "SK": "META"})
    assert caught.value.code is ErrorCode.OUTCOME_UNKNOWN
    assert not isinstance(caught.value, TransientError)
