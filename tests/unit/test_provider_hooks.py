"""What watches a client, the headers each path sends, the retry rule and the internals guard.

Clients here answer from a ``before-send`` hook (which both paths fire), so what is
checked is exactly what each path sends and which route it took.
"""

from __future__ import annotations

import io
import json
import uuid
import warnings
from collections.abc import Iterator
from typing import Any

import botocore.client
import botocore.session
import pytest
import wrapt
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config
from botocore.stub import Stubber

from tctf_dynamo import DynamoDBService, ErrorCode, RetryPolicy
from tctf_dynamo.errors import DynamoDBServiceError
from tctf_dynamo.providers import (
    AsyncHttpProvider,
    Boto3Provider,
    EmbeddedProvider,
    attempts,
    client_config,
)
from tctf_dynamo.providers.attempts import USER_AGENT_TAG, invocation_id
from tctf_dynamo.providers.hooks import Route
from tctf_dynamo.providers.internals import fast_path_missing
from tctf_dynamo.resilience import ResiliencePipeline

SESSION = botocore.session.get_session()
GET = {"TableName": "things", "Key": {"PK": {"S": "A"}}}


class _Body(io.BytesIO):
    def stream(self, **_: Any) -> Iterator[bytes]:
        data = self.read()
        if data:
            yield data


class Server:
    """Answers a client's requests from ``before-send``: ``statuses`` in turn, then 200."""

    def __init__(self, client: Any, *statuses: int) -> None:
        self.sent: list[AWSPreparedRequest] = []
        self.statuses = list(statuses)
        client.meta.events.register("before-send.dynamodb", self.answer)

    def answer(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        self.sent.append(request)
        status = self.statuses.pop(0) if self.statuses else 200
        body = b"{}" if status == 200 else json.dumps({"__type": "InternalServerError"}).encode()
        headers = {"x-amzn-RequestId": f"req-{len(self.sent)}"}
        return AWSResponse(request.url, status, headers, _Body(body))  # type: ignore[arg-type]

    def header(self, index: int, name: str) -> str:
        value = self.sent[index].headers.get(name)
        return value.decode() if isinstance(value, bytes) else str(value)


def make_client(config: Config | None = None) -> Any:
    return SESSION.create_client(
        "dynamodb",
        region_name="eu-west-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="AKID",
        aws_secret_access_key="secret",
        config=config if config is not None else client_config(),
    )


def provider(fast: bool = True, config: Config | None = None) -> tuple[Boto3Provider, Server]:
    client = make_client(config)
    return Boto3Provider(client, fast_path=fast), Server(client)


# -- routes -----------------------------------------------------------------------------------


def test_a_plain_client_takes_the_fast_path() -> None:
    fast, _ = provider()
    assert fast._hooks.verdict("GetItem").route is Route.FAST


@pytest.mark.parametrize("event", ["before-parameter-build", "before-call", "after-call"])
def test_a_users_handler_on_a_skipped_event_sends_through_botocore(event: str) -> None:
    fast, server = provider()
    seen: list[str] = []
    fast.client.meta.events.register(f"{event}.dynamodb.GetItem", lambda **kw: seen.append(event))
    fast.call("GetItem", GET)
    assert seen == [event]
    assert fast._hooks.verdict("GetItem").route is Route.BOTOCORE
    assert fast._hooks.verdict("PutItem").route is Route.FAST, "only the hooked operation"
    assert len(server.sent) == 1


def test_a_request_created_handler_runs_on_the_fast_path() -> None:
    """Powertools registers one on every session to tag the User-Agent."""
    results = {}
    for fast in (True, False):
        prov, server = provider(fast)

        def tag(request: Any, **_: Any) -> None:
            request.headers.replace_header("User-Agent", request.headers["User-Agent"] + " PT/x")

        prov.client.meta.events.register("request-created", tag)
        prov.call("GetItem", GET)
        agent = server.header(0, "User-Agent")
        assert "PT/x" in agent
        assert agent.count(USER_AGENT_TAG) == 1
        results[fast] = server.header(0, "Authorization").rpartition("Signature=")[0]
        if fast:
            verdict = prov._hooks.verdict("GetItem")
            assert (verdict.route, verdict.announce) == (Route.FAST, True)
    assert results[True] == results[False]


def test_powertools_user_agent_keeps_the_fast_path() -> None:
    from aws_lambda_powertools.shared import user_agent

    botocore.register_initializer(user_agent._initializer_botocore_session)
    try:
        session = botocore.session.Session()
    finally:
        botocore.unregister_initializer(user_agent._initializer_botocore_session)
    client = session.create_client(
        "dynamodb", region_name="eu-west-1", endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="AKID", aws_secret_access_key="secret", config=client_config(),
    )  # fmt: skip
    prov, server = Boto3Provider(client), Server(client)
    prov.call("GetItem", GET)
    assert prov._hooks.verdict("GetItem").route is Route.FAST
    assert "PT/no-op" in server.header(0, "User-Agent")


def test_a_before_send_handler_keeps_the_fast_path() -> None:
    fast, server = provider()
    fast.call("GetItem", GET)
    assert fast._hooks.verdict("GetItem").route is Route.FAST
    assert len(server.sent) == 1


def test_a_stubber_answers_instead_of_the_server() -> None:
    fast, server = provider()
    with Stubber(fast.client) as stubber:
        stubber.add_response("get_item", {"Item": {"PK": {"S": "stub"}}}, GET)
        assert fast.call("GetItem", GET) == {"Item": {"PK": {"S": "stub"}}}
    assert server.sent == []


def test_a_replaced_make_api_call_sends_through_botocore(monkeypatch: pytest.MonkeyPatch) -> None:
    fast, _ = provider()
    original = botocore.client.BaseClient._make_api_call
    calls: list[str] = []

    def replaced(self: Any, operation: str, params: dict[str, Any]) -> Any:
        calls.append(operation)
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", replaced)
    fast.call("GetItem", GET)
    assert calls == ["GetItem"]
    assert fast._hooks.verdict("GetItem").route is Route.BOTOCORE


def test_a_make_api_call_patched_on_the_client_sends_through_botocore() -> None:
    fast, _ = provider()
    calls: list[str] = []
    original = fast.client._make_api_call

    def patched(operation: str, params: dict[str, Any]) -> Any:
        calls.append(operation)
        return original(operation, params)

    fast.client._make_api_call = patched  # type: ignore[method-assign]
    fast.call("GetItem", GET)
    assert calls == ["GetItem"]


@pytest.fixture
def wrapped() -> Iterator[list[tuple[Any, ...]]]:
    """A wrapt wrapper around ``_make_api_call``, as tracers install it."""
    seen: list[tuple[Any, ...]] = []
    saved = vars(botocore.client.BaseClient)["_make_api_call"]

    def tracer(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        result = wrapped(*args, **kwargs)
        seen.append((instance, args, kwargs, result["ResponseMetadata"]["RequestId"]))
        return result

    wrapt.wrap_function_wrapper("botocore.client", "BaseClient._make_api_call", tracer)
    try:
        yield seen
    finally:
        botocore.client.BaseClient._make_api_call = saved  # type: ignore[method-assign]


def test_the_fast_path_runs_inside_wrappers_as_botocore_calls_them(
    wrapped: list[tuple[Any, ...]],
) -> None:
    results = {}
    for fast in (True, False):
        prov, server = provider(fast)
        results[fast] = prov.call("GetItem", GET)
        (instance, args, kwargs, request_id), *_ = wrapped[-1:]
        assert instance is prov.client
        assert args == ("GetItem", GET)
        assert kwargs == {}
        assert request_id == "req-1"
        assert len(server.sent) == 1
    assert results[True] == results[False] == {}, "metadata is not handed to the caller"
    assert len(wrapped) == 2


def test_a_disabled_wrapper_is_skipped() -> None:
    saved = vars(botocore.client.BaseClient)["_make_api_call"]
    seen: list[str] = []

    def tracer(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        seen.append(args[0])
        return wrapped(*args, **kwargs)

    botocore.client.BaseClient._make_api_call = wrapt.FunctionWrapper(  # type: ignore[method-assign]
        saved, tracer, enabled=False
    )
    try:
        fast, server = provider()
        fast.call("GetItem", GET)
        assert fast._hooks.verdict("GetItem").route is Route.WRAPPED
    finally:
        botocore.client.BaseClient._make_api_call = saved  # type: ignore[method-assign]
    assert seen == []
    assert len(server.sent) == 1


# -- headers ----------------------------------------------------------------------------------


def test_sdk_retry_headers_follow_the_librarys_attempts() -> None:
    fast, server = provider()
    server.statuses = [500]
    pipeline = ResiliencePipeline(fast, retry=RetryPolicy(max_attempts=3), sleep=lambda _: None)
    pipeline.call("GetItem", GET)
    assert len(server.sent) == 2
    ids = {server.header(i, "amz-sdk-invocation-id") for i in range(2)}
    assert len(ids) == 1, "one invocation id for every attempt of one operation"
    assert [server.header(i, "amz-sdk-request") for i in range(2)] == [
        "attempt=1; max=3",
        "attempt=2; max=3",
    ]
    pipeline.call("GetItem", GET)
    assert server.header(2, "amz-sdk-invocation-id") not in ids


def test_both_paths_send_the_sdk_headers_botocore_sends() -> None:
    """The fast path always names the budget; botocore's path does from the releases that
    seed ``max`` on the first attempt (behind a switch in 1.43, by default in 1.44)."""
    for fast in (True, False):
        prov, server = provider(fast)
        prov.call("GetItem", GET)
        sent = server.header(0, "amz-sdk-request")
        assert sent == "attempt=1; max=1" if fast else sent in {"attempt=1", "attempt=1; max=1"}
        assert len(server.header(0, "amz-sdk-invocation-id")) == 36


def test_invocation_ids_are_distinct_random_uuids_in_their_text_form() -> None:
    ids = [invocation_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == text


def test_inside_lambda_both_paths_send_its_trace_id(monkeypatch: pytest.MonkeyPatch) -> None:
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "handler")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", trace)
    monkeypatch.setattr(attempts, "IN_LAMBDA", True)  # read once, at start-up, in Lambda
    sent = []
    for fast in (True, False):
        prov, server = provider(fast)
        prov.call("GetItem", GET)
        sent.append(server.header(0, "X-Amzn-Trace-Id"))
    assert sent == [trace, trace]


def test_outside_lambda_no_trace_id_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-x")
    monkeypatch.setattr(attempts, "IN_LAMBDA", False)
    prov, server = provider()
    prov.call("GetItem", GET)
    assert "X-Amzn-Trace-Id" not in server.sent[0].headers


def test_both_paths_tag_the_user_agent_once_and_only_the_librarys_calls() -> None:
    for fast in (True, False):
        prov, server = provider(fast)
        prov.call("GetItem", GET)
        prov.call("DescribeTable", {"TableName": "things"})
        prov.client.get_item(**GET)
        agents = [server.header(i, "User-Agent") for i in range(3)]
        assert [agent.count(USER_AGENT_TAG) for agent in agents] == [1, 1, 0], fast


# -- one retry rule ---------------------------------------------------------------------------


def test_the_fast_path_sends_once_per_attempt_whatever_the_clients_retries() -> None:
    client = make_client(Config(retries={"total_max_attempts": 4, "mode": "standard"}))
    prov = Boto3Provider(client)
    server = Server(client, 500, 500)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DynamoDBServiceError):
            prov.call("GetItem", GET)
    assert len(server.sent) == 1


def test_botocores_path_on_a_retrying_client_warns_once() -> None:
    client = make_client(Config(retries={"total_max_attempts": 4, "mode": "standard"}))
    prov = Boto3Provider(client, fast_path=False)
    Server(client)
    with pytest.warns(UserWarning, match="retries up to 4 times"):
        prov.call("GetItem", GET)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prov.call("GetItem", GET)


def test_from_endpoint_keeps_the_users_config_but_not_its_retries() -> None:
    config = Config(retries={"max_attempts": 5}, user_agent_appid="billing", read_timeout=7)
    prov = Boto3Provider.from_endpoint(
        "http://127.0.0.1:9", region_name="eu-west-1", aws_access_key_id="a",
        aws_secret_access_key="b", config=config,
    )  # fmt: skip
    assert prov.client.meta.config.retries["total_max_attempts"] == 1
    assert prov.client.meta.config.read_timeout == 7
    assert prov.client.meta.config.user_agent_appid == "billing"
    assert prov.requested_attempts == 6


def test_the_service_takes_the_configs_retries_as_its_budget() -> None:
    service = DynamoDBService.from_endpoint(
        "http://127.0.0.1:9", region_name="eu-west-1", aws_access_key_id="a",
        aws_secret_access_key="b", config=Config(retries={"total_max_attempts": 4}),
    )  # fmt: skip
    assert service.pipeline.retry_policy.max_attempts == 4
    with pytest.raises(DynamoDBServiceError) as caught:
        DynamoDBService.from_endpoint(
            "http://127.0.0.1:9", region_name="eu-west-1", aws_access_key_id="a",
            aws_secret_access_key="b", config=Config(retries={"total_max_attempts": 4}),
            retry=RetryPolicy(max_attempts=2),
        )  # fmt: skip
    assert caught.value.code is ErrorCode.INVALID_CONFIGURATION


@pytest.mark.parametrize("provider_type", [Boto3Provider, AsyncHttpProvider])
def test_adaptive_mode_is_not_honoured_and_says_so(provider_type: Any) -> None:
    with pytest.warns(UserWarning, match="adaptive") as caught:
        provider_type.from_endpoint(
            "http://127.0.0.1:9", region_name="eu-west-1", aws_access_key_id="a",
            aws_secret_access_key="b", config=Config(retries={"mode": "adaptive"}),
        )  # fmt: skip
    assert caught[0].filename == __file__, "the warning points at the caller's line"


def test_from_endpoint_builds_from_the_given_session() -> None:
    session = botocore.session.Session()
    answered: list[str] = []

    def answer(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        answered.append(request.url)
        return AWSResponse(request.url, 200, {}, _Body(b"{}"))  # type: ignore[arg-type]

    session.register("before-send.dynamodb", answer)
    prov = Boto3Provider.from_endpoint(
        "http://127.0.0.1:9", region_name="eu-west-1", aws_access_key_id="a",
        aws_secret_access_key="b", botocore_session=session,
    )  # fmt: skip
    prov.call("GetItem", GET)
    assert answered == ["http://127.0.0.1:9/"]


def test_a_profile_and_a_session_together_are_refused() -> None:
    with pytest.raises(DynamoDBServiceError) as caught:
        Boto3Provider.from_endpoint(profile_name="dev", botocore_session=botocore.session.Session())
    assert caught.value.code is ErrorCode.INVALID_CONFIGURATION


# -- private internals guarded ----------------------------------------------------------------


class _ReshapedEvents:
    """An event system without botocore's handler registry, as a future release might have."""

    def __init__(self, events: Any) -> None:
        self._inner = events

    def __getattr__(self, name: str) -> Any:
        if name == "_emitter":
            raise AttributeError(name)
        return getattr(self._inner, name)


def test_missing_internals_send_everything_through_botocore(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = make_client()
    client.meta.events = _ReshapedEvents(client.meta.events)
    server = Server(client)
    assert fast_path_missing(client) == ["meta.events (the handler registry)"]
    with caplog.at_level("WARNING", logger="tctf_dynamo.providers"):
        prov = Boto3Provider(client)
    assert not prov.fast_path
    assert "fast path relies on" in caplog.text
    assert prov.call("GetItem", GET) == {}
    assert len(server.sent) == 1


def test_fast_path_missing_names_each_absent_attribute() -> None:
    client = make_client()
    assert fast_path_missing(client) == []

    class Bare:
        meta = client.meta

    assert "_request_signer.sign" in fast_path_missing(Bare())
    assert "_endpoint.prepare_request" in fast_path_missing(Bare())


def test_a_moto_without_its_dispatcher_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.responses import DynamoHandler

    from tctf_dynamo.providers import embedded

    owner = next(klass for klass in DynamoHandler.__mro__ if "_dispatch" in vars(klass))
    monkeypatch.delattr(owner, "_dispatch")
    embedded._moto_types.cache_clear()
    try:
        with pytest.raises(DynamoDBServiceError) as caught:
            EmbeddedProvider()
    finally:
        monkeypatch.undo()
        embedded._moto_types.cache_clear()
    assert caught.value.code is ErrorCode.INVALID_CONFIGURATION
    assert "DynamoHandler._dispatch" in caught.value.message
