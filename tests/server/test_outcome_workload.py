"""A randomized workload through the fault proxy: every reported outcome matches the table.

Over a thousand writes (competing creates of equal items, token-protected and plain ADDs,
versioned updates, units of work with caller tokens and their replays, deletes) meet 30%
faults on the wire: throttles, 5xx before and after forwarding, resets before and after,
slow commits. Afterwards the truth is read from moto server and each report is checked:

* reported applied -> the table shows this write applied, exactly once;
* reported not applied -> the table shows it not applied;
* reported unknown (OUTCOME_UNKNOWN) -> either, and it is counted.

Amounts are distinct powers of three, so a balance read back in base 3 tells, digit by
digit, whether each ADD was applied never (0), once (1) or twice (2).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import attrs
import pytest

from tctf_dynamo import (
    DynamoDBServiceError,
    Entity,
    OutcomeUnknownError,
    ReadBackFailedError,
    Repository,
    RetryPolicy,
    Table,
    UnitOfWork,
)
from tests.faultproxy import DEFAULT_RANDOM_FAULTS, Fault, FaultProxy
from tests.server.outcome_fixtures import through, truth

pytestmark = pytest.mark.server

SEEDS = (11, 23, 37)
OPERATIONS_PER_SEED = 340
FAULT_RATE = 0.3
FAULTS = (*DEFAULT_RANDOM_FAULTS, Fault.delay_before(0.5))
READ_TIMEOUT = 0.4
RETRY = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.1, attempt_timeout=READ_TIMEOUT)
MOMENT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POOL = 8

APPLIED, NOT_APPLIED, UNKNOWN = "applied", "not_applied", "unknown"


def build(table_name: str) -> SimpleNamespace:
    table = Table(table_name)

    class Wallet(Entity, table=table, pk="WALLET#{wallet_id}", sk="META"):
        wallet_id: str
        balance: Decimal = Decimal(0)

    class Doc(Entity, table=table, pk="DOC#{doc_id}", sk="META", version="version"):
        doc_id: str
        history: str = ""
        version: int = 0

    class Marker(Entity, table=table, pk="MSG#{message_id}", sk="MARKER"):
        message_id: str

    class Item(Entity, table=table, pk="ITEM#{item_id}", sk="META", timestamps=True):
        item_id: str

    return SimpleNamespace(table=table, Wallet=Wallet, Doc=Doc, Marker=Marker, Item=Item)


@attrs.define
class Report:
    """One write and what the library said about it."""

    kind: str
    subject: str
    said: str
    power: int = -1
    extra: Any = None


def told(call: Callable[[], object], codes: Counter[str]) -> str:
    """What the caller was told: applied, not applied, or unknown (codes counted)."""
    try:
        call()
    except OutcomeUnknownError:
        codes["OUTCOME_UNKNOWN"] += 1
        return UNKNOWN
    except ReadBackFailedError:
        codes["READ_BACK_FAILED"] += 1
        return APPLIED
    except DynamoDBServiceError as error:
        codes[error.code.value] += 1
        return NOT_APPLIED
    codes["ok"] += 1
    return APPLIED


class Workload:
    def __init__(self, seed: int, models: SimpleNamespace, service: Any, clean: Any) -> None:
        self.rng = random.Random(seed)
        self.m = models
        self.service = service
        self.clean = clean
        self.reports: list[Report] = []
        self.codes: Counter[str] = Counter()
        self.powers: Counter[str] = Counter()
        self.marks = 0
        self.markers = 0
        self.items = 0
        self.units = 0
        self.mismatches: list[str] = []
        self.protected_creates: Counter[str] = Counter()

    def next_power(self, *subjects: str) -> int:
        """A power of three no earlier write to any of ``subjects`` used (each subject's
        own digits, so numbers stay within DynamoDB's 38 digits)."""
        power = max(self.powers[subject] for subject in subjects)
        for subject in subjects:
            self.powers[subject] = power + 1
        return power

    def setup(self) -> None:
        Wallet, Doc = self.m.Wallet, self.m.Doc
        wallets, docs = Repository(Wallet, self.clean), Repository(Doc, self.clean)
        for n in range(POOL):
            wallets.create(Wallet(wallet_id=f"token{n}"))
            wallets.create(Wallet(wallet_id=f"unit{n}"))
            docs.create(Doc(doc_id=f"d{n}"))
            self.clean.put_item(self.m.table, {"PK": f"COUNTER#{n}", "SK": "META", "n": 0})

    def run(self, operations: int) -> None:
        steps = [
            (self.competing_creates, 2),
            (self.token_add, 2),
            (self.plain_add, 2),
            (self.versioned_update, 2),
            (self.unit_of_work, 2),
            (self.delete, 1),
        ]
        choices = [step for step, weight in steps for _ in range(weight)]
        while len(self.reports) < operations:
            self.rng.choice(choices)()

    # ---------------------------------------------------------------- operations

    def competing_creates(self) -> None:
        """Two callers create the same marker: an equal item, "skip duplicates"; each
        sends a plain create or a token-protected one (``idempotent=True``)."""
        self.markers += 1
        name = f"m{self.markers}"
        markers = Repository(self.m.Marker, self.service)
        for caller in ("a", "b"):
            protected = self.rng.random() < 0.5

            def create(protected: bool = protected) -> object:
                return markers.create(self.m.Marker(message_id=name), idempotent=protected)

            said = told(create, self.codes)
            self.reports.append(Report("create", name, said, extra=(caller, protected)))
            if protected:
                self.protected_creates[said] += 1

    def token_add(self) -> None:
        wallet = f"token{self.rng.randrange(POOL)}"
        power = self.next_power(wallet)
        wallets = Repository(self.m.Wallet, self.service)
        said = told(
            lambda: wallets.update({"wallet_id": wallet}, add={"balance": 3**power}), self.codes
        )
        self.reports.append(Report("token_add", wallet, said, power))

    def plain_add(self) -> None:
        counter = f"COUNTER#{self.rng.randrange(POOL)}"
        power = self.next_power(counter)
        key = {"PK": counter, "SK": "META"}
        said = told(
            lambda: self.service.update_item(self.m.table, key, add={"n": 3**power}), self.codes
        )
        self.reports.append(Report("plain_add", counter, said, power))

    def versioned_update(self) -> None:
        self.marks += 1
        mark = f"op{self.marks}"
        doc_id = f"d{self.rng.randrange(POOL)}"
        current = Repository(self.m.Doc, self.clean).get_or_raise(doc_id=doc_id, consistent=True)
        docs = Repository(self.m.Doc, self.service)
        said = told(
            lambda: docs.update(current, set={"history": f"{current.history}|{mark}"}), self.codes
        )
        self.reports.append(Report("versioned_update", doc_id, said, extra=mark))

    def unit_of_work(self) -> None:
        """A unit with a caller token; an unknown commit is settled by replaying it, and
        some committed units are replayed on purpose, as a restarted process would."""
        self.units += 1
        token = f"unit-{self.units}-{self.rng.getrandbits(32)}"
        first, second = self.rng.sample(range(POOL), 2)
        pair = (f"unit{first}", f"unit{second}")
        power = self.next_power(*pair)

        def commit() -> None:
            with UnitOfWork(self.service, client_request_token=token, now=MOMENT) as uow:
                for wallet in pair:
                    uow.update(self.m.Wallet, {"wallet_id": wallet}, add={"balance": 3**power})

        said, error = UNKNOWN, None
        try:
            commit()
            said = APPLIED
        except OutcomeUnknownError as unknown:
            error = unknown
        except DynamoDBServiceError as refused:
            self.codes[refused.code.value] += 1
            said = NOT_APPLIED
        for _ in range(3):  # settle what is in doubt, as the docs say
            if error is None:
                break
            try:
                said = APPLIED if self.service.settle(error) else NOT_APPLIED
                error = None
            except OutcomeUnknownError as again:
                error = again
        self.reports.append(Report("unit", "|".join(pair), said, power))
        if said == APPLIED and self.rng.random() < 0.3:
            replayed = told(commit, self.codes)
            if replayed != UNKNOWN:  # a replay of a committed unit must say applied
                self.reports.append(Report("unit_replay", "|".join(pair), replayed, power))

    def delete(self) -> None:
        self.items += 1
        item_id = f"x{self.items}"
        Repository(self.m.Item, self.clean).create(self.m.Item(item_id=item_id))
        items = Repository(self.m.Item, self.service)
        returned: list[object] = []
        said = told(lambda: returned.append(items.delete({"item_id": item_id})), self.codes)
        self.reports.append(Report("delete", item_id, said, extra=returned or None))


# -------------------------------------------------------------------- the truth


def digit(value: int, power: int) -> int:
    return (value // 3**power) % 3


def check(workload: Workload) -> list[str]:
    """Every report against the table; the list of mismatches."""
    m, clean = workload.m, workload.clean
    wallets = Repository(m.Wallet, clean)
    balances = {
        w.wallet_id: int(w.balance)
        for n in range(POOL)
        for w in (
            wallets.get_or_raise(wallet_id=f"token{n}", consistent=True),
            wallets.get_or_raise(wallet_id=f"unit{n}", consistent=True),
        )
    }
    counters = {
        f"COUNTER#{n}": int(clean.get_item(m.table, {"PK": f"COUNTER#{n}", "SK": "META"})["n"])
        for n in range(POOL)
    }
    docs = Repository(m.Doc, clean)
    histories = {
        f"d{n}": docs.get_or_raise(doc_id=f"d{n}", consistent=True).history.split("|")
        for n in range(POOL)
    }
    mismatches: list[str] = []
    creates: dict[str, list[str]] = {}
    for report in workload.reports:
        if report.kind == "create":
            creates.setdefault(report.subject, []).append(report.said)
            continue
        applied_times = _applied(report, balances, counters, histories, m, clean)
        if applied_times > 1:
            mismatches.append(f"{report}: applied {applied_times} times")
        elif report.said == APPLIED and applied_times != 1:
            mismatches.append(f"{report}: reported applied, not applied")
        elif report.said == NOT_APPLIED and applied_times != 0:
            mismatches.append(f"{report}: reported not applied, applied")
        elif report.kind == "delete" and report.said == APPLIED and report.extra == [None]:
            # the item existed before the call: None claims this call deleted nothing
            mismatches.append(f"{report}: reported there was nothing to delete")
    markers = Repository(m.Marker, clean)
    for name, said in creates.items():
        exists = markers.get(message_id=name, consistent=True) is not None
        if said.count(APPLIED) > 1:
            mismatches.append(f"marker {name}: both competing creates reported success")
        if exists and APPLIED not in said and UNKNOWN not in said:
            mismatches.append(f"marker {name}: stored, yet no caller was told applied/unknown")
        if not exists and APPLIED in said:
            mismatches.append(f"marker {name}: reported created, not stored")
    return mismatches


def _applied(report: Report, balances, counters, histories, m, clean) -> int:  # type: ignore[no-untyped-def]
    if report.kind == "token_add":
        return digit(balances[report.subject], report.power)
    if report.kind == "plain_add":
        return digit(counters[report.subject], report.power)
    if report.kind in ("unit", "unit_replay"):
        first, second = (digit(balances[w], report.power) for w in report.subject.split("|"))
        return first if first == second else 99  # a unit is all or nothing
    if report.kind == "versioned_update":
        return histories[report.subject].count(report.extra)
    gone = Repository(m.Item, clean).get(item_id=report.subject, consistent=True) is None
    return 1 if gone else 0


def run_seed(seed: int, moto_endpoint: str, table_name: str) -> tuple[Workload, int]:
    """One seed's workload through its own proxy; the workload and the faults it met."""
    models = build(f"{table_name}-{seed}")
    clean = truth(moto_endpoint)
    clean.create_table(models.table)
    with FaultProxy(moto_endpoint) as proxy:
        service = through(proxy.endpoint, timeout=3.0, retry=RETRY, read_timeout=READ_TIMEOUT)
        service.key_schema(models.table)
        workload = Workload(seed, models, service, clean)
        workload.setup()
        proxy.plan_random(rate=FAULT_RATE, seed=seed, faults=FAULTS)
        try:
            workload.run(OPERATIONS_PER_SEED)
        finally:
            proxy.clear()
            assert proxy.wait_idle(10), "held requests must land before the truth is read"
            service.close()
        faults = sum(sum(s.faults.values()) for s in proxy.all_stats().values())
    workload.mismatches = check(workload)
    clean.delete_table(models.table, missing_ok=True)
    clean.close()
    return workload, faults


def test_every_reported_outcome_matches_the_table(moto_endpoint: str, table_name: str) -> None:
    with ThreadPoolExecutor(max_workers=len(SEEDS)) as pool:
        runs = list(pool.map(lambda seed: run_seed(seed, moto_endpoint, table_name), SEEDS))
    totals: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    for seed, (workload, _) in zip(SEEDS, runs, strict=True):
        assert workload.mismatches == [], f"seed {seed}: {workload.mismatches[:5]}"
        totals.update(f"{r.kind}:{r.said}" for r in workload.reports)
        codes.update(workload.codes)
    operations = sum(len(workload.reports) for workload, _ in runs)
    faults = sum(faults for _, faults in runs)
    said = Counter({UNKNOWN: 0, APPLIED: 0, NOT_APPLIED: 0})
    for key, count in totals.items():
        said[key.split(":")[1]] += count
    print(f"\noutcome workload: {operations} operations, {faults} faults, {dict(said)}")
    print("by kind:", dict(sorted(totals.items())))
    print("codes told:", dict(codes))
    protected: Counter[str] = Counter()
    for workload, _ in runs:
        protected.update(workload.protected_creates)
    print("token-protected creates:", dict(protected))
    assert operations >= 1000
    assert faults >= 0.2 * operations, "the workload must actually meet faults"
    assert said[UNKNOWN] > 0 and said[APPLIED] > 0 and said[NOT_APPLIED] > 0
