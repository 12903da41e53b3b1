"""A ``timeout`` given to Boto3Provider.call reaches the request botocore's HTTP session
sends, on the fast path and on botocore's own, without rebuilding the client.

A ``before-send`` hook answers instead of the network and records the request context,
which is where botocore's ``URLLib3Session`` reads a per-request ``read_timeout``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import botocore.client
import botocore.session
import pytest
import wrapt
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.httpsession import URLLib3Session

from tctf_dynamo.providers import Boto3Provider, client_config

GET = {"TableName": "things", "Key": {"PK": {"S": "a"}}}


class _Body(io.BytesIO):
    def stream(self, **_: Any) -> Iterator[bytes]:
        data = self.read()
        if data:
            yield data


def provider_with_hook(fast_path: bool) -> tuple[Boto3Provider, list[Any]]:
    client = botocore.session.get_session().create_client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=client_config(read_timeout=30.0),
    )
    seen: list[Any] = []

    def answer(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        seen.append(request.context.get("read_timeout"))
        return AWSResponse(request.url, 200, {}, _Body(b"{}"))  # type: ignore[arg-type]

    client.meta.events.register("before-send.dynamodb", answer)
    return Boto3Provider(client, fast_path=fast_path), seen


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "botocore"])
def test_each_call_carries_its_own_read_timeout(fast_path: bool) -> None:
    provider, seen = provider_with_hook(fast_path)
    provider.call("GetItem", GET, timeout=0.25)
    provider.call("GetItem", GET, timeout=1.5)
    provider.call("GetItem", GET)
    provider.call("DescribeTable", {"TableName": "things"}, timeout=0.75)
    assert seen == [0.25, 1.5, None, 0.75]  # None: the client's read_timeout applies


def test_botocores_session_turns_the_context_into_the_socket_timeout() -> None:
    """The hook the provider relies on: URLLib3Session reads ``read_timeout`` per request
    and keeps the client's connect timeout."""
    session = URLLib3Session(timeout=(2.0, 30.0))
    request = AWSPreparedRequest("POST", "http://127.0.0.1:9/", {}, b"", False)
    request.context = {"read_timeout": 0.4}
    timeout = session._get_request_timeout(request)
    assert timeout is not None
    assert timeout.read_timeout == 0.4
    assert timeout.connect_timeout == 2.0


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "botocore"])
def test_a_call_inside_a_tracers_wrapper_keeps_its_read_timeout(fast_path: bool) -> None:
    saved = vars(botocore.client.BaseClient)["_make_api_call"]
    traced: list[str] = []

    def tracer(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        traced.append(args[0])
        return wrapped(*args, **kwargs)

    wrapt.wrap_function_wrapper("botocore.client", "BaseClient._make_api_call", tracer)
    try:
        provider, seen = provider_with_hook(fast_path)
        provider.call("GetItem", GET, timeout=0.3)
    finally:
        botocore.client.BaseClient._make_api_call = saved  # type: ignore[method-assign]
    assert traced == ["GetItem"]
    assert seen == [0.3]
