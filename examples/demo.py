"""A short tour on the embedded backend: no server, no AWS credentials.

Defines two entities in one table, writes, reads, queries a partition, commits a
transaction, and shows what a refused request looks like. Run: ``make demo``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal

from tctf_dynamo import (
    GSI,
    ConditionFailedError,
    DynamoDBService,
    DynamoDBServiceError,
    Entity,
    Repository,
    Table,
    TransactionCancelledError,
    UnitOfWork,
    attr,
)

table = Table("demo-platform", indexes=[GSI("GSI1")])


class Account(
    Entity,
    table=table,
    pk="ACCOUNT#{account_id}",
    sk="PROFILE",
    gsi1=("EMAIL#{email}", "ACCOUNT#{account_id}"),
    version="version",
    timestamps=True,
):
    account_id: str
    email: str
    balance: Decimal = Decimal(0)


class Transfer(Entity, table=table, pk="ACCOUNT#{account_id}", sk="TRANSFER#{at}#{transfer_id}"):
    account_id: str
    transfer_id: str
    at: datetime
    amount: Decimal
    direction: Literal["IN", "OUT"]


def main(service: DynamoDBService | None = None) -> dict[str, object]:
    """Run the tour; returns what it observed so a test can check it."""
    service = service or DynamoDBService.embedded()
    service.create_table(table)
    accounts = Repository(Account, service)
    transfers = Repository(Transfer, service)

    alice = accounts.create(Account(account_id="alice", email="alice@example.com",
                                    balance=Decimal("100")))  # fmt: skip
    bob = accounts.create(Account(account_id="bob", email="bob@example.com"))
    print(f"created {alice.account_id} (version {alice.version}) and {bob.account_id}")

    found = accounts.query(index="GSI1", email="alice@example.com").first()
    print(f"looked up by email through GSI1: {found.account_id if found else None}")

    now = datetime(2024, 6, 1, tzinfo=UTC)
    with UnitOfWork(service) as uow:
        uow.update(Account, {"account_id": "alice"}, add={"balance": Decimal("-30")},
                   condition=attr("balance") >= Decimal("30"))  # fmt: skip
        uow.update(Account, {"account_id": "bob"}, add={"balance": Decimal("30")})
        uow.create(Transfer(account_id="alice", transfer_id="t1", at=now,
                            amount=Decimal("30"), direction="OUT"))  # fmt: skip
        uow.create(Transfer(account_id="bob", transfer_id="t1", at=now,
                            amount=Decimal("30"), direction="IN"))  # fmt: skip
    balances = {
        name: accounts.get_or_raise(account_id=name, consistent=True).balance
        for name in ("alice", "bob")
    }
    print(f"transferred 30 atomically: balances {balances}")

    refused = ""
    try:
        with UnitOfWork(service) as uow:
            uow.update(Account, {"account_id": "bob"}, add={"balance": Decimal("-500")},
                       condition=attr("balance") >= Decimal("500"))  # fmt: skip
            uow.update(Account, {"account_id": "alice"}, add={"balance": Decimal("500")})
    except TransactionCancelledError as error:
        failed = error.failed[0]
        refused = f"{failed.operation} {failed.entity} #{failed.index}: {failed.code}"
        print(f"overdraft refused, nothing applied ({refused})")

    for day in range(1, 4):
        transfers.create(Transfer(account_id="alice", transfer_id=f"t{day + 1}",
                                  at=now + timedelta(days=day), amount=Decimal(day),
                                  direction="IN"))  # fmt: skip
    recent = transfers.query(account_id="alice").gte(at=now + timedelta(days=2)).all()
    print(f"alice's transfers from June 3rd: {[t.transfer_id for t in recent]}")

    stale = ""
    try:
        accounts.put(alice.model_copy(update={"email": "stale@example.com"}))
    except ConditionFailedError as error:
        stale = error.code.value
        print(f"a write from a stale copy is refused: {stale}")

    invalid = ""
    try:
        accounts.create(Account(account_id="bad\x00id", email="x@example.com"))
    except DynamoDBServiceError as error:
        invalid = error.code.value
        print(f"a key with a control character is refused before sending: {invalid}")

    return {
        "balances": balances,
        "refused": refused,
        "recent": [t.transfer_id for t in recent],
        "stale": stale,
        "invalid": invalid,
    }


PATTERNS = ("session_lru", "escrow_release", "mfa_setup", "bulk_notifications", "cache_warming")


def run_patterns() -> list[str]:
    """Run every pattern example, each on its own embedded backend."""
    import importlib

    ran = []
    for name in PATTERNS:
        print(f"\n== examples.{name} ==")
        importlib.import_module(f"examples.{name}").main()
        ran.append(name)
    return ran


if __name__ == "__main__":
    print("== examples.demo ==")
    main()
    run_patterns()
