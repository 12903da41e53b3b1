"""Units of work end to end on the embedded backend: idempotent retries, money conserved."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from tctf_dynamo import (
    DynamoDBService,
    EmbeddedProvider,
    Entity,
    ErrorCode,
    MockProvider,
    OutcomeUnknownError,
    RecordingProvider,
    Repository,
    RetryPolicy,
    Table,
    TransactionCancelledError,
    attr,
)
from tctf_dynamo.providers.base import Provider, Request, Response
from tctf_dynamo.testing.faults import FaultInjectingProvider, FaultRates
from tctf_dynamo.uow import UnitOfWork, read_together
from tests.uow_apis import AsyncUnits, SyncUnits, units

Units = SyncUnits | AsyncUnits  # the fixture `units`: these units run on both APIs
__all__ = ["units"]


table = Table("uow-embedded")


class Wallet(Entity, table=table, pk="USER#{user_id}", sk="WALLET", version="version"):
    user_id: str
    balance: Decimal = Decimal(0)
    version: int = 0


def _service(provider: Provider, **options: Any) -> DynamoDBService:
    service = DynamoDBService(provider, sleep=lambda _s: None, **options)
    service.create_table(table)
    return service


@pytest.fixture
def embedded() -> Iterator[EmbeddedProvider]:
    with EmbeddedProvider() as provider:
        yield provider


def _fund(service: DynamoDBService, balances: dict[str, Decimal]) -> None:
    with UnitOfWork(service) as uow:
        for user, balance in balances.items():
            uow.create(Wallet(user_id=user, balance=balance))


def _balance(service: DynamoDBService, user: str) -> Decimal:
    wallet = Repository(Wallet, service).get(user_id=user, consistent=True)
    assert wallet is not None
    return wallet.balance


def test_every_attempt_timing_out_after_commit_still_applies_once(
    embedded: EmbeddedProvider, units: Units
) -> None:
    _fund(_service(embedded), {"a": Decimal(100), "b": Decimal(0)})
    faulty = FaultInjectingProvider(
        embedded, seed=3, rates={"TransactWriteItems": FaultRates(timeout_after=1.0)}
    )
    recording = RecordingProvider(faulty)
    service = _service(recording, retry=RetryPolicy(max_attempts=4))
    uow = units.unit(service)
    uow.update(Wallet, {"user_id": "a"}, add={"balance": Decimal(-30)})
    uow.update(Wallet, {"user_id": "b"}, add={"balance": Decimal(30)})
    with pytest.raises(OutcomeUnknownError) as caught:
        uow.commit()  # the caller never hears back: every answer was lost
    assert caught.value.last_error.code is ErrorCode.TIMEOUT
    assert caught.value.token == uow.client_request_token
    sent = recording.requests("TransactWriteItems")
    assert len(sent) == 4
    assert {request["ClientRequestToken"] for request in sent} == {uow.client_request_token}
    assert (_balance(service, "a"), _balance(service, "b")) == (Decimal(70), Decimal(30))
    settler = _service(embedded)
    assert settler.settle(caught.value) is True  # the replay proves it applied, once
    assert (_balance(service, "a"), _balance(service, "b")) == (Decimal(70), Decimal(30))


def test_without_the_token_the_same_retries_would_apply_every_time(
    embedded: EmbeddedProvider,
) -> None:
    """The contrast that makes the token necessary: resending without it re-applies."""
    service = _service(embedded)
    _fund(service, {"a": Decimal(100)})
    uow = UnitOfWork(service)
    uow.update(Wallet, {"user_id": "a"}, add={"balance": Decimal(-30)})
    action = uow.intents[0].transact_item(return_failed_items=False)
    for _ in range(3):
        service.execute("TransactWriteItems", {"TransactItems": [action]})
    assert _balance(service, "a") == Decimal(10)
    uow.discard()


def test_a_timeout_after_commit_on_the_first_attempt_is_a_success(
    embedded: EmbeddedProvider, units: Units
) -> None:
    _fund(_service(embedded), {"a": Decimal(100), "b": Decimal(0)})

    faulty = FaultInjectingProvider(
        embedded, seed=1, rates={"TransactWriteItems": FaultRates(timeout_after=1.0)}
    )
    transacts = 0

    def route(operation: str, request: Request) -> Response:
        """The first TransactWriteItems goes through the faults, the rest straight on."""
        nonlocal transacts
        if operation == "TransactWriteItems":
            transacts += 1
            if transacts == 1:
                return faulty.call(operation, request)
        return embedded.call(operation, request)

    service = _service(MockProvider(route))
    with units.unit(service) as uow:
        uow.update(Wallet, {"user_id": "a"}, add={"balance": Decimal(-40)})
        uow.update(Wallet, {"user_id": "b"}, add={"balance": Decimal(40)})
    assert faulty.injected["timeout_after"] == 1
    assert transacts == 2
    assert uow.state.name == "COMMITTED"
    found = units.read_together(service, [(Wallet, {"user_id": "a"}), (Wallet, {"user_id": "b"})])
    assert [w.balance for w in found if isinstance(w, Wallet)] == [Decimal(60), Decimal(40)]


def _transfer(service: DynamoDBService, source: str, target: str, amount: Decimal) -> None:
    """Move ``amount``; cancelled at intent 0 when the source lacks it."""
    with UnitOfWork(service) as uow:
        uow.update(
            Wallet,
            {"user_id": source},
            add={"balance": -amount},
            condition=attr("balance") >= amount,
        )
        uow.update(Wallet, {"user_id": target}, add={"balance": amount})


def test_concurrent_transfers_conserve_money_and_never_overdraw(
    embedded: EmbeddedProvider,
) -> None:
    service = _service(embedded)
    users = ["w0", "w1", "w2", "w3"]
    _fund(service, {user: Decimal(50) for user in users})
    refused: list[int] = []
    unexpected: list[BaseException] = []
    start = threading.Barrier(6)

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        start.wait()
        for _ in range(15):
            source, target = rng.sample(users, 2)
            try:
                _transfer(service, source, target, Decimal(rng.randint(1, 40)))
            except TransactionCancelledError as error:
                failed = [(r.index, r.code) for r in error.failed]
                if failed != [(0, ErrorCode.CONDITION_FAILED)]:
                    unexpected.append(error)
                refused.append(seed)
            except BaseException as error:  # surfaced below: a thread cannot fail the test
                unexpected.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert unexpected == []
    found = read_together(service, [(Wallet, {"user_id": user}) for user in users])
    balances = [wallet.balance for wallet in found if isinstance(wallet, Wallet)]
    assert len(balances) == len(users)
    assert sum(balances) == Decimal(200)
    assert all(balance >= 0 for balance in balances)
    assert refused  # some transfers met an empty wallet: the guard was exercised


def test_optimistic_locking_inside_a_unit_of_work(embedded: EmbeddedProvider, units: Units) -> None:
    service = _service(embedded)
    _fund(service, {"a": Decimal(10)})
    read = Repository(Wallet, service).get_or_raise(user_id="a")
    with units.unit(service) as first:
        first.put(read.model_copy(update={"balance": Decimal(11)}))
    assert isinstance(first.committed[0], Wallet) and first.committed[0].version == 2
    with pytest.raises(TransactionCancelledError) as caught, units.unit(service) as second:
        second.create(Wallet(user_id="fresh"))
        second.put(read.model_copy(update={"balance": Decimal(99)}))  # read at version 1
    assert [(r.index, r.code) for r in caught.value.reasons] == [
        (0, None),
        (1, ErrorCode.CONDITION_FAILED),
    ]
    assert _balance(service, "a") == Decimal(11)
    assert Repository(Wallet, service).get(user_id="fresh") is None
