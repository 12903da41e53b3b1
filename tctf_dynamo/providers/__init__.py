"""Backends: one-method providers that send DynamoDB operations, and their test doubles.

``EmbeddedProvider`` imports moto only when it is first instantiated, and every name is
imported on first use, so importing this package never pays for moto, aiohttp or
aiobotocore.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from tctf_dynamo import _lazy

if TYPE_CHECKING:
    from tctf_dynamo.providers.base import AsyncProvider, Provider, Request, Response
    from tctf_dynamo.providers.boto3 import Boto3Provider, client_config
    from tctf_dynamo.providers.botocore_async import AsyncBotocoreProvider
    from tctf_dynamo.providers.embedded import EmbeddedProvider
    from tctf_dynamo.providers.embedded_async import AsyncEmbeddedProvider
    from tctf_dynamo.providers.errors import translate_client_error, translate_exception
    from tctf_dynamo.providers.http_async import AsyncHttpProvider
    from tctf_dynamo.providers.mock import MockProvider, RecordedCall, RecordingProvider
    from tctf_dynamo.providers.mock_async import AsyncMockProvider, AsyncRecordingProvider

__all__ = [
    "AsyncBotocoreProvider",
    "AsyncEmbeddedProvider",
    "AsyncHttpProvider",
    "AsyncMockProvider",
    "AsyncProvider",
    "AsyncRecordingProvider",
    "Boto3Provider",
    "EmbeddedProvider",
    "MockProvider",
    "Provider",
    "RecordedCall",
    "RecordingProvider",
    "Request",
    "Response",
    "client_config",
    "translate_client_error",
    "translate_exception",
]

_HOMES: Final = {
    "AsyncBotocoreProvider": "tctf_dynamo.providers.botocore_async",
    "AsyncEmbeddedProvider": "tctf_dynamo.providers.embedded_async",
    "AsyncHttpProvider": "tctf_dynamo.providers.http_async",
    "AsyncMockProvider": "tctf_dynamo.providers.mock_async",
    "AsyncProvider": "tctf_dynamo.providers.base",
    "AsyncRecordingProvider": "tctf_dynamo.providers.mock_async",
    "Boto3Provider": "tctf_dynamo.providers.boto3",
    "EmbeddedProvider": "tctf_dynamo.providers.embedded",
    "MockProvider": "tctf_dynamo.providers.mock",
    "Provider": "tctf_dynamo.providers.base",
    "RecordedCall": "tctf_dynamo.providers.mock",
    "RecordingProvider": "tctf_dynamo.providers.mock",
    "Request": "tctf_dynamo.providers.base",
    "Response": "tctf_dynamo.providers.base",
    "client_config": "tctf_dynamo.providers.boto3",
    "translate_client_error": "tctf_dynamo.providers.errors",
    "translate_exception": "tctf_dynamo.providers.errors",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562)."""
    return _lazy.load(__name__, _HOMES, name)


def __dir__() -> list[str]:
    return _lazy.names(__name__, __all__)
