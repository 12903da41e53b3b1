"""Tracers and stubbers see the fast path's calls exactly as they see botocore's.

The same workload runs through ``fast_path=True`` and ``fast_path=False`` against a moto
server with the real OpenTelemetry botocore instrumentation (in-memory exporter) and the
real X-Ray SDK (in-memory emitter, no daemon) installed; both must produce the same spans
or subsegments: count, names, and the attributes that identify the call. Instrumentation
is process-wide, so each fixture removes it again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import botocore.client
import botocore.endpoint
import pytest
from botocore.stub import Stubber

from tctf_dynamo.providers import Boto3Provider
from tctf_dynamo.providers.hooks import Route
from tests.server import tracing_fixtures
from tests.server.tracing_fixtures import connect, workload

pytestmark = pytest.mark.server

table = tracing_fixtures.table
otel = tracing_fixtures.otel


# -- OpenTelemetry ----------------------------------------------------------------------------

OTEL_KEYS = (
    "rpc.system",
    "rpc.service",
    "rpc.method",
    "cloud.region",
    "aws.dynamodb.table_names",
    "http.status_code",
    "server.address",
    "server.port",
    "retry_attempts",
)


def otel_shape(span: Any) -> tuple[Any, ...]:
    attributes = dict(span.attributes)
    return (
        span.name,
        span.kind,
        span.status.status_code,
        tuple((key, _hashable(attributes.get(key))) for key in OTEL_KEYS),
        bool(attributes.get("aws.request_id")),
    )


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list | tuple) else value


def test_opentelemetry_sees_the_same_spans_on_both_paths(
    moto_endpoint: str, table: str, otel: Any
) -> None:
    shapes = {}
    for fast in (True, False):
        with connect(moto_endpoint, fast=fast) as provider:
            otel.clear()
            workload(provider, table)
            shapes[fast] = [otel_shape(span) for span in otel.get_finished_spans()]
    assert len(shapes[True]) == 6
    assert shapes[True] == shapes[False]
    names = [shape[0] for shape in shapes[True]]
    assert names == [
        "DynamoDB.PutItem",
        "DynamoDB.GetItem",
        "DynamoDB.Query",
        "DynamoDB.BatchWriteItem",
        "DynamoDB.TransactWriteItems",
        "DynamoDB.PutItem",
    ]
    first = dict(shapes[True][0][3])
    assert first["rpc.system"] == "aws-api"
    assert first["aws.dynamodb.table_names"] == (table,)
    assert all(shape[4] for shape in shapes[True]), "every span carries a request id"


def test_the_fast_path_makes_the_tracers_spans_itself(
    moto_endpoint: str, table: str, otel: Any
) -> None:
    with connect(moto_endpoint, fast=True) as provider:
        provider.call("GetItem", {"TableName": table, "Key": {"PK": {"S": "x"}, "SK": {"S": "y"}}})
        assert provider._hooks.verdict("GetItem").route is Route.EMULATED


def test_instrumenting_after_the_client_was_made_is_seen(moto_endpoint: str, table: str) -> None:
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    key = {"TableName": table, "Key": {"PK": {"S": "x"}, "SK": {"S": "y"}}}
    with connect(moto_endpoint, fast=True) as provider:
        provider.call("GetItem", key)
        assert provider._hooks.verdict("GetItem").route is Route.FAST
        exporter = InMemorySpanExporter()
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
        instrumentor = BotocoreInstrumentor()
        instrumentor.instrument(tracer_provider=tracer_provider)
        try:
            provider.call("GetItem", key)
        finally:
            instrumentor.uninstrument()
        provider.call("GetItem", key)
        assert [span.name for span in exporter.get_finished_spans()] == ["DynamoDB.GetItem"]
        assert provider._hooks.verdict("GetItem").route is Route.FAST


def test_trace_context_is_propagated_in_the_fast_paths_headers(
    moto_endpoint: str, table: str, otel: Any
) -> None:
    from opentelemetry import propagate
    from opentelemetry.propagators.aws import AwsXRayPropagator

    seen: list[bytes] = []

    def keep(request: Any, **_: Any) -> None:
        seen.append(request.headers.get("X-Amzn-Trace-Id", b""))

    previous = propagate.get_global_textmap()
    propagate.set_global_textmap(AwsXRayPropagator())
    try:
        with connect(moto_endpoint, fast=True) as provider:
            provider.client.meta.events.register("before-send.dynamodb", keep)
            provider.call(
                "GetItem", {"TableName": table, "Key": {"PK": {"S": "x"}, "SK": {"S": "y"}}}
            )
    finally:
        propagate.set_global_textmap(previous)
    (span,) = otel.get_finished_spans()
    assert seen and seen[0].startswith(b"Root=1-")
    assert f"{span.context.span_id:016x}".encode() in seen[0]


# -- X-Ray ------------------------------------------------------------------------------------


class _Emitter:
    """Keeps the entities the recorder would send to the daemon."""

    def __init__(self) -> None:
        self.entities: list[Any] = []

    def send_entity(self, entity: Any) -> None:
        self.entities.append(entity)

    def set_daemon_address(self, address: Any) -> None:
        del address

    @property
    def ip(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return 2000


@contextmanager
def _botocore_restored() -> Iterator[None]:
    """Undo the X-Ray SDK's ``patch(["botocore"])`` (it has no unpatch)."""
    from aws_xray_sdk.core import patcher

    saved_call = vars(botocore.client.BaseClient)["_make_api_call"]
    saved_prepare = vars(botocore.endpoint.Endpoint)["prepare_request"]
    try:
        yield
    finally:
        botocore.client.BaseClient._make_api_call = saved_call  # type: ignore[method-assign]
        botocore.endpoint.Endpoint.prepare_request = saved_prepare  # type: ignore[method-assign]
        if hasattr(botocore.client, "_xray_enabled"):
            delattr(botocore.client, "_xray_enabled")
        # the SDK also remembers what it patched, and would skip botocore next time
        patcher._PATCHED_MODULES.discard("botocore")


def _record_in_memory(recorder: Any) -> _Emitter:
    from aws_xray_sdk.core.context import Context

    emitter = _Emitter()
    recorder.configure(
        emitter=emitter, context=Context(), sampling=False, context_missing="LOG_ERROR"
    )
    return emitter


@pytest.fixture
def xray() -> Iterator[Any]:
    from aws_xray_sdk.core import patch, xray_recorder

    with _botocore_restored():
        emitter = _record_in_memory(xray_recorder)
        patch(["botocore"])
        yield xray_recorder, emitter


@pytest.fixture
def powertools(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Powertools' ``Tracer`` as inside Lambda (it stays off elsewhere): it patches botocore
    through the X-Ray SDK and streams each subsegment as soon as it closes."""
    from aws_lambda_powertools import Tracer
    from aws_xray_sdk.core import xray_recorder

    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    threshold = xray_recorder.streaming_threshold
    with _botocore_restored():
        emitter = _record_in_memory(xray_recorder)
        tracer = Tracer(service="tracing-test", patch_modules=["botocore"])
        try:
            assert not tracer.disabled
            yield xray_recorder, emitter
        finally:
            Tracer._reset_config()
            xray_recorder.configure(streaming_threshold=threshold)


def xray_shape(subsegment: dict[str, Any]) -> tuple[Any, ...]:
    aws = subsegment.get("aws", {})
    return (
        subsegment["name"],
        subsegment.get("namespace"),
        aws.get("operation"),
        aws.get("region"),
        aws.get("table_name"),
        bool(aws.get("request_id")),
        subsegment.get("http", {}).get("response", {}).get("status"),
        subsegment.get("fault", False),
        subsegment.get("error", False),
    )


def test_xray_sees_the_same_subsegments_on_both_paths(
    moto_endpoint: str, table: str, xray: Any
) -> None:
    recorder, emitter = xray
    shapes = {}
    for fast in (True, False):
        with connect(moto_endpoint, fast=fast) as provider:
            recorder.begin_segment(f"workload-{fast}")
            workload(provider, table)
            recorder.end_segment()
        (segment,) = [e for e in emitter.entities if e.name == f"workload-{fast}"]
        shapes[fast] = [xray_shape(sub.to_dict()) for sub in segment.subsegments]
    assert len(shapes[True]) == 6
    assert shapes[True] == shapes[False]
    assert shapes[True][0][:5] == ("dynamodb", "aws", "PutItem", "us-east-1", table)
    assert shapes[True][-1][6] == 400


def subsegments_of(emitter: _Emitter, segment_name: str) -> list[dict[str, Any]]:
    """The segment's subsegments, whether sent with it or streamed one by one before it."""
    from aws_xray_sdk.core.models.subsegment import Subsegment

    found = []
    for entity in emitter.entities:
        if isinstance(entity, Subsegment) and entity.parent_segment.name == segment_name:
            found.append(entity)
        elif not isinstance(entity, Subsegment) and entity.name == segment_name:
            found.extend(entity.subsegments)
    return [sub.to_dict() for sub in sorted(found, key=lambda sub: sub.start_time)]


def plain_boto3(endpoint: str) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@pytest.mark.parametrize("tracer", ["xray", "powertools"])
def test_a_put_and_a_get_make_the_subsegments_plain_boto3_makes(
    moto_endpoint: str, table: str, tracer: str, request: pytest.FixtureRequest
) -> None:
    recorder, emitter = request.getfixturevalue(tracer)
    item = {"PK": {"S": "A#1"}, "SK": {"S": "META"}}
    key = {"TableName": table, "Key": item}
    recorder.begin_segment("boto3")
    client = plain_boto3(moto_endpoint)
    client.put_item(TableName=table, Item=item)
    client.get_item(**key)
    recorder.end_segment()
    with connect(moto_endpoint, fast=True) as provider:
        recorder.begin_segment("library")
        provider.call("PutItem", {"TableName": table, "Item": item})
        provider.call("GetItem", key)
        recorder.end_segment()
        assert provider._hooks.verdict("GetItem").route is Route.WRAPPED
    expected = [xray_shape(sub) for sub in subsegments_of(emitter, "boto3")]
    assert [shape[2] for shape in expected] == ["PutItem", "GetItem"]
    assert [xray_shape(sub) for sub in subsegments_of(emitter, "library")] == expected


# -- Stubber and user handlers ----------------------------------------------------------------


def test_a_registered_stubber_answers_the_call(moto_endpoint: str, table: str) -> None:
    request = {"TableName": table, "Key": {"PK": {"S": "x"}, "SK": {"S": "y"}}}
    with connect(moto_endpoint, fast=True) as provider:
        stubber = Stubber(provider.client)
        stubber.add_response("get_item", {"Item": {"PK": {"S": "stubbed"}}}, request)
        with stubber:
            response = provider.call("GetItem", request)
        stubber.assert_no_pending_responses()
        assert response == {"Item": {"PK": {"S": "stubbed"}}}
        assert provider.call("GetItem", request) == {}, "the stubber is gone: the server answers"


def test_a_users_after_call_handler_sees_the_call(moto_endpoint: str, table: str) -> None:
    seen: list[str] = []

    def after_call(model: Any, **_: Any) -> None:
        seen.append(model.name)

    with connect(moto_endpoint, fast=True) as provider:
        provider.client.meta.events.register("after-call.dynamodb", after_call)
        provider.call("GetItem", {"TableName": table, "Key": {"PK": {"S": "x"}, "SK": {"S": "y"}}})
        assert provider._hooks.verdict("GetItem").route is Route.BOTOCORE
        provider.client.meta.events.unregister("after-call.dynamodb", after_call)
        assert provider._hooks.verdict("GetItem").route is Route.FAST
    assert seen == ["GetItem"]


# -- the library's own spans ------------------------------------------------------------------


def test_the_librarys_span_is_the_parent_of_each_attempts_span(
    moto_endpoint: str, table: str, otel: Any
) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from tctf_dynamo import DynamoDBService, RetryPolicy
    from tctf_dynamo.observability import instrument, uninstrument
    from tctf_dynamo.testing.faults import FaultInjectingProvider, FaultRates

    class FailFirst:
        """Throttles the first attempt over HTTP: the server answers the second."""

        def __init__(self, inner: Boto3Provider) -> None:
            self.inner = inner
            self.calls = 0

        def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
            self.calls += 1
            if self.calls == 1:
                faulty = FaultInjectingProvider(self.inner, seed=0, rates=FaultRates(throttle=1.0))
                return faulty.call(operation, request)
            return self.inner.call(operation, request)

        def close(self) -> None:
            self.inner.close()

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(otel))
    instrument(tracer_provider=tracer_provider)
    try:
        with connect(moto_endpoint, fast=True) as provider:
            fail_first = FailFirst(provider)
            service = DynamoDBService(
                fail_first,  # type: ignore[arg-type]
                retry=RetryPolicy(max_attempts=3, base_delay=0.0),
                sleep=lambda _: None,
            )
            service.key_schema(table)  # read once (DescribeTable), before what is measured
            fail_first.calls = 0
            otel.clear()
            service.put_item(table, {"PK": "A", "SK": "B"})
            service.put_item(table, {"PK": "A", "SK": "C"})
    finally:
        uninstrument()
    finished = otel.get_finished_spans()
    library = [span for span in finished if span.name.startswith("tctf_dynamo")]
    attempts = [span for span in finished if span.name == "DynamoDB.PutItem"]
    assert [span.name for span in library] == ["tctf_dynamo PutItem"] * 2
    assert dict(library[0].attributes)["tctf_dynamo.retries"] == 1
    assert len(attempts) == 2, "the throttled attempt never reached botocore"
    assert [span.parent.span_id for span in attempts] == [span.context.span_id for span in library]
