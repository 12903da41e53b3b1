"""How an entity update is completed before it is sent.

A caller names fields; the item stores attributes (a field's alias, if it has one). A TTL
field is stored as epoch seconds. An update that changes a field an index key is built
from must rewrite (or, for a sparse index, remove) that key. An upsert that creates the
item must give it everything a put would: discriminator, key fields, index keys and
``created_at``. Each rule is one function here; :func:`tctf_dynamo.core.writes.plan_update`
applies them in order.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, TypeAdapter

from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.expressions import Update, if_not_exists
from tctf_dynamo.expressions.operands import Value
from tctf_dynamo.expressions.updates import AddAction, RemoveAction, SetAction, UpdateAction
from tctf_dynamo.model import Entity, EntityMeta
from tctf_dynamo.model.fieldtypes import omit_empty_sets
from tctf_dynamo.wire.codec import decode

__all__ = [
    "check_versioned",
    "clears",
    "refuse_reserved",
    "typed_key_fields",
    "with_dumped_models",
    "dumped",
    "entity_meta",
    "field_of",
    "non_idempotent",
    "stored_names",
    "with_identity",
    "with_index_keys",
    "with_ttl_seconds",
]


def entity_meta(entity: type[Entity]) -> EntityMeta:
    """The entity's compiled metadata; INVALID_SCHEMA for a class without a table,
    INVALID_INPUT for something that is not an entity at all (a dict given to ``put``)."""
    if not (isinstance(entity, type) and issubclass(entity, Entity)):
        given = entity.__name__ if isinstance(entity, type) else type(entity).__name__
        raise error_for(
            ErrorCode.INVALID_INPUT,
            f"expected an Entity, got {given}: writes take an entity instance (put) "
            "or an entity class and its key",
            {"type": given},
        )
    meta = entity.__entity_meta__
    if meta is None:
        raise error_for(
            ErrorCode.INVALID_SCHEMA,
            f"{entity.__name__} is not bound to a table; declare it with table=...",
        )
    return meta


def check_versioned(meta: EntityMeta, expected_version: int | None) -> None:
    if expected_version is not None and (type(expected_version) is not int or expected_version < 0):
        raise error_for(
            ErrorCode.INVALID_INPUT,
            f"{meta.name}: expected_version must be a non-negative int",
            {"entity": meta.name, "argument": "expected_version"},
        )
    if expected_version is not None and meta.version_field is None:
        raise error_for(
            ErrorCode.INVALID_EXPRESSION,
            f"{meta.name} has no version attribute, so expected_version cannot be checked; "
            "declare version=... on the entity, or use a condition",
            {"entity": meta.name},
        )


def stored_names(meta: EntityMeta) -> Callable[[str], str]:
    """Maps a field name to the attribute it is stored under (its alias, if any)."""
    attributes: Mapping[str, str] = meta.attributes

    def stored(path: str) -> str:
        top, dot, rest = path.partition(".")
        head, bracket, tail = top.partition("[")
        name = attributes.get(head, head)
        return f"{name}{bracket}{tail}{dot}{rest}"

    return stored


def field_of(meta: EntityMeta, attribute: str) -> str:
    """The field stored under ``attribute`` (the inverse of the alias mapping)."""
    for field, stored in meta.attributes.items():
        if stored == attribute:
            return str(field)
    return attribute


def dumped(value: Any) -> Any:
    """Nested models are stored as the maps they dump to; empty sets inside are left out,
    as a put leaves them out (DynamoDB has none), so they read back as the default."""
    plain = value.model_dump(by_alias=True) if isinstance(value, BaseModel) else value
    return omit_empty_sets(plain)


def clears(value: Any) -> bool:
    """None and an empty set are stored by leaving the attribute out, as put does."""
    return value is None or (isinstance(value, set | frozenset) and not value)


def _epoch_seconds(value: datetime | date) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:  # as a put refuses it: its moment is ambiguous
            raise error_for(
                ErrorCode.INVALID_EXPRESSION,
                "a TTL datetime must carry a time zone; a naive one names no moment",
            )
        return int(value.timestamp())
    return int(datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp())


def refuse_reserved(meta: EntityMeta, update: Update, reserved: frozenset[str]) -> None:
    """Keys, index keys and the discriminator are the library's to derive: an update
    that wrote them could forge another entity's index entry or make the item unreadable."""
    for path in update.paths:
        if path.top in reserved and path.top not in meta.attributes.values():
            raise error_for(
                ErrorCode.INVALID_EXPRESSION,
                f"{meta.name}: attribute {path.top!r} is derived by the library and "
                "cannot be updated; update the fields it is built from",
                {"entity": meta.name, "attribute": path.top},
            )


def with_dumped_models(update: Update) -> Update:
    """Nested models set through an :class:`Update` are stored as the maps they dump to."""
    if not any(_sets_model(action) for action in update.actions):
        return update
    actions: list[UpdateAction] = [
        SetAction(action.path, Value(dumped(action.value.value)))  # type: ignore[union-attr]
        if _sets_model(action)
        else action
        for action in update.actions
    ]
    return Update(tuple(actions))


def _sets_model(action: UpdateAction) -> bool:
    return (
        isinstance(action, SetAction)
        and isinstance(action.value, Value)
        and isinstance(action.value.value, BaseModel)
    )


@functools.cache
def _key_field_adapter(entity: type[Entity], name: str) -> TypeAdapter[Any]:
    annotation = entity.model_fields[name].annotation
    return TypeAdapter(annotation if annotation is not None else Any)


def typed_key_fields(entity: type[Entity], fields: Mapping[str, Any]) -> dict[str, Any]:
    """Key field values as the entity holds them ("7" given for an int field becomes 7),
    so that an upsert stores the same attribute values a put would."""
    return {
        name: _key_field_adapter(entity, name).validate_python(value)
        for name, value in fields.items()
    }


def with_ttl_seconds(meta: EntityMeta, update: Update) -> Update:
    """A TTL field is stored as epoch seconds (DynamoDB ignores anything else), whichever
    way the update was written; the value was type-checked against the field already."""
    if meta.ttl_field is None:
        return update
    ttl = meta.attributes[meta.ttl_field]
    actions: list[UpdateAction] = []
    for action in update.actions:
        if (
            isinstance(action, SetAction)
            and action.path.is_top_level
            and action.path.top == ttl
            and isinstance(action.value, Value)
            and isinstance(action.value.value, datetime | date)
        ):
            actions.append(SetAction(action.path, Value(_epoch_seconds(action.value.value))))
        else:
            actions.append(action)
    return Update(tuple(actions))


def with_index_keys(entity: type[Entity], fields: Mapping[str, Any], update: Update) -> Update:
    """Add the SET/REMOVE of index key attributes that the update's field changes imply."""
    meta = entity_meta(entity)
    index_fields = frozenset().union(*meta.index_fields.values()) if meta.index_fields else ()
    changes: dict[str, Any] = {}
    for action in update.actions:
        top = field_of(meta, action.path.top)
        if top not in index_fields:
            continue
        if isinstance(action, SetAction) and action.path.is_top_level:
            operand = action.value
            if isinstance(operand, Value):
                changes[top] = operand.value
                continue
        elif isinstance(action, RemoveAction) and action.path.is_top_level:
            changes[top] = None
            continue
        raise error_for(
            ErrorCode.INVALID_EXPRESSION,
            f"{meta.name}: field {top!r} feeds an index key, so an update may only set it "
            "to a plain value or remove it",
            {"entity": meta.name, "field": top},
        )
    if not changes:
        return update
    effects = entity.index_key_updates(fields, changes)
    primary = {attribute.name for attribute in meta.table.key_schema}  # an LSI shares them
    for attribute, wire_value in effects.set.items():
        if attribute not in primary:
            update = update.set(attribute, decode(wire_value))
    removed = [attribute for attribute in effects.remove if attribute not in primary]
    if removed:
        update = update.remove(*removed)
    return update


def with_identity(
    entity: type[Entity], fields: Mapping[str, Any], update: Update, moment: datetime
) -> Update:
    """An upsert may create the item: store its discriminator, key fields, the index keys
    its known fields give, and ``created_at`` (only if the item had none)."""
    meta = entity_meta(entity)
    written = {path.top for path in update.paths}
    update = update.set(meta.table.type_attribute, meta.name)
    fields = typed_key_fields(entity, fields)
    for name, value in fields.items():
        attribute = meta.attributes[name]
        if attribute not in written:
            update = update.set(attribute, value)
    known = dict(fields)
    for action in update.actions:
        if isinstance(action, SetAction) and isinstance(action.value, Value):
            known.setdefault(field_of(meta, action.path.top), action.value.value)
    primary = {attribute.name for attribute in meta.table.key_schema}
    for index, needed in meta.index_fields.items():
        if not needed <= known.keys() or any(known[name] is None for name in needed):
            continue
        for attribute, wire_value in entity.index_keys(index, **known).items():
            if attribute not in primary and attribute not in written:
                update = update.set(attribute, decode(wire_value))
    if meta.timestamps is not None:
        created = meta.attributes[meta.timestamps.created]
        if created not in written:
            update = update.set(created, if_not_exists(created, moment))
    return update


def non_idempotent(update: Update) -> bool:
    """True when resending ``update`` after it applied would change the item again."""
    for action in update.actions:
        if isinstance(action, AddAction):
            return True
        if isinstance(action, SetAction) and not isinstance(action.value, Value):
            return True
    return False
