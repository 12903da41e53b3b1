"""The ``Update`` value: SET, REMOVE, ADD and DELETE actions, built one call at a time.

Each call returns a new ``Update``, so a base update can be extended in several ways
without surprises. DynamoDB refuses an update whose action paths overlap (``a`` and
``a.b``, or ``a`` twice), and refuses it only once it reaches the server; here the call
that introduces the overlap raises INVALID_EXPRESSION, naming both paths.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from typing import Any

import attrs

from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.expressions.operands import SetOperand, Value, is_number, to_set_operand
from tctf_dynamo.expressions.paths import Path, PathLike, as_path

__all__ = [
    "AddAction",
    "DeleteAction",
    "RemoveAction",
    "SetAction",
    "Update",
    "UpdateAction",
]


def _invalid(message: str, **details: Any) -> Exception:
    return error_for(ErrorCode.INVALID_EXPRESSION, message, details)


@attrs.frozen
class SetAction:
    """``SET path = value``."""

    path: Path
    value: SetOperand


@attrs.frozen
class RemoveAction:
    """``REMOVE path``; removing a list element shifts the elements after it."""

    path: Path


@attrs.frozen
class AddAction:
    """``ADD path value``: add to a number (0 when missing) or union into a set."""

    path: Path
    value: Value


@attrs.frozen
class DeleteAction:
    """``DELETE path value``: take members out of a set; an emptied set disappears."""

    path: Path
    value: Value


UpdateAction = SetAction | RemoveAction | AddAction | DeleteAction


def _as_actions(actions: Iterable[UpdateAction]) -> tuple[UpdateAction, ...]:
    return tuple(actions)


def _no_overlap(
    instance: object, attribute: attrs.Attribute[Any], actions: tuple[UpdateAction, ...]
) -> None:
    for position, action in enumerate(actions):
        for earlier in actions[:position]:
            if action.path.overlaps(earlier.path):
                raise _invalid(
                    f"two update actions touch overlapping paths '{earlier.path}' "
                    f"and '{action.path}'",
                    paths=[str(earlier.path), str(action.path)],
                )


def _top_level(path: Path, action: str) -> Path:
    if not path.is_top_level:
        raise _invalid(f"{action} works on top-level attributes only", attribute=str(path))
    return path


def _is_set(value: object) -> bool:
    return isinstance(value, AbstractSet) and not isinstance(value, Mapping)


@attrs.frozen(repr=False)
class Update:
    """An immutable update expression; ``Update().set("status", "RELEASED").add("n", 1)``."""

    actions: tuple[UpdateAction, ...] = attrs.field(
        default=(), converter=_as_actions, validator=_no_overlap
    )

    def _with(self, *actions: UpdateAction) -> Update:
        return Update((*self.actions, *actions))

    def set(self, path: PathLike, value: object) -> Update:
        """``SET path = value``; value may be a literal, ``attr(...)``, ``attr(...) + n``,
        ``if_not_exists(...)`` or ``list_append(...)``."""
        return self._with(SetAction(as_path(path), to_set_operand(value)))

    def remove(self, *paths: PathLike) -> Update:
        """``REMOVE`` each path (attributes, map entries, list elements)."""
        if not paths:
            raise _invalid("remove needs at least one path")
        return self._with(*(RemoveAction(as_path(path)) for path in paths))

    def add(self, path: PathLike, value: object) -> Update:
        """``ADD``: a number to a number attribute, or a set of members to a set."""
        if not (is_number(value) or (_is_set(value) and value)):
            raise _invalid("ADD takes a number or a non-empty set", type=type(value).__name__)
        return self._with(AddAction(_top_level(as_path(path), "ADD"), Value(value)))

    def delete(self, path: PathLike, members: object) -> Update:
        """``DELETE``: remove ``members`` (a non-empty set) from a set attribute."""
        if not (_is_set(members) and members):
            raise _invalid("DELETE takes a non-empty set", type=type(members).__name__)
        return self._with(DeleteAction(_top_level(as_path(path), "DELETE"), Value(members)))

    def merge(self, other: Update) -> Update:
        """Both updates' actions in one; overlapping paths raise as usual."""
        return self._with(*other.actions)

    @classmethod
    def from_parts(
        cls,
        *,
        set: Mapping[str, object] | None = None,
        add: Mapping[str, object] | None = None,
        remove: Iterable[PathLike] = (),
        delete: Mapping[str, object] | None = None,
    ) -> Update:
        """The dict form repositories take: ``set={"status": "RELEASED"}, add={"n": 1}``."""
        update = cls()
        for path, value in (set or {}).items():
            update = update.set(path, value)
        removed = tuple(remove)
        if removed:
            update = update.remove(*removed)
        for path, value in (add or {}).items():
            update = update.add(path, value)
        for path, value in (delete or {}).items():
            update = update.delete(path, value)
        return update

    @property
    def is_empty(self) -> bool:
        return not self.actions

    @property
    def paths(self) -> tuple[Path, ...]:
        """The paths the update writes, in call order."""
        return tuple(action.path for action in self.actions)

    def debug(self, *, values: bool = True) -> str:
        """The update in DynamoDB syntax with real names; for logs and tests only."""
        from tctf_dynamo.expressions.rendering import debug_update

        return debug_update(self, values=values)

    def __repr__(self) -> str:
        return f"<Update {self.debug(values=False)}>"
