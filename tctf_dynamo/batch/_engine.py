"""Running a batch job: bounded parallelism, unprocessed entries re-queued with backoff.

The calling thread coordinates; workers only send. A worker sends one chunk through the
service's pipeline (which retries throttling, 5xx and timeouts of the whole request) and
reports which entries came back unprocessed. Those go back to the *front* of the queue,
so they are re-chunked with new work instead of being resent alone, after the worker has
slept the policy's backoff: under throttling that sleeping worker is one sender fewer,
which is the point. No thread ever spins waiting for work.

Retry budget. A request that processed nothing gives each of its entries a strike; an
entry with ``max_attempts`` strikes is given up. A request that processed *something*
gives no strikes, because DynamoDB also returns unprocessed work when it is not failing
at all (a BatchGetItem response is cut at 16 MB, dynalite cuts at about 1 MB): each such
round makes progress, so the job still ends, and large items are not given up on.

Failures. When a request fails for good (the pipeline's retries are spent, or the error
is not retryable), its entries are unprocessed. After a transient failure
(:class:`~tctf_dynamo.errors.TransientError`) the other chunks carry on; after any other
(access denied, missing table, circuit open, a refusal by the server) no new request is
sent, requests in flight finish, and everything not done is unprocessed. Either way the
caller gets one :class:`~tctf_dynamo.errors.UnprocessedItemsError` at the end, naming
exactly what is not done, chained from the last failure.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Protocol

from tctf_dynamo.batch._entries import Entry
from tctf_dynamo.batch.chunking import take_chunk
from tctf_dynamo.errors import (
    DynamoDBServiceError,
    ErrorCode,
    TransientError,
    UnprocessedItemsError,
    error_for,
)
from tctf_dynamo.resilience import RetryPolicy

__all__ = ["Job", "Progress", "check_workers", "run_job"]

Progress = Callable[[int, int], object]


class Job(Protocol):
    """One kind of batch request: its limits and how to send a chunk."""

    operation: str
    unit: str
    """What one entry is, for messages: "writes" or "keys"."""
    max_count: int
    max_bytes: int

    def send(self, chunk: list[Entry]) -> list[Entry]:
        """Send ``chunk`` as one request; return the entries DynamoDB did not process."""
        ...


class _Outcome:
    __slots__ = ("done", "error", "given_up", "retry")

    def __init__(
        self,
        done: int,
        retry: list[Entry],
        given_up: list[Entry],
        error: DynamoDBServiceError | None = None,
    ) -> None:
        self.done = done
        self.retry = retry
        self.given_up = given_up
        self.error = error


class _Runner:
    """The state of one job run; only the coordinating thread touches it."""

    def __init__(
        self,
        job: Job,
        entries: Sequence[Entry],
        *,
        policy: RetryPolicy,
        sleep: Callable[[float], object],
        random: Callable[[], float],
        on_progress: Progress | None,
    ) -> None:
        self.job = job
        self.policy = policy
        self.sleep = sleep
        self.random = random
        self.on_progress = on_progress
        self.pending: deque[Entry] = deque(entries)
        self.total = len(entries)
        self.done = 0
        self.not_done: list[Entry] = []
        self.last_error: DynamoDBServiceError | None = None
        self.stopped = False

    # ------------------------------------------------------------ workers

    def attempt(self, chunk: list[Entry]) -> _Outcome:
        """Send one chunk; never raises a library error, reports it instead."""
        try:
            unprocessed = self.job.send(chunk)
        except DynamoDBServiceError as error:
            return _Outcome(0, [], chunk, error)
        if not unprocessed:
            return _Outcome(len(chunk), [], [])
        progressed = len(unprocessed) < len(chunk)
        retry: list[Entry] = []
        given_up: list[Entry] = []
        for entry in unprocessed:
            if not progressed:
                entry.strikes += 1
            (retry if entry.strikes < self.policy.max_attempts else given_up).append(entry)
        if retry:
            worst = max(entry.strikes for entry in retry)
            self.sleep(self.policy.backoff(max(1, worst), self.random))
        return _Outcome(len(chunk) - len(unprocessed), retry, given_up)

    # ------------------------------------------------------------ coordinator

    def absorb(self, outcome: _Outcome) -> None:
        self.pending.extendleft(reversed(outcome.retry))
        self.not_done.extend(outcome.given_up)
        if outcome.error is not None:
            self.last_error = outcome.error
            if not isinstance(outcome.error, TransientError):
                self.stopped = True
        if outcome.done:
            self.done += outcome.done
            self.report()

    def report(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.done, self.total)

    def next_chunk(self) -> list[Entry]:
        return take_chunk(self.pending, self.job.max_count, self.job.max_bytes)

    def run_inline(self) -> None:
        while self.pending and not self.stopped:
            self.absorb(self.attempt(self.next_chunk()))

    def run_parallel(self, workers: int) -> None:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tctf-batch") as pool:
            in_flight: set[Future[_Outcome]] = set()
            while True:
                while self.pending and not self.stopped and len(in_flight) < workers:
                    in_flight.add(pool.submit(self.attempt, self.next_chunk()))
                if not in_flight:
                    return
                finished, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in finished:
                    self.absorb(future.result())

    def finish(self) -> list[Entry]:
        """Everything not done, in input order."""
        self.not_done.extend(self.pending)
        self.pending.clear()
        return sorted(self.not_done, key=_by_index)


def _by_index(entry: Entry) -> int:
    return entry.index


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


def run_job(
    job: Job,
    entries: Sequence[Entry],
    *,
    workers: int,
    policy: RetryPolicy,
    sleep: Callable[[float], object],
    random: Callable[[], float],
    on_progress: Progress | None = None,
) -> None:
    """Send every entry; raise UNPROCESSED_ITEMS naming exactly the entries not done.

    ``on_progress(done, total)`` is called in the calling thread: once at the start, then
    after every request that processed something.
    """
    runner = _Runner(
        job, entries, policy=policy, sleep=sleep, random=random, on_progress=on_progress
    )
    runner.report()
    if workers == 1 or len(entries) <= job.max_count:
        runner.run_inline()
    else:
        runner.run_parallel(workers)
    not_done = runner.finish()
    if not_done:
        raise _unprocessed(job, not_done, runner)


def _unprocessed(job: Job, not_done: list[Entry], runner: _Runner) -> UnprocessedItemsError:
    details: dict[str, object] = {"operation": job.operation, "total": runner.total}
    cause = runner.last_error
    if cause is not None:
        details["cause_code"] = cause.code.value
    error = UnprocessedItemsError(
        f"{len(not_done)} of {runner.total} {job.unit} of {job.operation} were not processed",
        [(entry.table, entry.body) for entry in not_done],
        details,
    )
    error.__cause__ = cause
    # worth resending only if what stopped the job may pass (throttling, 5xx, timeouts)
    error.retryable = cause is None or cause.retryable
    return error
