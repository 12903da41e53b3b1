"""A batch job as an effect of a program, so that a program can send its batches the way
bulk jobs do, on either API.

``yield RunJob(shell, job, entries, workers=...)`` inside a program runs the job on the
engine of the driver that performs it: worker threads for a blocking service
(:func:`~tctf_dynamo.batch._threads.run_job`), tasks for an async one
(:func:`~tctf_dynamo.batch._tasks.run_job_async`). Either way the same chunk program
sends, judges unprocessed entries, backs off and marks entries in doubt; the effect
returns None or raises what the job leaves (UNPROCESSED_ITEMS). An interruption leaves
every entry settled (see :meth:`~tctf_dynamo.batch._engine.Runner.abandon`), so the
program that yielded it can still tell what became of each.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tctf_dynamo.batch._engine import Job
from tctf_dynamo.batch._entries import Entry
from tctf_dynamo.batch._threads import run_job
from tctf_dynamo.resilience import RetryPolicy

__all__ = ["RunJob"]


class RunJob:
    """Run ``job`` over ``entries``, at most ``workers`` requests at once, with the retry
    budget ``policy``; ``shell`` is the service whose driver performs the effect."""

    __slots__ = ("entries", "job", "policy", "shell", "workers")

    def __init__(
        self,
        shell: Any,
        job: Job,
        entries: Sequence[Entry],
        *,
        workers: int,
        policy: RetryPolicy,
    ) -> None:
        self.shell = shell
        self.job = job
        self.entries = entries
        self.workers = workers
        self.policy = policy

    def perform(self) -> None:
        """Blocking: on the thread-pool engine, chunk programs run by ``shell``."""
        run_job(self.job, self.entries, **self._options())

    async def perform_async(self) -> None:
        """Awaited: on the task engine (imported here: blocking users never load it)."""
        from tctf_dynamo.batch._tasks import run_job_async

        await run_job_async(self.job, self.entries, **self._options())

    def _options(self) -> dict[str, Any]:
        shell = self.shell
        return {
            "workers": self.workers,
            "policy": self.policy,
            "run": shell.run_program,
            "random": shell.random,
        }
