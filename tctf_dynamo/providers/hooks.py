"""Who else is watching a botocore client, and which path keeps them all informed.

The fast JSON path (:mod:`tctf_dynamo.providers.wire`) skips ``BaseClient._make_api_call``
and most of the client's events. Code outside the library hooks exactly those:

* tracers (OpenTelemetry's botocore instrumentation, the X-Ray SDK, Datadog) wrap
  ``BaseClient._make_api_call`` with ``wrapt`` function wrappers;
* ``botocore.stub.Stubber`` and people's own handlers register on the client's events
  (``before-parameter-build``, ``before-call``, ``after-call``, ...).

Per operation, :class:`ClientHooks` gives one :class:`Route`:

* ``FAST``: nothing foreign is hooked; send on the fast path.
* ``WRAPPED``: only ``wrapt`` wrappers around botocore's own ``_make_api_call`` (the
  tracers). The fast path runs *inside* the same wrappers, called as botocore would call
  them (``wrapper(next, client, (operation, params), {})``), so each wrapper opens its
  span or subsegment, reads the response metadata and records errors exactly as it does
  on botocore's path: same spans, same attributes, one per HTTP attempt.
* ``EMULATED``: the one wrapper is OpenTelemetry's botocore instrumentation, in a
  version and configuration whose spans the fast path can make itself
  (:mod:`tctf_dynamo.providers.otel_lane` decides, and makes them): the same spans
  without the wrapper's per-call work.
* ``BOTOCORE``: anything else (a ``Stubber``, a handler registered on an event the fast
  path does not emit, ``_make_api_call`` replaced by something that is not a wrapper,
  an event system we cannot inspect): take botocore's path, which honours them all.

A handler is foreign when its code lives outside botocore, boto3 and this library;
``botocore.stub`` counts as foreign. ``before-send``, ``before-sign``, ``choose-signer``
and ``before-endpoint-resolution`` (on a cache miss) fire on the fast path too, so
handlers there do not leave it. Nor do foreign ``request-created`` handlers (Powertools
registers one on every session to tag the User-Agent): for those operations the fast
path emits ``request-created``, whose botocore handler signs, instead of calling the
signer directly (``Verdict.announce``).

Cost: the answer is cached per operation and checked on every call against three
identities (the class attribute ``_make_api_call``, the instance attribute if any, and
the emitter's lookup cache, which botocore replaces on every register and unregister),
so instrumenting or registering a handler after the client was made is seen on the
next call, at the price of a few attribute reads per call.
"""

from __future__ import annotations

import enum
import functools
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any, Final

import attrs
from botocore.client import BaseClient

from tctf_dynamo.providers.otel_lane import OperationLane, emulation

__all__ = [
    "WATCHED_EVENTS",
    "ClientHooks",
    "Route",
    "Verdict",
    "hierarchical_emitter",
    "run_wrapped",
]

logger = logging.getLogger("tctf_dynamo.providers")

WATCHED_EVENTS: Final = (
    "provide-client-params",
    "before-parameter-build",
    "before-call",
    "response-received",
    "before-parse",
    "needs-retry",
    "after-call",
    "after-call-error",
)
"""Events botocore's path emits for an operation and the fast path does not."""
REQUEST_CREATED: Final = "request-created"
"""Emitted by the fast path only when a foreign handler listens (it signs the request
either way); otherwise the fast path signs directly, which is cheaper."""

_OWN_MODULES: Final = ("botocore.", "boto3.", "tctf_dynamo.")
_FOREIGN_MODULES: Final = ("botocore.stub",)
_API_CALL: Final = "_make_api_call"
_ORIGINAL_QUALNAME: Final = "BaseClient._make_api_call"


class Route(enum.Enum):
    """How a data operation is sent."""

    FAST = "fast"
    WRAPPED = "wrapped"
    EMULATED = "emulated"
    BOTOCORE = "botocore"


Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]


@attrs.frozen
class Verdict:
    """The route for one operation, the wrappers to run (outermost first), and why."""

    route: Route
    wrappers: tuple[tuple[Wrapper, Any], ...] = ()
    reason: str = ""
    announce: bool = False
    """Emit ``request-created`` (foreign handlers listen) instead of signing directly."""
    lane: OperationLane | None = None
    """For ``EMULATED``: what makes the instrumentation's span for this operation."""


_FAST: Final = Verdict(Route.FAST)


def hierarchical_emitter(events: Any) -> Any | None:
    """botocore's ``HierarchicalEmitter`` behind a client's ``meta.events``, if reachable."""
    emitter = getattr(events, "_emitter", events)
    handlers = getattr(emitter, "_handlers", None)
    if handlers is None or not hasattr(handlers, "prefix_search"):
        return None
    if not isinstance(getattr(emitter, "_lookup_cache", None), dict):
        return None
    return emitter


class ClientHooks:
    """Decides, per data operation, whether the fast path may send it and how."""

    def __init__(self, client: BaseClient, service_id: str) -> None:
        self._client = client
        self._service_id = service_id
        self._emitter = hierarchical_emitter(client.meta.events)
        self._lock = threading.Lock()
        self._api_call: object = None
        self._instance_call: object = None
        self._lookup: object = None
        self._verdicts: dict[str, Verdict] = {}

    def verdict(self, operation: str) -> Verdict:
        """The route for ``operation`` now; cheap when nothing changed since last call."""
        emitter = self._emitter
        if (
            vars(BaseClient).get(_API_CALL) is self._api_call
            and (emitter is None or emitter._lookup_cache is self._lookup)
            and vars(self._client).get(_API_CALL) is self._instance_call
        ):
            cached = self._verdicts.get(operation)
            if cached is not None:
                return cached
        return self._recompute(operation)

    def _recompute(self, operation: str) -> Verdict:
        with self._lock:
            emitter = self._emitter
            api_call = vars(BaseClient).get(_API_CALL)
            instance_call = vars(self._client).get(_API_CALL)
            lookup = emitter._lookup_cache if emitter is not None else None
            if not (
                api_call is self._api_call
                and instance_call is self._instance_call
                and lookup is self._lookup
            ):
                self._verdicts = {}
                self._api_call, self._instance_call, self._lookup = api_call, instance_call, lookup
            verdict = self._decide(operation)
            if verdict.route is Route.BOTOCORE and operation not in self._verdicts:
                logger.debug("%s takes botocore's path: %s", operation, verdict.reason)
            self._verdicts[operation] = verdict
            return verdict

    def _decide(self, operation: str) -> Verdict:
        if self._emitter is None:
            return Verdict(Route.BOTOCORE, reason="the client's event system cannot be read")
        foreign = _foreign_handlers(self._emitter, self._service_id, operation, WATCHED_EVENTS)
        if foreign:
            return Verdict(Route.BOTOCORE, reason=f"handlers on {', '.join(foreign)}")
        if vars(self._client).get(_API_CALL) is not None:
            return Verdict(Route.BOTOCORE, reason="_make_api_call replaced on the client")
        verdict = _api_call_verdict(_class_attribute(type(self._client)))
        if verdict.route is Route.WRAPPED:
            lane = emulation(verdict.wrappers, self._client, operation)
            if lane is not None:
                verdict = Verdict(Route.EMULATED, verdict.wrappers, "tracer emulated", lane=lane)
        if verdict.route is not Route.BOTOCORE and _foreign_handlers(
            self._emitter, self._service_id, operation, (REQUEST_CREATED,)
        ):
            return attrs.evolve(verdict, announce=True)
        return verdict


def _class_attribute(cls: type) -> object:
    for klass in cls.__mro__:
        if _API_CALL in vars(klass):
            return vars(klass)[_API_CALL]
    return None


def _api_call_verdict(attribute: object) -> Verdict:
    """FAST for botocore's own function, WRAPPED for wrapt wrappers around it."""
    wrappers: list[tuple[Wrapper, Any]] = []
    current: Any = attribute
    while _is_function_wrapper(current):
        wrappers.append((current._self_wrapper, current._self_enabled))
        current = current.__wrapped__
    if getattr(current, "__qualname__", None) != _ORIGINAL_QUALNAME or (
        getattr(current, "__module__", None) != "botocore.client"
    ):
        return Verdict(Route.BOTOCORE, reason="_make_api_call is not botocore's own")
    if not wrappers:
        return _FAST
    return Verdict(Route.WRAPPED, tuple(wrappers), reason="wrapped by a tracer")


def _is_function_wrapper(value: object) -> bool:
    """A ``wrapt`` wrapper of a plain method: its wrapper and target are reachable."""
    return (
        callable(getattr(value, "_self_wrapper", None))
        and getattr(value, "_self_binding", None) == "function"
        and hasattr(value, "__wrapped__")
    )


def _foreign_handlers(
    emitter: Any, service_id: str, operation: str, events: Iterable[str]
) -> list[str]:
    found = []
    for event in events:
        handlers: Iterable[Any] = emitter._handlers.prefix_search(
            f"{event}.{service_id}.{operation}"
        )
        if any(_is_foreign(handler) for handler in handlers):
            found.append(event)
    return found


def _is_foreign(handler: Any) -> bool:
    module = getattr(handler, "__module__", None) or getattr(type(handler), "__module__", "")
    if not isinstance(module, str):
        return True
    if module.startswith(_FOREIGN_MODULES):
        return True
    return not (module.startswith(_OWN_MODULES) or module in {"botocore", "boto3"})


def run_wrapped(
    wrappers: tuple[tuple[Wrapper, Any], ...],
    client: BaseClient,
    inner: Callable[[str, dict[str, Any]], Any],
    operation: str,
    params: dict[str, Any],
) -> Any:
    """Call ``inner(operation, params)`` inside ``wrappers`` as botocore's method would be."""
    if not wrappers:
        return inner(operation, params)
    return _call(wrappers, 0, client, inner, operation, params)


def _call(
    wrappers: tuple[tuple[Wrapper, Any], ...],
    index: int,
    client: BaseClient,
    inner: Callable[..., Any],
    *args: Any,
    **kwargs: Any,
) -> Any:
    wrapper, enabled = wrappers[index]
    # the innermost wrapper calls ``inner`` itself: one frame less for the usual single tracer
    following: Callable[..., Any] = (
        inner
        if index + 1 == len(wrappers)
        else functools.partial(_call, wrappers, index + 1, client, inner)
    )
    if enabled is not None and not (enabled() if callable(enabled) else enabled):
        return following(*args, **kwargs)
    return wrapper(following, client, args, kwargs)
