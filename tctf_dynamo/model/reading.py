"""What a read does with a stored item its entity cannot read.

An item written by an older version of the model, or by another tool, may no longer
validate. One such item must not make a whole partition unreadable, so every read of
entities (``get``, ``batch_get``, queries, scans, collections, ``read_together``) takes
the same choice, ``on_invalid``:

* ``"raise"`` (the default): INVALID_ITEM, naming the table and the item's key;
* ``"skip"``: the item is left out, and reported: a warning is logged with its key and,
  for pages, an :class:`InvalidItem` is listed in ``Page.invalid``;
* ``"raw"``: an :class:`InvalidItem` holding the raw item takes the entity's place.

Only INVALID_ITEM is subject to the choice: any other error is raised as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, get_args

import attrs

from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode, error_for
from tctf_dynamo.wire.codec import decode_item

if TYPE_CHECKING:
    from tctf_dynamo.model.entity import Entity

__all__ = [
    "InvalidItem",
    "after_write",
    "OnInvalid",
    "check_on_invalid",
    "read_many",
    "read_one",
    "read_page",
]

LOGGER = logging.getLogger("tctf_dynamo.reading")
_QUERY_LOGGER = logging.getLogger("tctf_dynamo.query")

OnInvalid = Literal["raise", "skip", "raw"]
"""What a read does with an item its entity cannot read; see the module docstring."""

R = TypeVar("R")


@attrs.frozen(slots=True)
class InvalidItem:
    """A stored item its entity could not read: where it is, what it holds and why.

    ``key`` is the item's primary key as plain values, ``item`` the raw item as DynamoDB
    returned it (AttributeValues), ``error`` the INVALID_ITEM error reading it raised.
    """

    table: str
    key: dict[str, Any]
    item: dict[str, Any]
    error: DynamoDBServiceError

    def values(self) -> dict[str, Any]:
        """The raw item as plain Python values (INVALID_ITEM if it is not even that)."""
        return decode_item(self.item)


def check_on_invalid(policy: object) -> OnInvalid:
    """``policy`` if it is one of the choices; INVALID_CONFIGURATION otherwise."""
    if policy not in get_args(OnInvalid):
        raise error_for(
            ErrorCode.INVALID_CONFIGURATION,
            "on_invalid must be 'raise', 'skip' or 'raw'",
            {"choices": list(get_args(OnInvalid))},
        )
    return policy  # type: ignore[return-value]


def _invalid(error: DynamoDBServiceError, wire: Mapping[str, Any], table: str) -> InvalidItem:
    key = error.details.get("key")
    return InvalidItem(table, dict(key) if isinstance(key, Mapping) else {}, dict(wire), error)


def read_one(
    decode: Callable[[Mapping[str, Any]], R],
    wire: Mapping[str, Any],
    table: str,
    on_invalid: OnInvalid,
) -> R | InvalidItem | None:
    """``decode(wire)``; for an unreadable item, per ``on_invalid`` (None when skipped)."""
    try:
        return decode(wire)
    except DynamoDBServiceError as error:
        if error.code is not ErrorCode.INVALID_ITEM or on_invalid == "raise":
            raise
        invalid = _invalid(error, wire, table)
    if on_invalid == "raw":
        return invalid
    _log_skipped(invalid)
    return None


def read_many(
    decode: Callable[[Mapping[str, Any]], R | None],
    wires: Iterable[Mapping[str, Any]],
    table: str,
    on_invalid: OnInvalid,
) -> tuple[list[R | InvalidItem], list[InvalidItem]]:
    """The decoded items (``decode`` may return None to drop one) and those skipped."""
    items: list[R | InvalidItem] = []
    skipped: list[InvalidItem] = []
    for wire in wires:
        try:
            decoded = decode(wire)
        except DynamoDBServiceError as error:
            if error.code is not ErrorCode.INVALID_ITEM or on_invalid == "raise":
                raise
            invalid = _invalid(error, wire, table)
            if on_invalid == "raw":
                items.append(invalid)
            else:
                _log_skipped(invalid)
                skipped.append(invalid)
            continue
        if decoded is not None:
            items.append(decoded)
    return items, skipped


def read_page(
    entity: type[Entity],
    wires: Iterable[Mapping[str, Any]],
    on_invalid: OnInvalid,
    collection: bool,
) -> tuple[list[Entity | InvalidItem], list[dict[str, Any]], list[InvalidItem]]:
    """One page of a query or scan: its entities, the primary keys of items of a type no
    entity of the table claims (collections only: reported, never silently dropped), and
    the items skipped as unreadable."""
    table = entity.__entity_meta__.table  # type: ignore[union-attr]
    if not collection:
        items, skipped = read_many(entity.from_item, wires, table.name, on_invalid)
        return items, [], skipped
    unknown: list[dict[str, Any]] = []
    key_names = [attribute.name for attribute in table.key_schema]

    def decode(wire: Mapping[str, Any]) -> Entity | None:
        decoded = table.try_decode_item(wire)
        if decoded is None:
            unknown.append({name: wire[name] for name in key_names if name in wire})
            _QUERY_LOGGER.warning(
                "item of an unknown entity type in a collection",
                extra={"table": table.name, "type_attribute": table.type_attribute},
            )
        return decoded

    items, skipped = read_many(decode, wires, table.name, on_invalid)
    return items, unknown, skipped


def after_write(read: Callable[[], R]) -> R:
    """``read()`` the item a write just left. The write was applied even when its item
    cannot be read (an older model wrote the rest of it): INVALID_ITEM then says so, with
    ``details["applied"]``, rather than passing for an input error that sent nothing."""
    try:
        return read()
    except DynamoDBServiceError as error:
        if error.code is not ErrorCode.INVALID_ITEM:
            raise
        raise error_for(
            ErrorCode.INVALID_ITEM,
            f"the write was applied, but its item cannot be read: {error.message}",
            {**error.details, "applied": True},
        ) from error


def _log_skipped(invalid: InvalidItem) -> None:
    LOGGER.warning(
        "skipped an item its entity cannot read",
        extra={"table": invalid.table, "key": invalid.key, "errors": invalid.error.details},
    )
