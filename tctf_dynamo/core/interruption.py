"""What an interrupted write leaves behind: applied, not applied, or unknown.

A program can be interrupted at any ``yield``: an async driver throws ``CancelledError``
in when its task is cancelled, a blocking one ``KeyboardInterrupt``. The interruption
itself must propagate (the caller asked for it), but a caller that keeps a record of
its writes (a unit of work) still has to say truthfully what became of them.

:func:`watching` runs a write program and keeps, in a :class:`WriteWatch`, what the
outcome rules of :mod:`tctf_dynamo.core.outcomes` say about the attempts so far: an
interruption while a write request was on its way is an ambiguous failure (the request
may have reached DynamoDB), every other failed attempt is judged by
:func:`~tctf_dynamo.core.outcomes.after_failure` itself. :meth:`WriteWatch.outcome` then
gives the OUTCOME_UNKNOWN error the rules give for a doubt
(:func:`~tctf_dynamo.core.outcomes.unknown`), or None when no attempt can have been applied.
"""

from __future__ import annotations

from typing import Any, TypeVar

from tctf_dynamo.core.outcomes import Idempotency, after_failure, unknown
from tctf_dynamo.core.sending import WRITE_OPERATIONS, write_kind
from tctf_dynamo.effects.program import Program, Send
from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode, OutcomeUnknownError, error_for

__all__ = ["WriteWatch", "interrupted", "watching"]

T = TypeVar("T")


def interrupted(operation: str) -> DynamoDBServiceError:
    """The INTERRUPTED error: the caller stopped ``operation`` while it was under way."""
    return error_for(
        ErrorCode.INTERRUPTED,
        f"{operation} was interrupted by the caller (task cancelled or KeyboardInterrupt)",
        {"operation": operation},
        retryable=False,
    )


class WriteWatch:
    """The write attempts of one program so far, as the outcome rules judge them."""

    __slots__ = ("in_doubt", "last")

    def __init__(self) -> None:
        self.in_doubt = False
        """Some attempt may have been applied and no answer since proved otherwise."""
        self.last: Send | None = None
        """The last write request sent (the one to replay to settle a doubt)."""

    def outcome(self, kind: Idempotency) -> OutcomeUnknownError | None:
        """After an interruption: OUTCOME_UNKNOWN for a write of ``kind`` in doubt (with
        the token and request to settle it), None if no attempt can have been applied."""
        last = self.last
        if not self.in_doubt or last is None:
            return None
        token = last.request.get("ClientRequestToken")
        operation = last.operation
        return unknown(kind, token, operation, interrupted(operation), last.request)


def watching(program: Program[T], watch: WriteWatch) -> Program[T]:
    """``program``, unchanged, with its write attempts recorded in ``watch``."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            effect = program.send(value) if error is None else program.throw(error)
        except StopIteration as stop:
            result: T = stop.value
            return result
        error = None
        if type(effect) is not Send or effect.operation not in WRITE_OPERATIONS:
            try:
                value = yield effect
            except BaseException as thrown:  # the program decides what it means
                error = thrown
            continue
        watch.last = effect
        try:
            value = yield effect
        except DynamoDBServiceError as failed:
            kind = write_kind(effect.operation, effect.request)
            watch.in_doubt = after_failure(kind, watch.in_doubt, failed).in_doubt
            error = failed
        except BaseException as thrown:  # interrupted while the request was on its way
            watch.in_doubt = True
            error = thrown
