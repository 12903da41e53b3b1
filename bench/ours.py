"""Where the benchmarks find the library's own pieces, and what to say when one is missing.

Scenarios ask for names (``ours.require("Repository")``) instead of importing them, so a
scenario still measures its baselines, and says exactly what it could not measure, while a
part of the library is not available.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["Unavailable", "has_method", "require"]

_HOMES: dict[str, tuple[str, ...]] = {
    "Table": ("tctf_dynamo", "tctf_dynamo.model"),
    "GSI": ("tctf_dynamo", "tctf_dynamo.model"),
    "Entity": ("tctf_dynamo", "tctf_dynamo.model"),
    "DynamoDBService": ("tctf_dynamo", "tctf_dynamo.sync.service"),
    "Repository": ("tctf_dynamo", "tctf_dynamo.sync.repository"),
    "encode_item": ("tctf_dynamo.wire.codec",),
    "decode_item": ("tctf_dynamo.wire.codec",),
}
"""The public facade first, then the module that defines the name."""


class Unavailable(Exception):
    """A piece of the library a measurement needs cannot be imported (yet)."""


def require(name: str) -> Any:
    """The library object called ``name``; :class:`Unavailable` says why it is missing."""
    reasons = []
    for module_name in _HOMES.get(name, ("tctf_dynamo",)):
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            reasons.append(f"{module_name}: {error}")
            continue
        found = getattr(module, name, None)
        if found is not None:
            return found
        reasons.append(f"{module_name} has no {name}")
    raise Unavailable(f"tctf_dynamo {name} is not available ({'; '.join(reasons)})")


def has_method(owner: Any, name: str) -> bool:
    """Whether ``owner`` (a class or an instance) offers ``name``; for pieces still landing."""
    return callable(getattr(owner, name, None))
