"""Running a batch job on an event loop: chunk programs as tasks, bounded concurrency.

The async shell of :mod:`tctf_dynamo.batch._engine`: the same coordinator state
(:class:`~tctf_dynamo.batch._engine.Runner`) hands out chunks and absorbs their outcomes,
the same chunk program sends, judges and backs off; only here ``workers`` worker tasks
each take the next chunk, await its program and absorb its outcome, then take the next.
A worker sends its next request as soon as it has read its last answer, so the reading
of answers (CPU) staggers into the other requests' round trips instead of the whole
pool waiting for the slowest reader of a wave. Planning streams into sending: a worker
plans the chunk it is about to send, so the first request leaves once its chunk is
planned, within the schedule's bounded window. Everything runs on one event loop, so
the schedule is only ever touched between awaits.

Cancellation. Cancelling the job cancels every request in flight and waits for them to
end, so no task outlives the call. The ``CancelledError`` then carries, as its
``__cause__``, the :class:`~tctf_dynamo.errors.UnprocessedItemsError` a failed job
would raise: writes whose request was in flight are *unknown* (they may be stored),
everything else not done (handed back, or never sent) is *unprocessed*
(:meth:`~tctf_dynamo.batch._engine.Runner.abandon`).

This shell lives beside the blocking one, not in :mod:`tctf_dynamo.aio`, so that a
program of either API can run a job as an effect (:class:`~tctf_dynamo.batch._effect.RunJob`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from tctf_dynamo.batch._engine import (
    Outcome,
    Runner,
    inline,
)
from tctf_dynamo.effects.program import Program

__all__ = ["run_job_async"]

RunAsync = Callable[[Program[Outcome]], Awaitable[Outcome]]


async def run_job_async(runner: Runner, *, workers: int, run: RunAsync) -> None:
    """:func:`~tctf_dynamo.batch._threads.run_job`, awaited: ``run`` is the service's
    async driver of chunk programs."""
    pool = _Pool(runner, run)
    count = 1 if inline(runner, workers) else workers
    try:
        await pool.run(count)
    except BaseException as stop:
        await pool.stop()
        runner.stop_early(stop)
        raise


class _Pool:
    """The worker tasks of one job."""

    def __init__(self, runner: Runner, run: RunAsync) -> None:
        self.runner = runner
        self.run_program = run
        self.tasks: list[asyncio.Task[None]] = []
        self.wake = asyncio.Event()

    async def run(self, count: int) -> None:
        self.tasks = [asyncio.ensure_future(self.worker()) for _ in range(count)]
        done, pending = await asyncio.wait(self.tasks, return_when=asyncio.FIRST_EXCEPTION)
        failed = [task for task in done if task.exception() is not None]
        if failed:  # a bug, not a request's failure (those are outcomes): stop the rest
            await self.stop()
            raise failed[0].exception()  # type: ignore[misc]
        assert not pending

    async def worker(self) -> None:
        runner = self.runner
        while True:
            chunk = runner.next_chunk()
            if chunk is None:
                if not runner.busy:
                    self.wake.set()  # nothing can come back: let idle workers end too
                    return
                self.wake.clear()
                await self.wake.wait()  # a request in flight may hand entries back
                continue
            outcome = await self.run_program(runner.chunk_program(chunk))
            runner.absorb(outcome)
            self.wake.set()

    async def stop(self) -> None:
        """Cancel every worker (and so its request in flight) and wait until each ended."""
        for task in self.tasks:
            task.cancel()
        pending = {task for task in self.tasks if not task.done()}
        while pending:
            try:
                _, pending = await asyncio.wait(pending)
            except asyncio.CancelledError:  # cancelled again: keep waiting, none is left behind
                continue
