"""The async API: the same names, errors and outcome rules as the sync API, awaited.

Every class here is a thin shell over the programs the sync API runs (see
:mod:`tctf_dynamo.effects.program`): it performs their effects by awaiting an
:class:`~tctf_dynamo.providers.base.AsyncProvider` and :func:`asyncio.sleep`, and adds
no rule of its own. See ``docs/async.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from tctf_dynamo import _lazy

if TYPE_CHECKING:
    from tctf_dynamo.aio.query import AsyncQuery
    from tctf_dynamo.aio.repository import AsyncRepository
    from tctf_dynamo.aio.service import AsyncDynamoDBService
    from tctf_dynamo.aio.uow import AsyncUnitOfWork, read_together

__all__ = [
    "AsyncDynamoDBService",
    "AsyncQuery",
    "AsyncRepository",
    "AsyncUnitOfWork",
    "read_together",
]

_HOMES: Final = {
    "AsyncDynamoDBService": "tctf_dynamo.aio.service",
    "AsyncQuery": "tctf_dynamo.aio.query",
    "AsyncRepository": "tctf_dynamo.aio.repository",
    "AsyncUnitOfWork": "tctf_dynamo.aio.uow",
    "read_together": "tctf_dynamo.aio.uow",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562)."""
    return _lazy.load(__name__, _HOMES, name)


def __dir__() -> list[str]:
    return _lazy.names(__name__, __all__)
