"""What the tracing tests share: a provider on either path, a table, a workload, and
OpenTelemetry's botocore instrumentation with an in-memory exporter.

Test modules import the fixtures they use by name (pytest finds them in the module).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tctf_dynamo.errors import ConditionFailedError
from tctf_dynamo.model import Table
from tctf_dynamo.providers import Boto3Provider

__all__ = ["connect", "instrumented", "otel", "table", "workload"]


def connect(endpoint: str, *, fast: bool) -> Boto3Provider:
    return Boto3Provider.from_endpoint(
        endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        fast_path=fast,
    )


@pytest.fixture
def table(moto_endpoint: str, table_name: str) -> Iterator[str]:
    with connect(moto_endpoint, fast=False) as admin:
        admin.call("CreateTable", Table(table_name).create_table_request())
        yield table_name
        admin.call("DeleteTable", {"TableName": table_name})


def workload(provider: Boto3Provider, table: str) -> None:
    """A put, a get, a query, a batch, a transaction and a failed conditional write."""
    item = {"PK": {"S": "A#1"}, "SK": {"S": "META"}, "n": {"N": "1"}}
    provider.call("PutItem", {"TableName": table, "Item": item})
    provider.call("GetItem", {"TableName": table, "Key": {"PK": item["PK"], "SK": item["SK"]}})
    provider.call(
        "Query",
        {
            "TableName": table,
            "KeyConditionExpression": "PK = :p",
            "ExpressionAttributeValues": {":p": {"S": "A#1"}},
        },
    )
    provider.call(
        "BatchWriteItem",
        {"RequestItems": {table: [{"PutRequest": {"Item": {**item, "SK": {"S": "B"}}}}]}},
    )
    provider.call(
        "TransactWriteItems",
        {"TransactItems": [{"Put": {"TableName": table, "Item": {**item, "SK": {"S": "C"}}}}]},
    )
    with pytest.raises(ConditionFailedError):
        provider.call(
            "PutItem",
            {"TableName": table, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"},
        )


@contextmanager
def instrumented(**options: Any) -> Iterator[Any]:
    """The botocore instrumentation installed with ``options``, spans kept in memory."""
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = BotocoreInstrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider, **options)
    try:
        yield exporter
    finally:
        instrumentor.uninstrument()


@pytest.fixture
def otel() -> Iterator[Any]:
    with instrumented() as exporter:
        yield exporter
