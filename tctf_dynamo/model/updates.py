"""Keeping index keys right when an update changes fields they are built from.

An UpdateItem that sets ``email`` must also rewrite ``GSI1PK`` if that index's template is
``EMAIL#{email}``. The repository asks which indexes an update touches and gets back the
exact SET/REMOVE actions for their key attributes, computed from the item's key fields plus
the new values. When an index needs a field that is neither part of the primary key nor
in the update, the new key cannot be computed and the update is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.model.meta import EntityMeta
from tctf_dynamo.model.plan import EntityPlan

__all__ = ["IndexKeyUpdate", "index_key_updates", "update_key_effects"]

_ABSENT = object()


@attrs.frozen
class IndexKeyUpdate:
    """Index key attributes to SET (wire values) and to REMOVE (index left sparse)."""

    set: Mapping[str, dict[str, Any]] = attrs.field(factory=dict)
    remove: tuple[str, ...] = ()


def update_key_effects(meta: EntityMeta, changed: Iterable[str]) -> dict[str, frozenset[str]]:
    """Index name -> every field its keys need, for the indexes ``changed`` fields feed.

    Primary key fields cannot change in place (the item would move): INVALID_KEY.
    """
    changed = set(changed)
    moved = changed & set(meta.key_fields)
    if moved:
        raise error_for(
            ErrorCode.INVALID_KEY,
            f"{meta.name}: primary key fields {sorted(moved)} cannot be updated; "
            "delete the item and put a new one",
            {"entity": meta.name, "fields": sorted(moved)},
        )
    return {name: fields for name, fields in meta.index_fields.items() if fields & changed}


def index_key_updates(
    meta: EntityMeta,
    plan: EntityPlan,
    key: Mapping[str, Any],
    changes: Mapping[str, Any],
) -> IndexKeyUpdate:
    """SET/REMOVE actions that keep every affected index key consistent with ``changes``.

    ``key`` holds the item's primary key fields, ``changes`` the new field values. A None
    value removes the index's key attributes (the item leaves the sparse index).
    """
    effects = update_key_effects(meta, changes)
    known = {name: key[name] for name in meta.key_fields if name in key}
    known.update(changes)
    to_set: dict[str, dict[str, Any]] = {}
    to_remove: list[str] = []
    for index, needed in effects.items():
        index_plan = plan.indexes[index]
        if any(known.get(name, _ABSENT) is None for name in needed):
            # a None template field takes the item out of the sparse index, whatever the rest
            to_remove.extend(compiled.attribute for compiled in index_plan.keys)
            continue
        missing = sorted(needed - known.keys())
        if missing:
            raise error_for(
                ErrorCode.INVALID_EXPRESSION,
                f"{meta.name}: the update changes a field of index {index!r}, whose keys also "
                f"need {missing}; include them in the update",
                {"entity": meta.name, "index": index, "fields": missing},
            )
        to_set.update(index_plan.wire(known))
    return IndexKeyUpdate(set=to_set, remove=tuple(to_remove))
