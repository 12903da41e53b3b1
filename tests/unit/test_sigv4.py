"""The cheaper SigV4 signature is botocore's, byte for byte."""

from __future__ import annotations

import datetime
from typing import Any

import botocore.auth
import botocore.session
import pytest
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

from tctf_dynamo.providers import wire
from tctf_dynamo.providers.sigv4 import FastSigV4Auth, SigningHeaders, fast_signer
from tctf_dynamo.providers.wire import WireClient

NOW = datetime.datetime(2026, 12, 5, 8, 30, 15)


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: NOW)


def _request(url: str, headers: list[tuple[str, str]], body: bytes) -> AWSRequest:
    request = AWSRequest(method="POST", url=url, data=body)
    for name, value in headers:
        request.headers[name] = value  # HTTPHeaders keeps repeated names
    request.context = {}
    return request


CASES: list[tuple[str, list[tuple[str, str]], bytes]] = [
    ("http://localhost:8000/", [("X-Amz-Target", "DynamoDB_20120810.PutItem")], b"{}"),
    (
        "https://dynamodb.eu-west-1.amazonaws.com/",
        [("Content-Type", "application/x-amz-json-1.0"), ("User-Agent", "ua  x   y")],
        b'{"TableName":"t"}',
    ),
    ("https://example.com/a/../b c/?z=1&a=2&a=1", [("X-Custom", " a  b "), ("x-custom", "c")], b""),
    ("http://127.0.0.1:4566", [("Host", "other:1"), ("Expect", "100-continue")], b"x" * 3000),
]


@pytest.mark.parametrize(("url", "headers", "body"), CASES)
@pytest.mark.parametrize("token", [None, "session-token"])
def test_signature_and_headers_equal_botocores(
    url: str, headers: list[tuple[str, str]], body: bytes, token: str | None
) -> None:
    credentials = Credentials("AKIDEXAMPLE", "secret/key", token)
    signed = []
    for cls in (botocore.auth.SigV4Auth, FastSigV4Auth):
        request = _request(url, headers, body)
        cls(credentials, "dynamodb", "eu-west-1").add_auth(request)
        signed.append(list(request.headers.items()))
    assert signed[0] == signed[1]
    assert any(name == "Authorization" for name, _ in signed[1])


def test_canonical_request_equals_botocores_with_params() -> None:
    credentials = Credentials("AKID", "secret")
    request = _request("https://example.com/x", [("A", "1")], b"{}")
    request.params = {"b": "2", "a": "1 2"}
    request.context = {"timestamp": "20261205T083015Z"}
    ours = FastSigV4Auth(credentials, "dynamodb", "us-east-1").canonical_request(request)
    theirs = botocore.auth.SigV4Auth(credentials, "dynamodb", "us-east-1").canonical_request(
        request
    )
    assert ours == theirs


def _client(**kwargs: Any) -> Any:
    return botocore.session.get_session().create_client(
        "dynamodb",
        region_name="eu-west-1",
        endpoint_url="http://localhost:8000",
        aws_access_key_id="AKID",
        aws_secret_access_key="secret",
        **kwargs,
    )


def test_wire_client_sends_what_the_client_signer_signs(monkeypatch: pytest.MonkeyPatch) -> None:
    client = _client(aws_session_token="tok")
    request = {"TableName": "t", "Item": {"pk": {"S": "a"}, "b": {"B": b"\x00\x01"}}}
    _, ours = WireClient(client).prepare("PutItem", request)
    monkeypatch.setattr(wire, "fast_signer", lambda signer: signer)
    _, theirs = WireClient(client).prepare("PutItem", request)
    assert ours.body == theirs.body
    assert _text(ours.headers["Authorization"]) == _text(theirs.headers["Authorization"])
    assert "x-amz-security-token" in _text(ours.headers["Authorization"])


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def test_signer_events_still_fire_and_other_signers_are_kept() -> None:
    client = _client()
    seen: list[str] = []
    client.meta.events.register(
        "before-sign.dynamodb.GetItem", lambda **kwargs: seen.append(kwargs["operation_name"])
    )
    WireClient(client).prepare("GetItem", {"TableName": "t", "Key": {"pk": {"S": "a"}}})
    assert seen == ["GetItem"]
    stand_in = object()
    assert fast_signer(stand_in) is stand_in
    assert fast_signer(client._request_signer) is not client._request_signer


# -- the request's own headers type, signed as botocore signs HTTPHeaders ------------------

BODIES = [b"", b"{}", '{"S":"żółw ☃ \U0001f600"}'.encode(), bytes(range(256)) * 40]
HEADER_SETS: list[list[tuple[str, str]]] = [
    [("X-Amz-Target", "DynamoDB_20120810.BatchWriteItem")],
    [("Content-Type", "application/x-amz-json-1.0"), ("User-Agent", "ua  x   y")],
    [("X-Custom", " a  b "), ("x-custom", "c"), ("X-Amzn-Trace-Id", "Root=1-abc")],
    [("X-Custom", "naïve ☃"), ("Expect", "100-continue")],
    [("Host", "other:1"), ("Authorization", "stale"), ("X-Amz-Date", "stale")],
]


def _with_signing_headers(url: str, headers: list[tuple[str, str]], body: bytes) -> AWSRequest:
    request = AWSRequest(method="POST", url=url, data=body)
    request.headers = SigningHeaders()  # type: ignore[assignment]
    for name, value in headers:
        request.headers[name] = value
    request.context = {}
    return request


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("headers", HEADER_SETS)
@pytest.mark.parametrize("token", [None, "session-token", "tøken ☃"])
def test_signing_headers_sign_and_prepare_as_botocores_headers(
    body: bytes, headers: list[tuple[str, str]], token: str | None
) -> None:
    credentials = Credentials("AKIDEXAMPLE", "secret/kéy", token)
    url = "https://dynamodb.eu-west-1.amazonaws.com/"
    theirs = _request(url, headers, body)
    botocore.auth.SigV4Auth(credentials, "dynamodb", "eu-west-1").add_auth(theirs)
    ours = _with_signing_headers(url, headers, body)
    FastSigV4Auth(credentials, "dynamodb", "eu-west-1").add_auth(ours)
    assert list(ours.headers.items()) == list(theirs.headers.items())
    endpoint: Any = _client()._endpoint
    prepared = [endpoint.prepare_request(request) for request in (theirs, ours)]
    assert dict(prepared[0].headers.items()) == dict(prepared[1].headers.items())
    assert prepared[0].body == prepared[1].body


def test_payload_hash_is_botocores_for_every_body() -> None:
    credentials = Credentials("AKID", "secret")
    ours = FastSigV4Auth(credentials, "dynamodb", "us-east-1")
    theirs = botocore.auth.SigV4Auth(credentials, "dynamodb", "us-east-1")
    for url in ("https://example.com/", "http://example.com/"):
        for data in (*BODIES, bytearray(b"abc"), "text ☃", None):
            request = AWSRequest(method="POST", url=url, data=data)
            assert ours.payload(request) == theirs.payload(request)
        request = AWSRequest(method="POST", url="https://example.com/", data=b"x")
        request.context = {"payload_signing_enabled": False}
        assert ours.payload(request) == theirs.payload(request)


def test_signing_headers_behave_as_botocores_headers() -> None:
    ours, theirs = SigningHeaders(), HTTPHeaders()
    for headers in (ours, theirs):
        headers["X-A"] = "1"
        headers["x-a"] = "2"
        headers["B"] = "3"
        headers.replace_header("b", "4")
    for headers in (ours, theirs):
        assert headers["X-a"] == "1"
        assert headers["missing"] is None
        assert headers.get_all("X-A") == ["1", "2"]
        assert "x-A" in headers
        assert len(headers) == 3
    assert list(ours.items()) == list(theirs.items())
    for headers in (ours, theirs):
        del headers["X-A"]
        assert "x-a" not in headers
        assert list(headers) == ["B"]
    with pytest.raises(KeyError):
        ours.replace_header("absent", "x")


def test_the_wire_client_signs_as_botocores_own_request_created_path() -> None:
    """Without ``announce`` the wire client signs its own header type with the fast
    signer; with it, botocore's client signer signs its ``HTTPHeaders``: same bytes."""
    client = _client(aws_session_token="tok")
    request = {"RequestItems": {"t": [{"PutRequest": {"Item": {"pk": {"S": "ü ☃"}}}}]}}
    wire_client = WireClient(client)
    ours = wire_client.prepare("BatchWriteItem", request)[1]
    theirs = wire_client.prepare("BatchWriteItem", request, announce=True)[1]
    assert ours.body == theirs.body
    assert b"Signature=" in ours.headers["Authorization"]
    skip = {"amz-sdk-invocation-id"}
    assert {k: v for k, v in ours.headers.items() if k.lower() not in skip} == {
        k: v for k, v in theirs.headers.items() if k.lower() not in skip
    }


def test_a_signer_reused_after_a_header_change_signs_the_new_headers() -> None:
    """What the signer keeps of one signature is never used for changed headers."""
    credentials = Credentials("AKID", "secret", "token")
    url = "https://dynamodb.eu-west-1.amazonaws.com/"
    fast = FastSigV4Auth(credentials, "dynamodb", "eu-west-1")
    ours = _with_signing_headers(url, [("X-A", "1")], b"{}")
    fast.add_auth(ours)
    for change in (
        lambda headers: headers.__setitem__("X-B", "2"),
        lambda headers: headers.replace_header("X-A", "3"),
        lambda headers: headers.__delitem__("X-B"),
    ):
        change(ours.headers)
        theirs = _request(url, [(n, v) for n, v in ours.headers.items()], b"{}")
        botocore.auth.SigV4Auth(credentials, "dynamodb", "eu-west-1").add_auth(theirs)
        fast.add_auth(ours)
        assert ours.headers["Authorization"] == theirs.headers["Authorization"]
    other = _with_signing_headers(url, [("X-C", "4")], b"[]")
    fast.add_auth(other)
    assert "x-c" in other.headers["Authorization"]
