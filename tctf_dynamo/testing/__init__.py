"""Tools for testing code built on tctf_dynamo.

* :func:`entities` — hypothesis strategy of valid instances of an entity;
* :func:`check_key_schema` — property-checks every key template registered on a table;
* :class:`FaultInjectingProvider`, :class:`FaultRates` — a provider that fails on purpose
  (:class:`AsyncFaultInjectingProvider`, its async twin);
* :func:`create_tables`, :class:`DynamoRecorder`, :class:`FaultyServiceFactory` — the
  helpers behind the pytest fixtures of :mod:`tctf_dynamo.testing.pytest_plugin`.

Names are imported on first use, so ``import tctf_dynamo.testing`` loads neither
hypothesis nor moto nor pytest: only the name you use pulls in what it needs.
See docs/testing.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from tctf_dynamo.testing.faults import FAULT_KINDS, FaultInjectingProvider, FaultRates
    from tctf_dynamo.testing.faults_async import AsyncFaultInjectingProvider
    from tctf_dynamo.testing.pytest_plugin import (
        DynamoRecorder,
        FaultyServiceFactory,
        create_tables,
    )
    from tctf_dynamo.testing.schema_checks import check_key_schema
    from tctf_dynamo.testing.strategies import entities, key_text

__all__ = [
    "AsyncFaultInjectingProvider",
    "DynamoRecorder",
    "FAULT_KINDS",
    "FaultInjectingProvider",
    "FaultRates",
    "FaultyServiceFactory",
    "check_key_schema",
    "create_tables",
    "entities",
    "key_text",
]

_MODULE_OF: Final = {
    "AsyncFaultInjectingProvider": "tctf_dynamo.testing.faults_async",
    "FAULT_KINDS": "tctf_dynamo.testing.faults",
    "FaultInjectingProvider": "tctf_dynamo.testing.faults",
    "FaultRates": "tctf_dynamo.testing.faults",
    "DynamoRecorder": "tctf_dynamo.testing.pytest_plugin",
    "FaultyServiceFactory": "tctf_dynamo.testing.pytest_plugin",
    "create_tables": "tctf_dynamo.testing.pytest_plugin",
    "check_key_schema": "tctf_dynamo.testing.schema_checks",
    "entities": "tctf_dynamo.testing.strategies",
    "key_text": "tctf_dynamo.testing.strategies",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first access (PEP 562)."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
