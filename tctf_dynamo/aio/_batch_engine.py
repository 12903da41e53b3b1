"""Running a batch job on an event loop: chunk programs as tasks, bounded concurrency.

The async shell of :mod:`tctf_dynamo.batch._engine`: the same coordinator
(:class:`~tctf_dynamo.batch._engine.Runner`) hands out chunks and absorbs their outcomes,
the same chunk program sends, judges and backs off; only here each chunk program is
awaited as a task, at most ``workers`` at a time. Planning streams into sending: the
first request leaves once its chunk is planned, and while requests are in flight the
coordinator plans one request's worth ahead, then lets the loop run, within the
schedule's bounded window.

Cancellation. Cancelling the job cancels every request in flight and waits for them to
end, so no task outlives the call. The ``CancelledError`` then carries, as its
``__cause__``, the :class:`~tctf_dynamo.errors.UnprocessedItemsError` a failed job
would raise: writes whose request was in flight are *unknown* (they may be stored),
everything else not done (handed back, or never sent) is *unprocessed*.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

from tctf_dynamo.batch._engine import (
    Job,
    Outcome,
    Progress,
    Runner,
    finish_job,
    inline,
    start_job,
    unprocessed_error,
)
from tctf_dynamo.batch._entries import Entry
from tctf_dynamo.core.program import Program
from tctf_dynamo.resilience import RetryPolicy

__all__ = ["run_job_async"]

RunAsync = Callable[[Program[Outcome]], Awaitable[Outcome]]


async def run_job_async(
    job: Job,
    entries: Iterable[Entry],
    *,
    workers: int,
    policy: RetryPolicy,
    run: RunAsync,
    random: Callable[[], float],
    on_progress: Progress | None = None,
    dedup: bool = False,
) -> None:
    """:func:`~tctf_dynamo.batch._engine.run_job`, awaited: ``run`` is the service's
    async driver of chunk programs."""
    runner = start_job(
        job,
        entries,
        workers=workers,
        policy=policy,
        random=random,
        on_progress=on_progress,
        dedup=dedup,
    )
    in_flight: dict[asyncio.Future[Outcome], list[Entry]] = {}
    try:
        if inline(runner, workers):
            await _run_inline(runner, run, in_flight)
        else:
            await _run_tasks(runner, workers, run, in_flight)
    except asyncio.CancelledError as cancelled:
        await _stop(in_flight)
        _abandon(runner, in_flight)
        cancelled.__cause__ = unprocessed_error(runner)
        raise
    finish_job(runner)


async def _run_inline(
    runner: Runner, run: RunAsync, in_flight: dict[asyncio.Future[Outcome], list[Entry]]
) -> None:
    while (chunk := runner.next_chunk()) is not None:
        task = asyncio.ensure_future(run(runner.chunk_program(chunk)))
        in_flight[task] = chunk
        outcome = await task
        del in_flight[task]
        runner.absorb(outcome)


async def _run_tasks(
    runner: Runner,
    workers: int,
    run: RunAsync,
    in_flight: dict[asyncio.Future[Outcome], list[Entry]],
) -> None:
    schedule = runner.schedule
    plan_ahead = runner.job.max_count
    while True:
        while len(in_flight) < workers and (chunk := runner.next_chunk()) is not None:
            in_flight[asyncio.ensure_future(run(runner.chunk_program(chunk)))] = chunk
        if not in_flight:
            return
        if not runner.stopped and schedule.wants_planning():
            schedule.plan(plan_ahead)  # overlap planning with the round trips
            await asyncio.sleep(0)  # let answers that came in be read
            finished = [task for task in in_flight if task.done()]
        else:
            done, _ = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            finished = list(done)
        for task in finished:
            del in_flight[task]
            runner.absorb(task.result())


async def _stop(in_flight: dict[asyncio.Future[Outcome], list[Entry]]) -> None:
    """Cancel every request in flight and wait until each has ended."""
    for task in in_flight:
        task.cancel()
    pending = set(in_flight)
    while pending:
        try:
            _, pending = await asyncio.wait(pending)
        except asyncio.CancelledError:  # cancelled again: keep waiting, none is left behind
            continue


def _abandon(runner: Runner, in_flight: dict[asyncio.Future[Outcome], list[Entry]]) -> None:
    """Settle what the cancelled job leaves: a finished request's outcome counts; a
    write whose request was cut off may have been applied (unknown)."""
    in_doubt = runner.job.operation == "BatchWriteItem"
    for task, chunk in in_flight.items():
        if task.cancelled() or task.exception() is not None:
            runner.schedule.fail(chunk, in_doubt=in_doubt)
        else:
            runner.absorb(task.result())
    in_flight.clear()
    runner.stopped = True
