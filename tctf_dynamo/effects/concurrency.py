"""Several programs at once: a self-performing effect for bounded concurrency.

``results = yield Concurrently(shell, programs, limit)`` runs ``programs`` at most
``limit`` at a time and returns their results in order. The blocking driver runs them
on a thread pool (each in a copy of the caller's context: its spans, its deadline);
the async driver as tasks under a semaphore. ``shell`` is the service whose
``perform`` performs the programs' own effects.

A program that reports its outcome should record it before an error or an
interruption leaves it: when the caller is interrupted, programs not started yet never
start, and the interruption is thrown in where the effect was yielded once every
started program has ended (async: cancelled at its pending effect; blocking: run to
its end, as a thread cannot be interrupted).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from tctf_dynamo.effects.program import Program, run, run_async

__all__ = ["Concurrently"]


class Concurrently:
    """Run ``programs`` at most ``limit`` at a time; the result is their results."""

    __slots__ = ("limit", "programs", "shell")

    def __init__(self, shell: Any, programs: Sequence[Program[Any]], limit: int) -> None:
        self.shell = shell
        self.programs = list(programs)
        self.limit = max(1, limit)

    def perform(self) -> list[Any]:
        """Blocking: one program inline, several on a thread pool."""
        perform = self.shell.perform
        if self.limit == 1 or len(self.programs) <= 1:
            return [run(program, perform) for program in self.programs]
        workers = min(self.limit, len(self.programs))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tctf-concurrent")
        try:
            futures: list[Future[Any]] = [
                pool.submit(contextvars.copy_context().run, run, program, perform)
                for program in self.programs
            ]
            return [future.result() for future in futures]
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)  # what has not started never starts
            raise
        finally:
            pool.shutdown(wait=True)

    async def perform_async(self) -> list[Any]:
        """Awaited: tasks under a semaphore; cancelled together with the caller."""
        perform = self.shell.perform
        if self.limit == 1 or len(self.programs) <= 1:
            return [await run_async(program, perform) for program in self.programs]
        semaphore = asyncio.Semaphore(self.limit)

        async def bounded(program: Program[Any]) -> Any:
            async with semaphore:
                return await run_async(program, perform)

        return list(await asyncio.gather(*(bounded(program) for program in self.programs)))
