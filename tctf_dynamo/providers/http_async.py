"""The fast JSON path, awaited: DynamoDB's HTTP API over aiohttp, signed by botocore.

Everything but the socket is the sync fast path's own code (:mod:`tctf_dynamo.providers.wire`):
the same :class:`~tctf_dynamo.providers.wire.WireClient` fills idempotency tokens,
encodes the body (binary values as base64), resolves the endpoint by the client's rules,
adds Lambda's trace header, signs with the botocore client's SigV4 signer and adds the
SDK retry headers; the same code checks ``x-amz-crc32`` and turns an error answer into
botocore's ``ClientError``; the same table translates every failure. So both paths send
the same request and report the same outcome.

Only the HTTP exchange differs: aiohttp, with a pool of ``max_connections`` connections
per event loop. Its failures become the botocore exceptions the sync path raises for
the same event (:mod:`tctf_dynamo.providers.aio_transport`); whether a connection had
been obtained is recorded for each attempt, so a failure before the request could reach
DynamoDB (refused, DNS, connect timeout) is never mistaken for one after it may have
(read timeout, reset mid-response), which the outcome rules read.

Timeouts: ``timeout`` given to :meth:`AsyncHttpProvider.call` bounds the whole attempt,
connect and read; a timeout while connecting is ``ConnectTimeoutError``, any later one
``ReadTimeoutError``, both TIMEOUT as on the sync path. Without it, connecting is
bounded by ``connect_timeout`` and each read by ``read_timeout``.

Credentials: the client's credentials (refreshable ones included) are refreshed on a
worker thread (``asyncio.to_thread``) whenever botocore would refresh them on the next
signature, so an STS, SSO or instance-metadata round trip never blocks the event loop;
signing itself is a few HMACs on the loop. Building the provider
(:meth:`AsyncHttpProvider.from_endpoint`) resolves the credential chain as botocore
does, which may touch the network: do it at start-up, or in ``asyncio.to_thread``.

Not honoured here (use :class:`~tctf_dynamo.providers.Boto3Provider` on a thread, or the
aiobotocore provider): proxies, botocore event handlers other than those that run inside
signing, ``Stubber``. Cancelling :meth:`AsyncHttpProvider.call` closes the connection it
held, so the pool never keeps a half-read answer.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Final, Self

from botocore.awsrequest import HeadersDict
from botocore.config import Config

from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.providers.aio_transport import aiohttp, transport_error
from tctf_dynamo.providers.base import AsyncClosing, Request, Response
from tctf_dynamo.providers.boto3 import Boto3Provider
from tctf_dynamo.providers.clientconfig import SERVICE_NAME, endpoint_client, endpoint_config
from tctf_dynamo.providers.errors import translate_exception
from tctf_dynamo.providers.internals import fast_path_missing
from tctf_dynamo.providers.wire import DATA_OPERATIONS, WireClient

if TYPE_CHECKING:
    from botocore.client import BaseClient
    from botocore.credentials import Credentials

__all__ = ["AsyncHttpProvider"]

_ACCEPT_ENCODING: Final = "identity"
"""What the sync path's HTTP client sends: DynamoDB answers are never compressed."""


class _Attempt:
    """Whether the attempt in flight got a connection (set by :class:`_Connector`)."""

    __slots__ = ("connected",)

    def __init__(self) -> None:
        self.connected = False


_ATTEMPT: ContextVar[_Attempt | None] = ContextVar("tctf_dynamo_http_attempt", default=None)


class _Connector(aiohttp.TCPConnector):
    """A TCP connector that records, for the attempt in flight, that it got a connection.

    aiohttp connects in the caller's task, so the context variable set by the call is
    the one seen here.
    """

    async def connect(self, req: Any, traces: Any, timeout: aiohttp.ClientTimeout) -> Any:
        connection = await super().connect(req, traces, timeout)
        attempt = _ATTEMPT.get()
        if attempt is not None:
            attempt.connected = True
        return connection


class AsyncHttpProvider(AsyncClosing):
    """Sends data-plane operations over aiohttp, signed with a botocore client's signer.

    Operations other than the data plane (``CreateTable``, ``DescribeTable``, ...) go
    through the same botocore client on a worker thread: they are rare, and their
    responses hold timestamps only botocore's parser builds.

    Build it with :meth:`from_endpoint` (botocore's retries off, as for
    :class:`~tctf_dynamo.providers.Boto3Provider`) or from a botocore client of your own.
    One provider serves one event loop: its connection pool is opened on the first call,
    in that call's loop.
    """

    def __init__(
        self,
        client: BaseClient,
        *,
        max_connections: int = 10,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        close_client: bool = True,
    ) -> None:
        service = client.meta.service_model.service_name
        if service != SERVICE_NAME:
            raise error_for(
                ErrorCode.INVALID_CONFIGURATION,
                f"AsyncHttpProvider needs a DynamoDB client, got a {service} client",
                {"service": service},
            )
        if max_connections < 1:
            raise error_for(
                ErrorCode.INVALID_CONFIGURATION,
                "max_connections must be at least 1",
                {"field": "max_connections"},
            )
        missing = fast_path_missing(client)
        if missing:
            raise error_for(
                ErrorCode.INVALID_CONFIGURATION,
                f"this botocore lacks {', '.join(missing)}, which AsyncHttpProvider signs "
                "and resolves endpoints with; use AsyncBotocoreProvider",
                {"missing": missing},
            )
        self._client = client
        self._wire = WireClient(client)
        self._botocore = Boto3Provider(client, close_client=False, fast_path=False)
        self._close_client = close_client
        self._max_connections = max_connections
        self._connect_timeout = connect_timeout
        self._default_timeout = aiohttp.ClientTimeout(
            sock_connect=connect_timeout, sock_read=read_timeout
        )
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self.requested_attempts: int | None = None
        """Attempts a ``Config(retries=...)`` given to :meth:`from_endpoint` asked for."""

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
        max_connections: int = 10,
        parameter_validation: bool = False,
        config: Config | None = None,
        profile_name: str | None = None,
        botocore_session: Any = None,
    ) -> Self:
        """Build a provider on a botocore client of our own (botocore's retries off).

        Arguments as :meth:`Boto3Provider.from_endpoint
        <tctf_dynamo.providers.Boto3Provider.from_endpoint>`; ``max_connections`` sizes
        the aiohttp pool (and the botocore client's, used for table management).
        """
        merged, attempts = endpoint_config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_pool_connections=max_connections,
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
        provider = cls(
            client,
            max_connections=max_connections,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )
        provider.requested_attempts = attempts
        return provider

    @property
    def client(self) -> BaseClient:
        """The botocore client whose signer, endpoint rules and credentials are used."""
        return self._client

    @property
    def closed(self) -> bool:
        return self._closed

    async def call(
        self, operation: str, request: Request, *, timeout: float | None = None
    ) -> Response:
        """Send ``operation``; every failure leaves as a library error.

        ``timeout`` bounds this whole attempt, connecting included (None: the
        provider's ``connect_timeout`` and per-read ``read_timeout``).
        """
        if self._closed:
            raise error_for(
                ErrorCode.INVALID_STATE,
                f"cannot send {operation}: the provider is closed",
                {"operation": operation},
            )
        if operation not in DATA_OPERATIONS:
            return await asyncio.to_thread(self._call_botocore, operation, request, timeout)
        attempt = _Attempt()
        token = _ATTEMPT.set(attempt)
        url = ""
        try:
            await self._fresh_credentials()
            spec, prepared = self._wire.prepare(operation, request, timeout=timeout)
            url = prepared.url
            status, headers, body = await self._exchange(prepared, timeout)
            return self._wire.answer(spec, status, headers, body)
        except Exception as exc:
            failure = transport_error(exc, connected=attempt.connected, url=url)
            raise translate_exception(failure, operation) from failure
        finally:
            _ATTEMPT.reset(token)

    async def _exchange(self, prepared: Any, timeout: float | None) -> tuple[int, Any, bytes]:
        """POST the signed request; the connection goes back to the pool only after the
        whole answer was read (an exception or a cancellation closes it)."""
        session = self._session or self._open()
        async with session.post(
            _url(prepared.url),
            data=prepared.body,
            headers=_headers(prepared.headers),
            timeout=self._timeout(timeout),
            allow_redirects=False,
        ) as response:
            body = await response.read()
            return response.status, response.headers, body

    def _timeout(self, timeout: float | None) -> aiohttp.ClientTimeout:
        if timeout is None:
            return self._default_timeout
        return aiohttp.ClientTimeout(
            total=timeout, sock_connect=min(self._connect_timeout, timeout)
        )

    def _open(self) -> aiohttp.ClientSession:
        """The pool, made in the running loop (aiohttp binds a session to its loop)."""
        connector = _Connector(
            limit=self._max_connections,
            limit_per_host=self._max_connections,
            ssl=_ssl_context(self._client),
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            skip_auto_headers=("Accept", "User-Agent", "Content-Type"),
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),  # DynamoDB sets none; botocore keeps none
        )
        return self._session

    async def _fresh_credentials(self) -> None:
        """Refresh the signer's credentials on a worker thread when they are due, so
        that signing on the loop never waits on a credential round trip."""
        credentials = self._wire.credentials
        if _refresh_due(credentials):
            await asyncio.to_thread(credentials.get_frozen_credentials)

    def _call_botocore(self, operation: str, request: Request, timeout: float | None) -> Response:
        return self._botocore.call(operation, request, timeout=timeout)

    async def close(self) -> None:
        """Close the pool (and the botocore client unless ``close_client=False``);
        idempotent."""
        if self._closed:
            return
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()
        self._botocore.close()
        if self._close_client:
            self._client.close()


@functools.lru_cache(maxsize=64)
def _url(url: str) -> Any:
    """The parsed URL aiohttp would build from ``url`` (parsed once: the endpoint of a
    provider hardly ever changes, and a parsed URL is immutable)."""
    from yarl import URL  # aiohttp's URL type; imported here, after aiohttp's check

    return URL(url)


def _headers(headers: Any) -> dict[str, str]:
    """The signed headers as text (botocore encodes some values to bytes)."""
    # botocore's HeadersDict keeps (name, value) under case-insensitive keys; walking
    # its dict directly skips a key object and a lookup per header.
    if type(headers) is HeadersDict:
        internals: Any = headers
        pairs = ((str(key), value) for key, value in internals._dict.items())
    else:
        pairs = headers.items()
    sent = {
        name: value.decode("utf-8") if isinstance(value, bytes) else str(value)
        for name, value in pairs
    }
    sent.setdefault("Accept-Encoding", _ACCEPT_ENCODING)
    return sent


def _refresh_due(credentials: Credentials | None) -> bool:
    """Whether signing now would make botocore fetch credentials (blocking I/O)."""
    refresh_needed = getattr(credentials, "refresh_needed", None)
    if refresh_needed is None:
        return False
    if getattr(credentials, "_frozen_credentials", True) is None:
        return True  # deferred credentials, never fetched yet
    return bool(refresh_needed())


def _ssl_context(client: BaseClient) -> ssl.SSLContext | bool:
    """TLS verification as the botocore client's HTTP session does it (its CA bundle,
    or none when the client was made with ``verify=False``)."""
    internals: Any = client
    verify = getattr(getattr(internals._endpoint, "http_session", None), "_verify", True)
    if verify is False:
        return False
    from botocore.httpsession import get_cert_path

    return ssl.create_default_context(cafile=get_cert_path(verify))
