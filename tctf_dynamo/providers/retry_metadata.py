"""What botocore's retry handler writes into an answer it will not retry.

botocore's path asks the client's retry handler about every answer; with the library's
setting (one attempt) the handler marks an error answer ``MaxAttemptsReached``, and
``ClientError`` then ends its message with ``(reached max retries: 0)``. Tracers record
that message (span status, exception event), so the fast path, which never asks the
handler, marks its error answers the same way:

* ``standard`` and ``adaptive`` modes check the attempt count first, for every answer:
  with one attempt, every error answer is marked;
* ``legacy`` mode marks only an answer it would have retried: the client's own legacy
  checker is asked, with the answer, exactly as its ``needs-retry`` handler asks it;
* a client that retries by itself (more than one attempt) marks nothing on a first
  attempt; the provider warns about such clients anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore.awsrequest import AWSResponse

from tctf_dynamo.providers.clientconfig import client_attempts

__all__ = ["Marker", "last_attempt_marker"]

Marker = Callable[[dict[str, Any], int, Mapping[str, str], bytes], None]
"""``mark(error, status, headers, body)``: mark the parsed error answer in place."""

_STANDARD_MODES = frozenset({"standard", "adaptive"})


def last_attempt_marker(client: Any) -> Marker | None:
    """How error answers of ``client`` are marked, or None when they are not."""
    if client_attempts(client) > 1:
        return None
    mode = (getattr(client.meta.config, "retries", None) or {}).get("mode", "legacy")
    if mode in _STANDARD_MODES:
        return _always
    if mode == "legacy":
        checker = _legacy_checker(client)
        if checker is not None:
            return _asking(checker)
    return None


def _always(error: dict[str, Any], status: int, headers: Mapping[str, str], body: bytes) -> None:
    del status, headers, body
    error.setdefault("ResponseMetadata", {})["MaxAttemptsReached"] = True


def _asking(checker: Any) -> Marker:
    def mark(error: dict[str, Any], status: int, headers: Mapping[str, str], body: bytes) -> None:
        response: Any = AWSResponse("", status, headers, None)  # type: ignore[arg-type]
        response._content = body  # what the CRC32 checker reads
        checker(attempt_number=1, response=(response, error), caught_exception=None,
                retries_context={})  # fmt: skip

    return mark


def _legacy_checker(client: Any) -> Any:
    from botocore.retryhandler import MaxAttemptsDecorator, RetryHandler  # legacy mode only

    service = client.meta.service_model.service_id.hyphenize()
    emitter = getattr(client.meta.events, "_emitter", client.meta.events)
    handlers = getattr(emitter, "_handlers", None)
    if handlers is None:
        return None
    for handler in handlers.prefix_search(f"needs-retry.{service}"):
        checker = getattr(handler, "_checker", None)
        if isinstance(handler, RetryHandler) and isinstance(checker, MaxAttemptsDecorator):
            return checker
    return None
