"""DynamoDB inside the process: moto's DynamoDB, no server, no credentials, no network.

How it is wired, and why:

* A real botocore client (unsigned, retries off) serializes each request and parses each
  response, so requests, responses and errors take exactly the path they take against
  AWS, and failures are translated by the same table as :class:`Boto3Provider`'s.
* A ``before-send`` hook registered on *that client only* hands the prepared HTTP request
  to moto's DynamoDB request handler and returns its answer. Nothing global is patched
  (moto's ``mock_aws`` would hijack every botocore client in the process, including ones
  pointed at real servers).
* Every provider owns a private moto backend object, never registered in moto's global
  account/region registry: two providers never see each other's tables, whatever
  ``MOTO_ACCOUNT_ID`` or credentials the environment holds, and the tables are freed
  with the provider.
* moto's handler is not atomic under threads (racing conditional transactions can lose
  writes), and shares module state across backends, so every dispatch into moto runs
  under one process-wide lock. Each operation is then as atomic as it is on DynamoDB.
* moto is imported on first use only: it costs a noticeable fraction of a second, and
  ``import tctf_dynamo`` must stay cheap for code that never uses this provider.
"""

from __future__ import annotations

import functools
import io
import os
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Final

import botocore.session
from botocore import UNSIGNED
from botocore.awsrequest import AWSPreparedRequest, AWSResponse

from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.providers.base import Closing, Request, Response
from tctf_dynamo.providers.boto3 import SERVICE_NAME, Boto3Provider, client_config
from tctf_dynamo.providers.idempotency import ClientTokenLedger
from tctf_dynamo.providers.internals import TESTED_MOTO, moto_missing

if TYPE_CHECKING:
    from botocore.client import BaseClient
    from werkzeug.exceptions import HTTPException

__all__ = ["EmbeddedProvider"]

EMBEDDED_ACCOUNT_ID: Final = "123456789012"
HTTP_INTERNAL_SERVER_ERROR: Final = 500
_Dispatch = Callable[[AWSPreparedRequest], tuple[int, dict[str, str], bytes]]

_MOTO_LOCK: Final = threading.Lock()
"""Serializes every call into moto, across all embedded providers in the process."""
_SESSION_LOCK: Final = threading.Lock()
"""Guards the shared botocore session: sessions are not thread-safe, their clients are."""

_HERMETIC_SESSION_VARS: Final = {
    # (config file key, environment variable, default, converter): None means "never read"
    "profile": (None, None, None, None),
    "config_file": (None, None, os.devnull, None),
    "credentials_file": (None, None, os.devnull, None),
    "defaults_mode": (None, None, "legacy", None),
    "ca_bundle": (None, None, None, None),
}
"""Session settings that ignore the environment, so bogus ``AWS_*`` values cannot break us."""


_UPDATE_ACTIONS = frozenset({"UpdateExpression", "AttributeUpdates"})


class EmbeddedProvider(Closing):
    """An isolated, thread-safe, in-memory DynamoDB for tests, demos and local work.

    Behaves like :class:`Boto3Provider` (same wire shapes, same error translation); the
    backend is moto's DynamoDB implementation, with moto's known gaps (see the design
    notes on the test tiers).
    """

    def __init__(self, region_name: str = "us-east-1") -> None:
        self._region_name = region_name
        self._dispatch: _Dispatch | None = _moto_dispatcher(region_name)
        client = _unsigned_client(region_name)
        # botocore's stubs type handlers as returning None; before-send may answer.
        client.meta.events.register(
            f"before-send.{SERVICE_NAME}",
            self._answer,  # type: ignore[arg-type]
        )
        self._provider = Boto3Provider(client)
        self._tokens = ClientTokenLedger()

    @property
    def region_name(self) -> str:
        return self._region_name

    @property
    def client(self) -> BaseClient:
        """The botocore client bound to this in-process backend."""
        return self._provider.client

    @property
    def closed(self) -> bool:
        return self._provider.closed

    def call(self, operation: str, request: Request, *, timeout: float | None = None) -> Response:
        """Send ``operation`` to this provider's private backend (in process: ``timeout``
        has no socket to bound and is ignored).

        TransactWriteItems honours ClientRequestToken as DynamoDB does (moto ignores it).
        An UpdateItem without actions creates the item with just its key, as DynamoDB
        does (moto needs an empty ``AttributeUpdates`` to do the same).
        """
        if operation == "UpdateItem" and not request.keys() & _UPDATE_ACTIONS:
            request = {**request, "AttributeUpdates": {}}
        return self._tokens.call(
            operation, request, lambda: self._provider.call(operation, request)
        )

    def close(self) -> None:
        """Drop every table this provider holds; idempotent."""
        self._provider.close()
        self._dispatch = None

    def _answer(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        dispatch = self._dispatch
        if dispatch is None:
            raise error_for(ErrorCode.INVALID_STATE, "the embedded provider is closed")
        with _MOTO_LOCK:
            status, headers, body = dispatch(request)
        return AWSResponse(request.url, status, headers, _RawBody(body))  # type: ignore[arg-type]


class _RawBody(io.BytesIO):
    """The raw-response surface botocore reads a body through (``stream``)."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        data = self.read()
        if data:
            yield data


def _unsigned_client(region_name: str) -> BaseClient:
    """A DynamoDB client that needs no credentials and reads no AWS settings.

    The endpoint looks like AWS's so moto reads the region from it; the hook answers
    before anything could be sent there.
    """
    with _SESSION_LOCK:
        return _hermetic_session().create_client(
            SERVICE_NAME,
            region_name=region_name,
            endpoint_url=f"https://dynamodb.{region_name}.amazonaws.com",
            config=client_config(signature_version=UNSIGNED),
        )


@functools.cache
def _hermetic_session() -> botocore.session.Session:
    """The one session every embedded client is built from.

    A session caches the service model, so each further client costs ~2 ms instead of
    ~55 ms: a fresh provider per test stays cheap.
    """
    return botocore.session.Session(session_vars=_HERMETIC_SESSION_VARS)


def _moto_dispatcher(region_name: str) -> _Dispatch:
    """A function answering prepared requests from a new, private moto backend."""
    moto = _moto_types()
    backend = moto.backend_type(region_name, EMBEDDED_ACCOUNT_ID)

    def dispatch(request: AWSPreparedRequest) -> tuple[int, dict[str, str], bytes]:
        normalized = moto.normalize_request(request)
        handler = moto.handler_type()
        handler.private_backend = backend
        try:
            status, headers, body = handler._dispatch(
                normalized, normalized.raw_url, normalized.headers
            )
        except moto.http_exception as error:
            status = error.code or HTTP_INTERNAL_SERVER_ERROR
            headers, body = dict(error.get_headers()), error.get_body()
        return int(status), dict(headers), body.encode() if isinstance(body, str) else body

    return dispatch


class _MotoTypes:
    """The moto pieces the embedded provider needs, imported once, on first use."""

    def __init__(self) -> None:
        from moto.core.request import normalize_request
        from moto.dynamodb.models import DynamoDBBackend
        from moto.dynamodb.responses import DynamoHandler
        from werkzeug.exceptions import HTTPException

        missing = moto_missing()
        if missing:
            raise error_for(
                ErrorCode.INVALID_CONFIGURATION,
                f"the embedded backend needs moto's DynamoDB dispatcher; this moto lacks "
                f"{', '.join(missing)} (tested with moto {','.join(TESTED_MOTO)})",
                {"missing": missing},
            )

        class PrivateBackendHandler(DynamoHandler):
            """moto's DynamoDB handler, reading and writing one private backend."""

            private_backend: DynamoDBBackend

            @property
            def dynamodb_backend(self) -> DynamoDBBackend:
                return self.private_backend

            def get_current_account(self) -> str:
                return EMBEDDED_ACCOUNT_ID

        self.backend_type = DynamoDBBackend
        self.handler_type = PrivateBackendHandler
        self.http_exception: type[HTTPException] = HTTPException
        self.normalize_request: Callable[[AWSPreparedRequest], Any] = normalize_request


EMBEDDED_INSTALL_HINT: Final = "pip install 'tctf-dynamo[embedded]'"


@functools.cache
def _moto_types() -> _MotoTypes:
    try:
        return _MotoTypes()
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] not in ("moto", "werkzeug"):
            raise
        raise error_for(
            ErrorCode.INVALID_CONFIGURATION,
            f"the embedded backend needs moto, an optional dependency: {EMBEDDED_INSTALL_HINT}",
            {"missing": error.name},
        ) from error
