"""Batch entries: one validated put, delete or get, and the identity of the item it addresses.

Everything a bulk call sends is turned into entries up front: each item or key is
validated once, its size is known, and its identity ``(table, key values...)`` lets the
call remove duplicates and match DynamoDB's UnprocessedItems / UnprocessedKeys back to
what was asked. Entries are plain slotted objects rather than attrs classes because one is
made per item and the only mutable field (``strikes``) changes while a job runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal

from tctf_dynamo.core.item_identity import Identity, IdentityOf, WireItem, identity_function
from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode, OutcomeUnknownError, error_for
from tctf_dynamo.limits import MAX_ITEM_SIZE_BYTES
from tctf_dynamo.validation import (
    IndexSchemas,
    KeyAttribute,
    key_validator,
    validate_item,
    validate_key,
)
from tctf_dynamo.wire.codec import item_size

if TYPE_CHECKING:
    from tctf_dynamo.core.service_core import ServiceCore
    from tctf_dynamo.sync.service import DynamoDBService

__all__ = [
    "Duplicates",
    "Entry",
    "Identity",
    "IdentityOf",
    "Lookups",
    "WireItem",
    "identity_function",
    "prepare_gets",
    "prepare_writes",
    "table_key",
]

Duplicates = Literal["error", "merge"]
Lookups = tuple[Callable[[str], list[KeyAttribute]], Callable[[str], IndexSchemas]]
"""How preparation learns a table's key schema and index schemas: a blocking service's
``key_schema``/``index_schemas``, or the pure lookups of ``ServiceCore.checked_program``."""


class Entry:
    """One request of a batch.

    ``body`` is what goes into the request list as is: ``{"PutRequest": {"Item": ...}}``
    or ``{"DeleteRequest": {"Key": ...}}`` for writes, the wire key for gets. ``strikes``
    counts the requests holding this entry that processed nothing at all. ``doubt`` is
    set once a request holding this write may have applied it without a later answer
    proving so: the OUTCOME_UNKNOWN error that reports it. An entry in doubt that is
    never confirmed is reported *unknown*, never "not written" (see
    :mod:`tctf_dynamo.batch._engine`). ``error`` is what failed the last request that
    held it, when one failed for good.
    """

    __slots__ = (
        "body",
        "doubt",
        "error",
        "identity",
        "index",
        "size",
        "state",
        "strikes",
        "table",
    )

    def __init__(self, index: int, table: str, identity: Identity, body: Any, size: int) -> None:
        self.index = index
        self.table = table
        self.identity = identity
        self.body = body
        self.size = size
        self.strikes = 0
        self.doubt: OutcomeUnknownError | None = None
        self.error: DynamoDBServiceError | None = None
        self.state = 0
        """Queued, in flight or settled (see :mod:`tctf_dynamo.batch._schedule`)."""

    def __repr__(self) -> str:
        return f"Entry(index={self.index}, table={self.table!r}, size={self.size})"


class _Tables:
    """Key schema and identity function of each table a call touches, looked up once."""

    def __init__(self, lookups: Lookups) -> None:
        self._key_schema, self._index_schemas = lookups
        self._known: dict[str, tuple[list[KeyAttribute], IdentityOf]] = {}
        self._indexes: dict[str, IndexSchemas] = {}

    def __getitem__(self, table: str) -> tuple[list[KeyAttribute], IdentityOf]:
        known = self._known.get(table)
        if known is None:
            schema = self._key_schema(table)
            known = self._known[table] = (schema, identity_function(table, schema))
        return known

    def indexes(self, table: str) -> IndexSchemas:
        indexes = self._indexes.get(table)
        if indexes is None:
            indexes = self._indexes[table] = self._index_schemas(table)
        return indexes

    def identity_functions(self) -> dict[str, IdentityOf]:
        return {table: known[1] for table, known in self._known.items()}


def table_key(service: DynamoDBService, table: str) -> tuple[list[KeyAttribute], IdentityOf]:
    """The key schema of ``table`` and the identity function of its items."""
    return _Tables((service.key_schema, service.index_schemas))[table]


def _duplicate(operation: str, table: str, index: int, first_index: int) -> Exception:
    return error_for(
        ErrorCode.DUPLICATE_ITEM_IN_REQUEST,
        f"two requests of one {operation} address the same item",
        {"operation": operation, "table": table, "index": index, "first_index": first_index},
    )


# ---------------------------------------------------------------- writes


def prepare_writes(
    service: ServiceCore,
    puts: Iterable[tuple[str, WireItem]],
    deletes: Iterable[tuple[str, WireItem]],
    *,
    duplicates: Duplicates,
    validate: bool = True,
    lookups: Lookups | None = None,
) -> tuple[list[Entry], dict[str, IdentityOf]]:
    """Validate every put and delete, then remove duplicates.

    With ``duplicates="merge"`` the last put of a key wins and repeated deletes collapse
    into one; a key both put and deleted is refused, since the two lists carry no order
    between them. With ``"error"`` any repeated key is DUPLICATE_ITEM_IN_REQUEST.
    ``validate=False`` trusts items the caller validated already (sizes are then taken
    as the item limit, a bound that never changes how writes are split).
    Returns the entries, in the order of their first occurrence, and the identity
    function of each table. ``lookups`` default to the (blocking) service's own.
    """
    tables = _Tables(lookups or _blocking_lookups(service))
    policy = service.unsafe_values
    seen: dict[Identity, Entry] = {}
    index = 0
    for table, item in puts:
        schema, identity_of = tables[table]
        if validate:
            size = validate_item(item, schema, policy, tables.indexes(table))
        else:
            size = MAX_ITEM_SIZE_BYTES
        identity = identity_of(item)
        earlier = seen.get(identity)
        if earlier is not None and duplicates == "error":
            raise _duplicate("BatchWriteItem", table, index, earlier.index)
        seen[identity] = Entry(index, table, identity, {"PutRequest": {"Item": item}}, size)
        index += 1
    puts_end = index
    for table, key in deletes:
        schema, identity_of = tables[table]
        if validate:
            validate_key(key, schema)
        identity = identity_of(key)
        earlier = seen.get(identity)
        if earlier is not None:
            if duplicates == "error" or earlier.index < puts_end:
                raise _duplicate("BatchWriteItem", table, index, earlier.index)
            index += 1
            continue
        body = {"DeleteRequest": {"Key": key}}
        seen[identity] = Entry(index, table, identity, body, item_size(key))
        index += 1
    return list(seen.values()), tables.identity_functions()


# ---------------------------------------------------------------- gets


def prepare_gets(
    service: ServiceCore,
    table: str,
    keys: Iterable[WireItem],
    *,
    duplicates: Duplicates,
    validate: bool = True,
    lookups: Lookups | None = None,
) -> tuple[list[Entry], list[Identity], IdentityOf, list[KeyAttribute]]:
    """Validate every key; returns the distinct entries, the identity of every position
    (so results can be handed back in request order), the identity function and schema.

    With ``duplicates="merge"`` a key asked twice is fetched once; with ``"error"`` it is
    DUPLICATE_ITEM_IN_REQUEST, as DynamoDB would answer. ``validate=False`` trusts keys
    the caller built and validated already.
    """
    schema, identity_of = _Tables(lookups or _blocking_lookups(service))[table]
    positions: list[Identity] = []
    position = positions.append
    seen: dict[Identity, Entry] = {}
    check = key_validator(schema) if validate else None
    for index, key in enumerate(keys):
        if check is not None:
            check(key)
        identity = identity_of(key)
        position(identity)
        earlier = seen.get(identity)
        if earlier is not None:
            if duplicates == "error":
                raise _duplicate("BatchGetItem", table, index, earlier.index)
            continue
        seen[identity] = Entry(index, table, identity, key, 0)
    return list(seen.values()), positions, identity_of, schema


def _blocking_lookups(service: ServiceCore) -> Lookups:
    blocking: DynamoDBService = service  # type: ignore[assignment]
    return blocking.key_schema, blocking.index_schemas
