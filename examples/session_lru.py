"""Sessions with LRU eviction: a user holds at most five sessions.

Creating a session when the user already holds five creates the new one and deletes the
oldest, in one transaction, so no reader ever sees six sessions or a half-done swap.

Concurrent creations are kept honest by a per-user ``UserSessions`` entity: its version
is read with the sessions and checked by the transaction (optimistic locking), and its
``count`` moves with every creation and eviction. Two creations planned from the same
state cannot both commit: the second finds the version moved, is cancelled with the
reason on the counter intent, and plans again from a fresh read.

Run: ``python -m examples.session_lru``
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import attrs

from tctf_dynamo import (
    DynamoDBService,
    Entity,
    ErrorCode,
    Repository,
    Table,
    TransactionCancelledError,
)
from tctf_dynamo.uow import UnitOfWork

MAX_SESSIONS = 5
MAX_ATTEMPTS = 20
"""Bounded optimistic retries; with a handful of racing writers a few rounds suffice."""

table = Table("example-sessions")


class UserSessions(Entity, table=table, pk="USER#{user_id}", sk="SESSIONS", version="version"):
    """How many sessions the user holds; its version serializes session changes."""

    user_id: str
    count: int = 0


class Session(Entity, table=table, pk="USER#{user_id}", sk="SESSION#{created_at}#{session_id}"):
    user_id: str
    session_id: str
    created_at: datetime


@attrs.frozen
class Creation:
    """What creating one session did."""

    session: Session
    evicted: Session | None
    attempts: int


def create_session(service: DynamoDBService, user_id: str, session_id: str) -> Creation:
    """Create a session for ``user_id``, evicting the oldest past MAX_SESSIONS."""
    counters = Repository(UserSessions, service)
    sessions = Repository(Session, service)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        counter = counters.get(user_id=user_id, consistent=True)
        held = sessions.query(user_id=user_id).consistent().all()
        session = Session(user_id=user_id, session_id=session_id, created_at=datetime.now(UTC))
        evicted = held[0] if len(held) >= MAX_SESSIONS else None
        try:
            with UnitOfWork(service) as uow:
                uow.create(session)
                if counter is None:
                    uow.create(UserSessions(user_id=user_id, count=1))
                else:
                    count = counter.count if evicted is not None else counter.count + 1
                    uow.put(counter.model_copy(update={"count": count}))
                if evicted is not None:
                    uow.delete(Session, evicted)
        except TransactionCancelledError as error:
            if not _lost_the_race(error):
                raise
            continue
        return Creation(session, evicted, attempt)
    raise RuntimeError(f"no session created after {MAX_ATTEMPTS} attempts")


def _lost_the_race(error: TransactionCancelledError) -> bool:
    """Cancelled because another creation moved the counter (or evicted the same item)."""
    return all(
        reason.code is ErrorCode.CONDITION_FAILED and reason.entity == "UserSessions"
        for reason in error.failed
    )


@attrs.frozen
class Outcome:
    """What the demo observed; the tests assert on it."""

    sequential: list[Creation]
    concurrent: list[Creation]
    session_ids: list[str]
    counter: int
    max_seen: int


def main(service: DynamoDBService | None = None, *, racers: int = 8) -> Outcome:
    """Fill and roll a user's sessions, then let ``racers`` threads create one each."""
    service = service or DynamoDBService.embedded()
    service.create_table(table)
    user = "u1"
    print(f"creating {MAX_SESSIONS + 2} sessions one by one for {user}")
    sequential = [create_session(service, user, f"s{n}") for n in range(MAX_SESSIONS + 2)]
    for creation in sequential:
        gone = creation.evicted.session_id if creation.evicted else "-"
        print(f"  created {creation.session.session_id}, evicted {gone}")

    print(f"{racers} threads create a session each, at once")
    concurrent, max_seen = _race(service, user, threads=racers)
    for creation in concurrent:
        print(f"  {creation.session.session_id}: committed after {creation.attempts} attempt(s)")
    held = Repository(Session, service).query(user_id=user).consistent().all()
    counter = Repository(UserSessions, service).get(user_id=user, consistent=True)
    ids = [session.session_id for session in held]
    print(f"sessions held: {ids} (counter says {counter.count if counter else 0})")
    print(f"most sessions ever seen by a reader during the race: {max_seen}")
    return Outcome(sequential, concurrent, ids, counter.count if counter else 0, max_seen)


def _race(service: DynamoDBService, user: str, threads: int) -> tuple[list[Creation], int]:
    """Create sessions from ``threads`` threads at once while a reader counts sessions."""
    start = threading.Barrier(threads)
    done = threading.Event()
    created: list[Creation] = []
    errors: list[BaseException] = []
    seen = [0]

    def create(n: int) -> None:
        start.wait()
        try:
            created.append(create_session(service, user, f"t{n}"))
        except BaseException as error:  # reported by the caller, not swallowed
            errors.append(error)

    def watch() -> None:
        sessions = Repository(Session, service)
        while not done.is_set():
            seen[0] = max(seen[0], len(sessions.query(user_id=user).consistent().all()))

    workers = [threading.Thread(target=create, args=(n,)) for n in range(threads)]
    watcher = threading.Thread(target=watch)
    watcher.start()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    done.set()
    watcher.join()
    if errors:
        raise errors[0]
    return sorted(created, key=lambda c: c.session.session_id), seen[0]


if __name__ == "__main__":
    main()
