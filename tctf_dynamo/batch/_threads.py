"""Running a batch job on worker threads: the blocking shell of :mod:`~tctf_dynamo.batch._engine`.

The calling thread coordinates (:class:`~tctf_dynamo.batch._engine.Runner`); worker
threads only run chunk programs. While requests are in flight the coordinator plans the
next entries (encoding a repository's entities, for instance) instead of idling, so
planning overlaps the round trips. No thread ever spins waiting for work. A job of one
worker, or of one request, runs inline on the calling thread.

Interruption (``KeyboardInterrupt`` reaches the calling thread only): leaving the pool
waits for every request out, and what they answered counts; the job then settles the
rest (:meth:`~tctf_dynamo.batch._engine.Runner.abandon`) and the interruption carries
the report of what it left as its ``__cause__``, as a cancelled async job does.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from tctf_dynamo.batch._engine import Outcome, Runner, inline
from tctf_dynamo.effects.program import Program

__all__ = ["run_job"]


def run_job(runner: Runner, *, workers: int, run: Callable[[Program[Outcome]], Outcome]) -> None:
    """Send the started job's entries with up to ``workers`` threads; ``run`` is the
    service's blocking driver of chunk programs. ``on_progress`` is called in the
    calling thread."""
    try:
        if inline(runner, workers):
            _run_inline(runner, run)
        else:
            _run_parallel(runner, workers, run)
    except BaseException as stop:
        runner.stop_early(stop)
        raise


def _run_inline(runner: Runner, run: Callable[[Program[Outcome]], Outcome]) -> None:
    while (chunk := runner.next_chunk()) is not None:
        runner.absorb(run(runner.chunk_program(chunk)))


def _run_parallel(runner: Runner, workers: int, run: Callable[[Program[Outcome]], Outcome]) -> None:
    schedule = runner.schedule
    in_flight: set[Future[Outcome]] = set()
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tctf-batch") as pool:
            while True:
                while len(in_flight) < workers and (chunk := runner.next_chunk()) is not None:
                    # each worker runs in the caller's context: its spans, its trace
                    context = contextvars.copy_context()
                    in_flight.add(pool.submit(context.run, run, runner.chunk_program(chunk)))
                if not in_flight:
                    return
                if not runner.stopped and schedule.wants_planning():
                    schedule.plan(runner.job.max_count)  # overlap planning with the round trips
                    finished = {future for future in in_flight if future.done()}
                else:
                    finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in finished:
                    in_flight.discard(future)
                    runner.absorb(future.result())
    except BaseException:
        # leaving the pool waited for every request out (a thread cannot be
        # interrupted): what they answered counts; the others left a record when cut
        for future in in_flight:
            if not future.cancelled() and future.exception() is None:
                runner.absorb(future.result())
        raise
