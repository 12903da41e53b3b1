"""Running a batch job: bounded parallelism, unprocessed entries re-queued with backoff.

One coordinator (:class:`Runner`) hands out chunks and absorbs their outcomes; workers
only send. What to send next is decided by the job's
:class:`~tctf_dynamo.batch._schedule.Schedule` (pure state, no threads); this module
holds what both shells share: the coordinator, the chunk program a worker runs, and the
start and end of a job. The shells only perform: worker threads
(:mod:`~tctf_dynamo.batch._threads`) or tasks (:mod:`~tctf_dynamo.batch._tasks`). A
worker sends one chunk through the service's pipeline (which retries throttling, 5xx and
timeouts of the whole request) and reports which entries came back unprocessed. Those go
back to the *front* of the queue, so they are re-chunked with new work instead of being
resent alone, after the worker has slept the policy's backoff: under throttling that
sleeping worker is one sender fewer, which is the point.

Retry budget. A request that processed nothing gives each of its entries a strike; an
entry with ``max_attempts`` strikes is given up. A request that processed *something*
gives no strikes, because DynamoDB also returns unprocessed work when it is not failing
at all (a BatchGetItem response is cut at 16 MB, dynalite cuts at about 1 MB): each such
round makes progress, so the job still ends, and large items are not given up on.

Failures. When a request fails for good (the pipeline's retries are spent, or the error
is not retryable), its entries are not done. After a transient failure
(:class:`~tctf_dynamo.errors.TransientError`, or an ambiguous ending caused by one) the
other chunks carry on; after any other (access denied, missing table, circuit open, a
refusal by the server) no new request is sent, requests in flight finish, and everything
not done is reported. Either way the caller gets one
:class:`~tctf_dynamo.errors.UnprocessedItemsError` at the end, chained from the last
failure, that sorts what is not done by what is known of it:

* *unknown*: a write whose request ended in doubt (OUTCOME_UNKNOWN: sent, answer lost,
  never proven since), or that a resend handed back unprocessed after an ambiguous
  attempt of the same request. It may be stored; it is never reported "not written".
* *unprocessed*: everything else not done: DynamoDB handed it back (and no attempt of it
  was ever in doubt), its request was refused or never answered anything ambiguous, or it
  was never sent. It is not stored.

Reads have no such doubt: a key whose answer was lost was simply not read.

Invalid input in a streamed source. An item found invalid before any request was sent
raises its own error and nothing is sent. Found later, planning stops there: what was
planned before it is still sent, so the outcome is a clean prefix (everything before that
position written, nothing from it on), and then its error is raised, with ``position``
and ``sent_before`` in its details.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from tctf_dynamo.batch._entries import Entry
from tctf_dynamo.batch._schedule import Schedule, Verdict, judge
from tctf_dynamo.core.interruption import WriteWatch, interrupted, watching
from tctf_dynamo.core.outcomes import Idempotency, unknown
from tctf_dynamo.core.sending import WRITE_OPERATIONS
from tctf_dynamo.effects.program import Program, Sleep
from tctf_dynamo.errors import (
    DynamoDBServiceError,
    ErrorCode,
    OutcomeUnknownError,
    TransientError,
    UnprocessedItemsError,
    error_for,
)
from tctf_dynamo.providers.base import EncodedPart
from tctf_dynamo.resilience import RetryPolicy

__all__ = [
    "Job",
    "Outcome",
    "Progress",
    "Runner",
    "check_workers",
    "finish_job",
    "inline",
    "start_job",
    "unprocessed_error",
]

Progress = Callable[[int, int], object]
LOOKAHEAD_REQUESTS = 2
"""How many requests' worth of entries per worker may be planned ahead of sending."""


class Job(Protocol):
    """One kind of batch request: its limits and how to send a chunk."""

    operation: str
    unit: str
    """What one entry is, for messages: "writes" or "keys"."""
    max_count: int
    max_bytes: int

    def send_program(self, chunk: list[Entry]) -> Program[list[Entry]]:
        """Send ``chunk`` as one request; return the entries DynamoDB did not process."""
        ...


class Outcome:
    __slots__ = ("chunk", "error", "verdict")

    def __init__(
        self, chunk: list[Entry], verdict: Verdict | None, error: DynamoDBServiceError | None
    ) -> None:
        self.chunk = chunk
        self.verdict = verdict
        self.error = error


class Runner:
    """The coordinator of one job run, whatever performs its chunk programs: it hands
    out chunks, absorbs their outcomes into the schedule and reports progress. The
    blocking shell (:mod:`tctf_dynamo.batch._threads`) runs chunk programs on threads;
    the async one (:mod:`tctf_dynamo.batch._tasks`) as tasks.

    Interruption. A chunk program cut off (a cancelled task, KeyboardInterrupt) records
    what it knows in ``cut`` before the interruption leaves it: a write request that was
    on its way may have been applied (OUTCOME_UNKNOWN), a request that was not, or a
    read, was not; an answer already judged (cut in the backoff) stands. The shell then
    calls :meth:`abandon`, which settles every chunk still out by that record.
    """

    def __init__(
        self,
        job: Job,
        schedule: Schedule,
        *,
        policy: RetryPolicy,
        random: Callable[[], float],
        on_progress: Progress | None,
    ) -> None:
        self.job = job
        self.schedule = schedule
        self.policy = policy
        self.random = random
        self.on_progress = on_progress
        self.last_error: DynamoDBServiceError | None = None
        self.stopped = False
        self.out: dict[int, list[Entry]] = {}
        """The chunks handed out and not absorbed yet, by id."""
        self.cut: dict[int, Outcome] = {}
        """What the chunk programs cut off by an interruption knew, by chunk id."""
        self.deferred: list[tuple[int, int]] | None = None
        """While a list: progress is kept there (for the calling thread to report)
        instead of reported where an outcome is absorbed."""

    # ------------------------------------------------------------ workers

    def chunk_program(self, chunk: list[Entry]) -> Program[Outcome]:
        """Send one chunk, judge the answer, sleep the backoff before its resends are
        due; never raises a library error, reports it instead. The sleeping sender is
        one sender fewer while throttled, which is the point."""
        watch = WriteWatch()
        try:
            unprocessed = yield from watching(self.job.send_program(chunk), watch)
        except DynamoDBServiceError as error:
            return Outcome(chunk, None, error)
        except BaseException:
            self.cut[id(chunk)] = Outcome(chunk, None, self._cut_off(watch))
            raise
        verdict = judge(chunk, unprocessed, self.policy.max_attempts)
        outcome = Outcome(chunk, verdict, None)
        if verdict.retry:
            self.cut[id(chunk)] = outcome  # if the backoff is cut off, the answer stands
            yield Sleep(self.policy.backoff(max(1, verdict.worst_strikes), self.random))
        return outcome

    def _cut_off(self, watch: WriteWatch) -> DynamoDBServiceError:
        """What a request cut off by an interruption leaves: OUTCOME_UNKNOWN if it may
        have been applied, else INTERRUPTED."""
        doubt = watch.outcome(Idempotency.NATURAL)  # batch writes: puts and deletes
        return doubt if doubt is not None else interrupted(self.job.operation)

    # ------------------------------------------------------------ coordinator

    def absorb(self, outcome: Outcome) -> None:
        key = id(outcome.chunk)
        self.out.pop(key, None)
        self.cut.pop(key, None)
        schedule = self.schedule
        if outcome.verdict is None:
            error = outcome.error
            assert error is not None
            schedule.fail(outcome.chunk, error)
            self.last_error = error
            if not _passing(error):
                self.stopped = True
            return
        schedule.settle(outcome.verdict)
        if outcome.verdict.done:
            self.report()

    def abandon(self) -> None:
        """After an interruption: send nothing more, and settle each chunk still out by
        what its program recorded when it was cut off. A chunk with no record (its
        program never started, or ended in a bug) was a write that may have been sent:
        unknown; or a read: not read."""
        self.stopped = True
        operation = self.job.operation
        for key, chunk in list(self.out.items()):
            outcome = self.cut.pop(key, None)
            if outcome is None:
                lost = interrupted(operation)
                if operation in WRITE_OPERATIONS:
                    lost = unknown(Idempotency.NATURAL, None, operation, lost)
                outcome = Outcome(chunk, None, lost)
            if outcome.verdict is not None:
                self.schedule.settle(outcome.verdict)
            else:
                assert outcome.error is not None
                self.schedule.fail(chunk, outcome.error)
        self.out.clear()

    def stop_early(self, stop: BaseException) -> None:
        """The shells' answer to anything that ends the run early: settle what is out;
        an interruption (not an error) carries the report of what is left as its
        ``__cause__``."""
        self.abandon()
        if not isinstance(stop, Exception):
            stop.__cause__ = unprocessed_error(self)

    def report(self) -> None:
        if self.on_progress is None:
            return
        if self.deferred is not None:
            self.deferred.append((self.schedule.done, self.schedule.planned))
        else:
            self.on_progress(self.schedule.done, self.schedule.planned)

    def next_chunk(self, *, plan: bool = True) -> list[Entry] | None:
        """The next chunk to send, handed out (see :meth:`Schedule.next_chunk
        <tctf_dynamo.batch._schedule.Schedule.next_chunk>` for ``plan``)."""
        if self.stopped:
            return None
        schedule = self.schedule
        chunk = schedule.next_chunk(plan=plan)
        if schedule.planning_error is not None and not schedule.sent_any:
            raise schedule.planning_error  # found before any request: nothing is sent
        if chunk is not None:
            self.out[id(chunk)] = chunk
        return chunk

    @property
    def busy(self) -> bool:
        """Whether a request is out (it may hand entries back)."""
        return bool(self.out)


def _passing(error: DynamoDBServiceError) -> bool:
    """Whether what failed a request may pass for the others: a transient failure, or a
    doubt left by one (its retries or deadline ran out while answers were lost)."""
    if isinstance(error, OutcomeUnknownError):
        error = error.last_error
    return isinstance(error, TransientError)


def check_workers(max_workers: int | None, default: int) -> int:
    """``max_workers`` or the service's default, refused when below one."""
    workers = default if max_workers is None else max_workers
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise error_for(
            ErrorCode.INVALID_CONFIGURATION,
            "max_workers must be an integer of at least 1",
            {"max_workers": str(workers)[:20]},
        )
    return workers


def inline(runner: Runner, workers: int) -> bool:
    """Whether the job is sent one request at a time (one worker, or one request)."""
    schedule = runner.schedule
    return workers == 1 or (schedule.planning_ended and schedule.planned <= runner.job.max_count)


def start_job(
    job: Job,
    entries: Iterable[Entry],
    *,
    workers: int,
    policy: RetryPolicy,
    random: Callable[[], float],
    on_progress: Progress | None = None,
    dedup: bool = False,
) -> Runner:
    """Plan the first request (raising an invalid item's error before anything is sent)
    and report the start; the coordinator of the job."""
    schedule = Schedule(
        entries,
        max_count=job.max_count,
        max_bytes=job.max_bytes,
        lookahead=workers * job.max_count * LOOKAHEAD_REQUESTS,
        dedup=dedup,
    )
    if isinstance(entries, Sequence):
        schedule.plan_all()
    else:
        schedule.plan(job.max_count + 1)  # enough to tell whether one request holds it all
    if schedule.planning_error is not None:
        raise schedule.planning_error
    runner = Runner(job, schedule, policy=policy, random=random, on_progress=on_progress)
    runner.report()
    return runner


def finish_job(runner: Runner) -> None:
    """Raise what the ended job leaves: the entries not done, or an invalid item's error."""
    schedule = runner.schedule
    not_done = schedule.finish()
    if not_done:
        raise _unprocessed(runner.job, not_done, schedule, runner.last_error)
    if schedule.planning_error is not None:
        raise _stopped_at(schedule)


def unprocessed_error(runner: Runner) -> UnprocessedItemsError | None:
    """What a job that ends now leaves not done (None if nothing): the report of a
    cancelled job."""
    schedule = runner.schedule
    not_done = schedule.finish()
    if not not_done:
        return None
    return _unprocessed(runner.job, not_done, schedule, runner.last_error)


def _stopped_at(schedule: Schedule) -> DynamoDBServiceError:
    """The invalid item's own error, saying where planning stopped and what was sent."""
    error = schedule.planning_error
    assert error is not None
    error.details = {
        **error.details,
        "position": schedule.consumed,
        "sent_before": schedule.sent_any,
    }
    error.retryable = False
    return error


def _plain(body: Any) -> Any:
    """A body as the caller reads it: a pre-encoded put as the plain dict it is."""
    return dict(body) if type(body) is EncodedPart else body


def _unprocessed(
    job: Job, not_done: list[Entry], schedule: Schedule, last: DynamoDBServiceError | None
) -> UnprocessedItemsError:
    details: dict[str, object] = {"operation": job.operation, "total": schedule.planned}
    cause = last if last is not None else schedule.planning_error
    if cause is not None:
        details["cause_code"] = cause.code.value
    if schedule.planning_error is not None:
        details["position"] = schedule.consumed
    unknown = [(entry.table, _plain(entry.body)) for entry in not_done if entry.doubt]
    unprocessed = [(entry.table, _plain(entry.body)) for entry in not_done if not entry.doubt]
    message = (
        f"{len(unprocessed)} of {schedule.planned} {job.unit} of {job.operation} were not processed"
    )
    if unknown:
        message += f"; {len(unknown)} may or may not have been (outcome unknown)"
    error = UnprocessedItemsError(message, unprocessed, details, unknown=unknown)
    error.__cause__ = cause
    # worth resending only if what stopped them may pass (throttling, 5xx, timeouts);
    # batch puts and deletes are unconditional, so resending one in doubt is safe too
    error.retryable = last is None or last.retryable or _passing(last)
    return error
