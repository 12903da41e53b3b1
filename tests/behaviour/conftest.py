"""One behaviour suite, run against every backend: embedded, moto server and dynalite.

Tests needing a capability a backend lacks are skipped there with the reason.

Tests marked ``both_apis`` (a module's ``pytestmark`` or one test's mark) run through
the sync and the async API. A test builds what it uses through ``backend``, never
through one API's classes: ``backend.service`` is the service (for the async API an
:class:`~tctf_dynamo.aio.AsyncDynamoDBService` behind ``Blocking``),
``backend.repository(Entity)``, ``backend.unit()`` and ``backend.read_together(keys)``
the API's repository, unit of work and transactional read, and
``backend.recording()`` a service of the same API whose provider records what it
sends. One test body so checks both. ``backend.sync`` is always a sync service on the
same backend, for setting a test up through parts of the API the test is not about.

The async API runs on each backend's own async provider: the fast JSON path over
aiohttp (:class:`~tctf_dynamo.providers.AsyncHttpProvider`) against moto server and
dynalite, :class:`~tctf_dynamo.providers.AsyncEmbeddedProvider` (sharing the sync
service's tables) in process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from types import SimpleNamespace
from typing import Any

import pytest

from tctf_dynamo import (
    CursorCodec,
    CursorKey,
    DynamoDBService,
    RecordingProvider,
    Repository,
    RetryPolicy,
    UnitOfWork,
    read_together,
)
from tctf_dynamo.aio import AsyncDynamoDBService, AsyncRepository, AsyncUnitOfWork
from tctf_dynamo.aio import read_together as read_together_async
from tctf_dynamo.providers import AsyncEmbeddedProvider, AsyncRecordingProvider, EmbeddedProvider
from tests.aio_support import Blocking
from tests.behaviour.models import build_models

BACKENDS = [
    pytest.param("embedded", id="embedded"),
    pytest.param("moto", id="moto", marks=pytest.mark.server),
    pytest.param("dynalite", id="dynalite", marks=pytest.mark.server),
]
CAPABILITIES = {
    "embedded": {"transactions"},
    "moto": {"transactions"},
    "dynalite": {"exact_item_limit"},
}
CURSORS = CursorCodec([CursorKey.generate("test")])


APIS = ["sync", "async"]
ENDPOINT_CREDENTIALS = {
    "region_name": "us-east-1",
    "aws_access_key_id": "x",
    "aws_secret_access_key": "x",
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run tests marked ``both_apis`` once per API (others keep their ids and the sync API)."""
    if "api" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_apis"):
        metafunc.parametrize("api", APIS)


@pytest.fixture
def api() -> str:
    """The API a test goes through: ``sync`` unless it is marked ``both_apis``."""
    return "sync"


class SyncKit:
    """The sync API's classes, on one service."""

    def __init__(self, service: DynamoDBService, options: dict[str, Any]) -> None:
        self.service = service
        self._options = options

    def repository(self, entity: type, service: Any = None, **options: Any) -> Any:
        return Repository(entity, service or self.service, **options)

    def unit(self, service: Any = None, **options: Any) -> Any:
        return UnitOfWork(service or self.service, **options)

    def read_together(self, keys: Sequence[Any], **options: Any) -> list[Any]:
        return read_together(self.service, keys, **options)

    def recording(self) -> SimpleNamespace:
        recorder = RecordingProvider(self.service.provider)
        service = DynamoDBService(recorder, **self._options)  # never closed: shares
        return SimpleNamespace(recorder=recorder, service=service)


class AsyncKit:
    """The async API's classes, on one service, each behind ``Blocking`` on one loop."""

    def __init__(
        self, service: AsyncDynamoDBService, runner: asyncio.Runner, options: dict[str, Any]
    ) -> None:
        self._inner = service
        self._runner = runner
        self._options = options
        self.service = Blocking(service, runner)

    def _target(self, service: Any) -> AsyncDynamoDBService:
        if service is None:
            return self._inner
        return service.target if isinstance(service, Blocking) else service  # type: ignore[no-any-return]

    def repository(self, entity: type, service: Any = None, **options: Any) -> Any:
        return Blocking(AsyncRepository(entity, self._target(service), **options), self._runner)

    def unit(self, service: Any = None, **options: Any) -> Any:
        return Blocking(AsyncUnitOfWork(self._target(service), **options), self._runner)

    def read_together(self, keys: Sequence[Any], **options: Any) -> list[Any]:
        result: list[Any] = self.service.run(read_together_async(self._inner, keys, **options))
        return result

    def recording(self) -> SimpleNamespace:
        recorder = AsyncRecordingProvider(self._inner.provider)
        service = AsyncDynamoDBService(recorder, **self._options)  # never closed: shares
        return SimpleNamespace(recorder=recorder, service=Blocking(service, self._runner))


def _namespace(name: str, api: str, kit: SyncKit | AsyncKit, sync: DynamoDBService) -> Any:
    return SimpleNamespace(
        name=name,
        api=api,
        service=kit.service,
        sync=sync,
        repository=kit.repository,
        unit=kit.unit,
        read_together=kit.read_together,
        recording=kit.recording,
        capabilities=CAPABILITIES[name],
    )


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, api: str) -> Iterator[SimpleNamespace]:
    name = request.param
    options: dict[str, Any] = {
        "cursors": CURSORS,
        "retry": RetryPolicy(max_attempts=3, base_delay=0.01),
    }
    endpoint = None if name == "embedded" else request.getfixturevalue(f"{name}_endpoint")
    if endpoint is None:
        sync = DynamoDBService.embedded(**options)
    else:
        sync = DynamoDBService.from_endpoint(endpoint, **ENDPOINT_CREDENTIALS, **options)
    with sync:
        if api == "sync":
            yield _namespace(name, api, SyncKit(sync, options), sync)
            return
        if endpoint is None:
            assert isinstance(sync.provider, EmbeddedProvider)
            inner = AsyncDynamoDBService(AsyncEmbeddedProvider.sharing(sync.provider), **options)
        else:
            inner = AsyncDynamoDBService.from_endpoint(endpoint, **ENDPOINT_CREDENTIALS, **options)
        with asyncio.Runner() as runner, Blocking(inner, runner):
            yield _namespace(name, api, AsyncKit(inner, runner, options), sync)


@pytest.fixture
def models(backend: SimpleNamespace, table_name: str) -> Iterator[SimpleNamespace]:
    built = build_models(table_name)
    backend.service.create_table(built.table)
    yield built
    backend.service.delete_table(built.table, missing_ok=True)


def require(backend: SimpleNamespace, capability: str) -> None:
    """Skip, with the reason, where the backend lacks ``capability``."""
    if capability not in backend.capabilities:
        pytest.skip(f"{backend.name} does not implement {capability}")
