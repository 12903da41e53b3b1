"""UnitOfWork: collect writes of many entities, send them once, all or nothing.

Intents are kept in the order they are added and sent as one TransactWriteItems in that
order, so the i-th cancellation reason always belongs to the i-th intent. Limits are
checked as each intent is added (see :mod:`._intents`), the writes are planned by
:mod:`tctf_dynamo.writes` (managed fields, optimistic locking, derived index keys), and
local state (results, committed entities) is finalized only after DynamoDB said yes.

One ClientRequestToken is drawn per unit of work and sent with every attempt of its
commit, so a retry after an ambiguous failure (a timeout after DynamoDB committed)
never applies the writes twice; while an earlier attempt may still commit, the commit
keeps asking with the same token until DynamoDB answers or the deadline ends, and then
raises OUTCOME_UNKNOWN carrying the token (docs/outcomes.md).

A replay must be the identical request. ``now`` fixes the moment written as
``updated_at``/``created_at`` (and so the request): a unit committed again with the
same caller token and the same ``now`` is recognised by DynamoDB as the same commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from tctf_dynamo.errors import (
    ErrorCode,
    RetriesExhaustedError,
    TransactionCancelledError,
    error_for,
)
from tctf_dynamo.expressions import Condition, Update
from tctf_dynamo.model import Entity
from tctf_dynamo.resilience import RetryPolicy
from tctf_dynamo.resilience.observers import scope
from tctf_dynamo.uow._intents import Intent, IntentLog, IntentResult
from tctf_dynamo.uow._nonatomic import send_separately
from tctf_dynamo.uow._reasons import align_cancellation, align_exhausted
from tctf_dynamo.uow._state import UnitState, accepts
from tctf_dynamo.validation import validate_client_request_token
from tctf_dynamo.writes import (
    KeyLike,
    WritePlan,
    plan_condition_check,
    plan_delete,
    plan_put,
    plan_update,
)

if TYPE_CHECKING:
    from tctf_dynamo.service import DynamoDBService

__all__ = ["UnitOfWork"]

OPEN = UnitState.OPEN
COMMITTED = UnitState.COMMITTED


class UnitOfWork:
    """Writes of several entities committed together.

    ::

        with UnitOfWork(service) as uow:
            uow.update(Escrow, {"escrow_id": "e1"}, add={"balance": -amount},
                       condition=attr("status") == "FUNDED")
            uow.update(Wallet, {"user_id": "u2"}, add={"balance": amount})
            uow.create(Audit(...))

    On a clean exit of the block the intents are sent as one TransactWriteItems; an
    exception in the block sends nothing. :meth:`commit` may also be called explicitly,
    once. A unit of work is meant for one thread.

    ``atomic=False`` gives up atomicity for scale: no 100-intent or 4 MB limit,
    unconditional puts and deletes are batched, the rest sent one by one, and condition
    checks are refused (without atomicity they guard nothing). ``return_failed_items``
    asks DynamoDB for the current item of every failed condition, parsed into the
    reasons. ``client_request_token`` replaces the random token, e.g. to make a commit
    idempotent across process restarts (DynamoDB keeps a token for ten minutes); give
    ``now`` with it when entities keep timestamps, so that a replay sends the identical
    request (the moment of the business event, e.g. when the order was placed).
    """

    def __init__(
        self,
        service: DynamoDBService,
        *,
        atomic: bool = True,
        return_failed_items: bool = False,
        client_request_token: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        now: datetime | None = None,
    ) -> None:
        self._now = now
        self._service = (
            service
            if retry is None and timeout is None
            else service.with_options(retry=retry, timeout=timeout)
        )
        self._atomic = atomic
        self._return_failed_items = return_failed_items
        self._token = _checked_token(client_request_token)
        self._log = IntentLog(atomic=atomic)
        self._state = UnitState.OPEN
        self._results: list[IntentResult] = []

    # ------------------------------------------------------------------ state

    @property
    def state(self) -> UnitState:
        return self._state

    @property
    def atomic(self) -> bool:
        return self._atomic

    @property
    def client_request_token(self) -> str:
        """The token sent with every attempt of this unit's TransactWriteItems."""
        return self._token

    @property
    def intents(self) -> tuple[Intent, ...]:
        """The intents so far, in the order they were added (and will be sent)."""
        return self._log.intents

    def __len__(self) -> int:
        return len(self._log)

    @property
    @accepts(COMMITTED)
    def results(self) -> list[IntentResult]:
        """One result per intent, in order; available once committed."""
        return list(self._results)

    @property
    @accepts(COMMITTED)
    def committed(self) -> list[Entity]:
        """The entities the puts stored (new versions and timestamps), in intent order."""
        return [result.written for result in self._results if result.written is not None]

    # ------------------------------------------------------------------ intents

    @accepts(OPEN)
    def put(
        self, entity: Entity, *, condition: Condition | None = None, create: bool = False
    ) -> int:
        """Store ``entity`` whole; ``create`` refuses to replace an existing item.

        Returns the intent's index, which is also the index of its cancellation reason.
        """
        policy = self._service.unsafe_values
        return self._add(
            plan_put(entity, condition=condition, create=create, policy=policy, now=self._now)
        )

    @accepts(OPEN)
    def create(self, entity: Entity, *, condition: Condition | None = None) -> int:
        """Store a new entity; the commit fails if an item with its key exists."""
        return self.put(entity, condition=condition, create=True)

    @accepts(OPEN)
    def update(
        self,
        entity: type[Entity],
        key: KeyLike,
        *,
        set: Mapping[str, Any] | None = None,
        add: Mapping[str, Any] | None = None,
        remove: Iterable[str] = (),
        delete: Mapping[str, Any] | None = None,
        update: Update | None = None,
        condition: Condition | None = None,
        expected_version: int | None = None,
        upsert: bool = False,
    ) -> int:
        """Change fields of the item with ``key`` (key fields, or an instance).

        Given an instance of a versioned entity, its version is the expected one, so
        the commit fails if the item changed since it was read.
        """
        plan = plan_update(
            entity,
            key,
            update=update,
            set=set,
            add=add,
            remove=remove,
            delete=delete,
            condition=condition,
            expected_version=expected_version,
            upsert=upsert,
            policy=self._service.unsafe_values,
            now=self._now,
        )
        return self._add(plan)

    @accepts(OPEN)
    def delete(
        self,
        entity: type[Entity],
        key: KeyLike,
        *,
        condition: Condition | None = None,
        expected_version: int | None = None,
    ) -> int:
        """Delete the item with ``key``; an instance of a versioned entity guards its version."""
        return self._add(
            plan_delete(entity, key, condition=condition, expected_version=expected_version)
        )

    @accepts(OPEN)
    def condition_check(self, entity: type[Entity], key: KeyLike, condition: Condition) -> int:
        """Commit only if ``condition`` holds on the item with ``key``, writing nothing to it."""
        if not self._atomic:
            raise error_for(
                ErrorCode.INVALID_STATE,
                "a condition check needs atomicity: with atomic=False nothing would depend "
                "on it; use a conditional write, or an atomic unit of work",
                {"entity": entity.__name__, "operation": "ConditionCheck"},
            )
        return self._add(plan_condition_check(entity, key, condition))

    def _add(self, plan: WritePlan) -> int:
        return self._log.add(plan).index

    # ------------------------------------------------------------------ ending

    @accepts(OPEN)
    def commit(self) -> list[IntentResult]:
        """Send every intent; returns their results (also in :attr:`results`).

        An atomic unit raises TransactionCancelledError with ``reasons[i]`` for intent
        *i* when DynamoDB cancels it (after retries, if only conflicts or throttling
        cancelled it: then RetriesExhaustedError with that error as ``last_error``).
        A unit with ``atomic=False`` raises UnprocessedItemsError listing the results of
        exactly the intents that were not applied.
        """
        intents = self._log.intents
        try:
            with scope("UnitOfWork.commit", intents=len(intents), atomic=self._atomic):
                if not intents:
                    results: list[IntentResult] = []
                elif self._atomic:
                    results = self._transact(intents)
                else:
                    results = send_separately(self._service, intents)
        except BaseException:
            self._state = UnitState.FAILED
            raise
        self._results = results
        self._state = UnitState.COMMITTED
        return list(results)

    def _transact(self, intents: tuple[Intent, ...]) -> list[IntentResult]:
        actions = self._log.transact_items(return_failed_items=self._return_failed_items)
        carriers = self._log.action_of()
        try:
            self._service.transact_write(actions, client_request_token=self._token)
        except TransactionCancelledError as error:
            raise align_cancellation(error, intents, carriers) from error
        except RetriesExhaustedError as error:
            aligned = align_exhausted(error, intents, carriers)
            if aligned is error:
                raise
            raise aligned from error
        return [IntentResult.of(intent) for intent in intents]

    @accepts(OPEN)
    def discard(self) -> None:
        """End the unit without sending anything."""
        self._state = UnitState.DISCARDED

    @accepts(OPEN)
    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Commit on a clean exit (unless already ended); discard on an exception."""
        if self._state is not UnitState.OPEN:
            return
        if exc_type is not None:
            self._state = UnitState.DISCARDED
            return
        self.commit()

    def __repr__(self) -> str:
        mode = "atomic" if self._atomic else "separate"
        return f"UnitOfWork({len(self._log)} intents, {mode}, {self._state.name})"


def _checked_token(token: str | None) -> str:
    if token is None:
        return str(uuid.uuid4())
    validate_client_request_token(token)
    return token
