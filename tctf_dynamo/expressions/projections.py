"""``Projection``: the attributes (or nested paths) a read should return.

A path given twice is kept once; two different paths that overlap (``a`` and ``a.b``)
are refused, as DynamoDB refuses them.
"""

from __future__ import annotations

from typing import Any

import attrs

from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.expressions.paths import Path, PathLike, as_path

__all__ = ["Projection"]


def _invalid(message: str, **details: Any) -> Exception:
    return error_for(ErrorCode.INVALID_EXPRESSION, message, details)


def _unique_paths(values: tuple[PathLike, ...]) -> tuple[Path, ...]:
    paths: list[Path] = []
    for value in values:
        path = as_path(value)
        if path in paths:
            continue
        for earlier in paths:
            if path.overlaps(earlier):
                raise _invalid(
                    f"projected paths '{earlier}' and '{path}' overlap",
                    paths=[str(earlier), str(path)],
                )
        paths.append(path)
    if not paths:
        raise _invalid("a projection needs at least one path")
    return tuple(paths)


@attrs.frozen(repr=False, init=False)
class Projection:
    """``Projection("status", "address.city", attr("tags[0]"))``."""

    paths: tuple[Path, ...]

    def __init__(self, *paths: PathLike) -> None:
        self.__attrs_init__(_unique_paths(paths))

    def debug(self) -> str:
        """The projection in DynamoDB syntax with real names; for logs and tests only."""
        return ", ".join(str(path) for path in self.paths)

    def __repr__(self) -> str:
        return f"<Projection {self.debug()}>"
