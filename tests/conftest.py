"""Shared fixtures: the real local servers of the server tier, started once per session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests import servers
from tests.faultproxy import FaultProxy


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """HTTP endpoint of a moto server started for this session (stopped at its end)."""
    server = servers.start_moto()
    try:
        yield server.endpoint
    finally:
        server.stop()


@pytest.fixture(scope="session")
def dynalite_endpoint() -> Iterator[str]:
    """HTTP endpoint of a dynalite server started for this session (stopped at its end)."""
    server = servers.start_dynalite()
    try:
        yield server.endpoint
    finally:
        server.stop()


@pytest.fixture
def table_name() -> str:
    """A table name no other test uses, so tests on a shared server never see each other."""
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def fault_proxy(moto_endpoint: str) -> Iterator[FaultProxy]:
    """A fault-injecting proxy in front of the session's moto server (stopped after)."""
    with FaultProxy(moto_endpoint) as proxy:
        yield proxy


@pytest.fixture
def dynalite_fault_proxy(dynalite_endpoint: str) -> Iterator[FaultProxy]:
    """A fault-injecting proxy in front of the session's dynalite (stopped after)."""
    with FaultProxy(dynalite_endpoint) as proxy:
        yield proxy
