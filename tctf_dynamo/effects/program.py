"""Programs: operations written once, performed by a sync or an async driver.

A program is a generator. Each ``yield`` hands the driver an *effect*, a small value
object naming one piece of I/O (:class:`Send` a request, :class:`Sleep`, or an effect a
layer defines for itself); the driver performs it and sends the result back in, or
throws the effect's exception in at the ``yield``, where the program handles it like
any exception of a call. Everything else (what to send, whether to retry, what the
caller is told) happens inside the program, so the sync API (:func:`run`) and the async
API (:func:`run_async`) make the same decisions by construction.

Effects other than :class:`Send` and :class:`Sleep` (whose targets, the backend and the
clock, belong to the driver) perform themselves: they carry their target and implement
the :class:`SelfPerforming` protocol, ``perform()`` for the sync driver and
``perform_async()`` for the async one (a breaker's state-store read, for instance).

Programs compose with ``yield from``: a repository's program delegates to the
pipeline's, which delegates to the retry loop's, and the driver sees one flat stream of
effects. A program never performs I/O itself and never blocks.

Cancellation: when an async driver's task is cancelled while an effect is pending, the
``CancelledError`` is thrown into the program at that ``yield``, so ``try``/``finally``
and ``except BaseException`` blocks in programs run exactly as they do for a sync
``KeyboardInterrupt``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import Any, Protocol, TypeVar

import attrs

__all__ = ["Program", "SelfPerforming", "Send", "Sleep", "run", "run_async"]

T = TypeVar("T")

Program = Generator[Any, Any, T]
"""A generator yielding effects and returning the operation's result."""


class SelfPerforming(Protocol):
    """An effect that knows how to perform itself, blocking or awaited."""

    def perform(self) -> Any: ...

    async def perform_async(self) -> Any: ...


@attrs.frozen(slots=True)
class Send:
    """Send one attempt of ``operation`` to the backend; the result is the response.

    ``timeout`` is the socket timeout of this attempt (None: the provider's default).
    """

    operation: str
    request: dict[str, Any]
    timeout: float | None = None


@attrs.frozen(slots=True)
class Sleep:
    """Wait ``seconds`` before going on (a backoff); the result is None."""

    seconds: float


def run(program: Program[T], perform: Callable[[Any], Any]) -> T:
    """Run ``program`` to its end, performing each effect with the blocking ``perform``."""
    send = program.send
    value: Any = None
    while True:
        try:
            effect = send(value)
        except StopIteration as stop:
            result: T = stop.value
            return result
        while True:
            try:
                value = perform(effect)
                break
            except BaseException as error:  # the program decides what it means
                try:
                    effect = program.throw(error)
                except StopIteration as stop:
                    thrown_result: T = stop.value
                    return thrown_result


async def run_async(program: Program[T], perform: Callable[[Any], Awaitable[Any]]) -> T:
    """Run ``program`` to its end, awaiting ``perform`` for each effect."""
    send = program.send
    value: Any = None
    while True:
        try:
            effect = send(value)
        except StopIteration as stop:
            result: T = stop.value
            return result
        while True:
            try:
                value = await perform(effect)
                break
            except BaseException as error:  # the program decides what it means
                try:
                    effect = program.throw(error)
                except StopIteration as stop:
                    thrown_result: T = stop.value
                    return thrown_result
