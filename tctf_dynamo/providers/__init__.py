"""Backends: one-method providers that send DynamoDB operations, and their test doubles.

``EmbeddedProvider`` imports moto only when it is first instantiated, so importing this
package never pays for moto.
"""

from __future__ import annotations

from tctf_dynamo.providers.base import Provider, Request, Response
from tctf_dynamo.providers.boto3 import Boto3Provider, client_config
from tctf_dynamo.providers.embedded import EmbeddedProvider
from tctf_dynamo.providers.errors import translate_client_error, translate_exception
from tctf_dynamo.providers.mock import MockProvider, RecordedCall, RecordingProvider

__all__ = [
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
