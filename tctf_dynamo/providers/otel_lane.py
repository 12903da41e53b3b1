"""The spans of OpenTelemetry's botocore instrumentation, made by the fast path itself.

Why: running the fast path inside the instrumentation's wrapper (``Route.WRAPPED``)
keeps every span right, but the wrapper's own per-call work (a call context read from
the client, an extension looked up and built, two URL parses, two context switches,
``ResponseMetadata`` built only to be read back) costs about as much client CPU as the
SDK's span itself. When that instrumentation is the only wrapper around
``BaseClient._make_api_call`` and nothing of the user's runs inside it, the span it
would make is a pure function of the client, the operation, the request and the answer,
so :class:`OperationLane` makes the same span directly, with everything per-operation
worked out once.

What is emulated, as the instrumentation's ``_patched_api_call`` does it:

* nothing at all when instrumentation is suppressed (``suppress_instrumentation``);
* a span from the instrumentor's own tracer (same scope name, version and schema URL),
  named ``<ServiceId>.<Operation>``, kind ``CLIENT``, started with ``rpc.*``,
  ``cloud.region``, ``server.*``, ``db.*``, ``net.peer.name`` and the DynamoDB
  extension's start attributes; its request attributes set after the start; the span is
  current, with HTTP instrumentation suppressed, while the request is prepared and sent,
  so the instrumentor's propagator (on ``Endpoint.prepare_request``, which the fast path
  calls) injects the trace header for this span;
* on an answer: ``aws.request_id``, ``retry_attempts`` and ``http.status_code``, then
  the extension's response attributes;
* on an error answer (``ClientError``): the same response attributes, status ``ERROR``
  with the error's text when the HTTP status is an error; any other exception: status
  ``ERROR``; in both cases the exception recorded as an event, as ``use_span`` records it;
* one span per call of the provider, that is one per HTTP attempt.

The extension's attribute tables are read from the installed package, not copied, so
they cannot drift; the version range below is the one whose control flow this module
follows. :func:`emulation` is the one place that decides whether emulating is exact;
whenever anything it expects is missing or different, it answers None and the caller
keeps ``Route.WRAPPED``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol

from botocore.exceptions import ClientError

from tctf_dynamo.providers.base import Request, Response
from tctf_dynamo.providers.wire import Observer
from tctf_dynamo.providers.wire_format import request_id_of

__all__ = ["SUPPORTED_VERSIONS", "OperationLane", "emulation"]

logger = logging.getLogger("tctf_dynamo.providers")

SUPPORTED_VERSIONS: Final = ("0.66b",)
"""Version prefixes of opentelemetry-instrumentation-botocore whose span-making this
module follows line by line (``_patched_api_call``, the DynamoDB extension)."""

_PACKAGE: Final = "opentelemetry.instrumentation.botocore"
_WRAPPER_QUALNAME: Final = "BotocoreInstrumentor._patched_api_call"
_SERVICE: Final = "dynamodb"

AttributeSpecs = tuple[tuple[str, Any, Any], ...]


class Send(Protocol):
    """:meth:`tctf_dynamo.providers.wire.WireClient.send`, as the lane calls it."""

    def __call__(
        self,
        operation: str,
        request: Request,
        *,
        announce: bool = ...,
        timeout: float | None = ...,
        observe: Observer | None = ...,
    ) -> Response: ...


def emulation(
    wrappers: tuple[tuple[Any, Any], ...], client: Any, operation: str
) -> OperationLane | None:
    """The lane for ``operation``, or None when emulating would not be exact.

    Exact means: the only wrapper is ``BotocoreInstrumentor._patched_api_call`` of a
    supported version, bound to a plain ``BotocoreInstrumentor`` (no subclass that could
    change it), always enabled, with no request or response hook, and the DynamoDB
    extension it would load is the one whose tables are read here.
    """
    try:
        return _emulation(wrappers, client, operation)
    except Exception:  # anything unexpected in a package we do not own: stay WRAPPED
        logger.debug("cannot emulate the botocore instrumentation", exc_info=True)
        return None


def _emulation(
    wrappers: tuple[tuple[Any, Any], ...], client: Any, operation: str
) -> OperationLane | None:
    instrumentor = _plain_instrumentor(wrappers)
    if instrumentor is None or client.meta.service_model.service_name.lower() != _SERVICE:
        return None
    from opentelemetry.instrumentation.botocore.extensions import dynamodb as extension_module
    from opentelemetry.instrumentation.botocore.extensions.registry import ExtensionRegistry
    from opentelemetry.instrumentation.botocore.extensions.types import (
        _AwsSdkCallContext,
        _AwsSdkExtension,
    )

    registry: Any = instrumentor.extension_registry
    if type(registry) is not ExtensionRegistry:
        return None
    call_context = _AwsSdkCallContext(client, (operation, {}))
    extension = registry.get_extension(call_context)
    extension_class = type(extension)
    if (
        extension_class is not extension_module._DynamoDbExtension
        or extension_class.should_trace_service_call
        is not _AwsSdkExtension.should_trace_service_call
        or extension_class.should_end_span_on_exit is not _AwsSdkExtension.should_end_span_on_exit
    ):
        return None
    base: dict[str, Any] = {
        "rpc.system": "aws-api",
        "rpc.service": call_context.service_id,
        "rpc.method": operation,
        "cloud.region": call_context.region,
        **_server_attributes(call_context.endpoint_url),
    }
    extension.extract_attributes(base)  # with no parameters: the per-operation part
    table = extension_module._OPERATION_MAPPING.get(operation)
    return OperationLane(
        tracer=registry.get_tracer(extension),
        name=call_context.span_name,
        kind=call_context.span_kind,
        base=base,
        start=_specs(getattr(table, "start_attributes", None)),
        before=_specs(getattr(table, "request_attributes", None)),
        after=_specs(getattr(table, "response_attributes", None)),
    )


def _plain_instrumentor(wrappers: tuple[tuple[Any, Any], ...]) -> Any:
    """The ``BotocoreInstrumentor`` whose wrapper is the only one, if it is a plain one
    of a supported version with no hooks; otherwise None."""
    if len(wrappers) != 1:
        return None
    wrapper, enabled = wrappers[0]
    function = getattr(wrapper, "__func__", None)
    if (
        enabled is not None
        or getattr(function, "__module__", None) != _PACKAGE
        or getattr(function, "__qualname__", None) != _WRAPPER_QUALNAME
    ):
        return None
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
    from opentelemetry.instrumentation.botocore.version import __version__

    instrumentor = wrapper.__self__
    if (
        not __version__.startswith(SUPPORTED_VERSIONS)
        or type(instrumentor) is not BotocoreInstrumentor
        or function is not BotocoreInstrumentor._patched_api_call
        or instrumentor.request_hook is not None
        or instrumentor.response_hook is not None
    ):
        return None
    return instrumentor


def _server_attributes(endpoint_url: str | None) -> dict[str, Any]:
    from opentelemetry.instrumentation.botocore.utils import get_server_attributes

    return dict(get_server_attributes(endpoint_url))  # type: ignore[arg-type]


def _specs(table: Mapping[str, tuple[Any, Any]] | None) -> AttributeSpecs:
    return tuple((key, path, converter) for key, (path, converter) in (table or {}).items())


def _values(source: Mapping[str, Any], specs: AttributeSpecs) -> list[tuple[str, Any]]:
    """``(key, value)`` for each spec with a value, as the extension's ``_add_attributes``."""
    found = []
    for key, path, converter in specs:
        if isinstance(path, str):
            value = source.get(path)
        else:
            value = source
            for part in path:
                value = value.get(part)
                if value is None:
                    break
            if value is source:
                value = None
        if value is None:
            continue
        if converter is not None:
            value = converter(value)
        if value is not None:
            found.append((key, value))
    return found


class OperationLane:
    """Makes one operation's span around a fast send, as the instrumentation would."""

    def __init__(
        self,
        *,
        tracer: Any,
        name: str,
        kind: Any,
        base: dict[str, Any],
        start: AttributeSpecs,
        before: AttributeSpecs,
        after: AttributeSpecs,
    ) -> None:
        from opentelemetry import context, trace
        from opentelemetry.context import _SUPPRESS_HTTP_INSTRUMENTATION_KEY
        from opentelemetry.instrumentation.utils import (
            http_status_to_status_code,
            is_instrumentation_enabled,
        )
        from opentelemetry.trace import StatusCode

        self.tracer = tracer
        self.name = name
        self._kind = kind
        self._base = base
        self._start = start
        self._before = before
        self._after = after
        self._enabled = is_instrumentation_enabled
        self._attach = context.attach
        self._detach = context.detach
        self._set_value = context.set_value
        self._with_span = trace.set_span_in_context
        self._http_key = _SUPPRESS_HTTP_INSTRUMENTATION_KEY
        self._status_of = http_status_to_status_code
        self._error = StatusCode.ERROR

    def call(
        self,
        send: Send,
        operation: str,
        request: Request,
        *,
        announce: bool = False,
        timeout: float | None = None,
    ) -> Response:
        """``send(operation, request, ...)`` inside this operation's span."""
        if not self._enabled():
            return send(operation, request, announce=announce, timeout=timeout)
        attributes = self._base
        if self._start:
            attributes = {**attributes, **dict(_safe(_values, request, self._start))}
        span = self.tracer.start_span(self.name, kind=self._kind, attributes=attributes)
        recording = span.is_recording()
        token = self._attach(self._set_value(self._http_key, True, self._with_span(span)))
        try:
            try:
                if recording and self._before:
                    _set(span, _safe(_values, request, self._before))
                observe = functools.partial(_answered, span) if recording else None
                try:
                    response = send(
                        operation, request, announce=announce, timeout=timeout, observe=observe
                    )
                except ClientError as error:
                    self._failed(span, error)
                    raise
                except Exception as error:
                    span.set_status(self._error, str(error))
                    raise
                if recording and self._after:
                    _set(span, _safe(_values, response, self._after))
                return response
            finally:
                self._detach(token)
        except Exception as error:
            if recording:
                span.record_exception(error)
            raise
        finally:
            span.end()

    def _failed(self, span: Any, error: ClientError) -> None:
        result: Any = getattr(error, "response", None)
        if not span.is_recording() or result is None:
            return
        metadata = result.get("ResponseMetadata")
        if metadata is not None:
            _apply_metadata(span, metadata)
        status = (metadata or {}).get("HTTPStatusCode", 0)
        if self._status_of(status) is self._error:
            span.set_status(self._error, str(error))
        elif self._after:
            _set(span, _safe(_values, result, self._after))


def _answered(span: Any, status: int, headers: Mapping[str, str]) -> None:
    """The response attributes of a successful answer (the wire client's observer), set
    in one call: the order and values of three ``set_attribute`` calls, one lock."""
    request_id = request_id_of(headers)
    if request_id is None:
        lowered = {str(name).lower(): value for name, value in headers.items()}
        request_id = lowered.get("x-amz-request-id") or lowered.get("x-amz-id-2")
    if request_id:
        span.set_attributes(
            {"aws.request_id": request_id, "retry_attempts": 0, "http.status_code": status}
        )
    else:
        span.set_attributes({"retry_attempts": 0, "http.status_code": status})


def _apply_metadata(span: Any, metadata: Mapping[str, Any]) -> None:
    """As the instrumentation's ``_apply_response_attributes`` reads ``ResponseMetadata``."""
    request_id = metadata.get("RequestId")
    if request_id is None:
        headers = metadata.get("HTTPHeaders")
        if headers is not None:
            request_id = (
                headers.get("x-amzn-RequestId")
                or headers.get("x-amz-request-id")
                or headers.get("x-amz-id-2")
            )
    if request_id:
        span.set_attribute("aws.request_id", request_id)
    retry_attempts = metadata.get("RetryAttempts")
    if retry_attempts is not None:
        span.set_attribute("retry_attempts", retry_attempts)
    status = metadata.get("HTTPStatusCode")
    if status is not None:
        span.set_attribute("http.status_code", status)


def _set(span: Any, values: list[tuple[str, Any]]) -> None:
    if values:
        span.set_attributes(dict(values))


def _safe(
    extract: Callable[[Mapping[str, Any], AttributeSpecs], list[tuple[str, Any]]],
    source: Mapping[str, Any],
    specs: AttributeSpecs,
) -> list[tuple[str, Any]]:
    """What ``extract`` finds; nothing if it fails (the instrumentation logs and goes on)."""
    try:
        return extract(source, specs)
    except Exception:
        logger.debug("cannot read span attributes", exc_info=True)
        return []
