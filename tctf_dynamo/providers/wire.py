"""DynamoDB's JSON 1.0 protocol, written and read directly, sent by botocore's own machinery.

Why it exists: a botocore client walks the service model for every request (validation,
serialization) and every response (parsing), which costs more client CPU than the rest
of the library put together. DynamoDB's wire format is already the library's request
shape, plus one rule: binary values (``B`` and ``BS``) travel as base64 text. Every
request reaching a provider was validated by the library, so the shape walks buy
nothing, and :class:`WireClient` replaces them with one ``json`` call each way.

What is *not* replaced, so that AWS sees exactly what botocore would send:

* the endpoint URL is resolved for every request by the client's endpoint rules, as
  botocore resolves it (regional, FIPS, dual-stack, account-ID endpoints, a custom
  endpoint), with any signing context the rules set;
* signing is the client's request signer (SigV4 with the client's refreshable
  credentials and region, or nothing for an ``UNSIGNED`` client); its ``before-sign``
  and ``choose-signer`` events still fire (a plain SigV4 signature is computed by
  :mod:`tctf_dynamo.providers.sigv4`, the same bytes with less work);
* the client's ``before-send.dynamodb.<Operation>`` event fires with the prepared request,
  as botocore's endpoint fires it, and a handler's answer is used instead of the network;
* otherwise the request goes through the client's HTTP session (its connection pool,
  timeouts, proxies and TLS settings), whose failures are botocore's exceptions;
* error responses become the ``ClientError`` botocore's parser would build, so the one
  translation table in :mod:`tctf_dynamo.providers.errors` maps them.

Only the data-plane operations in :data:`DATA_OPERATIONS` take this path: their
responses hold no timestamps (which botocore turns into datetimes) and they are the
calls a program makes thousands of times. Table management stays on botocore's path.

The CRC32 DynamoDB puts in ``x-amz-crc32`` is checked (``zlib.crc32`` costs well under a
microsecond for a typical response); a mismatch raises botocore's ``ChecksumError``,
which the library treats as a retryable connection failure. botocore's own check is a
retry condition, so with its retries off, as the library configures them, a corrupted
response would pass unnoticed there.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

import attrs
from botocore.awsrequest import AWSPreparedRequest, AWSRequest, prepare_request_dict
from botocore.hooks import first_non_none_response
from botocore.validate import ParamValidationDecorator, validate_parameters

from tctf_dynamo.providers.attempts import (
    USER_AGENT_TAG,
    invocation_headers,
    lambda_trace_id,
    tagged,
)
from tctf_dynamo.providers.base import Request, Response
from tctf_dynamo.providers.retry_metadata import last_attempt_marker
from tctf_dynamo.providers.sigv4 import SigningHeaders, fast_signer
from tctf_dynamo.providers.wire_format import (
    CONTENT_TYPE,
    HTTP_MULTIPLE_CHOICES,
    decode_response,
    encode_request,
    error_response,
    response_metadata,
    verify_crc32,
)

if TYPE_CHECKING:
    from botocore.client import BaseClient
    from botocore.model import OperationModel, ServiceModel

__all__ = [
    "DATA_OPERATIONS",
    "Observer",
    "PreparedOperation",
    "WireClient",
    "decode_response",
    "encode_request",
    "error_response",
    "verify_crc32",
]

DATA_OPERATIONS: Final = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
        "ExecuteStatement",
        "BatchExecuteStatement",
        "ExecuteTransaction",
    }
)
"""Operations sent by :class:`WireClient`; every other one goes through botocore."""

Observer = Callable[[int, Mapping[str, str]], None]
"""Told the status and headers of a successful answer."""


@attrs.frozen
class PreparedOperation:
    """What sending one operation needs, worked out once from the service model."""

    name: str
    model: OperationModel
    headers: Mapping[str, str]
    before_send: str
    request_created: str
    context: Mapping[str, Any]
    idempotent_members: tuple[str, ...]


class WireClient:
    """Sends data-plane operations through a botocore client's signer and HTTP session.

    Raises what botocore would (``ClientError`` for error answers, its transport and
    credential exceptions otherwise); the provider translates them. Never retries,
    whatever the client's retry settings: retrying belongs to the library's policy.
    Thread-safe: the per-operation cache only ever gains equal entries.
    """

    def __init__(self, client: BaseClient) -> None:
        meta = client.meta
        # botocore keeps these on private attributes; there is no public handle.
        internals: Any = client
        self._signer: Any = internals._request_signer
        self._sign = fast_signer(self._signer).sign
        self._endpoint_object: Any = internals._endpoint
        self._http_session: Any = internals._endpoint.http_session
        self._exceptions: Any = client.exceptions
        self._events = meta.events
        self._service_model: ServiceModel = meta.service_model
        self._config = meta.config
        self._region = meta.region_name
        self._validate = _validates_parameters(internals)
        self._resolve: Any = getattr(internals, "_resolve_endpoint_ruleset", None)
        self._endpoints: dict[tuple[str, Any], tuple[str, dict[str, str], dict[str, Any]]] = {}
        self._url = _endpoint_url(meta.endpoint_url)
        self._user_agent = _user_agent(internals)
        self._operations: dict[str, PreparedOperation] = {}
        self._mark_last_attempt = last_attempt_marker(client)

    def send(
        self,
        operation: str,
        request: Request,
        *,
        metadata: bool = False,
        announce: bool = False,
        timeout: float | None = None,
        observe: Observer | None = None,
    ) -> Response:
        """Send ``operation`` and return the parsed response.

        ``timeout`` is the socket read timeout of this request (None: the client's), put
        where botocore's HTTP session reads it: the request context's ``read_timeout``.

        ``ResponseMetadata`` is added, as botocore's parser adds it, only with ``metadata``
        (for tracers wrapped around the call, which read the request id and status).
        With ``announce`` the request is signed by emitting ``request-created``, as
        botocore's endpoint does, so other handlers of that event run too.
        ``observe(status, headers)`` is told of a successful answer once it is parsed
        (a span records the request id and status from there; an error answer carries
        them on its ``ClientError``).
        """
        spec, prepared = self.prepare(operation, request, announce=announce, timeout=timeout)
        answers = self._events.emit(spec.before_send, request=prepared)
        http_response = first_non_none_response(answers)
        if http_response is None:
            http_response = self._http_session.send(prepared)
        return self.answer(
            spec,
            http_response.status_code,
            http_response.headers,
            http_response.content,
            metadata=metadata,
            observe=observe,
        )

    def prepare(
        self,
        operation: str,
        request: Request,
        *,
        announce: bool = False,
        timeout: float | None = None,
    ) -> tuple[PreparedOperation, AWSPreparedRequest]:
        """The signed HTTP request for ``operation``, ready for any HTTP client.

        Fills idempotency tokens, validates when the client would, resolves the endpoint,
        adds Lambda's trace header, signs, then adds the SDK retry headers (after signing,
        as botocore adds them). Shared by the sync send above and the async providers, so
        both put the same bytes and headers on the wire.
        """
        spec = self._operations.get(operation) or self._prepare(operation)
        for member in spec.idempotent_members:
            if member not in request:
                request = {**request, member: str(uuid.uuid4())}
        if self._validate and spec.model.input_shape is not None:
            validate_parameters(request, spec.model.input_shape)
        context = dict(spec.context)
        if timeout is not None:
            context["read_timeout"] = timeout
        url, request_headers = self._url, dict(spec.headers)
        if self._resolve is not None:
            url, extra_headers = self._endpoint(spec, request, context)
            if extra_headers:
                request_headers.update(extra_headers)
        trace_id = lambda_trace_id()
        if trace_id is not None and "X-Amzn-Trace-Id" not in request_headers:
            request_headers["X-Amzn-Trace-Id"] = trace_id
        body = encode_request(request)
        if announce:  # other handlers of the event get botocore's own header type
            aws_request = AWSRequest(method="POST", url=url, headers=request_headers, data=body)
            aws_request.context = context
            self._events.emit(spec.request_created, request=aws_request, operation_name=spec.name)
            _keep_tag(aws_request.headers)
        else:
            aws_request = AWSRequest(method="POST", url=url, data=body)
            aws_request.headers = SigningHeaders(request_headers)  # type: ignore[assignment]
            aws_request.context = context
            self._sign(spec.name, aws_request)
        for name, value in invocation_headers().items():  # after signing, as botocore adds them
            aws_request.headers[name] = value
        # The endpoint's own step (headers to bytes, then prepare): tracers wrap it to
        # put their propagation headers in, as on botocore's path.
        return spec, self._endpoint_object.prepare_request(aws_request)

    def answer(
        self,
        spec: PreparedOperation,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        *,
        metadata: bool = False,
        observe: Observer | None = None,
    ) -> Response:
        """The parsed response to an HTTP answer, or the ``ClientError`` botocore would raise.

        Checks ``x-amz-crc32`` first (a mismatch raises ``ChecksumError``). Pure: any
        HTTP client that read the whole answer hands it here.
        """
        verify_crc32(headers, body)
        if status < HTTP_MULTIPLE_CHOICES:
            parsed = decode_response(body)
            if not isinstance(parsed, dict):
                raise ValueError(f"DynamoDB answered {spec.name} with JSON that is not an object")
            parsed.pop("ResponseMetadata", None)
            if metadata:
                parsed["ResponseMetadata"] = response_metadata(status, headers, request_id=True)
            if observe is not None:
                observe(status, headers)
            return parsed
        error = error_response(status, headers, body, self._service_model)
        if self._mark_last_attempt is not None:
            self._mark_last_attempt(error, status, headers, body)
        raise self._exceptions.from_code(error["Error"]["Code"])(error, spec.name)

    @property
    def credentials(self) -> Any:
        """The signer's credentials object (``None`` for an unsigned client)."""
        return getattr(self._signer, "_credentials", None)

    def _endpoint(
        self, spec: PreparedOperation, request: Request, context: dict[str, Any]
    ) -> tuple[str, Mapping[str, str]]:
        """The URL (and headers, signing context) the client's endpoint rules give.

        As botocore does for every request: the rules route by the credentials
        (account-ID endpoints) and by table ARNs. Their answer depends on nothing else
        for plain table names, so it is kept per operation and access key; a request
        naming a table by ARN is resolved afresh.
        """
        credentials = getattr(self._signer, "_credentials", None)
        access_key = getattr(credentials, "access_key", None)
        cacheable = "arn:" not in _table_names(request)
        key = (spec.name, access_key)
        if cacheable and key in self._endpoints:
            url, headers, updates = self._endpoints[key]
            context.update({name: _copied(value) for name, value in updates.items()})
            return url, headers
        before = dict(context)
        endpoint, headers, _ = self._resolve(spec.model, request, context)
        url = _endpoint_url(endpoint)
        if cacheable and len(self._endpoints) < _ENDPOINT_CACHE_SIZE:
            updates = {name: _copied(value) for name, value in context.items()
                       if before.get(name) is not value}  # fmt: skip
            self._endpoints[key] = (url, dict(headers or {}), updates)
        return url, headers or {}

    def _prepare(self, operation: str) -> PreparedOperation:
        service = self._service_model
        model = service.operation_model(operation)
        headers = {
            "X-Amz-Target": f"{service.metadata['targetPrefix']}.{operation}",
            "Content-Type": CONTENT_TYPE,
        }
        if self._user_agent:
            headers["User-Agent"] = self._user_agent
        spec = PreparedOperation(
            name=operation,
            model=model,
            headers=headers,
            before_send=f"before-send.{service.service_id.hyphenize()}.{operation}",
            request_created=f"request-created.{service.service_id.hyphenize()}.{operation}",
            context={
                "client_region": self._region,
                "client_config": self._config,
                "has_streaming_input": False,
                "auth_type": model.resolved_auth_type,
                "unsigned_payload": model.unsigned_payload,
                "auth_options": service.metadata.get("auth"),
            },
            idempotent_members=tuple(model.idempotent_members),
        )
        self._operations[operation] = spec
        return spec


_ENDPOINT_CACHE_SIZE = 256


def _table_names(request: Request) -> str:
    """Every table name a request mentions, as one string (to look for ARNs)."""
    names = [str(request.get("TableName", ""))]
    names.extend(request.get("RequestItems", ()))
    for action in request.get("TransactItems", ()):
        for body in action.values():
            names.append(str(body.get("TableName", "")))
    return " ".join(names)


def _copied(value: Any) -> Any:
    """A fresh copy of a context value the signer may change (the signing dict)."""
    return dict(value) if isinstance(value, dict) else value


@functools.lru_cache(maxsize=64)
def _endpoint_url(endpoint_url: str) -> str:
    """The request URL botocore builds for a JSON-protocol operation on ``endpoint_url``."""
    request_dict: dict[str, Any] = {"url_path": "/", "query_string": "", "headers": {}}
    prepare_request_dict(request_dict, endpoint_url=endpoint_url)
    return str(request_dict["url"])


def _validates_parameters(client: Any) -> bool:
    """Whether the client's own serializer would validate parameters.

    The client's ``meta.config`` does not keep ``parameter_validation`` (it always reads
    the default); the serializer botocore built from it does.
    """
    serializer = getattr(client, "_serializer", None)
    if serializer is not None:
        return isinstance(serializer, ParamValidationDecorator)
    return bool(getattr(client.meta.config, "parameter_validation", True))


def _user_agent(client: Any) -> str:
    """The client's User-Agent with the library's tag, computed once (botocore rebuilds
    it for every request)."""
    creator = getattr(client, "_user_agent_creator", None)
    agent = str(creator.to_string()) if creator is not None else client.meta.config.user_agent
    return tagged(agent)


def _keep_tag(headers: Any) -> None:
    """Put the tag back if a ``request-created`` handler rebuilt the User-Agent."""
    agent = headers.get("User-Agent")
    if agent is not None and USER_AGENT_TAG not in agent:
        headers.replace_header("User-Agent", tagged(agent))
