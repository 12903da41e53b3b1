"""pytest fixtures for testing code built on tctf_dynamo.

Enabled by installing the package (entry point ``tctf_dynamo``) or with
``pytest -p tctf_dynamo.testing.pytest_plugin``. Fixtures, each fresh per test:

* ``dynamo_service``: a DynamoDBService on its own in-process backend, closed afterwards.
  With ``--dynamo-endpoint URL`` (or the ``dynamo_endpoint`` ini value) it talks to that
  server instead, and the tables the test created are deleted after it;
* ``dynamo_recorder``: a service whose every request and response is recorded, so a
  test asserts exactly what was sent (always in-process);
* ``dynamo_faults``: a factory of services that fail on purpose (throttling, 5xx,
  timeouts, partial batches), retrying without waiting (always in-process).

``create_tables(service, *tables)`` creates tables from their registered entities.

Loading the plugin imports neither moto, hypothesis nor cryptography: the in-process
backend is built only when a test asks for a fixture that needs it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

import attrs
import pytest

from tctf_dynamo.model import Table
from tctf_dynamo.pagination import CursorCodec, CursorKey
from tctf_dynamo.providers import (
    Boto3Provider,
    EmbeddedProvider,
    Provider,
    RecordedCall,
    RecordingProvider,
    Request,
    Response,
)
from tctf_dynamo.providers.base import Closing, send
from tctf_dynamo.sync.service import DynamoDBService
from tctf_dynamo.testing.faults import FaultInjectingProvider, FaultRates

__all__ = [
    "DynamoRecorder",
    "FaultyServiceFactory",
    "create_tables",
    "dynamo_faults",
    "dynamo_recorder",
    "dynamo_service",
]

ENDPOINT_OPTION: Final = "--dynamo-endpoint"
ENDPOINT_INI: Final = "dynamo_endpoint"
_LOCAL_CREDENTIAL: Final = "testing"
"""Credentials a local server accepts; used only when the environment sets none."""


# --- options -------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tctf_dynamo", "DynamoDB testing (tctf_dynamo)")
    group.addoption(
        ENDPOINT_OPTION,
        action="store",
        default=None,
        metavar="URL",
        help="run the dynamo_service fixture against this DynamoDB endpoint "
        "(e.g. a local moto server or DynamoDB Local) instead of the in-process backend",
    )
    parser.addini(
        ENDPOINT_INI,
        help=f"default for {ENDPOINT_OPTION}",
        default="",
    )


def _endpoint(config: pytest.Config) -> str | None:
    """The endpoint asked for on the command line, else in the ini file, else None."""
    given = config.getoption(ENDPOINT_OPTION) or config.getini(ENDPOINT_INI)
    return str(given) if given else None


def pytest_report_header(config: pytest.Config) -> str | None:
    endpoint = _endpoint(config)
    return f"tctf_dynamo: dynamo_service uses {endpoint}" if endpoint else None


# --- helpers -------------------------------------------------------------------------------


def create_tables(service: DynamoDBService, *tables: Table) -> None:
    """Create each table (with its indexes) and wait until it is usable; idempotent.

    Define every entity of a table before calling this: the key attributes created
    are those of the table's key schema and indexes.
    """
    for table in tables:
        service.create_table(table)


@attrs.frozen
class DynamoRecorder:
    """A service over a recording provider: what the code under test sent, in order."""

    service: DynamoDBService
    provider: RecordingProvider

    @property
    def calls(self) -> list[RecordedCall]:
        """Every call so far, oldest first: ``operation``, ``request``, ``response``/``error``."""
        return self.provider.calls

    @property
    def operations(self) -> list[str]:
        """The operation names sent, in order."""
        return self.provider.operations

    def requests(self, operation: str) -> list[Request]:
        """The requests sent for ``operation``, in order."""
        return self.provider.requests(operation)

    def clear(self) -> None:
        """Forget the calls so far (e.g. after creating tables and seeding data)."""
        self.provider.clear()


def _no_wait_sleep(delays: list[float]) -> Callable[[float], None]:
    """A sleep that records the delay instead of waiting, so retries cost no time."""

    def sleep(seconds: float) -> None:
        delays.append(seconds)

    return sleep


class FaultyServiceFactory:
    """Builds services that inject faults, all over one in-process backend per test.

    ``factory(seed=..., rates=...)`` returns a DynamoDBService whose ``provider`` is a
    :class:`~tctf_dynamo.testing.faults.FaultInjectingProvider` (read its ``injected``
    counts). Retries do not wait: each backoff is recorded in :attr:`sleeps` instead.
    :attr:`clean` is a service over the same tables with no faults, to set up data
    and to check the outcome.
    """

    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self._backend: EmbeddedProvider | None = None
        self._clean: DynamoDBService | None = None

    @property
    def backend(self) -> EmbeddedProvider:
        """The in-process backend every service of this factory shares."""
        if self._backend is None:
            self._backend = EmbeddedProvider()
        return self._backend

    @property
    def clean(self) -> DynamoDBService:
        """A fault-free service over the same backend."""
        if self._clean is None:
            self._clean = DynamoDBService(
                self.backend, sleep=_no_wait_sleep([]), cursors=_test_cursors()
            )
        return self._clean

    def __call__(
        self,
        *,
        seed: int = 0,
        rates: Mapping[str, FaultRates] | FaultRates,
        **service_options: Any,
    ) -> DynamoDBService:
        """A service injecting faults at ``rates`` (one for all operations or by name,
        ``"*"`` the default), reproducibly for a given ``seed``. Other keywords
        (``retry=``, ``breaker=``, ...) go to :class:`DynamoDBService`."""
        provider = FaultInjectingProvider(self.backend, seed=seed, rates=rates)
        service_options.setdefault("sleep", _no_wait_sleep(self.sleeps))
        service_options.setdefault("cursors", _test_cursors())
        return DynamoDBService(provider, **service_options)

    def close(self) -> None:
        """Drop the shared backend (and so every service of this factory)."""
        if self._backend is not None:
            self._backend.close()


class _TableJanitor(Closing):
    """Forwards to ``inner`` and remembers each table it created, so the test can drop
    exactly those afterwards: tables that already existed are never touched."""

    def __init__(self, inner: Provider) -> None:
        self.inner = inner
        self.created: list[str] = []

    def call(self, operation: str, request: Request, *, timeout: float | None = None) -> Response:
        response = send(self.inner, operation, request, timeout)
        if operation == "CreateTable":
            self.created.append(request["TableName"])
        return response

    def close(self) -> None:
        self.inner.close()


def _test_cursors() -> CursorCodec:
    """A cursor codec with a key drawn for this test, so paging works out of the box."""
    return CursorCodec([CursorKey.generate("pytest")])


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def dynamo_service(request: pytest.FixtureRequest) -> Iterator[DynamoDBService]:
    """A DynamoDBService for one test: in-process, or on ``--dynamo-endpoint``."""
    endpoint = _endpoint(request.config)
    if endpoint is None:
        with DynamoDBService.embedded(cursors=_test_cursors()) as service:
            yield service
        return
    yield from _endpoint_service(endpoint)


def _endpoint_service(endpoint: str) -> Iterator[DynamoDBService]:
    janitor = _TableJanitor(
        Boto3Provider.from_endpoint(
            endpoint,
            region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
            aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", _LOCAL_CREDENTIAL),
            aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", _LOCAL_CREDENTIAL),
            aws_session_token=os.environ.get("AWS_SESSION_TOKEN"),
        )
    )
    with DynamoDBService(janitor, cursors=_test_cursors()) as service:
        try:
            yield service
        finally:
            for name in janitor.created:
                service.delete_table(name, missing_ok=True)


@pytest.fixture
def dynamo_recorder() -> Iterator[DynamoRecorder]:
    """A service on a fresh in-process backend that records every call it sends."""
    provider = RecordingProvider(EmbeddedProvider())
    with DynamoDBService(provider, cursors=_test_cursors()) as service:
        yield DynamoRecorder(service=service, provider=provider)


@pytest.fixture
def dynamo_faults() -> Iterator[FaultyServiceFactory]:
    """A factory of fault-injecting services over one fresh in-process backend."""
    factory = FaultyServiceFactory()
    try:
        yield factory
    finally:
        factory.close()
