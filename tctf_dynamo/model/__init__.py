"""Single-table model layer: tables, indexes, entities and their key templates.

Pure: nothing here does I/O. The repository and query layers build requests from
``Entity.__entity_meta__``, the key helpers on :class:`Entity`, and :class:`Table`.
"""

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
