"""Fewer young garbage collections while bulk jobs run.

A bulk job allocates several container objects per item (wire items, entries, the
entities a read returns) and keeps many of them to its end. CPython's collector starts
a young collection every 700 such allocations and, every hundred of those, may walk
everything allocated since its last full collection: on a job of ten thousand items
those collections find next to nothing to free and cost about a tenth of the job's CPU
(measured with ``python -m bench.batch``).

While at least one job runs, the young threshold is ten times larger, so the same
objects are walked in a tenth as many collections; reference counting, which frees
everything a job lets go of, is untouched. The thresholds are the process's, so the
change is scoped as :class:`~tctf_dynamo.batch._scoped.ScopedSetting` scopes every such
setting (made by the first of concurrent jobs, undone by the last unless something else
changed it meanwhile); a collector that is disabled or has a zero threshold is left alone.
"""

from __future__ import annotations

import gc
from contextlib import AbstractContextManager

from tctf_dynamo.batch._scoped import ScopedSetting

__all__ = ["fewer_collections"]

YOUNG_FACTOR = 10

Thresholds = tuple[int, ...]


def _set(thresholds: Thresholds) -> None:
    gc.set_threshold(*thresholds)


def _raised(found: Thresholds) -> Thresholds | None:
    if not gc.isenabled() or found[0] <= 0:
        return None
    return (found[0] * YOUNG_FACTOR, *found[1:])


_THRESHOLDS: ScopedSetting[Thresholds] = ScopedSetting(gc.get_threshold, _set, _raised)


def fewer_collections() -> AbstractContextManager[None]:
    """Run the body with a young-collection threshold ten times the current one."""
    return _THRESHOLDS.scope()
