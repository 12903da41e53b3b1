"""What the async fast path puts on the wire: the sync fast path's headers, a valid SigV4.

A loopback HTTP server records every request and answers ``{}``. The same operation is
sent by the sync fast path and by :class:`~tctf_dynamo.providers.AsyncHttpProvider`
inside one SDK invocation, so everything but the signing time must be equal; the
signature is then recomputed from what arrived, with the credentials the client holds.
"""

from __future__ import annotations

import asyncio
import datetime
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials, RefreshableCredentials

from tctf_dynamo.providers import AsyncHttpProvider, Boto3Provider, attempts
from tctf_dynamo.providers.attempts import CURRENT_ATTEMPT, USER_AGENT_TAG, Invocation

pytestmark = pytest.mark.server

KEY_ID, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGION = "eu-west-1"
VOLATILE = {"x-amz-date", "authorization"}
"""Headers that depend on the second of signing; compared apart."""
REQUEST = {"TableName": "things", "Key": {"PK": {"S": "a"}, "b": {"B": b"\x00\xff"}}}


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[tuple[dict[str, str], bytes, str]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append(({k.lower(): v for k, v in self.headers.items()}, body, self.path))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes, str]]]]:
    seen: list[tuple[dict[str, str], bytes, str]] = []
    handler = type("Recorder", (_Recorder,), {"seen": seen})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def send_both(endpoint: str) -> None:
    """One GetItem by each path, as attempt 2 of 3 of one operation."""
    options = {
        "region_name": REGION,
        "aws_access_key_id": KEY_ID,
        "aws_secret_access_key": SECRET,
    }
    invocation = Invocation(max_attempts=3)
    invocation.attempt = 2
    token = CURRENT_ATTEMPT.set(invocation)
    try:
        with Boto3Provider.from_endpoint(endpoint, **options) as sync:
            assert sync.call("GetItem", REQUEST) == {}

        async def awaited() -> Any:
            async with AsyncHttpProvider.from_endpoint(endpoint, **options) as provider:
                return await provider.call("GetItem", REQUEST)

        assert asyncio.run(awaited()) == {}
    finally:
        CURRENT_ATTEMPT.reset(token)


def test_both_paths_send_the_same_headers_and_body(recorder: Any) -> None:
    endpoint, seen = recorder
    send_both(endpoint)
    (sync_headers, sync_body, sync_path), (async_headers, async_body, async_path) = seen
    assert async_body == sync_body
    assert async_path == sync_path == "/"
    assert set(async_headers) == set(sync_headers)
    stable = {name: value for name, value in sync_headers.items() if name not in VOLATILE}
    assert {name: async_headers[name] for name in stable} == stable
    assert async_headers["amz-sdk-request"] == "attempt=2; max=3"
    assert USER_AGENT_TAG in async_headers["user-agent"]

    def scope(headers: dict[str, str]) -> str:
        return headers["authorization"].rsplit("Signature=", 1)[0]

    assert scope(async_headers) == scope(sync_headers)


def test_the_async_signature_verifies(recorder: Any) -> None:
    endpoint, seen = recorder
    send_both(endpoint)
    headers, body, _ = seen[1]
    authorization = headers["authorization"]
    signed = authorization.split("SignedHeaders=", 1)[1].split(",", 1)[0].split(";")
    assert {"host", "x-amz-date", "x-amz-target", "content-type"} <= set(signed)
    request = AWSRequest(
        method="POST",
        url=endpoint + "/",
        data=body,
        headers={name: headers[name] for name in signed},
    )
    request.context["timestamp"] = headers["x-amz-date"]
    auth = SigV4Auth(Credentials(KEY_ID, SECRET), "dynamodb", REGION)
    expected = auth.signature(
        auth.string_to_sign(request, auth.canonical_request(request)), request
    )
    assert authorization.endswith(f"Signature={expected}")
    wrong = SigV4Auth(Credentials(KEY_ID, SECRET + "x"), "dynamodb", REGION)
    assert not authorization.endswith(
        wrong.signature(wrong.string_to_sign(request, wrong.canonical_request(request)), request)
    )


def test_inside_lambda_both_paths_send_its_trace_id(
    recorder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    monkeypatch.setenv("_X_AMZN_TRACE_ID", trace)
    monkeypatch.setattr(attempts, "IN_LAMBDA", True)
    endpoint, seen = recorder
    send_both(endpoint)
    assert [headers["x-amzn-trace-id"] for headers, _, _ in seen] == [trace, trace]


def test_due_credentials_are_refreshed_off_the_event_loop(recorder: Any) -> None:
    """Refreshable credentials near expiry are fetched on a worker thread, and the
    request is signed with what the refresh returned."""
    endpoint, seen = recorder
    refreshed_on: list[threading.Thread] = []

    def fetch() -> dict[str, str]:
        refreshed_on.append(threading.current_thread())
        later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
        return {
            "access_key": "AKIDREFRESHED",
            "secret_key": SECRET,
            "token": "session",
            "expiry_time": later.isoformat(),
        }

    expired = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1)
    credentials = RefreshableCredentials.create_from_metadata(
        {"access_key": KEY_ID, "secret_key": SECRET, "token": "old",
         "expiry_time": expired.isoformat()},
        refresh_using=fetch,
        method="test",
    )  # fmt: skip

    async def scenario() -> threading.Thread:
        provider = AsyncHttpProvider.from_endpoint(
            endpoint, region_name=REGION, aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET
        )
        provider.client._request_signer._credentials = credentials  # type: ignore[attr-defined]
        async with provider:
            await provider.call("GetItem", REQUEST)
            await provider.call("GetItem", REQUEST)
        return threading.current_thread()

    loop_thread = asyncio.run(scenario())
    assert len(refreshed_on) == 1, "fresh credentials are not fetched again"
    assert refreshed_on[0] is not loop_thread
    assert all("Credential=AKIDREFRESHED/" in h["authorization"] for h, _, _ in seen)
    assert all(h["x-amz-security-token"] == "session" for h, _, _ in seen)
