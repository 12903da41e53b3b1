"""botocore's own path, awaited: a provider over an aiobotocore DynamoDB client.

For code that needs what only botocore's full path gives: every client event
(``before-call``, ``after-call``, ...), aiobotocore's ``AioStubber``, tracers that
instrument aiobotocore. Everything is sent through the client's generated methods, as a
plain aiobotocore call would be; the library adds only what
:class:`~tctf_dynamo.providers.Boto3Provider` adds on botocore's path, with the same
handlers: its user-agent tag on its own calls, and the per-call ``timeout`` as the
request's read timeout (aiobotocore reads the request context's ``read_timeout`` as
botocore does), so ``timeout`` bounds each read, the connect timeout staying the
client's.

Retries: clients built by :meth:`AsyncBotocoreProvider.from_endpoint` have botocore's
retries off (the library's retry policy decides); a client passed in keeps its own, and
the provider warns once if they are on, as the sync provider does.

Failures: translated by the one table; aiobotocore names a connection reset after the
request was sent ``EndpointConnectionError`` (a refused connection's name), so every
failure carrying an aiohttp error is renamed by the async fast path's table
(:mod:`tctf_dynamo.providers.aio_transport`), which tells the two apart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, Self

from botocore import xform_name
from botocore.config import Config

from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.providers.aio_transport import aiohttp, transport_error
from tctf_dynamo.providers.base import AsyncClosing, Request, Response
from tctf_dynamo.providers.boto3 import (
    READ_TIMEOUT,
    SENDING,
    apply_read_timeout,
    tag_user_agent,
)
from tctf_dynamo.providers.clientconfig import (
    SERVICE_NAME,
    client_attempts,
    endpoint_config,
    warn_client_retries,
)
from tctf_dynamo.providers.errors import translate_exception

__all__ = ["AsyncBotocoreProvider"]

_RESPONSE_METADATA: Final = "ResponseMetadata"
_USER_AGENT_ID: Final = "tctf-dynamo-async-user-agent"
_READ_TIMEOUT_ID: Final = "tctf-dynamo-async-read-timeout"
_BEFORE_CONNECTION: Final = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
"""aiohttp failures raised while connecting: nothing of the request was sent."""


class AsyncBotocoreProvider(AsyncClosing):
    """Sends every operation through an aiobotocore DynamoDB client's methods.

    Wrap a client you opened yourself (``async with session.create_client(...)``), or
    let :meth:`from_endpoint` open one with botocore's retries off.
    """

    def __init__(self, client: Any, *, close_client: bool = True) -> None:
        service = client.meta.service_model.service_name
        if service != SERVICE_NAME:
            raise error_for(
                ErrorCode.INVALID_CONFIGURATION,
                f"AsyncBotocoreProvider needs a DynamoDB client, got a {service} client",
                {"service": service},
            )
        self._client = client
        self._close_client = close_client
        self._methods: dict[str, Callable[..., Any]] = {}
        self._retrying_client = client_attempts(client) > 1
        self._warned_retries = False
        self._closed = False
        self.requested_attempts: int | None = None
        """Attempts a ``Config(retries=...)`` given to :meth:`from_endpoint` asked for."""
        events = client.meta.events
        events.register("request-created", tag_user_agent, unique_id=_USER_AGENT_ID)
        events.register(
            f"before-parameter-build.{SERVICE_NAME}", apply_read_timeout, unique_id=_READ_TIMEOUT_ID
        )

    @classmethod
    async def from_endpoint(
        cls,
        endpoint_url: str | None = None,
        *,
        region_name: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_connections: int = 10,
        parameter_validation: bool = False,
        config: Config | None = None,
        profile_name: str | None = None,
        aiobotocore_session: Any = None,
    ) -> Self:
        """Open an aiobotocore client of our own, botocore's retries off; awaited, as
        aiobotocore opens clients (credentials may be resolved over the network).

        Arguments as :meth:`Boto3Provider.from_endpoint
        <tctf_dynamo.providers.Boto3Provider.from_endpoint>`, with an aiobotocore
        ``AioSession`` in place of a botocore session; ``max_connections`` sizes
        aiohttp's pool.
        """
        try:
            from aiobotocore.config import AioConfig
            from aiobotocore.session import AioSession, get_session
        except ModuleNotFoundError as missing:
            raise ModuleNotFoundError(
                "AsyncBotocoreProvider.from_endpoint needs aiobotocore, an optional "
                "dependency: pip install 'tctf-dynamo[aiobotocore]'",
                name=missing.name,
            ) from missing

        merged, attempts = endpoint_config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_pool_connections=max_connections,
            parameter_validation=parameter_validation,
            config=config,
            profile_name=profile_name,
            botocore_session=aiobotocore_session,
        )
        try:
            session = aiobotocore_session or (
                get_session() if profile_name is None else AioSession(profile=profile_name)
            )
            context = session.create_client(
                SERVICE_NAME,
                region_name=region_name,
                endpoint_url=endpoint_url,
                aws_access_key_id=aws_access_key_id,
                aws_secret_access_key=aws_secret_access_key,
                aws_session_token=aws_session_token,
                config=AioConfig().merge(merged),
            )
            client = await context.__aenter__()
        except Exception as exc:
            raise translate_exception(exc, "CreateClient") from exc
        provider = cls(client)
        provider.requested_attempts = attempts
        return provider

    @property
    def client(self) -> Any:
        """The aiobotocore client, e.g. to register event hooks or an ``AioStubber``."""
        return self._client

    @property
    def closed(self) -> bool:
        return self._closed

    async def call(
        self, operation: str, request: Request, *, timeout: float | None = None
    ) -> Response:
        """Send ``operation``; every failure leaves as a library error.

        ``timeout`` bounds each read of this request (the client's ``read_timeout``
        when None). The client method copies the top-level request, so handlers that
        fill in parameters never touch the caller's dict.
        """
        if self._closed:
            raise error_for(
                ErrorCode.INVALID_STATE,
                f"cannot send {operation}: the provider is closed",
                {"operation": operation},
            )
        if self._retrying_client and not self._warned_retries:
            self._warned_retries = True
            warn_client_retries(operation, self._client, stacklevel=2)
        method = self._methods.get(operation) or self._bind(operation)
        timeout_token = READ_TIMEOUT.set(timeout)
        sending_token = SENDING.set(True)
        try:
            response: Response = await method(**request)
        except Exception as exc:
            failure = _renamed(exc)
            raise translate_exception(failure, operation) from failure
        finally:
            SENDING.reset(sending_token)
            READ_TIMEOUT.reset(timeout_token)
        response.pop(_RESPONSE_METADATA, None)
        return response

    def _bind(self, operation: str) -> Callable[..., Any]:
        if operation not in self._client.meta.service_model.operation_names:
            raise error_for(
                ErrorCode.PROVIDER_ERROR,
                f"{operation} is not a DynamoDB operation",
                {"operation": operation},
            )
        method: Callable[..., Any] = getattr(self._client, xform_name(operation))
        self._methods[operation] = method
        return method

    async def close(self) -> None:
        """Close the client (unless ``close_client=False``: then only unhook); idempotent."""
        if self._closed:
            return
        self._closed = True
        events = self._client.meta.events
        events.unregister("request-created", unique_id=_USER_AGENT_ID)
        events.unregister(f"before-parameter-build.{SERVICE_NAME}", unique_id=_READ_TIMEOUT_ID)
        if self._close_client:
            await self._client.__aexit__(None, None, None)


def _renamed(exc: Exception) -> Exception:
    """``exc``, or the botocore exception the sync path raises for the aiohttp failure
    aiobotocore wrapped in it."""
    kwargs = getattr(exc, "kwargs", None)
    inner = kwargs.get("error") if isinstance(kwargs, dict) else None
    if not isinstance(inner, aiohttp.ClientError | TimeoutError):
        return exc
    url = str(kwargs.get("endpoint_url", "")) if isinstance(kwargs, dict) else ""
    return transport_error(inner, connected=not isinstance(inner, _BEFORE_CONNECTION), url=url)
