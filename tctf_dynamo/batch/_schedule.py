"""What a batch job sends next: its queue, its planning and its outcomes, with no threads.

A job's entries come from a *source*: a list prepared up front, or an iterator that plans
each entry when it is pulled (a repository encoding entities as they are needed). The
schedule pulls from the source only as far as it must: to complete the next request, or,
while requests are in flight, up to ``lookahead`` entries ahead. So the first request
leaves as soon as its entries are planned, the planning of later ones overlaps the round
trips of earlier ones, and memory holds a bounded window of planned work, not the job.

Everything here is a decision on plain state, called by the one coordinating thread of
:mod:`tctf_dynamo.batch._engine` (or, later, by an event loop): which entries form the next
request, what a response means for each entry, and what is left when the job ends.

Duplicates in a streamed source (``dedup=True``): the last put of a key wins. A repeat of
a key whose entry is still queued replaces that entry's body (one write is sent); a repeat
of a key whose request is in flight is held until that request ends, then queued (never
two writes of one key in one request, and never the older after the newer); a repeat of a
key already written is sent again. Repeated deletes of a key are sent once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from typing import Final

from tctf_dynamo.batch._entries import Entry, Identity
from tctf_dynamo.batch.chunking import take_chunk
from tctf_dynamo.errors import DynamoDBServiceError, OutcomeUnknownError

__all__ = ["DONE", "GIVEN_UP", "IN_FLIGHT", "QUEUED", "Pulled", "Schedule", "Verdict", "judge"]

_DONE_PUT: Final = ("PutRequest",)
_DONE_DELETE: Final = ("DeleteRequest",)
"""What a written entry of a deduplicating job keeps of its body: whether it deleted.
A streamed job remembers every key it wrote, but not the items, so its memory (and
the garbage collector's work) stays bounded by what is in flight."""

QUEUED: Final = 0
IN_FLIGHT: Final = 1
DONE: Final = 2
GIVEN_UP: Final = 3


class Pulled:
    """Items taken from a source by :meth:`Schedule.pull`, not queued yet."""

    __slots__ = ("ended", "entries", "error")

    def __init__(
        self, entries: list[Entry], *, ended: bool, error: DynamoDBServiceError | None
    ) -> None:
        self.entries = entries
        self.ended = ended
        """Whether the source has nothing more (it ran out, or raised ``error``)."""
        self.error = error


class Verdict:
    """What one response means for the entries of its request."""

    __slots__ = ("done", "given_up", "retry")

    def __init__(self, done: list[Entry], retry: list[Entry], given_up: list[Entry]) -> None:
        self.done = done
        self.retry = retry
        self.given_up = given_up

    @property
    def worst_strikes(self) -> int:
        """The most strikes among the entries to resend (their backoff's attempt number)."""
        return max((entry.strikes for entry in self.retry), default=0)


def judge(chunk: list[Entry], unprocessed: list[Entry], max_attempts: int) -> Verdict:
    """Done, resent or given up, for each entry of a request that got an answer.

    A request that processed nothing gives each entry a strike; one that processed
    something gives none (DynamoDB also hands work back when nothing is wrong, and such
    rounds make progress). An entry with ``max_attempts`` strikes is given up.
    """
    if not unprocessed:
        return Verdict(chunk, [], [])
    left = {id(entry) for entry in unprocessed}
    done = [entry for entry in chunk if id(entry) not in left]
    retry: list[Entry] = []
    given_up: list[Entry] = []
    for entry in unprocessed:
        if not done:
            entry.strikes += 1
        (retry if entry.strikes < max_attempts else given_up).append(entry)
    return Verdict(done, retry, given_up)


class Schedule:
    """The queue of one job and the source that feeds it."""

    def __init__(
        self,
        source: Iterable[Entry],
        *,
        max_count: int,
        max_bytes: int,
        lookahead: int,
        dedup: bool = False,
    ) -> None:
        self.max_count = max_count
        self.max_bytes = max_bytes
        self.lookahead = max(lookahead, max_count)
        self.dedup = dedup
        self.pending: deque[Entry] = deque()
        self.planned = 0
        """Distinct entries planned so far (the job's total once planning has ended)."""
        self.consumed = 0
        """Items taken from the source, duplicates included: the position of the next."""
        self.sent_any = False
        self.planning_error: DynamoDBServiceError | None = None
        self.done = 0
        self.not_done: list[Entry] = []
        self._source: Iterator[Entry] | None = iter(source)
        self._seen: dict[Identity, Entry] = {}
        self._held: dict[Identity, Entry] = {}

    # ------------------------------------------------------------ planning

    @property
    def planning_ended(self) -> bool:
        return self._source is None

    def plan(self, count: int) -> None:
        """Pull up to ``count`` items from the source into the queue.

        An invalid item (the source raises a library error) ends planning: the error is
        kept for the caller, and what was planned before it stays queued (also when
        something else, an interruption, leaves the source).
        """
        entries: list[Entry] = []
        try:
            pulled = self.pull(count, entries)
        except BaseException:
            self.admit(Pulled(entries, ended=False, error=None))
            raise
        self.admit(pulled)

    def pull(self, count: int, entries: list[Entry]) -> Pulled:
        """Take up to ``count`` items from the source, leaving the queue as it is.

        The costly half of planning (the source encodes each item as it is pulled), kept
        apart so that a threaded job can pull without holding the lock its workers take
        chunks under; only one thread ever pulls, and :meth:`admit` queues what it got.
        Items are appended to ``entries`` as they come, so that what was taken before
        an interruption left the source can still be queued.
        """
        source = self._source
        if source is None:
            return Pulled(entries, ended=True, error=None)
        try:
            for _ in range(count):
                entry = next(source, None)
                if entry is None:
                    return Pulled(entries, ended=True, error=None)
                entries.append(entry)
        except DynamoDBServiceError as error:
            return Pulled(entries, ended=True, error=error)
        return Pulled(entries, ended=False, error=None)

    def admit(self, pulled: Pulled) -> None:
        """Queue what :meth:`pull` took; an invalid item ends planning there."""
        for entry in pulled.entries:
            self.consumed += 1
            self._admit(entry)
        if pulled.error is not None:
            self.planning_error = pulled.error
        if pulled.ended:
            self._source = None

    def plan_all(self) -> None:
        while self._source is not None:
            self.plan(self.max_count)

    def wants_planning(self) -> bool:
        """Whether planning ahead is useful now (a source left, the window not full)."""
        return self._source is not None and len(self.pending) < self.lookahead

    def _admit(self, entry: Entry) -> None:
        if not self.dedup:
            self._queue(entry)
            return
        earlier = self._seen.get(entry.identity)
        if earlier is None:
            self._queue(entry)
        elif "DeleteRequest" in earlier.body and "DeleteRequest" in entry.body:
            return  # a delete is sent once
        elif earlier.state == QUEUED:
            earlier.body, earlier.size = entry.body, entry.size
        elif earlier.state == IN_FLIGHT:
            self._held[entry.identity] = entry
        else:
            self._queue(entry)

    def _queue(self, entry: Entry) -> None:
        entry.state = QUEUED
        if self.dedup:
            self._seen[entry.identity] = entry
        self.pending.append(entry)
        self.planned += 1

    # ------------------------------------------------------------ sending

    def next_chunk(self, *, plan: bool = True) -> list[Entry] | None:
        """The next request's entries, planning as far as needed to fill it; None when
        there is nothing to send now. With ``plan=False`` (another thread plans) a
        request is not sent short while the source may still fill it: None instead."""
        if plan:
            while self._source is not None and len(self.pending) < self.max_count:
                self.plan(self.max_count - len(self.pending))
        elif self._source is not None and len(self.pending) < self.max_count:
            return None
        if not self.pending:
            return None
        chunk = take_chunk(self.pending, self.max_count, self.max_bytes)
        for entry in chunk:
            entry.state = IN_FLIGHT
        self.sent_any = True
        return chunk

    def settle(self, verdict: Verdict) -> None:
        """Apply one request's verdict: count what is done, queue resends at the front
        (re-chunked with new work), keep what is given up, release held duplicates."""
        for entry in verdict.done:
            entry.state = DONE
            if self.dedup:  # remembered for its key alone: the item itself can go
                entry.body = _DONE_DELETE if "DeleteRequest" in entry.body else _DONE_PUT
            self._release(entry, front=False)
        self.done += len(verdict.done)
        resend: list[Entry] = []
        for entry in verdict.retry:
            successor = self._held.pop(entry.identity, None) if self._held else None
            chosen = entry if successor is None else self._replace(entry, successor)
            chosen.state = QUEUED
            resend.append(chosen)
        self.pending.extendleft(reversed(resend))
        for entry in verdict.given_up:
            entry.state = GIVEN_UP
            self.not_done.append(entry)
            self._release(entry, front=True)

    def _replace(self, entry: Entry, successor: Entry) -> Entry:
        """A held later write takes the place of an earlier one that was not done."""
        successor.strikes = entry.strikes
        self._seen[entry.identity] = successor
        return successor

    def _release(self, entry: Entry, *, front: bool) -> None:
        if not self._held:
            return
        successor = self._held.pop(entry.identity, None)
        if successor is None:
            return
        successor.state = QUEUED
        self._seen[entry.identity] = successor
        self.planned += 1
        if front:
            self.pending.appendleft(successor)
        else:
            self.pending.append(successor)

    def fail(self, chunk: list[Entry], error: DynamoDBServiceError) -> None:
        """A request that failed for good: its entries are not done, each keeps
        ``error``, and when it ended in doubt (OUTCOME_UNKNOWN) each may have been
        applied."""
        doubt = error if isinstance(error, OutcomeUnknownError) else None
        for entry in chunk:
            entry.error = error
            if entry.doubt is None:
                entry.doubt = doubt
        self.settle(Verdict([], [], chunk))

    def finish(self) -> list[Entry]:
        """Everything not done, in input order; a write superseded by a later write of
        its key that was done is not listed (the later one decides the key's value)."""
        left = [*self.not_done, *self.pending]
        if self.dedup:
            left = [entry for entry in left if self._seen.get(entry.identity) is entry]
        left += self._held.values()
        self.pending.clear()
        self._held.clear()
        return sorted(left, key=_by_index)


def _by_index(entry: Entry) -> int:
    return entry.index
