"""A shorter thread switch interval while a threaded bulk job's calling thread plans.

CPython lets the thread holding the interpreter lock run for up to the switch interval
(5 ms by default) before another thread that waits for it gets a turn. While the calling
thread of a bulk job encodes entries (pure Python, never waiting), a worker whose answer
has arrived waits that long to read it and send its next request: on a job of 20 ms
round trips that is a quarter of a round trip lost per request. While the planner pulls,
the interval is 0.5 ms, so workers get their turn ten times sooner; the cost is more
frequent switches, a few microseconds each.

The interval is the process's, so the change is scoped as
:class:`~tctf_dynamo.batch._scoped.ScopedSetting` scopes every such setting (made by the
first of concurrent jobs, undone by the last unless something else changed it
meanwhile); an interval already as short is left alone.
"""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager

from tctf_dynamo.batch._scoped import ScopedSetting

__all__ = ["SWITCH_INTERVAL", "quick_switching"]

SWITCH_INTERVAL = 0.0005
"""Seconds: the switch interval while a planner pulls."""


def _shorter(found: float) -> float | None:
    return SWITCH_INTERVAL if found > SWITCH_INTERVAL else None


_INTERVAL: ScopedSetting[float] = ScopedSetting(
    sys.getswitchinterval, sys.setswitchinterval, _shorter
)


def quick_switching() -> AbstractContextManager[None]:
    """Run the body with a switch interval of at most :data:`SWITCH_INTERVAL`."""
    return _INTERVAL.scope()
