"""Each wrong outcome the call boundary once reported, over HTTP through the fault proxy.

The proxy sits in front of moto server and keeps DynamoDB's ClientRequestToken rules
(replay -> first answer, in flight -> TransactionInProgress), so a slow commit, a reset
before or after forwarding and a lost answer happen on the wire as they do on AWS. What
the caller is told is checked against what moto really stores. Repository calls are
checked through the sync and the async API (``repository``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from tctf_dynamo import (
    AsyncUnitOfWork,
    DynamoDBServiceError,
    Entity,
    ErrorCode,
    OutcomeUnknownError,
    ReadBackFailedError,
    Repository,
    Table,
    TransientError,
    UnitOfWork,
    UnitState,
)
from tctf_dynamo.aio import AsyncDynamoDBService, AsyncRepository
from tests.aio_support import Blocking
from tests.faultproxy import RESET_AFTER, RESET_BEFORE, THROTTLE, Fault, FaultProxy, RequestInfo
from tests.server.outcome_fixtures import CREDENTIALS, PATIENT, SLOW_COMMIT, through, truth
from tests.uow_apis import AsyncUnits, SyncUnits, async_twin, units

__all__ = ["units"]  # the fixture: units of work below run on both APIs
Units = SyncUnits | AsyncUnits

pytestmark = pytest.mark.server


def build(table_name: str) -> SimpleNamespace:
    table = Table(table_name)

    class Wallet(Entity, table=table, pk="WALLET#{wallet_id}", sk="META", version="version"):
        wallet_id: str
        balance: Decimal = Decimal(0)
        version: int = 0

    class Marker(Entity, table=table, pk="MSG#{message_id}", sk="MARKER"):
        message_id: str

    class Account(Entity, table=table, pk="ACCOUNT#{account_id}", sk="META", timestamps=True):
        account_id: str
        credits: int = 0

    return SimpleNamespace(table=table, Wallet=Wallet, Marker=Marker, Account=Account)


@pytest.fixture
def world(
    fault_proxy: FaultProxy, moto_endpoint: str, table_name: str
) -> Iterator[SimpleNamespace]:
    models = build(table_name)
    clean = truth(moto_endpoint)
    clean.create_table(models.table)
    service = through(fault_proxy.endpoint)
    service.key_schema(models.table)
    yield SimpleNamespace(models=models, clean=clean, service=service, proxy=fault_proxy)
    fault_proxy.wait_idle(10)
    clean.delete_table(models.table, missing_ok=True)
    service.close()
    clean.close()


@pytest.fixture(params=["sync", "async"])
def repository(
    request: pytest.FixtureRequest, world: SimpleNamespace
) -> Iterator[Callable[[type[Entity]], Any]]:
    """Repositories through the proxy, in the sync API or the async one (the latter on
    the real async transport, ``AsyncDynamoDBService.from_endpoint``)."""
    if request.param == "sync":
        yield lambda entity: Repository(entity, world.service)
        return
    twin = AsyncDynamoDBService.from_endpoint(
        world.proxy.endpoint, retry=PATIENT, timeout=6.0, **CREDENTIALS
    )
    with asyncio.Runner() as runner:
        runner.run(twin.key_schema(world.models.table))
        yield lambda entity: Blocking(AsyncRepository(entity, twin), runner)
        runner.run(twin.close())


def balance(world: SimpleNamespace, wallet_id: str) -> Decimal:
    wallets = Repository(world.models.Wallet, world.clean)
    found: Decimal = wallets.get_or_raise(wallet_id=wallet_id, consistent=True).balance
    return found


def fund(world: SimpleNamespace, wallet_id: str, amount: str) -> None:
    Repository(world.models.Wallet, world.clean).create(
        world.models.Wallet(wallet_id=wallet_id, balance=Decimal(amount))
    )


def test_a_slow_commit_is_awaited_not_reported_failed(world: SimpleNamespace, units: Units) -> None:
    fund(world, "a", "100")
    world.proxy.fail_next("TransactWriteItems", Fault.delay_before(SLOW_COMMIT))
    with units.unit(world.service) as uow:
        uow.update(world.models.Wallet, {"wallet_id": "a"}, add={"balance": Decimal("-30")})
    assert world.proxy.stats("TransactWriteItems").in_progress >= 1
    assert balance(world, "a") == Decimal("70")


def test_a_slow_add_update_is_awaited_not_reported_failed(
    world: SimpleNamespace, repository: Any
) -> None:
    fund(world, "a", "100")
    world.proxy.fail_next("TransactWriteItems", Fault.delay_before(SLOW_COMMIT))
    wallets = repository(world.models.Wallet)
    assert wallets.update({"wallet_id": "a"}, add={"balance": Decimal(5)}).balance == 105
    assert balance(world, "a") == Decimal("105")


@pytest.mark.parametrize("settle_by", ["service.settle", "commit again"])
def test_a_commit_in_doubt_at_the_deadline_is_unknown_and_settles(
    world: SimpleNamespace, fault_proxy: FaultProxy, units: Units, settle_by: str
) -> None:
    fund(world, "a", "100")
    impatient = through(fault_proxy.endpoint, timeout=0.9)
    fault_proxy.fail_next("TransactWriteItems", Fault.delay_before(SLOW_COMMIT))
    uow = units.unit(impatient, client_request_token="order-http-1")
    uow.update(world.models.Wallet, {"wallet_id": "a"}, add={"balance": Decimal("-30")})
    with pytest.raises(OutcomeUnknownError) as caught:
        uow.commit()
    assert not isinstance(caught.value, TransientError)
    assert caught.value.token == "order-http-1"
    assert uow.state is UnitState.UNKNOWN and uow.error is caught.value
    fault_proxy.wait_idle(10)  # the held commit lands
    if settle_by == "service.settle":
        assert world.service.settle(caught.value) is True
    else:  # the unit replays its identical request: DynamoDB answers the first answer
        replayed = fault_proxy.stats("TransactWriteItems").replayed
        assert all(result.applied for result in uow.commit())
        assert uow.state is UnitState.COMMITTED
        assert fault_proxy.stats("TransactWriteItems").replayed == replayed + 1
    assert balance(world, "a") == Decimal("70")  # once
    impatient.close()


def test_a_lost_create_race_is_unknown_never_success(
    world: SimpleNamespace, repository: Any
) -> None:
    Marker = world.models.Marker
    competitor = Repository(Marker, world.clean)
    raced = False

    def competitor_wins_then_reset(info: RequestInfo) -> Fault | None:
        nonlocal raced
        if info.operation == "PutItem" and not raced:
            raced = True
            competitor.create(Marker(message_id="m1"))  # an equal item, by someone else
            return RESET_BEFORE
        return None

    world.proxy.set_rule(competitor_wins_then_reset)
    with pytest.raises(OutcomeUnknownError) as caught:
        repository(Marker).create(Marker(message_id="m1"))
    assert caught.value.last_error.code is ErrorCode.CONDITION_FAILED


def test_a_committed_add_whose_read_back_fails_is_reported_applied(
    world: SimpleNamespace,
    repository: Any,
) -> None:
    fund(world, "a", "100")
    world.proxy.set_rule(lambda info: THROTTLE if info.operation == "GetItem" else None)
    with pytest.raises(ReadBackFailedError) as caught:
        repository(world.models.Wallet).update({"wallet_id": "a"}, add={"balance": Decimal(5)})
    assert caught.value.applied is True and not isinstance(caught.value, TransientError)
    world.proxy.set_rule(None)
    assert balance(world, "a") == Decimal("105")


def test_a_caller_token_replay_of_a_timestamped_unit_reports_success(
    world: SimpleNamespace, units: Units
) -> None:
    Account = world.models.Account
    Repository(Account, world.clean).create(Account(account_id="acc"))
    placed_at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    for _ in range(2):
        with units.unit(world.service, client_request_token="order-99", now=placed_at) as uow:
            uow.update(Account, {"account_id": "acc"}, add={"credits": 5})
    assert world.proxy.stats("TransactWriteItems").replayed == 1
    stored = Repository(Account, world.clean).get_or_raise(account_id="acc", consistent=True)
    assert (stored.credits, stored.updated_at) == (5, placed_at)


def test_a_versioned_set_by_key_is_not_resent_after_a_lost_answer(
    world: SimpleNamespace,
    repository: Any,
) -> None:
    fund(world, "a", "100")
    world.proxy.fail_next("UpdateItem", RESET_AFTER)
    wallets = repository(world.models.Wallet)
    with pytest.raises(OutcomeUnknownError):
        wallets.update({"wallet_id": "a"}, set={"balance": Decimal(7)})
    stored = Repository(world.models.Wallet, world.clean).get_or_raise(wallet_id="a")
    assert stored.version == 2  # bumped once, never twice
    assert world.proxy.stats("UpdateItem").arrived == 1


def test_a_plain_add_is_never_resent_after_a_lost_answer(world: SimpleNamespace) -> None:
    key: dict[str, Any] = {"PK": "COUNTER#c", "SK": "META"}
    world.clean.put_item(world.models.table, {**key, "n": 0})
    world.proxy.fail_next("UpdateItem", RESET_AFTER)
    with pytest.raises(OutcomeUnknownError):
        world.service.update_item(world.models.table, key, add={"n": 1})
    assert world.proxy.stats("UpdateItem").arrived == 1
    stored = world.clean.get_item(world.models.table, key, consistent=True)
    assert stored is not None and stored["n"] == 1


def test_a_token_used_for_another_request_is_refused_with_its_own_code(
    world: SimpleNamespace,
) -> None:
    fund(world, "a", "100")
    Wallet = world.models.Wallet
    with UnitOfWork(world.service, client_request_token="order-7") as uow:
        uow.update(Wallet, {"wallet_id": "a"}, add={"balance": Decimal("-30")})
    other = UnitOfWork(world.service, client_request_token="order-7")
    other.update(Wallet, {"wallet_id": "a"}, add={"balance": Decimal("-31")})
    with pytest.raises(DynamoDBServiceError) as caught:
        other.commit()
    assert caught.value.code is ErrorCode.IDEMPOTENT_PARAMETER_MISMATCH
    assert not caught.value.retryable and not isinstance(caught.value, TransientError)
    assert "NOT applied" in caught.value.message
    assert world.proxy.stats("TransactWriteItems").arrived == 2  # refused once, not retried
    assert balance(world, "a") == Decimal("70")


def test_a_mismatch_after_a_lost_answer_proves_this_request_was_not_applied(
    world: SimpleNamespace,
) -> None:
    """Our first attempt is lost on the way; the resend meets the token held by another
    request. Had our first attempt claimed the token, the resend would get its replay: so
    this request was not applied, and is reported so, not as unknown."""
    fund(world, "a", "100")
    Wallet = world.models.Wallet
    with UnitOfWork(world.service, client_request_token="order-8") as uow:
        uow.update(Wallet, {"wallet_id": "a"}, add={"balance": Decimal("-30")})
    world.proxy.fail_next("TransactWriteItems", RESET_BEFORE)
    other = UnitOfWork(world.service, client_request_token="order-8")
    other.update(Wallet, {"wallet_id": "a"}, add={"balance": Decimal("-31")})
    with pytest.raises(DynamoDBServiceError) as caught:
        other.commit()
    assert caught.value.code is ErrorCode.IDEMPOTENT_PARAMETER_MISMATCH
    assert world.proxy.stats("TransactWriteItems").mismatched == 1
    assert balance(world, "a") == Decimal("70")


def test_a_delete_whose_answer_is_lost_never_claims_there_was_nothing_to_delete(
    world: SimpleNamespace,
) -> None:
    Marker = world.models.Marker
    Repository(Marker, world.clean).create(Marker(message_id="gone"))
    world.proxy.fail_next("DeleteItem", RESET_AFTER)
    with pytest.raises(OutcomeUnknownError) as caught:
        Repository(Marker, world.service).delete({"message_id": "gone"})
    assert caught.value.details["applied"] is True
    assert caught.value.last_error.code is ErrorCode.CONNECTION_ERROR
    assert world.proxy.stats("DeleteItem").forwarded == 2  # the resend found nothing
    assert Repository(Marker, world.clean).get(message_id="gone", consistent=True) is None


def test_a_delete_resent_after_a_throttle_returns_what_it_deleted(world: SimpleNamespace) -> None:
    Marker = world.models.Marker
    Repository(Marker, world.clean).create(Marker(message_id="m2"))
    world.proxy.fail_next("DeleteItem", THROTTLE)  # answered, nothing applied: no doubt
    deleted = Repository(Marker, world.service).delete({"message_id": "m2"})
    assert deleted is not None and deleted.message_id == "m2"
    assert world.proxy.stats("DeleteItem").arrived == 2


def test_a_put_returning_old_values_after_a_lost_answer_never_returns_its_own_item(
    world: SimpleNamespace,
) -> None:
    key: dict[str, Any] = {"PK": "DOC#p", "SK": "META"}
    world.clean.put_item(world.models.table, {**key, "v": 1})
    world.proxy.fail_next("PutItem", RESET_AFTER)
    with pytest.raises(OutcomeUnknownError) as caught:
        world.service.put_item(world.models.table, {**key, "v": 2}, return_old=True)
    assert caught.value.details["applied"] is True
    stored = world.clean.get_item(world.models.table, key, consistent=True)
    assert stored is not None and stored["v"] == 2


def test_a_delete_without_old_values_after_a_lost_answer_is_applied(
    world: SimpleNamespace,
) -> None:
    key: dict[str, Any] = {"PK": "DOC#q", "SK": "META"}
    world.clean.put_item(world.models.table, {**key, "v": 1})
    world.proxy.fail_next("DeleteItem", RESET_AFTER)
    assert world.service.delete_item(world.models.table, key) is None
    assert world.clean.get_item(world.models.table, key, consistent=True) is None


def test_a_token_protected_create_whose_answer_is_lost_is_proven_ours(
    world: SimpleNamespace,
) -> None:
    Marker = world.models.Marker
    world.proxy.fail_next("TransactWriteItems", RESET_AFTER)  # created, answer lost
    created = Repository(Marker, world.service).create(Marker(message_id="t1"), idempotent=True)
    assert created.message_id == "t1"
    assert world.proxy.stats("TransactWriteItems").replayed == 1  # the resend's proof
    assert Repository(Marker, world.clean).get(message_id="t1", consistent=True) is not None


def test_a_token_protected_create_that_lost_the_race_is_not_applied_never_unknown(
    world: SimpleNamespace,
) -> None:
    Marker = world.models.Marker
    competitor = Repository(Marker, world.clean)
    raced = False

    def competitor_wins_then_reset(info: RequestInfo) -> Fault | None:
        nonlocal raced
        if info.operation == "TransactWriteItems" and not raced:
            raced = True
            competitor.create(Marker(message_id="t2"))  # an equal item, by someone else
            return RESET_BEFORE
        return None

    world.proxy.set_rule(competitor_wins_then_reset)
    with pytest.raises(DynamoDBServiceError) as caught:
        Repository(Marker, world.service).create(Marker(message_id="t2"), idempotent=True)
    assert caught.value.code is ErrorCode.CONDITION_FAILED
    assert not isinstance(caught.value, OutcomeUnknownError)


@pytest.mark.parametrize("hold", ["request", "answer"])
def test_a_commit_cancelled_in_flight_is_unknown_and_its_replay_applies_once(
    world: SimpleNamespace, hold: str
) -> None:
    """An async commit on the real transport whose task is cancelled while the proxy holds
    its request (or, already applied, its answer): the unit is UNKNOWN with its token; once
    the held request commits, committing the unit again replays it (the proxy answers the
    first answer) and the wallet is debited once."""
    fund(world, "a", "100")
    held = Fault.delay_before(SLOW_COMMIT) if hold == "request" else Fault.delay_after(SLOW_COMMIT)
    world.proxy.fail_next("TransactWriteItems", held)
    service = async_twin(world.service)

    async def scenario() -> None:
        uow = AsyncUnitOfWork(service, client_request_token="order-cancel-1")
        uow.update(world.models.Wallet, {"wallet_id": "a"}, add={"balance": Decimal("-30")})
        task = asyncio.create_task(uow.commit())
        while world.proxy.stats("TransactWriteItems").arrived == 0:
            await asyncio.sleep(0.01)  # until the request is on the wire
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert uow.state is UnitState.UNKNOWN
        assert isinstance(uow.error, OutcomeUnknownError)
        assert uow.error.token == "order-cancel-1"
        assert uow.error.last_error.code is ErrorCode.INTERRUPTED
        await asyncio.to_thread(world.proxy.wait_idle, 10)  # the held commit lands
        assert all(result.applied for result in await uow.commit())
        assert uow.state is UnitState.COMMITTED

    asyncio.run(scenario())
    assert world.proxy.stats("TransactWriteItems").replayed == 1
    assert balance(world, "a") == Decimal("70")  # once


def test_a_put_cancelled_while_its_answer_is_held_propagates_and_leaves_the_pool_clean(
    world: SimpleNamespace,
) -> None:
    """An async put on the real transport whose task is cancelled after the proxy applied
    it and while it holds the answer: the cancellation propagates (a plain put keeps no
    record to mark unknown), the server holds the item, and the service's next call on the
    same connection pool gets its own answer, never the abandoned one."""
    Marker = world.models.Marker
    world.proxy.fail_next("PutItem", Fault.delay_after(SLOW_COMMIT))
    service = AsyncDynamoDBService.from_endpoint(
        world.proxy.endpoint, retry=PATIENT, timeout=6.0, max_workers=1, **CREDENTIALS
    )

    async def scenario() -> Marker:
        markers = AsyncRepository(Marker, service)
        task = asyncio.create_task(markers.put(Marker(message_id="held")))
        while world.proxy.stats("PutItem").forwarded == 0:
            await asyncio.sleep(0.01)  # applied by the server, its answer held
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await markers.put(Marker(message_id="next"))
        found = await markers.get(message_id="held", consistent=True)
        await service.close()
        return found

    assert asyncio.run(scenario()) is not None  # the cancelled put was applied
    assert world.proxy.stats("PutItem").arrived == 2  # the cancelled one was never resent
    assert Repository(Marker, world.clean).get(message_id="next", consistent=True) is not None
