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
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, Self

from botocore import xform_name
from botocore.config import Config

from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.providers.base import Closing, Request, Response
from tctf_dynamo.providers.errors import translate_exception
from tctf_dynamo.providers.wire import DATA_OPERATIONS, WireClient

if TYPE_CHECKING:
    from botocore.client import BaseClient

__all__ = ["Boto3Provider", "client_config"]

SERVICE_NAME: Final = "dynamodb"
_RESPONSE_METADATA: Final = "ResponseMetadata"


def client_config(
    *,
    connect_timeout: float = 5.0,
    read_timeout: float = 30.0,
    max_pool_connections: int = 10,
    parameter_validation: bool = False,
    **extra: Any,
) -> Config:
    """The botocore configuration every client the library builds uses.

    Parameter validation is off by default because the library validated the request
    already; doing it twice costs CPU on every call.
    """
    return Config(
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_pool_connections=max_pool_connections,
        parameter_validation=parameter_validation,
        tcp_keepalive=True,
        **extra,
    )


class Boto3Provider(Closing):
    """Sends operations through a botocore DynamoDB client.

    Wrapping a client you built yourself keeps its configuration, including its retry
    settings, which cannot be changed after creation: build it with
    ``config=client_config()`` (or ``retries={"total_max_attempts": 1}``), or the
    library's retries multiply with botocore's. :meth:`from_endpoint` does that for you.

    With ``fast_path`` (the default) data-plane operations skip botocore's serializer,
    validator and parser (see :mod:`tctf_dynamo.providers.wire`) and never retry, whatever
    the client's retry settings; botocore's parameter validation still runs when the
    client's configuration asks for it. Of the client's events only ``before-sign``,
    ``choose-signer`` and ``before-send`` fire for those operations, so hooks on others
    (``before-call``, ``after-call``, botocore's ``Stubber``) need ``fast_path=False``.

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
        self._wire = WireClient(client) if fast_path else None
        self._closed = False
        self._close_lock = threading.Lock()

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
    ) -> Self:
        """Build a client of our own, with botocore's retries off.

        ``endpoint_url=None`` means AWS itself; anything else (a moto server, dynalite,
        DynamoDB Local) is addressed over HTTP the same way. Credentials and region not
        given are resolved by botocore's usual chain (environment, profile, ...).
        """
        config = client_config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_pool_connections=max_pool_connections,
            parameter_validation=parameter_validation,
        )
        try:
            import botocore.session

            client = botocore.session.get_session().create_client(
                SERVICE_NAME,
                region_name=region_name,
                endpoint_url=endpoint_url,
                aws_access_key_id=aws_access_key_id,
                aws_secret_access_key=aws_secret_access_key,
                aws_session_token=aws_session_token,
                config=config,
            )
        except Exception as exc:
            raise translate_exception(exc, "CreateClient") from exc
        return cls(client, fast_path=fast_path)

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

    def call(self, operation: str, request: Request) -> Response:
        """Send ``operation``; every failure leaves as a library error.

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
        wire = self._wire
        if wire is not None and operation in DATA_OPERATIONS:
            try:
                return wire.send(operation, request)
            except Exception as exc:
                raise translate_exception(exc, operation) from exc
        method = self._methods.get(operation) or self._bind(operation)
        try:
            response = method(**request)
        except Exception as exc:
            raise translate_exception(exc, operation) from exc
        response.pop(_RESPONSE_METADATA, None)
        return response

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
