"""Sending the intents of a unit of work with ``atomic=False``: each write on its own.

Without atomicity there is no 100-action limit, and writes can be sent the cheapest way
that is still safe to retry:

* unconditional puts and deletes go through BatchWriteItem (chunks of 25, in parallel);
  they are idempotent, so resending them after any failure is harmless;
* conditional writes and updates go one by one under the outcome rules (a
  non-idempotent update is sent with a ClientRequestToken; a conditional write that may
  have been applied before a lost answer ends as OUTCOME_UNKNOWN, never as success).

Every intent ends applied or failed with its error; nothing is dropped. The error's
``retryable`` is True when every failure was (throttling, timeouts, unprocessed items),
i.e. when committing the failed intents again may succeed. Intents that
were not applied are collected into one :class:`~tctf_dynamo.errors.UnprocessedItemsError`
whose ``unprocessed`` lists them, each with the error that stopped it.

The whole commit is one program (:mod:`tctf_dynamo.effects.program`), so both APIs send the
same requests. Each intent's result is recorded in ``settled`` as soon as it is known,
so an interruption (a cancelled task, KeyboardInterrupt) between or during requests is
reported exactly: :func:`interrupted_report` lists each intent as applied, not applied
(INTERRUPTED: never sent, or handed back unprocessed) or unknown (its request may have
reached DynamoDB: OUTCOME_UNKNOWN, with the token when it has one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tctf_dynamo.batch._entries import Entry
from tctf_dynamo.batch._schedule import judge
from tctf_dynamo.core.interruption import WriteWatch, interrupted, watching
from tctf_dynamo.core.outcomes import Idempotency
from tctf_dynamo.core.sending import plan_program
from tctf_dynamo.core.transactions import ItemIdentity, action_identity
from tctf_dynamo.effects.concurrency import Concurrently
from tctf_dynamo.effects.program import Program, Sleep
from tctf_dynamo.errors import DynamoDBServiceError, TransientError, UnprocessedItemsError
from tctf_dynamo.limits import MAX_BATCH_WRITE_ITEMS
from tctf_dynamo.resilience import UnprocessedItems, publish
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
    """BatchWriteItem the unconditional puts and deletes, 25 a request, ``max_workers``
    requests at once; entries handed back unprocessed are judged by the batch rules
    (:func:`~tctf_dynamo.batch._schedule.judge`) and resent after a backoff."""
    with scope("bulk.BatchWriteItem", entries=len(intents)):  # the span bulk jobs have
        yield from _bulk_rounds(service, intents, settled)


def _bulk_rounds(
    service: ServiceCore, intents: Sequence[Intent], settled: Settled
) -> Program[None]:
    by_index = {intent.index: intent for intent in intents}
    queue = [_entry(intent) for intent in intents]
    policy = service.pipeline.retry_policy
    while queue:
        chunks = [
            queue[start : start + MAX_BATCH_WRITE_ITEMS]
            for start in range(0, len(queue), MAX_BATCH_WRITE_ITEMS)
        ]
        programs = [_chunk_program(service, chunk, by_index, settled) for chunk in chunks]
        answers: list[list[Entry] | DynamoDBServiceError] = yield Concurrently(
            service, programs, service.max_workers
        )
        queue, strikes, stop = [], 0, None
        for chunk, answer in zip(chunks, answers, strict=True):
            if isinstance(answer, DynamoDBServiceError):
                if not isinstance(answer, TransientError):
                    stop = answer
                continue
            verdict = judge(chunk, answer, policy.max_attempts)
            queue.extend(verdict.retry)
            strikes = max(strikes, verdict.worst_strikes)
            _give_up(verdict.given_up, by_index, settled)
        if stop is not None:  # a refusal that would refuse the rest too: send nothing more
            for entry in queue:
                settled[entry.index] = IntentResult.of(
                    by_index[entry.index], applied=False, error=stop
                )
            return
        if queue:
            yield Sleep(policy.backoff(max(1, strikes), service.random))


def _entry(intent: Intent) -> Entry:
    plan = intent.plan
    if intent.operation == "Put":
        body: dict[str, Any] = {"PutRequest": {"Item": plan.body["Item"]}}
    else:
        body = {"DeleteRequest": {"Key": plan.body["Key"]}}
    return Entry(intent.index, plan.table_name, intent.identity, body, intent.size)


def _chunk_program(
    service: ServiceCore, chunk: list[Entry], by_index: dict[int, Intent], settled: Settled
) -> Program[list[Entry] | DynamoDBServiceError]:
    """One BatchWriteItem: the processed entries are settled applied at once; returns the
    entries handed back, or the error that failed the whole request (also settled)."""
    request_items: dict[str, list[Any]] = {}
    for entry in chunk:
        request_items.setdefault(entry.table, []).append(entry.body)
    watch = WriteWatch()
    try:
        response = yield from watching(
            service.execute_program("BatchWriteItem", {"RequestItems": request_items}), watch
        )
    except DynamoDBServiceError as error:
        for entry in chunk:
            settled[entry.index] = IntentResult.of(
                by_index[entry.index], applied=False, error=error
            )
        return error
    except BaseException:
        doubt = watch.outcome(Idempotency.NATURAL)
        if doubt is not None:
            for entry in chunk:
                settled[entry.index] = IntentResult.of(
                    by_index[entry.index], applied=False, error=doubt
                )
        raise
    unprocessed = response.get("UnprocessedItems") or {}
    for table, writes in unprocessed.items():
        publish(service.events, UnprocessedItems("BatchWriteItem", table, len(writes)))
    intents = [by_index[entry.index] for entry in chunk]
    left = _identities(
        ((table, write) for table, writes in unprocessed.items() for write in writes), intents
    )
    handed_back = []
    for entry in chunk:
        if entry.identity in left:
            handed_back.append(entry)
        else:
            settled[entry.index] = IntentResult.of(by_index[entry.index])
    return handed_back


def _give_up(entries: list[Entry], by_index: dict[int, Intent], settled: Settled) -> None:
    if not entries:
        return
    error = UnprocessedItemsError(
        f"{len(entries)} writes of BatchWriteItem were not processed",
        [(entry.table, entry.body) for entry in entries],
        {"operation": "BatchWriteItem"},
    )
    for entry in entries:
        settled[entry.index] = IntentResult.of(by_index[entry.index], applied=False, error=error)


def _identities(
    unprocessed: Iterable[tuple[str, Mapping[str, Any]]], intents: Sequence[Intent]
) -> set[ItemIdentity]:
    """Identities of the items a bulk write reports as not written.

    The batch reports ``(table, {"PutRequest": {"Item": ...}})`` or ``(table,
    {"DeleteRequest": {"Key": ...}})``; identities are computed by the same function as
    the intents', so every leftover finds its intent.
    """
    schemas = {i.plan.table_name: i.plan.entity.__entity_meta__.table.key_schema for i in intents}  # type: ignore[union-attr]
    found: set[ItemIdentity] = set()
    for table, request in unprocessed:
        if "PutRequest" in request:
            action = {"Put": {"TableName": table, "Item": request["PutRequest"]["Item"]}}
        else:
            action = {"Delete": {"TableName": table, "Key": request["DeleteRequest"]["Key"]}}
        found.add(action_identity(action, schemas[table]))
    return found


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
