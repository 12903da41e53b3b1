"""Single-table model layer: tables, indexes, entities and their key templates.

Pure: nothing here does I/O. The repository and query layers build requests from
``Entity.__entity_meta__``, the key helpers on :class:`Entity`, and :class:`Table`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from tctf_dynamo import _lazy

if TYPE_CHECKING:
    from tctf_dynamo.model.entity import Entity
    from tctf_dynamo.model.meta import EntityMeta, IndexTemplates, TimestampFields
    from tctf_dynamo.model.table import GSI, LSI, Projection, Table
    from tctf_dynamo.model.templates import RESERVED_KEY_PREFIX, KeyTemplate
    from tctf_dynamo.model.updates import IndexKeyUpdate

__all__ = [
    "Entity",
    "EntityMeta",
    "GSI",
    "IndexKeyUpdate",
    "IndexTemplates",
    "KeyTemplate",
    "LSI",
    "Projection",
    "RESERVED_KEY_PREFIX",
    "Table",
    "TimestampFields",
]

_HOMES: Final = {
    "Entity": "tctf_dynamo.model.entity",
    "EntityMeta": "tctf_dynamo.model.meta",
    "GSI": "tctf_dynamo.model.table",
    "IndexKeyUpdate": "tctf_dynamo.model.updates",
    "IndexTemplates": "tctf_dynamo.model.meta",
    "KeyTemplate": "tctf_dynamo.model.templates",
    "LSI": "tctf_dynamo.model.table",
    "Projection": "tctf_dynamo.model.table",
    "RESERVED_KEY_PREFIX": "tctf_dynamo.model.templates",
    "Table": "tctf_dynamo.model.table",
    "TimestampFields": "tctf_dynamo.model.meta",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562)."""
    return _lazy.load(__name__, _HOMES, name)


def __dir__() -> list[str]:
    return _lazy.names(__name__, __all__)
