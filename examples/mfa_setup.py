"""Completing MFA setup: session, user and security log change together.

When a user confirms their first one-time code, three writes must agree: the session
records which MFA setup it completed, the user's ``mfa_enabled`` flag goes on, and a
security event is logged. Committed as one unit of work, a crash or a refusal leaves
all three as they were: never a user with MFA on and no event to show for it.

The user is passed as the instance read earlier, so its version is the expected one:
if the user changed in between (another device finished setup first), the commit is
cancelled with the reason on the user intent and nothing is written.

Run: ``python -m examples.mfa_setup``
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import attrs

from tctf_dynamo import DynamoDBService, Entity, Repository, Table, TransactionCancelledError, attr
from tctf_dynamo.uow import UnitOfWork, read_together

table = Table("example-mfa")


class User(Entity, table=table, pk="USER#{user_id}", sk="PROFILE", version="version"):
    user_id: str
    email: str
    mfa_enabled: bool = False
    version: int = 0


class Session(Entity, table=table, pk="USER#{user_id}", sk="SESSION#{session_id}"):
    user_id: str
    session_id: str
    mfa_setup_id: str | None = None


class SecurityEvent(Entity, table=table, pk="USER#{user_id}", sk="EVENT#{at}#{event_id}"):
    user_id: str
    event_id: str
    at: datetime
    kind: str
    session_id: str


def complete_mfa_setup(
    service: DynamoDBService, user: User, session: Session, setup_id: str
) -> UnitOfWork:
    """Record ``setup_id`` on the session, enable MFA and log it, atomically."""
    with UnitOfWork(service) as uow:
        uow.update(
            Session,
            session,
            set={"mfa_setup_id": setup_id},
            condition=attr("mfa_setup_id").not_exists(),
        )
        uow.update(User, user, set={"mfa_enabled": True})
        uow.create(
            SecurityEvent(
                user_id=user.user_id,
                event_id=uuid.uuid4().hex,
                at=datetime.now(UTC),
                kind="MFA_ENABLED",
                session_id=session.session_id,
            )
        )
    return uow


@attrs.frozen
class Outcome:
    """What the demo observed; the tests assert on it."""

    user_version_before: int
    user_version_after: int
    mfa_enabled: bool
    session_setup_id: str | None
    events: int
    stale_attempt_reasons: list[tuple[int, str, str | None]]
    events_after_stale_attempt: int


def main(service: DynamoDBService | None = None) -> Outcome:
    service = service or DynamoDBService.embedded()
    service.create_table(table)
    users, sessions = Repository(User, service), Repository(Session, service)
    user = users.create(User(user_id="u1", email="u1@example.com"))
    phone = sessions.create(Session(user_id="u1", session_id="phone"))
    laptop = sessions.create(Session(user_id="u1", session_id="laptop"))
    print(f"user u1 at version {user.version}, MFA enabled: {user.mfa_enabled}")

    complete_mfa_setup(service, user, phone, "setup-1")
    now_user, now_phone = read_together(service, [(User, user), (Session, phone)])
    if not isinstance(now_user, User) or not isinstance(now_phone, Session):
        raise LookupError("the user or the session is missing")
    events = Repository(SecurityEvent, service).query(user_id="u1").all()
    print(
        f"setup completed on {now_phone.session_id}: MFA enabled {now_user.mfa_enabled}, "
        f"user version {now_user.version}, {len(events)} security event(s)"
    )

    reasons: list[tuple[int, str, str | None]] = []
    try:  # the laptop still holds the user as read before setup completed
        complete_mfa_setup(service, user, laptop, "setup-2")
    except TransactionCancelledError as error:
        reasons = [
            (r.index, r.entity or "", r.code.value if r.code else None) for r in error.reasons
        ]
        print(f"stale completion refused: {error.message}")
    after = Repository(SecurityEvent, service).query(user_id="u1").all()
    print(f"security events after the refused attempt: {len(after)}")
    return Outcome(
        user.version,
        now_user.version,
        now_user.mfa_enabled,
        now_phone.mfa_setup_id,
        len(events),
        reasons,
        len(after),
    )


if __name__ == "__main__":
    main()
