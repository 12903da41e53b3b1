"""Running a batch job on worker threads: the blocking shell of :mod:`~tctf_dynamo.batch._engine`.

``workers`` plain threads each send a request, absorb its outcome into the job's
:class:`~tctf_dynamo.batch._engine.Runner` and take the next chunk themselves, under one
lock, so a finished request is followed by the next one without a round through the
calling thread. Meanwhile the calling thread plans: it pulls the next entries from the
source (encoding a repository's entities, for instance) while requests are in flight, so
planning overlaps the round trips. It pulls outside the lock (workers are never kept
waiting by an item being encoded) and queues what it pulled under it; it plans until a
window of requests is ready and then sleeps until workers have taken half of it, so it
plans in stretches rather than one entry per wake-up. While it plans, the interpreter
switches threads more often (:mod:`~tctf_dynamo.batch._switching`), so a worker whose
answer arrived is not kept waiting for the planner's turn to end. No thread ever spins
waiting for work. Each worker runs in a copy of the calling thread's context (its spans,
its trace); progress is reported in the calling thread. A job of one worker, or of one
request, runs inline on the calling thread.

Interruption (``KeyboardInterrupt`` reaches the calling thread only): no new request is
sent, the calling thread waits for every request out, and what they answered counts; the
job then settles the rest (:meth:`~tctf_dynamo.batch._engine.Runner.abandon`, via
:meth:`~tctf_dynamo.batch._engine.Runner.stop_early`) and the interruption carries the
report of what it left as its ``__cause__``, as a cancelled async job does. A worker that
fails with anything but a library error (which chunk programs report, never raise) stops
the job the same way, and its exception is raised in the calling thread.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable

from tctf_dynamo.batch._engine import Outcome, Runner, inline
from tctf_dynamo.batch._entries import Entry
from tctf_dynamo.batch._schedule import Pulled
from tctf_dynamo.batch._switching import quick_switching
from tctf_dynamo.effects.program import Program

__all__ = ["run_job"]

Run = Callable[[Program[Outcome]], Outcome]


def run_job(runner: Runner, *, workers: int, run: Run) -> None:
    """Send the started job's entries with up to ``workers`` threads; ``run`` is the
    service's blocking driver of chunk programs. ``on_progress`` is called in the
    calling thread."""
    try:
        if inline(runner, workers):
            _run_inline(runner, run)
        else:
            _Crew(runner, workers, run).run()
    except BaseException as stop:
        runner.stop_early(stop)
        raise


def _run_inline(runner: Runner, run: Run) -> None:
    while (chunk := runner.next_chunk()) is not None:
        runner.absorb(run(runner.chunk_program(chunk)))


class _Crew:
    """The worker threads of one job and the calling thread that plans for them.

    Everything the runner and its schedule hold is read and changed under ``lock``,
    except the source, which only the calling thread pulls from.
    """

    def __init__(self, runner: Runner, workers: int, run: Run) -> None:
        self.runner = runner
        self.schedule = runner.schedule
        self.workers = workers
        self.run_program = run
        self.lock = threading.Lock()
        self.work = threading.Condition(self.lock)
        """Idle workers wait here for entries (planned, or handed back)."""
        self.planner = threading.Condition(self.lock)
        """The calling thread waits here for a reason to plan or report."""
        self.idle = 0
        self.working = 0
        self.planner_asleep = False
        self.halt = False
        """No new request: the calling thread was interrupted, or a worker failed."""
        self.failure: BaseException | None = None
        self.step = runner.job.max_count
        self.refill_at = self.schedule.lookahead // 2

    # ------------------------------------------------------------ calling thread

    def run(self) -> None:
        runner = self.runner
        if runner.on_progress is not None:
            runner.deferred = []
        threads = []
        context = contextvars.copy_context
        try:
            with self.lock:
                for number in range(self.workers):
                    # each worker runs in the caller's context: its spans, its trace
                    thread = threading.Thread(
                        target=context().run,
                        args=(self._work,),
                        name=f"tctf-batch-{number}",
                        daemon=True,
                    )
                    thread.start()
                    threads.append(thread)
                    self.working += 1
            self._plan()
        except BaseException:
            with self.lock:
                self.halt = True
                self.work.notify_all()
            raise
        finally:
            for thread in threads:
                thread.join()  # a thread cannot be interrupted: its request's answer counts
            runner.deferred = None
        self._report(self._reports())
        if self.failure is not None:
            raise self.failure

    def _plan(self) -> None:
        """Plan ahead while workers send; report progress; return when they are done."""
        filling = True
        while True:
            with self.lock:
                while True:
                    reports = self._reports()
                    if reports or not self.working:
                        break
                    if self._should_plan(filling):
                        break
                    filling = False
                    self.planner_asleep = True
                    self.planner.wait()
                    self.planner_asleep = False
            if reports:
                self._report(reports)
                continue
            if not self.working:
                return
            with quick_switching():
                filling = self._pull_window()

    def _should_plan(self, filling: bool) -> bool:
        schedule = self.schedule
        if self.halt or self.runner.stopped or not schedule.wants_planning():
            return False
        return filling or len(schedule.pending) <= self.refill_at or bool(self.idle)

    def _pull_window(self) -> bool:
        """Pull a request's worth at a time until the window is full, planning has
        ended, or there is something else to do; whether the window still wants more."""
        schedule = self.schedule
        while True:
            entries: list[Entry] = []
            try:
                pulled = schedule.pull(self.step, entries)
            except BaseException:
                with self.lock:
                    schedule.admit(Pulled(entries, ended=False, error=None))
                raise
            with self.lock:
                schedule.admit(pulled)
                if self.idle:
                    self.work.notify_all()
                if not self._should_plan(True) or self.runner.deferred:
                    return schedule.wants_planning()

    def _reports(self) -> list[tuple[int, int]]:
        deferred = self.runner.deferred
        if not deferred:
            return []
        reports = deferred[:]
        deferred.clear()
        return reports

    def _report(self, reports: list[tuple[int, int]]) -> None:
        on_progress = self.runner.on_progress
        if on_progress is not None:
            for done, total in reports:
                on_progress(done, total)

    # ------------------------------------------------------------ workers

    def _work(self) -> None:
        runner = self.runner
        outcome: Outcome | None = None
        try:
            while True:
                with self.lock:
                    if outcome is not None:
                        runner.absorb(outcome)
                        outcome = None
                        self._absorbed()
                    chunk = self._take()
                    if chunk is None:
                        return
                outcome = self.run_program(runner.chunk_program(chunk))
        except BaseException as error:  # a bug: stop the job, raise it in the calling thread
            with self.lock:
                if self.failure is None:
                    self.failure = error
                self.halt = True
                self.work.notify_all()
        finally:
            with self.lock:
                self.working -= 1
                if self.planner_asleep:
                    self.planner.notify()

    def _absorbed(self) -> None:
        """Wake whoever an absorbed outcome concerns (under the lock)."""
        if self.idle:
            self.work.notify_all()  # entries handed back, the job's end, or a stop
        if self.planner_asleep and self.runner.deferred:
            self.planner.notify()

    def _take(self) -> list[Entry] | None:
        """The next chunk for this worker (under the lock); None when it has nothing
        more to do: the job has ended or stopped."""
        runner, schedule = self.runner, self.schedule
        while True:
            if self.halt or runner.stopped:
                return None
            chunk = runner.next_chunk(plan=False)
            if chunk is not None:
                if self.planner_asleep and len(schedule.pending) <= self.refill_at:
                    self.planner.notify()
                return chunk
            if schedule.planning_ended and not runner.busy:
                self.work.notify_all()  # nothing left and nothing out: the job is done
                return None
            # entries may still come: planned, or handed back by a request out
            if self.planner_asleep and not schedule.planning_ended:
                self.planner.notify()
            self.idle += 1
            self.work.wait()
            self.idle -= 1
