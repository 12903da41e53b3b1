"""A batch job as an effect: how every caller runs one, on either API.

``yield RunJob(shell, job, entries, workers=...)`` in a program (a unit of work's
commit), or ``shell.perform(RunJob(...))`` (the batch and bulk functions), runs the job
on the engine of the driver that performs it: worker threads for a blocking service
(:func:`~tctf_dynamo.batch._threads.run_job`), tasks for an async one
(:func:`~tctf_dynamo.batch._tasks.run_job_async`). Either way the same chunk program
sends, judges unprocessed entries, backs off and marks entries in doubt; the effect
returns None or raises what the job leaves (UNPROCESSED_ITEMS). An interruption leaves
every entry settled (see :meth:`~tctf_dynamo.batch._engine.Runner.abandon`), so the
program that yielded it can still tell what became of each.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tctf_dynamo.batch._collection import fewer_collections
from tctf_dynamo.batch._engine import Job, Progress, Runner, finish_job, start_job
from tctf_dynamo.batch._entries import Entry
from tctf_dynamo.batch._threads import run_job
from tctf_dynamo.resilience import RetryPolicy

__all__ = ["RunJob"]


class RunJob:
    """Run ``job`` over ``entries`` (a list, or a stream planned as it is pulled), at
    most ``workers`` requests at once, unprocessed entries retried within ``retry`` (the
    service's policy by default); ``shell`` is the service whose driver performs it.

    A list of entries is planned whole first; a stream plans each entry as it is pulled,
    so planning overlaps sending (``dedup`` merges repeated keys as
    :mod:`~tctf_dynamo.batch._schedule` describes). ``on_progress(done, total)`` is
    called once at the start, then after every request that processed something;
    ``total`` counts the distinct entries planned so far. Performing it raises
    UNPROCESSED_ITEMS naming exactly the entries not done, if any.
    """

    __slots__ = ("dedup", "entries", "job", "on_progress", "retry", "shell", "workers")

    def __init__(
        self,
        shell: Any,
        job: Job,
        entries: Iterable[Entry],
        *,
        workers: int,
        retry: RetryPolicy | None = None,
        on_progress: Progress | None = None,
        dedup: bool = False,
    ) -> None:
        self.shell = shell
        self.job = job
        self.entries = entries
        self.workers = workers
        self.retry = retry
        self.on_progress = on_progress
        self.dedup = dedup

    def perform(self) -> None:
        """Blocking: on the thread-pool engine, chunk programs run by ``shell``."""
        with fewer_collections():  # from the first entry planned to the last answer read
            runner = self._start()
            run_job(runner, workers=self.workers, run=self.shell.run_program)
            finish_job(runner)

    async def perform_async(self) -> None:
        """Awaited: on the task engine (imported here: blocking users never load it)."""
        from tctf_dynamo.batch._tasks import run_job_async

        with fewer_collections():
            runner = self._start()
            await run_job_async(runner, workers=self.workers, run=self.shell.run_program)
            finish_job(runner)

    def _start(self) -> Runner:
        shell = self.shell
        retry = self.retry
        return start_job(
            self.job,
            self.entries,
            workers=self.workers,
            policy=retry if retry is not None else shell.pipeline.retry_policy,
            random=shell.random,
            on_progress=self.on_progress,
            dedup=self.dedup,
        )
