"""Public names imported on first use (PEP 562), so a cold start pays only for what it uses.

A package lists where each public name lives; its module ``__getattr__`` imports that
module the first time the name is read and caches the value in the package, so later reads
are plain attribute lookups. ``__all__``, ``dir()`` and ``from package import *`` see every
name; type checkers read the same names from an ``if TYPE_CHECKING:`` block of imports.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from typing import Any

__all__ = ["load", "names"]


def load(package: str, homes: Mapping[str, str], name: str) -> Any:
    """The public ``name`` of ``package``, imported from its home module on first use.

    ``homes`` maps a public name to ``"module"`` or ``"module:attribute"`` (for a name
    exported under another name than the one it has in its module).
    """
    home = homes.get(name)
    if home is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    module_name, _, attribute = home.partition(":")
    value = getattr(importlib.import_module(module_name), attribute or name)
    setattr(sys.modules[package], name, value)
    return value


def names(package: str, exported: list[str]) -> list[str]:
    """What ``dir(package)`` shows: what is loaded already and every public name."""
    return sorted({*vars(sys.modules[package]), *exported})
