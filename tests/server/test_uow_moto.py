"""Units of work over HTTP against moto server, the local backend that has transactions.

Not run on dynalite: it implements no TransactWriteItems / TransactGetItems at all, so
there is nothing of a unit of work it could serve (``atomic=False`` aside, which the
batch and repository suites already cover there).

moto server ignores ClientRequestToken, so the ambiguous-failure case (a retry after a
timeout must not apply twice) is tested on the embedded backend, which honours tokens
as DynamoDB does; here the token is only checked to be sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest

from examples import escrow_release, mfa_setup, session_lru
from tctf_dynamo import (
    DynamoDBService,
    Entity,
    ErrorCode,
    InvalidInputError,
    RecordingProvider,
    Table,
    TransactionCancelledError,
    attr,
)
from tctf_dynamo.uow import UnitOfWork
from tests import servers
from tests.uow_apis import AsyncUnits, SyncUnits, units

__all__ = ["units"]  # the fixture: units of work below run on both APIs
Units = SyncUnits | AsyncUnits

pytestmark = pytest.mark.server

table = Table(f"uow-moto-{uuid.uuid4().hex[:8]}")


class Wallet(Entity, table=table, pk="USER#{user_id}", sk="WALLET", version="version"):
    user_id: str
    balance: Decimal = Decimal(0)
    version: int = 0


class Ledger(Entity, table=table, pk="USER#{user_id}", sk="LEDGER#{entry_id}"):
    user_id: str
    entry_id: str
    amount: Decimal


def _connect(endpoint: str) -> DynamoDBService:
    return DynamoDBService.from_endpoint(
        endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


@pytest.fixture
def service(moto_endpoint: str) -> Iterator[DynamoDBService]:
    servers.reset_moto(moto_endpoint)
    with _connect(moto_endpoint) as connected:
        connected.create_table(table)
        yield connected


def test_a_commit_applies_every_intent(service: DynamoDBService, units: Units) -> None:
    with units.unit(service) as uow:
        uow.create(Wallet(user_id="a", balance=Decimal(10)))
        uow.create(Wallet(user_id="b"))
        uow.create(Ledger(user_id="a", entry_id="e1", amount=Decimal(10)))
    found = units.read_together(
        service,
        [
            (Wallet, {"user_id": "a"}),
            (Ledger, {"user_id": "a", "entry_id": "e1"}),
            (Wallet, {"user_id": "zz"}),
        ],
    )
    assert isinstance(found[0], Wallet) and found[0].version == 1
    assert isinstance(found[1], Ledger) and found[1].amount == Decimal(10)
    assert found[2] is None


def test_reasons_from_the_server_are_aligned_to_the_intents(
    service: DynamoDBService, units: Units
) -> None:
    with UnitOfWork(service) as setup:
        setup.create(Wallet(user_id="a", balance=Decimal(5)))
    uow = units.unit(service, return_failed_items=True)
    uow.create(Ledger(user_id="a", entry_id="e2", amount=Decimal(7)))
    uow.update(
        Wallet, {"user_id": "a"}, add={"balance": Decimal(-7)}, condition=attr("balance") >= 7
    )
    with pytest.raises(TransactionCancelledError) as caught:
        uow.commit()
    reasons = caught.value.reasons
    assert [(r.index, r.operation, r.entity, r.code) for r in reasons] == [
        (0, "Put", "Ledger", None),
        (1, "Update", "Wallet", ErrorCode.CONDITION_FAILED),
    ]
    assert reasons[1].item == Wallet(user_id="a", balance=Decimal(5), version=1)


def test_the_token_is_sent_and_the_limits_hold_before_sending(
    moto_endpoint: str, units: Units
) -> None:
    servers.reset_moto(moto_endpoint)
    with _connect(moto_endpoint) as plain:
        plain.create_table(table)
        recording = RecordingProvider(plain.provider)
        service = DynamoDBService(recording)
        service.create_table(table)
        recording.clear()
        uow = units.unit(service)
        uow.create(Wallet(user_id="t1"))
        with pytest.raises(InvalidInputError):
            uow.delete(Wallet, {"user_id": "t1"})
        uow.commit()
        (sent,) = recording.requests("TransactWriteItems")
        assert sent["ClientRequestToken"] == uow.client_request_token


def test_the_transaction_examples_run_against_moto_server(moto_endpoint: str) -> None:
    """One racer each: moto server does not isolate concurrent transactions (two racing
    releases can both debit the escrow, and a transaction can apply in part), so the
    races themselves run on the embedded backend, which serializes them as DynamoDB does."""
    servers.reset_moto(moto_endpoint)
    with _connect(moto_endpoint) as service:
        escrow = escrow_release.main(service, racers=1)
        mfa = mfa_setup.main(service)
        sessions = session_lru.main(service, racers=1)
    assert escrow.second_release_reasons[1] == (1, "Escrow", "CONDITION_FAILED")
    assert escrow.race_winners == 1
    assert escrow.race_total_after == escrow.race_total_before
    assert mfa.mfa_enabled and mfa.events_after_stale_attempt == 1
    assert sessions.counter == len(sessions.session_ids) == session_lru.MAX_SESSIONS
    assert sessions.max_seen <= session_lru.MAX_SESSIONS
