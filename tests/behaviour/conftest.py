"""One behaviour suite, run against every backend: embedded, moto server and dynalite.

Tests needing a capability a backend lacks are skipped there with the reason.

Tests marked ``both_apis`` (a module's ``pytestmark`` or one test's mark) run through
the sync and the async API: ``backend.service`` is then a
``Blocking(AsyncDynamoDBService(...))`` and ``backend.repository(Entity)`` an
``AsyncRepository`` behind ``Blocking``, so one test body checks both. ``backend.sync``
is always a sync service on the same backend, for setting a test up through parts of
the API the test is not about.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from tctf_dynamo import CursorCodec, CursorKey, DynamoDBService, Repository, RetryPolicy
from tctf_dynamo.aio import AsyncDynamoDBService, AsyncRepository
from tctf_dynamo.providers import Boto3Provider, EmbeddedProvider, Provider
from tests.aio_support import Blocking, ThreadedAsyncProvider
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


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, api: str) -> Iterator[SimpleNamespace]:
    name = request.param
    options: dict[str, Any] = {
        "cursors": CURSORS,
        "retry": RetryPolicy(max_attempts=3, base_delay=0.01),
    }
    endpoint = None if name == "embedded" else request.getfixturevalue(f"{name}_endpoint")
    if api == "sync":
        if endpoint is None:
            service = DynamoDBService.embedded(**options)
        else:
            service = DynamoDBService.from_endpoint(endpoint, **ENDPOINT_CREDENTIALS, **options)
        with service:
            yield SimpleNamespace(
                name=name,
                api=api,
                service=service,
                sync=service,
                repository=lambda entity, **kw: Repository(entity, service, **kw),
                capabilities=CAPABILITIES[name],
            )
        return
    provider: Provider = (
        EmbeddedProvider()
        if endpoint is None
        else Boto3Provider.from_endpoint(endpoint, **ENDPOINT_CREDENTIALS)
    )
    inner = AsyncDynamoDBService(ThreadedAsyncProvider(provider), **options)
    with asyncio.Runner() as runner, Blocking(inner, runner) as blocking:
        yield SimpleNamespace(
            name=name,
            api=api,
            service=blocking,
            sync=DynamoDBService(provider, **options),
            repository=lambda entity, **kw: Blocking(AsyncRepository(entity, inner, **kw), runner),
            capabilities=CAPABILITIES[name],
        )


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
