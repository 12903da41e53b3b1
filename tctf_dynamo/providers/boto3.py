"""The provider for AWS DynamoDB and anything that speaks its HTTP API.

Clients built here are made with ``botocore.session`` rather than ``boto3``: importing
botocore alone is about 30 ms cheaper at cold start, and the low-level client is all a
provider needs. botocore's own retries are switched off (``total_max_attempts=1``;
``max_attempts=1`` would still send twice) because retrying belongs to the library's
retry policy, which knows what is safe to repeat and feeds the circuit breaker.

Data-plane operations take the fast JSON path of :mod:`tctf_dynamo.providers.wire` by
default (``fast_path=True``): the same endpoint, signer, ``before-send`` event and HTTP
session, without botocore's per-request walks over the service model. ``fast_path=False``
sends everything through the botocore client method, as a plain boto3 call would.

Nothing that watches the client is left out (see :mod:`tctf_dynamo.providers.hooks`):
tracers wrapped around ``_make_api_call`` see the fast path's calls as their own (or, for
OpenTelemetry's botocore instrumentation alone, the fast path makes its spans), and a
``Stubber`` or a handler on an event the fast path does not emit sends that operation
through botocore's path. If the private botocore attributes the fast path needs are
missing (see :mod:`tctf_dynamo.providers.internals`), every call takes botocore's path.

A ``timeout`` given to :meth:`Boto3Provider.call` becomes that request's socket read
timeout on every path, through the ``read_timeout`` botocore's HTTP session reads from
each request's context (the client and its connection pool are never rebuilt). The
connect timeout stays the client's (``connect_timeout``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Final, Self

from botocore import xform_name
from botocore.config import Config

from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.providers.attempts import USER_AGENT_TAG, tagged
from tctf_dynamo.providers.base import Closing, EncodedPart, Request, Response
from tctf_dynamo.providers.clientconfig import (
    SERVICE_NAME,
    client_attempts,
    client_config,
    endpoint_client,
    endpoint_config,
    session_of,
    warn_client_retries,
)
from tctf_dynamo.providers.errors import translate_exception
from tctf_dynamo.providers.hooks import ClientHooks, Route, run_wrapped
from tctf_dynamo.providers.internals import fast_path_missing
from tctf_dynamo.providers.wire import DATA_OPERATIONS, WireClient
from tctf_dynamo.providers.wire_format import encoded_part

if TYPE_CHECKING:
    from botocore.client import BaseClient

__all__ = [
    "READ_TIMEOUT",
    "SENDING",
    "SERVICE_NAME",
    "Boto3Provider",
    "apply_read_timeout",
    "client_config",
    "endpoint_client",
    "endpoint_config",
    "session_of",
    "tag_user_agent",
]

_RESPONSE_METADATA: Final = "ResponseMetadata"
_USER_AGENT_HANDLER_ID: Final = "tctf-dynamo-user-agent"
SENDING: ContextVar[bool] = ContextVar("tctf_dynamo_sending", default=False)
"""True while the provider sends on botocore's path: only its own calls get the tag."""
logger = logging.getLogger("tctf_dynamo.providers")
_READ_TIMEOUT_HANDLER_ID: Final = "tctf-dynamo-read-timeout"
READ_TIMEOUT: ContextVar[float | None] = ContextVar("tctf_dynamo_read_timeout", default=None)
"""The read timeout of the call in flight on this thread: botocore's client methods (and
tracers' wrappers around them) take only the operation's parameters, so the timeout
reaches the request context through :func:`apply_read_timeout`, registered on the client."""


def apply_read_timeout(context: dict[str, Any], **_: Any) -> None:
    """``before-parameter-build`` hook: put this call's read timeout on the request."""
    timeout = READ_TIMEOUT.get()
    if timeout is not None:
        context["read_timeout"] = timeout


class Boto3Provider(Closing):
    """Sends operations through a botocore DynamoDB client.

    Wrapping a client you built yourself keeps its configuration, including its retry
    settings, which cannot be changed after creation: build it with
    ``config=client_config()`` (or ``retries={"total_max_attempts": 1}``). The fast path
    never lets botocore retry; an operation sent on botocore's path by a client whose
    retries are on would be multiplied, and the provider warns once when that happens
    (see :mod:`tctf_dynamo.providers.clientconfig`). :meth:`from_endpoint` builds a
    client with botocore's retries off.

    With ``fast_path`` (the default) data-plane operations skip botocore's serializer,
    validator and parser (see :mod:`tctf_dynamo.providers.wire`); botocore's parameter
    validation still runs when the client's configuration asks for it. Tracers wrapped
    around the client's ``_make_api_call`` (OpenTelemetry, X-Ray) see every call; a
    ``Stubber`` or a handler on ``before-call``, ``after-call`` and the other events the
    fast path does not emit sends the operation through botocore's path instead.

    Thread-safe: botocore clients are, and the provider adds no shared mutable state
    beyond caches of bound methods and per-operation headers.
    """

    def __init__(
        self, client: BaseClient, *, close_client: bool = True, fast_path: bool = True
    ) -> None:
        service = client.meta.service_model.service_name
        if service != SERVICE_NAME:
            raise error_for(
                ErrorCode.INVALID_CONFIGURATION,
                f"Boto3Provider needs a DynamoDB client, got a {service} client",
                {"service": service},
            )
        self._client = client
        self._close_client = close_client
        self._methods: dict[str, Callable[..., dict[str, Any]]] = {}
        self._wire = _wire_client(client) if fast_path else None
        self._hooks = ClientHooks(client, client.meta.service_model.service_id.hyphenize())
        self._retrying_client = client_attempts(client) > 1
        self._warned_retries = False
        self.requested_attempts: int | None = None
        """Attempts a ``Config(retries=...)`` given to :meth:`from_endpoint` asked for."""
        self._closed = False
        self._close_lock = threading.Lock()
        client.meta.events.register(
            "request-created", tag_user_agent, unique_id=_USER_AGENT_HANDLER_ID
        )
        client.meta.events.register(
            f"before-parameter-build.{SERVICE_NAME}",
            apply_read_timeout,
            unique_id=_READ_TIMEOUT_HANDLER_ID,
        )

    @classmethod
    def from_client(
        cls, client: BaseClient, *, close_client: bool = True, fast_path: bool = True
    ) -> Self:
        """Wrap an existing boto3/botocore DynamoDB client (same as the constructor)."""
        return cls(client, close_client=close_client, fast_path=fast_path)

    @classmethod
    def from_endpoint(
        cls,
        endpoint_url: str | None = None,
        *,
        region_name: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_pool_connections: int = 10,
        parameter_validation: bool = False,
        fast_path: bool = True,
        config: Config | None = None,
        profile_name: str | None = None,
        botocore_session: Any = None,
    ) -> Self:
        """Build a client of our own, with botocore's retries off.

        ``endpoint_url=None`` means AWS itself; anything else (a moto server, dynalite,
        DynamoDB Local) is addressed over HTTP the same way. Credentials and region not
        given are resolved by botocore's usual chain (environment, profile, ...), from
        ``botocore_session`` or a new session of ``profile_name`` when given.

        ``config`` overrides the settings above (proxies, TLS, user agent, ...) except
        retries: its ``retries`` become :attr:`requested_attempts`, which the service
        uses as its retry budget, and botocore's stay off (see
        :mod:`tctf_dynamo.providers.clientconfig`).
        """
        merged, attempts = endpoint_config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_pool_connections=max_pool_connections,
            parameter_validation=parameter_validation,
            config=config,
            profile_name=profile_name,
            botocore_session=botocore_session,
        )
        client = endpoint_client(
            botocore_session,
            profile_name,
            endpoint_url=endpoint_url,
            region_name=region_name,
            aws_access_key_id=aws_access_key_id,
            aws_secret_access_key=aws_secret_access_key,
            aws_session_token=aws_session_token,
            config=merged,
        )
        provider = cls(client, fast_path=fast_path)
        provider.requested_attempts = attempts
        return provider

    @property
    def client(self) -> BaseClient:
        """The underlying botocore client, e.g. to register event hooks."""
        return self._client

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def fast_path(self) -> bool:
        """Whether data-plane operations skip botocore's serializer and parser."""
        return self._wire is not None

    @property
    def splices_parts(self) -> bool:
        """Whether requests are written by :func:`~tctf_dynamo.providers.wire_format.encode_request`
        (the fast path), which splices in the text of pre-encoded parts."""
        return self._wire is not None

    @staticmethod
    def encode_part(part: dict[str, Any]) -> EncodedPart:
        """``part`` with its JSON written now, to be spliced into a request body."""
        return encoded_part(part)

    def call(self, operation: str, request: Request, *, timeout: float | None = None) -> Response:
        """Send ``operation``; every failure leaves as a library error.

        ``timeout`` bounds each socket read of this request (the client's
        ``read_timeout`` when None); a read that waits longer raises TIMEOUT.

        Off the fast path, the generated client method is used rather than
        ``_make_api_call``: it costs the same (measured within noise) and copies the
        top-level request, so botocore's handlers that fill in parameters (an idempotency
        token) never touch the caller's dict. The fast path copies before filling too.
        """
        if self._closed:
            raise error_for(
                ErrorCode.INVALID_STATE,
                f"cannot send {operation}: the provider is closed",
                {"operation": operation},
            )
        token = READ_TIMEOUT.set(timeout)
        try:
            return self._dispatch(operation, request, timeout)
        finally:
            READ_TIMEOUT.reset(token)

    def _dispatch(self, operation: str, request: Request, timeout: float | None) -> Response:
        wire = self._wire
        if wire is not None and operation in DATA_OPERATIONS:
            verdict = self._hooks.verdict(operation)
            try:
                if verdict.route is Route.FAST:
                    return wire.send(operation, request, announce=verdict.announce, timeout=timeout)
                if verdict.lane is not None:  # Route.EMULATED
                    return verdict.lane.call(
                        wire.send, operation, request, announce=verdict.announce, timeout=timeout
                    )
                if verdict.route is Route.WRAPPED:
                    inner = self._send_traced_announced if verdict.announce else self._send_traced
                    response: Response = run_wrapped(
                        verdict.wrappers, self._client, inner, operation, request
                    )
                    response.pop(_RESPONSE_METADATA, None)
                    return response
            except Exception as exc:
                raise translate_exception(exc, operation) from exc
        return self._call_botocore(operation, request)

    def _send_traced(self, operation: str, request: Request) -> Response:
        """The fast path as the innermost call of tracers' wrappers: with metadata."""
        wire = self._wire
        assert wire is not None
        return wire.send(operation, request, metadata=True, timeout=READ_TIMEOUT.get())

    def _send_traced_announced(self, operation: str, request: Request) -> Response:
        wire = self._wire
        assert wire is not None
        return wire.send(
            operation, request, metadata=True, announce=True, timeout=READ_TIMEOUT.get()
        )

    def _call_botocore(self, operation: str, request: Request) -> Response:
        if self._retrying_client and not self._warned_retries:
            self._warn_retries(operation)
        method = self._methods.get(operation) or self._bind(operation)
        token = SENDING.set(True)
        try:
            response = method(**request)
        except Exception as exc:
            raise translate_exception(exc, operation) from exc
        finally:
            SENDING.reset(token)
        response.pop(_RESPONSE_METADATA, None)
        return response

    def _warn_retries(self, operation: str) -> None:
        self._warned_retries = True
        warn_client_retries(operation, self._client, stacklevel=4)

    def _bind(self, operation: str) -> Callable[..., dict[str, Any]]:
        if operation not in self._client.meta.service_model.operation_names:
            raise error_for(
                ErrorCode.PROVIDER_ERROR,
                f"{operation} is not a DynamoDB operation",
                {"operation": operation},
            )
        method: Callable[..., dict[str, Any]] = getattr(self._client, xform_name(operation))
        self._methods[operation] = method
        return method

    def close(self) -> None:
        """Close the client's connections (unless ``close_client=False``); idempotent."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        if self._close_client:
            self._client.close()
        else:
            self._client.meta.events.unregister("request-created", unique_id=_USER_AGENT_HANDLER_ID)


def _wire_client(client: BaseClient) -> WireClient | None:
    """The fast path, unless botocore lacks what it relies on (then botocore's path)."""
    missing = fast_path_missing(client)
    if missing:
        logger.warning(
            "botocore %s lacks %s, which the fast path relies on; every call takes botocore's path",
            _botocore_version(),
            ", ".join(missing),
        )
        return None
    return WireClient(client)


def _botocore_version() -> str:
    import botocore

    return str(botocore.__version__)


def tag_user_agent(request: Any, **_: Any) -> None:
    """``request-created`` handler adding the library's tag to the provider's own calls."""
    if not SENDING.get():
        return
    agent = request.headers.get("User-Agent")
    if isinstance(agent, bytes):
        agent = agent.decode("utf-8", "replace")
    if agent and USER_AGENT_TAG not in agent:
        request.headers.replace_header("User-Agent", tagged(agent))
