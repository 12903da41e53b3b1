"""UnitOfWork: collect writes of many entities, send them once, all or nothing.

Intents are kept in the order they are added and sent as one TransactWriteItems in that
order, so the i-th cancellation reason always belongs to the i-th intent. Limits are
checked as each intent is added (see :mod:`._intents`), the writes are planned by
:mod:`tctf_dynamo.core.writes` (managed fields, optimistic locking, derived index keys), and
local state (results, committed entities) is finalized only after DynamoDB said yes.

One ClientRequestToken is drawn per unit of work and sent with every attempt of its
commit, so a retry after an ambiguous failure (a timeout after DynamoDB committed)
never applies the writes twice; while an earlier attempt may still commit, the commit
keeps asking with the same token until DynamoDB answers or the deadline ends, and then
raises OUTCOME_UNKNOWN carrying the token (docs/outcomes.md).

A commit that ends in doubt (OUTCOME_UNKNOWN at its deadline, or interrupted while its
request may have reached DynamoDB: a cancelled task, KeyboardInterrupt) leaves the unit
UNKNOWN with that error in :attr:`UnitCore.error`; committing it again replays the
identical request with the same token, which settles it. An interruption never leaves
a unit half-reported: the state and the error are set before the interruption goes on.

The decisions live in :class:`UnitCore` as programs (:mod:`tctf_dynamo.effects.program`);
:class:`UnitOfWork` runs them blocking and
:class:`~tctf_dynamo.aio.uow.AsyncUnitOfWork` awaits them.

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

from tctf_dynamo.core.interruption import WriteWatch, interrupted, watching
from tctf_dynamo.core.outcomes import Idempotency
from tctf_dynamo.core.writes import (
    KeyLike,
    WritePlan,
    plan_condition_check,
    plan_delete,
    plan_put,
    plan_update,
)
from tctf_dynamo.effects.program import Program
from tctf_dynamo.errors import (
    DynamoDBServiceError,
    ErrorCode,
    OutcomeUnknownError,
    RetriesExhaustedError,
    TransactionCancelledError,
    error_for,
)
from tctf_dynamo.expressions import Condition, Update
from tctf_dynamo.model import Entity
from tctf_dynamo.resilience import RetryPolicy
from tctf_dynamo.resilience.observers import scope
from tctf_dynamo.uow._intents import Intent, IntentLog, IntentResult
from tctf_dynamo.uow._nonatomic import interrupted_report, send_separately_program
from tctf_dynamo.uow._reasons import align_cancellation, align_exhausted
from tctf_dynamo.uow._state import UnitState, accepts
from tctf_dynamo.validation import validate_client_request_token

if TYPE_CHECKING:
    from tctf_dynamo.core.service_core import ServiceCore
    from tctf_dynamo.sync.service import DynamoDBService

__all__ = ["UnitCore", "UnitOfWork"]

OPEN = UnitState.OPEN
COMMITTED = UnitState.COMMITTED
UNKNOWN = UnitState.UNKNOWN


class UnitCore:
    """What a unit of work decides, for both APIs: intents, limits, states, and the
    commit as a program. The shells add only how the program is run."""

    def __init__(
        self,
        service: ServiceCore,
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
        self._error: DynamoDBServiceError | None = None

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

    @property
    def error(self) -> DynamoDBServiceError | None:
        """What the last commit ended with, when it did not succeed: the error it raised,
        or, when it was interrupted (a cancelled task, KeyboardInterrupt), the report of
        what the interruption left: OUTCOME_UNKNOWN (state UNKNOWN) if the transaction
        may have been applied, INTERRUPTED (state FAILED) if it cannot have been, and for
        ``atomic=False`` an UnprocessedItemsError listing each intent not applied or
        unknown. None while open, once committed, or when discarded."""
        return self._error

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

    @accepts(OPEN)
    def discard(self) -> None:
        """End the unit without sending anything."""
        self._state = UnitState.DISCARDED

    # ------------------------------------------------------------------ committing

    def commit_program(self) -> Program[list[IntentResult]]:
        """The commit: send every intent, then record the outcome in the unit.

        The shells' ``commit`` runs it (and checks the state first: OPEN, or UNKNOWN to
        replay). The unit's state and :attr:`error` are set before any error or
        interruption leaves the program, so the unit is never half-reported.
        """
        intents = self._log.intents
        with scope("UnitOfWork.commit", intents=len(intents), atomic=self._atomic):
            if not intents:
                results: list[IntentResult] = []
            elif self._atomic:
                results = yield from self._transact_program(intents)
            else:
                results = yield from self._separately_program(intents)
        self._results = results
        self._error = None
        self._state = UnitState.COMMITTED
        return list(results)

    def _end(self, state: UnitState, error: DynamoDBServiceError) -> None:
        self._error = error
        self._state = state

    def _transact_program(self, intents: tuple[Intent, ...]) -> Program[list[IntentResult]]:
        actions = self._log.transact_items(return_failed_items=self._return_failed_items)
        carriers = self._log.action_of()
        for intent in intents:  # key schemas from the definitions: no DescribeTable needed
            self._service.known_key_schema(intent.plan.entity.__entity_meta__.table)  # type: ignore[union-attr]
        watch = WriteWatch()
        program = self._service.transact_write_program(actions, client_request_token=self._token)
        try:
            yield from watching(program, watch)
        except TransactionCancelledError as error:
            aligned = align_cancellation(error, intents, carriers)
            self._end(UnitState.FAILED, aligned)
            raise aligned from error
        except RetriesExhaustedError as error:
            exhausted = align_exhausted(error, intents, carriers)
            self._end(UnitState.FAILED, exhausted)
            if exhausted is error:
                raise
            raise exhausted from error
        except OutcomeUnknownError as error:
            self._end(UNKNOWN, error)
            raise
        except DynamoDBServiceError as error:
            self._end(UnitState.FAILED, error)
            raise
        except BaseException:
            doubt = watch.outcome(Idempotency.BY_TOKEN)
            if doubt is not None:
                self._end(UNKNOWN, doubt)
            else:
                self._end(UnitState.FAILED, interrupted("TransactWriteItems"))
            raise
        return [IntentResult.of(intent) for intent in intents]

    def _separately_program(self, intents: tuple[Intent, ...]) -> Program[list[IntentResult]]:
        settled: dict[int, IntentResult] = {}
        try:
            return (yield from send_separately_program(self._service, intents, settled))
        except DynamoDBServiceError as error:
            self._end(UnitState.FAILED, error)
            raise
        except BaseException:
            report = interrupted_report(intents, settled)
            if report is None:  # everything was applied before the interruption
                self._results = [settled[intent.index] for intent in intents]
                self._error = None
                self._state = COMMITTED
            else:
                self._end(UnitState.FAILED, report)
            raise

    def _commits_on_exit(self, exc_type: type[BaseException] | None) -> bool:
        """At the end of the block: commit on a clean exit (unless already ended),
        discard on an exception."""
        if self._state is not UnitState.OPEN:
            return False
        if exc_type is not None:
            self._state = UnitState.DISCARDED
            return False
        return True

    def __repr__(self) -> str:
        mode = "atomic" if self._atomic else "separate"
        return f"{type(self).__name__}({len(self._log)} intents, {mode}, {self._state.name})"


class UnitOfWork(UnitCore):
    """Writes of several entities committed together.

    ::

        with UnitOfWork(service) as uow:
            uow.update(Escrow, {"escrow_id": "e1"}, add={"balance": -amount},
                       condition=attr("status") == "FUNDED")
            uow.update(Wallet, {"user_id": "u2"}, add={"balance": amount})
            uow.create(Audit(...))

    On a clean exit of the block the intents are sent as one TransactWriteItems; an
    exception in the block sends nothing. :meth:`commit` may also be called explicitly,
    once (again only to settle a commit that ended UNKNOWN). A unit of work is meant
    for one thread.

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
        super().__init__(
            service,
            atomic=atomic,
            return_failed_items=return_failed_items,
            client_request_token=client_request_token,
            retry=retry,
            timeout=timeout,
            now=now,
        )
        self._runner: DynamoDBService = self._service  # type: ignore[assignment]

    @accepts(OPEN, UNKNOWN)
    def commit(self) -> list[IntentResult]:
        """Send every intent; returns their results (also in :attr:`results`).

        An atomic unit raises TransactionCancelledError with ``reasons[i]`` for intent
        *i* when DynamoDB cancels it (after retries, if only conflicts or throttling
        cancelled it: then RetriesExhaustedError with that error as ``last_error``), and
        OutcomeUnknownError when it may or may not have been applied (the unit is then
        UNKNOWN: commit it again to replay the identical request and settle it).
        A unit with ``atomic=False`` raises UnprocessedItemsError listing the results of
        exactly the intents that were not applied.
        """
        results: list[IntentResult] = self._runner.run_program(self.commit_program())
        return results

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
        if self._commits_on_exit(exc_type):
            self.commit()


def _checked_token(token: str | None) -> str:
    if token is None:
        return str(uuid.uuid4())
    validate_client_request_token(token)
    return token
