"""One behaviour suite, run against every backend: embedded, moto server and dynalite.

Tests needing a capability a backend lacks are skipped there with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from tctf_dynamo import CursorCodec, CursorKey, DynamoDBService, RetryPolicy
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


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[SimpleNamespace]:
    name = request.param
    options = {"cursors": CURSORS, "retry": RetryPolicy(max_attempts=3, base_delay=0.01)}
    if name == "embedded":
        service = DynamoDBService.embedded(**options)
    else:
        endpoint = request.getfixturevalue(f"{name}_endpoint")
        service = DynamoDBService.from_endpoint(
            endpoint,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
            **options,
        )
    with service:
        yield SimpleNamespace(name=name, service=service, capabilities=CAPABILITIES[name])


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
