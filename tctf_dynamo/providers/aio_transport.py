"""aiohttp's failures as the botocore exceptions the sync path raises for the same event.

Why botocore's classes: the one translation table (:mod:`tctf_dynamo.providers.errors`)
maps them to error codes, and the outcome rules (:mod:`tctf_dynamo.core.outcomes`) read the
exception's name to tell a failure *before* the request could reach DynamoDB
(``EndpointConnectionError``, ``ConnectTimeoutError``: nothing was applied) from one
*after* it may have (``ReadTimeoutError``, ``ConnectionClosedError``: maybe applied). So a
reset mid-response must never be named like a refused connection, whatever the HTTP
client calls it.

The decisive fact is whether a connection was obtained for the request: before that, no
byte of it can have left; after, it may have been read. aiohttp's own exception classes
say so for most failures, but not for a timeout (a whole-attempt timeout that fires
while connecting is a plain ``TimeoutError``), so callers pass ``connected`` as they
observed it. The table, most specific first:

=======================================  ==========================  =====================
aiohttp / OS failure                     before a connection          after
=======================================  ==========================  =====================
certificate or TLS failure               ``SSLError``                 ``SSLError``
proxy refused                            ``ProxyConnectionError``     same
DNS, refused, unreachable (connector)    ``EndpointConnectionError``  same
timeout (any)                            ``ConnectTimeoutError``      ``ReadTimeoutError``
disconnected, reset, payload cut short   ``EndpointConnectionError``  ``ConnectionClosedError``
anything else aiohttp raises             ``HTTPClientError``          same
=======================================  ==========================  =====================
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Final

from botocore import exceptions as boto_errors

try:
    import aiohttp  # the async modules import it from here, after this check
except ModuleNotFoundError as missing:  # pragma: no cover - exercised in a subprocess
    raise ModuleNotFoundError(
        "the async providers need aiohttp, an optional dependency: "
        "pip install 'tctf-dynamo[async]'",
        name=missing.name,
    ) from missing

__all__ = ["aiohttp", "transport_error"]

_ALWAYS: Final[Sequence[tuple[type[BaseException], type[boto_errors.BotoCoreError]]]] = (
    (aiohttp.ClientSSLError, boto_errors.SSLError),
    (aiohttp.ClientConnectorCertificateError, boto_errors.SSLError),
    (aiohttp.ClientProxyConnectionError, boto_errors.ProxyConnectionError),
    (aiohttp.ClientHttpProxyError, boto_errors.ProxyConnectionError),
    (aiohttp.ClientConnectorError, boto_errors.EndpointConnectionError),
)
"""Failures whose class alone says where they struck (all raised while connecting)."""

_LOST: Final = (
    aiohttp.ClientConnectionError,
    aiohttp.ClientPayloadError,
    ConnectionError,
)


def transport_error(exc: Exception, *, connected: bool, url: str) -> Exception:
    """The botocore exception the sync path raises for ``exc``, or ``exc`` unchanged when
    it is no transport failure (an error answer, a checksum mismatch, a library error).

    ``connected``: whether a connection had been obtained for the request when ``exc``
    was raised. The original failure is kept as ``__cause__``.
    """
    mapped = _mapped(exc, connected, url)
    if mapped is None:
        return exc
    mapped.__cause__ = exc
    return mapped


def _mapped(exc: Exception, connected: bool, url: str) -> Exception | None:
    for kind, botocore_kind in _ALWAYS:
        if isinstance(exc, kind):
            if botocore_kind is boto_errors.ProxyConnectionError:
                return boto_errors.ProxyConnectionError(proxy_url="(proxy)", error=exc)
            return botocore_kind(endpoint_url=url, error=exc)
    if isinstance(exc, asyncio.TimeoutError):
        if not connected:
            return boto_errors.ConnectTimeoutError(endpoint_url=url, error=exc)
        return boto_errors.ReadTimeoutError(endpoint_url=url, error=exc)
    if isinstance(exc, _LOST):
        if not connected:
            return boto_errors.EndpointConnectionError(endpoint_url=url, error=exc)
        return boto_errors.ConnectionClosedError(endpoint_url=url, error=exc, request=None)
    if isinstance(exc, aiohttp.ClientError):
        return boto_errors.HTTPClientError(error=exc)
    return None
