"""The life cycle of a unit of work, and the states each of its methods accepts.

A unit of work is OPEN while it collects intents, then ends in one of four states.
Every public method declares the states it accepts, so using a unit of work after it
ended fails loudly (INVALID_STATE) instead of silently sending nothing, or sending
twice::

    OPEN ──commit() ok────────────▶ COMMITTED
      │ ──commit() raised─────────▶ FAILED
      │ ──commit() in doubt───────▶ UNKNOWN ──commit() again──▶ COMMITTED / FAILED
      └──exception in the block──▶ DISCARDED   (also discard())

UNKNOWN is the one state that is not final: an atomic commit that ended without an
answer (OUTCOME_UNKNOWN at its deadline, or interrupted, e.g. its task cancelled, while
its request may have reached DynamoDB) may have been applied. Committing the unit again
replays the identical request with the same token, which settles it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import Enum
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from tctf_dynamo.errors import ErrorCode, error_for

__all__ = ["UnitState", "accepts"]

P = ParamSpec("P")
R = TypeVar("R")


class UnitState(Enum):
    """Where a unit of work is in its life cycle."""

    OPEN = "open"
    """Collecting intents; nothing has been sent."""
    COMMITTED = "committed"
    """Every intent was applied; results and committed entities are available."""
    FAILED = "failed"
    """The commit raised or was interrupted, and nothing of an atomic unit was applied;
    for ``atomic=False``, :attr:`error` says exactly which intents were (not) applied."""
    UNKNOWN = "unknown"
    """An atomic commit ended in doubt: it may have been applied. :attr:`error` is the
    OUTCOME_UNKNOWN error (token and request, for ``service.settle``); commit again to
    replay the identical request."""
    DISCARDED = "discarded"
    """Ended without sending anything (an exception in the block, or discard())."""


class _Stateful(Protocol):
    @property
    def state(self) -> UnitState: ...


S = TypeVar("S", bound=_Stateful)


def accepts(
    *states: UnitState,
) -> Callable[[Callable[Concatenate[S, P], R]], Callable[Concatenate[S, P], R]]:
    """Declare the states in which a method may be called; others raise INVALID_STATE."""
    allowed = frozenset(states)
    names = ", ".join(sorted(state.name for state in allowed))

    def decorate(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
        @functools.wraps(method)
        def guarded(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
            if self.state not in allowed:
                raise _wrong_state(type(self).__name__, method.__name__, self.state, names)
            return method(self, *args, **kwargs)

        guarded.__accepts__ = allowed  # type: ignore[attr-defined]
        return guarded

    return decorate


def _wrong_state(owner: str, method: str, state: UnitState, names: str) -> Any:
    return error_for(
        ErrorCode.INVALID_STATE,
        f"{owner}.{method} is not allowed once the unit of work is {state.name}; "
        f"it is allowed when {names}",
        {"method": method, "state": state.name},
    )
