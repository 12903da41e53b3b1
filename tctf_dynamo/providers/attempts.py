"""Which attempt of which operation a provider is sending, and the headers that say so.

The library's retry loop is the only one (botocore's are off), so it is the one that knows
that an HTTP request is attempt 2 of at most 3 of one operation. It publishes that in a
context variable for the duration of each attempt; the fast path turns it into the
headers AWS SDKs send (``amz-sdk-invocation-id``, the same for every attempt of one
operation, and ``amz-sdk-request: attempt=N; max=M``), and the library's spans read it.
A provider called outside the retry loop sends each request as attempt 1 of 1.

Also here: the user-agent tag the library adds on both paths, and Lambda's trace header,
which botocore adds from ``_X_AMZN_TRACE_ID`` inside a Lambda function.
"""

from __future__ import annotations

import os
import random
from contextvars import ContextVar
from typing import Any, Final
from urllib.parse import quote

__all__ = [
    "CURRENT_ATTEMPT",
    "IN_LAMBDA",
    "USER_AGENT_TAG",
    "Invocation",
    "invocation_headers",
    "invocation_id",
    "lambda_trace_id",
    "tagged",
]

USER_AGENT_TAG: Final = "lib/tctf-dynamo#0.1.0"
"""Appended to the User-Agent botocore builds, in its ``lib/name#version`` form."""


def tagged(agent: str | None) -> str:
    """``agent`` with the library's tag appended, once."""
    if not agent:
        return USER_AGENT_TAG
    return agent if USER_AGENT_TAG in agent else f"{agent} {USER_AGENT_TAG}"


_UUID4_CLEAR: Final = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET: Final = (0x4000 << 64) | (0x8000 << 48)
"""The version (4) and variant (RFC 4122) bits of a random UUID."""


def invocation_id() -> str:
    """A random UUID (version 4) as text, as botocore's ``amz-sdk-invocation-id``.

    From :mod:`random` (reseeded in a forked child), not ``uuid.uuid4``: the id only has
    to be unique per operation, not secret, and ``os.urandom`` releases the interpreter
    lock, so a worker thread of a bulk job that asked for an id waited for its turn
    again before it could send its request.
    """
    text = "%032x" % ((random.getrandbits(128) & _UUID4_CLEAR) | _UUID4_SET)
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


class Invocation:
    """One operation's retry state: its id (made on first use), attempt and budget."""

    __slots__ = ("_id", "attempt", "max_attempts", "permit")

    def __init__(self, max_attempts: int) -> None:
        self._id: str | None = None
        self.attempt = 0
        self.max_attempts = max_attempts
        self.permit: Any = None
        """What the circuit breaker granted, for the library's spans."""

    @property
    def id(self) -> str:
        """The ``amz-sdk-invocation-id``: made once, shared by every attempt."""
        if self._id is None:
            self._id = invocation_id()
        return self._id


CURRENT_ATTEMPT: ContextVar[Invocation | None] = ContextVar("tctf_dynamo_attempt", default=None)


def invocation_headers() -> dict[str, str]:
    """The SDK retry headers for the request about to be sent."""
    invocation = CURRENT_ATTEMPT.get()
    if invocation is None:
        return {"amz-sdk-invocation-id": invocation_id(), "amz-sdk-request": "attempt=1; max=1"}
    return {
        "amz-sdk-invocation-id": invocation.id,
        "amz-sdk-request": f"attempt={max(invocation.attempt, 1)}; max={invocation.max_attempts}",
    }


IN_LAMBDA = "AWS_LAMBDA_FUNCTION_NAME" in os.environ
"""Whether this process runs inside AWS Lambda (the runtime sets the variable first)."""


def lambda_trace_id() -> str | None:
    """``X-Amzn-Trace-Id`` as botocore sends it inside Lambda (read per request: Lambda
    sets a new one for every invocation), else ``None``."""
    if not IN_LAMBDA:
        return None
    trace_id = os.environ.get("_X_AMZN_TRACE_ID")
    if not trace_id:
        return None
    return quote(trace_id, safe="-=;:+&[]{}\"',")
