"""Escrow release: money leaves the escrow and reaches the payee in one transaction.

Releasing a milestone's payment does five things that must happen together or not at
all: check the payee's account is ACTIVE (a ConditionCheck), debit the
escrow on condition that it is still FUNDED (and mark it RELEASED), credit the payee's
wallet, approve the milestone, and write an audit entry.

The escrow's condition is what makes a release happen once: a second release, or any of
several racing releases but the first, is cancelled with the reason on the escrow
intent, and no balance moves. The escrow's condition lives on its own update because a
transaction may touch each item once (a ConditionCheck on the escrow *and* an update of
it would be refused as a duplicate before anything is sent).

Run: ``python -m examples.escrow_release``
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

import attrs

from tctf_dynamo import (
    DynamoDBService,
    Entity,
    ErrorCode,
    Repository,
    Table,
    TransactionCancelledError,
    attr,
)
from tctf_dynamo.uow import UnitOfWork, read_together

table = Table("example-escrow")


class Escrow(Entity, table=table, pk="ESCROW#{escrow_id}", sk="META", version="version"):
    escrow_id: str
    payee_id: str
    balance: Decimal
    status: Literal["FUNDED", "RELEASED"] = "FUNDED"


class Milestone(Entity, table=table, pk="ESCROW#{escrow_id}", sk="MILESTONE#{milestone_id}"):
    escrow_id: str
    milestone_id: str
    amount: Decimal
    approved: bool = False


class Account(Entity, table=table, pk="USER#{user_id}", sk="ACCOUNT"):
    user_id: str
    status: Literal["ACTIVE", "SUSPENDED"] = "ACTIVE"


class Wallet(Entity, table=table, pk="USER#{user_id}", sk="WALLET"):
    user_id: str
    balance: Decimal = Decimal(0)


class AuditEntry(Entity, table=table, pk="ESCROW#{escrow_id}", sk="AUDIT#{at}#{audit_id}"):
    escrow_id: str
    audit_id: str
    at: datetime
    action: str
    amount: Decimal


def release(service: DynamoDBService, escrow: Escrow, milestone: Milestone) -> UnitOfWork:
    """Pay ``milestone`` out of ``escrow`` to the payee, once; raises if already paid."""
    with UnitOfWork(service, return_failed_items=True) as uow:
        uow.condition_check(Account, {"user_id": escrow.payee_id}, attr("status") == "ACTIVE")
        uow.update(
            Escrow,
            {"escrow_id": escrow.escrow_id},
            add={"balance": -milestone.amount},
            set={"status": "RELEASED"},
            condition=(attr("status") == "FUNDED") & (attr("balance") >= milestone.amount),
        )
        uow.update(Wallet, {"user_id": escrow.payee_id}, add={"balance": milestone.amount})
        uow.update(Milestone, milestone, set={"approved": True})
        uow.create(
            AuditEntry(
                escrow_id=escrow.escrow_id,
                audit_id=uuid.uuid4().hex,
                at=datetime.now(UTC),
                action="RELEASED",
                amount=milestone.amount,
            )
        )
    return uow


@attrs.frozen
class Outcome:
    """What the demo observed; the tests assert on it."""

    second_release_reasons: list[tuple[int, str, str | None]]
    balances_after_first: tuple[Decimal, Decimal]
    balances_after_second: tuple[Decimal, Decimal]
    race_winners: int
    race_losers: int
    race_total_before: Decimal
    race_total_after: Decimal


def main(service: DynamoDBService | None = None, *, racers: int = 10) -> Outcome:
    """Release once, try again, then let ``racers`` threads race for another escrow."""
    service = service or DynamoDBService.embedded()
    service.create_table(table)
    escrow, milestone = _fund(service, "e1", "payee-1", Decimal("250.00"))
    print(f"escrow {escrow.escrow_id} FUNDED with {escrow.balance} for {escrow.payee_id}")

    release(service, escrow, milestone)
    after_first = _balances(service, escrow)
    print(f"released: escrow {after_first[0]}, payee wallet {after_first[1]}")

    reasons: list[tuple[int, str, str | None]] = []
    try:
        release(service, escrow, milestone)
    except TransactionCancelledError as error:
        reasons = [
            (r.index, r.entity or "", r.code.value if r.code else None) for r in error.reasons
        ]
        failed = error.failed[0]
        current = failed.item.status if isinstance(failed.item, Escrow) else "?"
        print(f"second release refused: {error.message} (escrow is {current})")
    after_second = _balances(service, escrow)
    print(f"balances unchanged: escrow {after_second[0]}, payee wallet {after_second[1]}")

    print(f"{racers} threads race to release escrow e2")
    race = _race(service, threads=racers)
    print(f"  winners {race[0]}, losers {race[1]}, money before {race[2]}, after {race[3]}")
    return Outcome(reasons, after_first, after_second, *race)


def _fund(
    service: DynamoDBService, escrow_id: str, payee_id: str, amount: Decimal
) -> tuple[Escrow, Milestone]:
    escrow = Escrow(escrow_id=escrow_id, payee_id=payee_id, balance=amount)
    milestone = Milestone(escrow_id=escrow_id, milestone_id="m1", amount=amount)
    with UnitOfWork(service) as uow:
        uow.create(escrow)
        uow.create(milestone)
        uow.put(Account(user_id=payee_id))
        uow.put(Wallet(user_id=payee_id))
    return escrow, milestone


def _balances(service: DynamoDBService, escrow: Escrow) -> tuple[Decimal, Decimal]:
    """Escrow and payee balances as of one moment (one TransactGetItems)."""
    found, wallet = read_together(
        service, [(Escrow, {"escrow_id": escrow.escrow_id}), (Wallet, {"user_id": escrow.payee_id})]
    )
    if not isinstance(found, Escrow) or not isinstance(wallet, Wallet):
        raise LookupError("the escrow or the payee's wallet is missing")
    return found.balance, wallet.balance


def _race(service: DynamoDBService, threads: int) -> tuple[int, int, Decimal, Decimal]:
    escrow, milestone = _fund(service, "e2", "payee-2", Decimal("99.99"))
    before = sum(_balances(service, escrow), Decimal(0))
    start = threading.Barrier(threads)
    outcomes: list[str] = []

    def attempt() -> None:
        start.wait()
        try:
            release(service, escrow, milestone)
            outcomes.append("won")
        except TransactionCancelledError as error:
            escrow_refused = any(
                r.entity == "Escrow" and r.code is ErrorCode.CONDITION_FAILED for r in error.failed
            )
            outcomes.append("lost" if escrow_refused else "error")

    workers = [threading.Thread(target=attempt) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    after = sum(_balances(service, escrow), Decimal(0))
    audits = Repository(AuditEntry, service).query(escrow_id=escrow.escrow_id).all()
    if len(audits) != outcomes.count("won"):
        raise RuntimeError("audit entries do not match the releases")
    return outcomes.count("won"), outcomes.count("lost"), before, after


if __name__ == "__main__":
    main()
