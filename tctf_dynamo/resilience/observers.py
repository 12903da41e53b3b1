"""The hook the library's own spans plug into; nothing runs while none is installed.

Two kinds of calls reach an observer:

* :func:`scope` opens one span per library operation a user sees (a repository call, a
  query page, a unit-of-work commit, a bulk job), with what only that layer knows (the
  entity, the number of intents);
* the resilience pipeline reports every provider operation it runs
  (:meth:`OperationObserver.begin` / :meth:`OperationObserver.end`): inside a scope the
  observer adds attempts, retries, breaker state and consumed capacity to the scope's
  span, outside one (the plain item API) it makes a span of its own. Either way that
  span is the current one while the attempts are sent, so a tracer's per-attempt spans
  are its children.

With no observer installed, :func:`scope` returns a shared no-op context manager and the
pipeline makes one global read per operation: that is the whole cost.
:mod:`tctf_dynamo.observability` installs the OpenTelemetry observer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any, Final, Protocol

__all__ = ["OperationObserver", "current", "install", "scope"]


class OperationObserver(Protocol):
    """Receives the library's operations; implemented by the tracing adapter."""

    def scope(self, kind: str, attributes: Mapping[str, Any]) -> AbstractContextManager[Any]:
        """A span for one user-level operation, current while the block runs."""
        ...

    def begin(self, operation: str, table: str | None) -> Any:
        """A provider operation starts; returns a handle given back to :meth:`end`."""
        ...

    def end(
        self,
        handle: Any,
        *,
        attempts: int,
        breaker_state: str,
        result: Any = None,
        error: BaseException | None = None,
    ) -> None:
        """The operation ended with ``result`` or ``error`` after ``attempts`` attempts."""
        ...


_NULL: Final = contextlib.nullcontext()
_observer: OperationObserver | None = None


def current() -> OperationObserver | None:
    """The installed observer, or ``None``."""
    return _observer


def install(observer: OperationObserver | None) -> OperationObserver | None:
    """Install ``observer`` (``None`` removes it); returns the one it replaces."""
    global _observer
    previous, _observer = _observer, observer
    return previous


def scope(kind: str, **attributes: Any) -> AbstractContextManager[Any]:
    """One span for a user-level operation (``kind`` such as ``"Repository.get"``)."""
    observer = _observer
    if observer is None:
        return _NULL
    return observer.scope(kind, attributes)
