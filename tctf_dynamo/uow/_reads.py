"""read_together: several entities of several types, read as of one moment.

A TransactGetItems returns every item as it was at one point in time, which separate
GetItems cannot: a balance read before a transfer and a wallet read after it would not
add up. The request is built from the entities' own key templates and checked with the
same transaction limits as writes (at most 100 items, no item twice).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tctf_dynamo.core import requests
from tctf_dynamo.core.transactions import check_transaction_actions
from tctf_dynamo.core.writes import KeyLike, key_fields_of
from tctf_dynamo.effects.program import Program
from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.model import Entity
from tctf_dynamo.model.reading import InvalidItem, OnInvalid, check_on_invalid, read_one
from tctf_dynamo.validation import KeyAttribute

if TYPE_CHECKING:
    from tctf_dynamo.core.service_core import ServiceCore
    from tctf_dynamo.sync.service import DynamoDBService

__all__ = ["read_together", "read_together_program"]


def read_together(
    service: DynamoDBService,
    keys: Sequence[tuple[type[Entity], KeyLike]],
    *,
    on_invalid: OnInvalid = "raise",
) -> list[Entity | InvalidItem | None]:
    """Read up to 100 items of any entity types consistently, in one TransactGetItems.

    Returns one entity (or None where no item exists) per ``(EntityClass, key)``, in the
    order given. The limits are checked before anything is sent. ``on_invalid`` as for
    :meth:`Repository.get <tctf_dynamo.Repository.get>`.
    """
    return service.run_program(read_together_program(service, keys, on_invalid=on_invalid))


def read_together_program(
    service: ServiceCore,
    keys: Sequence[tuple[type[Entity], KeyLike]],
    *,
    on_invalid: OnInvalid = "raise",
) -> Program[list[Entity | InvalidItem | None]]:
    """:func:`read_together` as a program, for both APIs."""
    check_on_invalid(on_invalid)
    actions: list[dict[str, Any]] = []
    schemas: dict[str, Sequence[KeyAttribute]] = {}
    for entity, key in keys:
        meta = entity.__entity_meta__
        if meta is None:
            raise error_for(
                ErrorCode.INVALID_SCHEMA,
                f"{entity.__name__} is not bound to a table; declare it with table=...",
            )
        table = meta.table
        wire_key = entity.key(**key_fields_of(entity, key))
        schemas[table.name] = table.key_schema
        actions.append({"Get": requests.get_request(table.name, wire_key, table.key_schema)})
    if not actions:
        return []
    check_transaction_actions(actions, schemas.__getitem__)
    response = yield from service.execute_program("TransactGetItems", {"TransactItems": actions})
    entries = response.get("Responses") or [{} for _ in actions]
    return [
        _parsed(entity, entry, on_invalid) for (entity, _), entry in zip(keys, entries, strict=True)
    ]


def _parsed(
    entity: type[Entity], entry: Mapping[str, Any], on_invalid: OnInvalid
) -> Entity | InvalidItem | None:
    item = entry.get("Item")
    if not item:
        return None
    table = entity.__entity_meta__.table.name  # type: ignore[union-attr]
    return read_one(entity.from_item, item, table, on_invalid)
