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
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from tctf_dynamo.errors import DynamoDBServiceError, OutcomeUnknownError, UnprocessedItemsError
from tctf_dynamo.outcomes import Idempotency, unknown
from tctf_dynamo.sending import send_plan
from tctf_dynamo.transactions import ItemIdentity, action_identity
from tctf_dynamo.uow._intents import Intent, IntentResult

if TYPE_CHECKING:
    from tctf_dynamo.service import DynamoDBService

__all__ = ["send_separately"]


def send_separately(service: DynamoDBService, intents: Sequence[Intent]) -> list[IntentResult]:
    """Apply every intent; return their results in order or raise with those not applied."""
    bulk = [intent for intent in intents if _batchable(intent)]
    single = [intent for intent in intents if not _batchable(intent)]
    results = _send_bulk(service, bulk) if bulk else []
    if single:
        workers = min(service.max_workers, len(single))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results.extend(pool.map(lambda intent: _send_one(service, intent), single))
    results.sort(key=lambda result: result.index)
    failed = [result for result in results if not result.applied]
    if failed:
        raise _not_applied(failed, len(results))
    return results


def _batchable(intent: Intent) -> bool:
    return intent.operation in ("Put", "Delete") and not intent.is_conditional


def _send_bulk(service: DynamoDBService, intents: Sequence[Intent]) -> list[IntentResult]:
    """BatchWriteItem the unconditional puts and deletes; map what failed back to intents."""
    from tctf_dynamo.batch import bulk_write

    for intent in intents:  # key schemas from the definitions: no DescribeTable needed
        service.key_schema(intent.plan.entity.__entity_meta__.table)  # type: ignore[union-attr]
    puts = [(i.plan.table_name, i.plan.body["Item"]) for i in intents if i.operation == "Put"]
    deletes = [(i.plan.table_name, i.plan.body["Key"]) for i in intents if i.operation == "Delete"]
    try:
        bulk_write(
            service, puts=puts, deletes=deletes, max_workers=service.max_workers, validate=False
        )
    except UnprocessedItemsError as error:
        left = _identities(error.unprocessed, intents)
        in_doubt = _identities(error.unknown, intents)
        not_done, doubt = _bulk_errors(error)
        results = []
        for i in intents:
            if i.identity in in_doubt:
                results.append(IntentResult.of(i, applied=False, error=doubt))
            elif i.identity in left:
                results.append(IntentResult.of(i, applied=False, error=not_done))
            else:
                results.append(IntentResult.of(i))
        return results
    except DynamoDBServiceError as error:
        # raised before any request was sent (a bulk job reports failures once sending
        # has begun as UnprocessedItemsError): nothing was applied
        return [IntentResult.of(i, applied=False, error=error) for i in intents]
    return [IntentResult.of(i) for i in intents]


def _bulk_errors(
    error: UnprocessedItemsError,
) -> tuple[DynamoDBServiceError, DynamoDBServiceError]:
    """The error of an intent the bulk job did not apply, and of one it left in doubt.

    An intent in doubt always carries an OUTCOME_UNKNOWN error (the job's own cause when
    it is one); one not applied never does, so ``IntentResult.outcome`` tells them apart.
    """
    cause = error.__cause__ if isinstance(error.__cause__, DynamoDBServiceError) else None
    if isinstance(cause, OutcomeUnknownError):
        return cause.last_error, cause
    last = cause or error
    return last, unknown(Idempotency.NATURAL, None, "BatchWriteItem", last)


def _send_one(service: DynamoDBService, intent: Intent) -> IntentResult:
    try:
        send_plan(service, intent.plan)
    except DynamoDBServiceError as error:
        return IntentResult.of(intent, applied=False, error=error)
    return IntentResult.of(intent)


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
