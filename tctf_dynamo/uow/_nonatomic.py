"""Sending the intents of a unit of work with ``atomic=False``: each write on its own.

Without atomicity there is no 100-action limit, and writes can be sent the cheapest way
that is still safe to retry:

* unconditional puts and deletes go through BatchWriteItem exactly as bulk jobs send
  them (the same engine and chunk program: chunks of 25 in parallel, unprocessed
  entries resent with backoff); they are idempotent, so resending them after any
  failure is harmless, and one whose request may have been applied without a later
  answer proving so is unknown, never "not applied";
* conditional writes and updates go one by one under the outcome rules (a
  non-idempotent update is sent with a ClientRequestToken; a conditional write that may
  have been applied before a lost answer ends as OUTCOME_UNKNOWN, never as success).

Every intent ends applied or failed with its error; nothing is dropped. The error's
``retryable`` is True when every failure was (throttling, timeouts, unprocessed items),
i.e. when committing the failed intents again may succeed. Intents that
were not applied are collected into one :class:`~tctf_dynamo.errors.UnprocessedItemsError`
whose ``unprocessed`` lists them, each with the error that stopped it.

The whole commit is one program (:mod:`tctf_dynamo.effects.program`), so both APIs send
the same requests. Each intent's result is recorded in ``settled`` as soon as it is known
(the batched ones when their job ends, or is interrupted), so an interruption (a
cancelled task, KeyboardInterrupt) between or during requests is reported exactly:
:func:`interrupted_report` lists each intent as applied, not applied (INTERRUPTED:
never sent, or handed back unprocessed) or unknown (its request may have reached
DynamoDB: OUTCOME_UNKNOWN, with the token when it has one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tctf_dynamo.batch._effect import RunJob
from tctf_dynamo.batch._entries import Entry, IdentityOf, identity_function
from tctf_dynamo.batch._jobs import WriteJob
from tctf_dynamo.batch._schedule import DONE
from tctf_dynamo.core.interruption import WriteWatch, interrupted, watching
from tctf_dynamo.core.outcomes import Idempotency
from tctf_dynamo.core.sending import plan_program
from tctf_dynamo.effects.concurrency import Concurrently
from tctf_dynamo.effects.program import Program
from tctf_dynamo.errors import DynamoDBServiceError, UnprocessedItemsError
from tctf_dynamo.resilience.observers import scope
from tctf_dynamo.uow._intents import Intent, IntentResult

if TYPE_CHECKING:
    from tctf_dynamo.core.service_core import ServiceCore

__all__ = ["interrupted_report", "send_separately_program"]

Settled = dict[int, IntentResult]


def send_separately_program(
    service: ServiceCore, intents: Sequence[Intent], settled: Settled
) -> Program[list[IntentResult]]:
    """Apply every intent; return their results in order or raise with those not applied.

    ``settled`` receives each intent's result as soon as it is known.
    """
    bulk = [intent for intent in intents if _batchable(intent)]
    single = [intent for intent in intents if not _batchable(intent)]
    if bulk:
        yield from _bulk_program(service, bulk, settled)
    if single:
        programs = [_single_program(service, intent, settled) for intent in single]
        yield Concurrently(service, programs, service.max_workers)
    results = [settled[intent.index] for intent in intents]
    failed = [result for result in results if not result.applied]
    if failed:
        raise _not_applied(failed, len(results))
    return results


def interrupted_report(intents: Sequence[Intent], settled: Settled) -> UnprocessedItemsError | None:
    """After an interruption: the intents not confirmed applied (those without a result
    were never sent, or were handed back unprocessed), or None if all were applied."""
    never_sent = interrupted("UnitOfWork.commit")
    results = [
        settled.get(intent.index) or IntentResult.of(intent, applied=False, error=never_sent)
        for intent in intents
    ]
    failed = [result for result in results if not result.applied]
    return _not_applied(failed, len(results)) if failed else None


def _batchable(intent: Intent) -> bool:
    return intent.operation in ("Put", "Delete") and not intent.is_conditional


def _single_program(service: ServiceCore, intent: Intent, settled: Settled) -> Program[None]:
    """One intent by the route its kind needs (:func:`~tctf_dynamo.core.sending.plan_program`)."""
    watch = WriteWatch()
    try:
        yield from watching(plan_program(service, intent.plan), watch)
    except DynamoDBServiceError as error:
        settled[intent.index] = IntentResult.of(intent, applied=False, error=error)
        return
    except BaseException:
        last = watch.last
        by_token = last is not None and last.operation == "TransactWriteItems"
        doubt = watch.outcome(Idempotency.BY_TOKEN if by_token else intent.plan.idempotency)
        if doubt is not None:
            settled[intent.index] = IntentResult.of(intent, applied=False, error=doubt)
        raise
    settled[intent.index] = IntentResult.of(intent)


def _bulk_program(
    service: ServiceCore, intents: Sequence[Intent], settled: Settled
) -> Program[None]:
    """BatchWriteItem the unconditional puts and deletes as a bulk job does (the same
    engine and chunk program, :class:`~tctf_dynamo.batch._effect.RunJob`): 25 a request,
    ``max_workers`` requests at once, entries handed back resent after a backoff by the
    batch rules, and a write whose request may have been applied reported unknown."""
    entries = [_entry(intent) for intent in intents]
    job = WriteJob(service, _identity_functions(intents))
    failure: DynamoDBServiceError | None = None
    try:
        with scope("bulk.BatchWriteItem", entries=len(entries)):  # the span bulk jobs have
            yield RunJob(service, job, entries, workers=service.max_workers)
    except DynamoDBServiceError as error:
        failure = error
    except BaseException:  # interrupted: the rest was never sent, or handed back
        _settle(entries, intents, settled, None)
        raise
    _settle(entries, intents, settled, failure)


def _entry(intent: Intent) -> Entry:
    plan = intent.plan
    if intent.operation == "Put":
        body: dict[str, Any] = {"PutRequest": {"Item": plan.body["Item"]}}
    else:
        body = {"DeleteRequest": {"Key": plan.body["Key"]}}
    return Entry(intent.index, plan.table_name, intent.identity, body, intent.size)


def _identity_functions(intents: Sequence[Intent]) -> dict[str, IdentityOf]:
    """The identity function of each table, by the same rule as the intents' own
    identities, so every entry handed back finds its intent."""
    functions: dict[str, IdentityOf] = {}
    for intent in intents:
        table = intent.plan.table_name
        if table not in functions:
            schema = intent.plan.entity.__entity_meta__.table.key_schema  # type: ignore[union-attr]
            functions[table] = identity_function(table, schema)
    return functions


def _settle(
    entries: list[Entry],
    intents: Sequence[Intent],
    settled: Settled,
    failure: DynamoDBServiceError | None,
) -> None:
    """Each entry's intent as the job left it: done is applied; in doubt is unknown;
    otherwise not applied, with the error of the request that failed it or the job's
    own. With no ``failure`` (an interruption), entries neither done nor in doubt are
    left out: the caller reports them INTERRUPTED."""
    by_index = {intent.index: intent for intent in intents}
    for entry in entries:
        intent = by_index[entry.index]
        if entry.state == DONE:
            settled[entry.index] = IntentResult.of(intent)
        elif entry.doubt is not None:
            settled[entry.index] = IntentResult.of(intent, applied=False, error=entry.doubt)
        elif failure is not None:
            error = entry.error or failure
            settled[entry.index] = IntentResult.of(intent, applied=False, error=error)


def _not_applied(failed: list[IntentResult], total: int) -> UnprocessedItemsError:
    unknown = [result.index for result in failed if result.outcome == "unknown"]
    error = UnprocessedItemsError(
        f"{len(failed)} of {total} intents of the unit of work were not confirmed applied "
        f"({len(unknown)} of them may have been: OUTCOME_UNKNOWN)",
        failed,
        {
            "failed_indexes": [result.index for result in failed],
            "unknown_indexes": unknown,
            "intents": total,
        },
    )
    error.retryable = all(result.error is not None and result.error.retryable for result in failed)
    return error
