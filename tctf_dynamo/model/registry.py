"""The entities bound to one table, and the checks that keep their keys apart.

An entity is registered when its class is defined. Registration refuses a duplicate entity
name (the discriminator must identify one class) and any pair of entities whose key
templates could produce the same key or let a ``begins_with`` query for one return the
other (see :mod:`tctf_dynamo.model.collisions`), on the table and on every index both use.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.model.collisions import can_produce_same_key, prefix_captures

if TYPE_CHECKING:
    from tctf_dynamo.model.entity import Entity
    from tctf_dynamo.model.meta import EntityMeta, IndexTemplates

__all__ = ["Registry"]


def _collision(message: str, **details: Any) -> Exception:
    return error_for(ErrorCode.INVALID_SCHEMA, message, details)


class Registry:
    """Entity classes of one table by entity name, in registration order."""

    def __init__(self, table_name: str) -> None:
        self._table_name = table_name
        self._classes: dict[str, type[Entity]] = {}
        self.view: Mapping[str, type[Entity]] = MappingProxyType(self._classes)

    def register(self, cls: type[Entity], meta: EntityMeta) -> None:
        """Add an entity class after checking it against every one already registered."""
        if meta.name in self._classes:
            raise _collision(
                f"{cls.__name__}: entity name {meta.name!r} is already used in table "
                f"{self._table_name!r} by {self._classes[meta.name].__name__}",
                entity=meta.name,
                table=self._table_name,
            )
        for other in self._classes.values():
            other_meta = other.__entity_meta__
            if other_meta is not None:
                _check_pair(meta, other_meta)
        self._classes[meta.name] = cls

    def for_item(self, wire: Mapping[str, Any], type_attribute: str) -> type[Entity] | None:
        """The class named by the item's discriminator, or None."""
        av = wire.get(type_attribute)
        name = av.get("S") if isinstance(av, Mapping) else None
        return self._classes.get(name) if isinstance(name, str) else None


def _check_pair(new: EntityMeta, old: EntityMeta) -> None:
    for index, templates in new.all_templates().items():
        other = old.all_templates().get(index)
        if other is not None:
            _check_templates(new, old, index, templates, other)


def _check_templates(
    new: EntityMeta,
    old: EntityMeta,
    index: str | None,
    mine: IndexTemplates,
    theirs: IndexTemplates,
) -> None:
    where = f"index {index!r}" if index else "the primary key"
    details = {"entity": new.name, "other": old.name, "index": index}
    if not can_produce_same_key(mine.pk, theirs.pk):
        return
    if can_produce_same_key(mine.sk, theirs.sk):
        raise _collision(
            f"{new.name}: key templates on {where} can produce the same key as "
            f"{old.name} ({_shape(mine)} vs {_shape(theirs)})",
            **details,
        )
    for query, captured, other in ((mine, theirs, old.name), (theirs, mine, new.name)):
        if prefix_captures(query.sk, captured.sk):
            owner = new.name if query is mine else old.name
            prefix = query.sk.static_prefix if query.sk is not None else ""
            raise _collision(
                f"{new.name}: on {where}, a begins_with query on {owner}'s sort key prefix "
                f"{prefix!r} would also return {other} items ({_shape(mine)} vs "
                f"{_shape(theirs)})",
                **details,
            )


def _shape(templates: IndexTemplates) -> str:
    sk = templates.sk.source if templates.sk is not None else None
    return f"{templates.pk.source!r}/{sk!r}"
