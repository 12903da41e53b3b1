"""The fast path's own spans equal those of OpenTelemetry's botocore instrumentation.

With that instrumentation as the only wrapper, the fast path takes ``Route.EMULATED``
and makes the spans itself. Each workload below runs three ways against a moto server:
emulated, wrapped (a pass-through wrapper on top of the instrumentation forces
``Route.WRAPPED``) and botocore's path (``fast_path=False``); every span must be the
same in all that can be compared: count, order, name, kind, instrumentation scope,
parent, status and its text, every attribute (the request id's value aside, which the
server draws afresh) in order, and the recorded events (the stack trace aside).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tctf_dynamo import DynamoDBService, RetryPolicy
from tctf_dynamo.errors import ConditionFailedError, DynamoDBServiceError
from tctf_dynamo.providers import Boto3Provider
from tctf_dynamo.providers.hooks import Route
from tests.faultproxy import THROTTLE, FaultProxy
from tests.server import tracing_fixtures
from tests.server.tracing_fixtures import connect, instrumented, workload

pytestmark = pytest.mark.server

table = tracing_fixtures.table
otel = tracing_fixtures.otel

ITEM = {"PK": {"S": "A#1"}, "SK": {"S": "META"}, "n": {"N": "1"}}
KEY = {"PK": ITEM["PK"], "SK": ITEM["SK"]}


def span_shape(span: Any) -> tuple[Any, ...]:
    attributes = dict(span.attributes)
    request_id = attributes.pop("aws.request_id", None)
    scope = span.instrumentation_scope
    return (
        span.name,
        span.kind,
        (scope.name, scope.version, scope.schema_url),
        span.parent is None,
        span.status.status_code,
        span.status.description,
        tuple((key, _hashable(value)) for key, value in attributes.items()),
        bool(request_id),
        tuple(
            (
                event.name,
                tuple(
                    (key, value)
                    for key, value in event.attributes.items()
                    if key != "exception.stacktrace"
                ),
            )
            for event in span.events
        ),
    )


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list | tuple) else value


@contextmanager
def pass_through() -> Iterator[None]:
    """A ``wrapt`` wrapper over the instrumentation's: the fast path must stay WRAPPED."""
    import botocore.client
    from opentelemetry.instrumentation.utils import unwrap
    from wrapt import wrap_function_wrapper

    def through(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        del instance
        return wrapped(*args, **kwargs)

    wrap_function_wrapper("botocore.client", "BaseClient._make_api_call", through)
    try:
        yield
    finally:
        unwrap(botocore.client.BaseClient, "_make_api_call")


WAYS: dict[str, tuple[bool, Route | None]] = {
    "emulated": (True, Route.EMULATED),
    "wrapped": (True, Route.WRAPPED),
    "botocore": (False, None),
}


def spans_each_way(
    exporter: Any, endpoint: str, run: Callable[[Boto3Provider], object], operation: str
) -> dict[str, list[tuple[Any, ...]]]:
    found = {}
    for way, (fast, route) in WAYS.items():
        with connect(endpoint, fast=fast) as provider:
            context = pass_through() if way == "wrapped" else _nothing()
            with context:
                exporter.clear()
                run(provider)
                found[way] = [span_shape(span) for span in exporter.get_finished_spans()]
                if route is not None:
                    assert provider._hooks.verdict(operation).route is route
    return found


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def assert_same(found: dict[str, list[tuple[Any, ...]]], count: int) -> list[tuple[Any, ...]]:
    assert len(found["botocore"]) == count
    assert found["emulated"] == found["botocore"]
    assert found["wrapped"] == found["botocore"]
    return found["emulated"]


def attributes_of(shape: tuple[Any, ...]) -> dict[str, Any]:
    return dict(shape[6])


def test_the_workload_makes_the_same_spans(moto_endpoint: str, table: str, otel: Any) -> None:
    found = spans_each_way(otel, moto_endpoint, lambda p: workload(p, table), "PutItem")
    shapes = assert_same(found, 6)
    assert all(shape[7] for shape in shapes), "every span carries a request id"
    first = attributes_of(shapes[0])
    assert first["rpc.system"] == "aws-api"
    assert first["db.system"] == "dynamodb"
    assert first["aws.dynamodb.table_names"] == (table,)
    assert first["http.status_code"] == 200
    failed = shapes[-1]
    assert failed[4].name == "ERROR"
    assert "ConditionalCheckFailedException" in failed[5]
    assert attributes_of(failed)["http.status_code"] == 400
    ((name, event),) = failed[8]
    assert name == "exception"
    assert dict(event)["exception.type"].endswith("ConditionalCheckFailedException")


def reads(table: str) -> Callable[[Boto3Provider], object]:
    """Operations whose request and response attributes the DynamoDB extension reads."""

    def run(provider: Boto3Provider) -> None:
        provider.call("PutItem", {"TableName": table, "Item": ITEM})
        provider.call(
            "GetItem",
            {
                "TableName": table,
                "Key": KEY,
                "ConsistentRead": True,
                "ProjectionExpression": "PK, n",
                "ReturnConsumedCapacity": "TOTAL",
            },
        )
        provider.call(
            "Query",
            {
                "TableName": table,
                "KeyConditionExpression": "PK = :p",
                "ExpressionAttributeValues": {":p": ITEM["PK"]},
                "Limit": 5,
                "ScanIndexForward": False,
                "ConsistentRead": True,
                "Select": "ALL_ATTRIBUTES",
                "ReturnConsumedCapacity": "TOTAL",
            },
        )
        provider.call("Scan", {"TableName": table, "Limit": 3, "Segment": 0, "TotalSegments": 1})
        provider.call("BatchGetItem", {"RequestItems": {table: {"Keys": [KEY]}}})
        provider.call(
            "UpdateItem",
            {
                "TableName": table,
                "Key": KEY,
                "UpdateExpression": "SET n = :n",
                "ExpressionAttributeValues": {":n": {"N": "2"}},
                "ReturnConsumedCapacity": "TOTAL",
            },
        )
        provider.call(
            "TransactGetItems", {"TransactItems": [{"Get": {"TableName": table, "Key": KEY}}]}
        )
        provider.call("DeleteItem", {"TableName": table, "Key": KEY})

    return run


def test_request_and_response_attributes_are_the_same(
    moto_endpoint: str, table: str, otel: Any
) -> None:
    shapes = assert_same(spans_each_way(otel, moto_endpoint, reads(table), "GetItem"), 8)
    get = attributes_of(shapes[1])
    assert get["aws.dynamodb.consistent_read"] is True
    assert get["aws.dynamodb.projection"] == "PK, n"
    query = attributes_of(shapes[2])
    assert query["aws.dynamodb.limit"] == 5
    assert query["aws.dynamodb.scan_forward"] is False
    assert query["aws.dynamodb.select"] == "ALL_ATTRIBUTES"
    scan = attributes_of(shapes[3])
    assert scan["aws.dynamodb.total_segments"] == 1
    assert attributes_of(shapes[4])["aws.dynamodb.table_names"] == (table,)


def test_a_retried_throttle_makes_one_span_per_attempt(
    fault_proxy: FaultProxy, table: str, otel: Any
) -> None:
    def run(provider: Boto3Provider) -> None:
        service = DynamoDBService(
            provider, retry=RetryPolicy(max_attempts=3, base_delay=0.0), sleep=lambda _: None
        )
        service.key_schema(table)  # DescribeTable, on botocore's path: not compared
        otel.clear()
        fault_proxy.fail_next("PutItem", THROTTLE)
        service.put_item(table, {"PK": "T#1", "SK": "META"})

    found = spans_each_way(otel, fault_proxy.endpoint, run, "PutItem")
    throttled, answered = assert_same(found, 2)
    assert throttled[4].name == "ERROR"
    assert "ProvisionedThroughputExceededException" in throttled[5]
    assert attributes_of(throttled)["http.status_code"] == 400
    assert [event[0] for event in throttled[8]] == ["exception"]
    assert answered[4].name == "UNSET"
    assert attributes_of(answered)["http.status_code"] == 200


def test_a_connection_failure_is_recorded_as_the_instrumentation_records_it(
    fault_proxy: FaultProxy, table: str, otel: Any
) -> None:
    from tests.faultproxy import RESET_BEFORE

    def run(provider: Boto3Provider) -> None:
        fault_proxy.fail_next("GetItem", RESET_BEFORE)
        with pytest.raises(DynamoDBServiceError):
            provider.call("GetItem", {"TableName": table, "Key": KEY})

    (shape,) = assert_same(spans_each_way(otel, fault_proxy.endpoint, run, "GetItem"), 1)
    assert shape[4].name == "ERROR"
    assert "http.status_code" not in attributes_of(shape)


def test_suppressed_instrumentation_makes_no_span(
    moto_endpoint: str, table: str, otel: Any
) -> None:
    from opentelemetry.instrumentation.utils import suppress_instrumentation

    with connect(moto_endpoint, fast=True) as provider:
        with suppress_instrumentation():
            provider.call("PutItem", {"TableName": table, "Item": ITEM})
            got = provider.call("GetItem", {"TableName": table, "Key": KEY})
            assert provider._hooks.verdict("GetItem").route is Route.EMULATED
        assert got["Item"] == ITEM
        assert otel.get_finished_spans() == ()
        provider.call("GetItem", {"TableName": table, "Key": KEY})
    assert [span.name for span in otel.get_finished_spans()] == ["DynamoDB.GetItem"]


def test_the_span_is_current_while_the_request_is_prepared(
    moto_endpoint: str, table: str, otel: Any
) -> None:
    """The instrumentor's X-Ray propagator puts this span's id in the request."""
    seen: list[bytes] = []

    def keep(request: Any, **_: Any) -> None:
        seen.append(request.headers.get("X-Amzn-Trace-Id", b""))

    with connect(moto_endpoint, fast=True) as provider:
        provider.client.meta.events.register("before-send.dynamodb", keep)
        provider.call("GetItem", {"TableName": table, "Key": KEY})
        assert provider._hooks.verdict("GetItem").route is Route.EMULATED
    (span,) = otel.get_finished_spans()
    assert seen and seen[0].startswith(b"Root=1-")
    assert f"{span.context.span_id:016x}".encode() in seen[0]


def test_spans_nest_under_the_callers_span(moto_endpoint: str, table: str, otel: Any) -> None:
    with connect(moto_endpoint, fast=True) as provider:
        tracer = provider_tracer(otel)
        with tracer.start_as_current_span("outer") as outer:
            provider.call("GetItem", {"TableName": table, "Key": KEY})
    get = next(s for s in otel.get_finished_spans() if s.name == "DynamoDB.GetItem")
    assert get.parent is not None and get.parent.span_id == outer.get_span_context().span_id


def provider_tracer(exporter: Any) -> Any:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    return tracer_provider.get_tracer("caller")


@pytest.mark.parametrize("hook", ["request_hook", "response_hook"])
def test_a_configured_hook_keeps_the_wrapped_route(
    moto_endpoint: str, table: str, hook: str
) -> None:
    called: list[str] = []

    def record(span: Any, service: str, operation: str, *_: Any) -> None:
        del span, service
        called.append(operation)

    with instrumented(**{hook: record}) as exporter, connect(moto_endpoint, fast=True) as provider:
        provider.call("GetItem", {"TableName": table, "Key": KEY})
        assert provider._hooks.verdict("GetItem").route is Route.WRAPPED
    assert called == ["GetItem"]
    assert [span.name for span in exporter.get_finished_spans()] == ["DynamoDB.GetItem"]


def test_the_route_follows_the_instrumentation(moto_endpoint: str, table: str) -> None:
    with connect(moto_endpoint, fast=True) as provider:
        provider.call("GetItem", {"TableName": table, "Key": KEY})
        assert provider._hooks.verdict("GetItem").route is Route.FAST
        with instrumented():
            assert provider._hooks.verdict("GetItem").route is Route.EMULATED
            with pass_through():
                assert provider._hooks.verdict("GetItem").route is Route.WRAPPED
            assert provider._hooks.verdict("GetItem").route is Route.EMULATED
        assert provider._hooks.verdict("GetItem").route is Route.FAST


def test_an_unknown_instrumentation_version_keeps_the_wrapped_route(
    moto_endpoint: str, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tctf_dynamo.providers import otel_lane

    monkeypatch.setattr(otel_lane, "SUPPORTED_VERSIONS", ("0.1b",))
    with instrumented(), connect(moto_endpoint, fast=True) as provider:
        provider.call("GetItem", {"TableName": table, "Key": KEY})
        assert provider._hooks.verdict("GetItem").route is Route.WRAPPED


def _put_if_absent(provider: Any, table: str) -> None:
    provider.call(
        "PutItem",
        {"TableName": table, "Item": ITEM, "ConditionExpression": "attribute_not_exists(PK)"},
    )


def test_a_failed_condition_still_raises_the_librarys_error(
    moto_endpoint: str, table: str, otel: Any
) -> None:
    with connect(moto_endpoint, fast=True) as provider:
        provider.call("PutItem", {"TableName": table, "Item": ITEM})
        with pytest.raises(ConditionFailedError):
            _put_if_absent(provider, table)


def test_a_subclassed_instrumentor_keeps_the_wrapped_route(moto_endpoint: str, table: str) -> None:
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
    from opentelemetry.sdk.trace import TracerProvider

    class Custom(BotocoreInstrumentor):  # type: ignore[misc]
        """May change what the spans hold: its spans are its own to make."""

        _instance = None  # instrumentors are singletons per class: not the parent's

    instrumentor = Custom()
    instrumentor.instrument(tracer_provider=TracerProvider())
    try:
        with connect(moto_endpoint, fast=True) as provider:
            provider.call("GetItem", {"TableName": table, "Key": KEY})
            assert provider._hooks.verdict("GetItem").route is Route.WRAPPED
    finally:
        instrumentor.uninstrument()


def test_a_span_the_sampler_drops_costs_the_call_nothing_else(
    moto_endpoint: str, table: str
) -> None:
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider(sampler=ALWAYS_OFF)
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = BotocoreInstrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider)
    try:
        with connect(moto_endpoint, fast=True) as provider:
            provider.call("PutItem", {"TableName": table, "Item": ITEM})
            assert provider.call("GetItem", {"TableName": table, "Key": KEY})["Item"] == ITEM
            with pytest.raises(ConditionFailedError):
                _put_if_absent(provider, table)
            assert provider._hooks.verdict("GetItem").route is Route.EMULATED
    finally:
        instrumentor.uninstrument()
    assert exporter.get_finished_spans() == ()
