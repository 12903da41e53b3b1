"""Batches: BatchGetItem / BatchWriteItem within DynamoDB's limits, and bulk jobs of any size.

* :func:`batch_get` / :func:`batch_write` send ONE request and enforce its limits (100
  keys; 25 writes and 16 MB) before sending.
* :func:`bulk_get` / :func:`bulk_write` take any number of keys or writes: everything is
  validated first, duplicates are removed, the work is split into requests within the
  limits and sent on a bounded thread pool; unprocessed work is re-queued with backoff.
* :func:`bulk_get_items` / :func:`bulk_write_items` do the same with plain Python values.

A call that cannot finish raises one :class:`~tctf_dynamo.errors.UnprocessedItemsError`
whose ``unprocessed`` lists exactly what was not done; see ``docs/batches.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from tctf_dynamo import _lazy

if TYPE_CHECKING:
    from tctf_dynamo.batch._api import (
        batch_get,
        batch_write,
        bulk_get,
        bulk_get_items,
        bulk_write,
        bulk_write_items,
        write_arguments,
    )
    from tctf_dynamo.batch._engine import Progress

__all__ = [
    "Progress",
    "batch_get",
    "batch_write",
    "bulk_get",
    "bulk_get_items",
    "bulk_write",
    "bulk_write_items",
    "write_arguments",
]

_HOMES: Final = {
    "Progress": "tctf_dynamo.batch._engine",
    "batch_get": "tctf_dynamo.batch._api",
    "batch_write": "tctf_dynamo.batch._api",
    "bulk_get": "tctf_dynamo.batch._api",
    "bulk_get_items": "tctf_dynamo.batch._api",
    "bulk_write": "tctf_dynamo.batch._api",
    "bulk_write_items": "tctf_dynamo.batch._api",
    "write_arguments": "tctf_dynamo.batch._api",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562)."""
    return _lazy.load(__name__, _HOMES, name)


def __dir__() -> list[str]:
    return _lazy.names(__name__, __all__)
