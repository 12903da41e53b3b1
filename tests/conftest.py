"""Shared fixtures: the real local servers of the server tier, started once per session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests import servers
from tests.faultproxy import FaultProxy


def _without_powertools_user_agent() -> None:
    """Keep AWS Lambda Powertools' global botocore hook out of the test process.

    Importing Powertools (the stream tests and docs do) registers a botocore session
    initializer that appends its user agent to every request botocore's own path builds.
    The provider wire tests compare the fast path with botocore's path header for header,
    so that process-wide hook must not depend on which tests ran first.
    """
    import botocore
    from aws_lambda_powertools.shared import user_agent

    botocore.unregister_initializer(user_agent._initializer_botocore_session)


_without_powertools_user_agent()


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
