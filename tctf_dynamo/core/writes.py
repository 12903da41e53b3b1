"""Entity-level write plans, shared by repositories, units of work and batches.

A plan is one validated write of one item, ready to send alone or as an action of a
transaction: its key, its wire body, its size and, for puts, the entity as it will be
stored. Building a plan is where the entity's rules apply, once for every path:

* managed fields: ``updated_at`` on every write, ``created_at`` on creation, the version
  incremented and checked (optimistic locking);
* updates keep index keys derived (an update that changes a GSI template field rewrites
  that GSI's key, or removes it for a sparse index) and never create a partial item;
* conditions and updates are bound to the entity, so a misspelled attribute or a value of
  the wrong type fails here, before anything is sent.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import attrs

from tctf_dynamo.core import requests
from tctf_dynamo.core.outcomes import Idempotency
from tctf_dynamo.core.transactions import action_size
from tctf_dynamo.core.update_rules import (
    check_versioned,
    clears,
    dumped,
    entity_meta,
    field_of,
    non_idempotent,
    refuse_reserved,
    stored_names,
    with_dumped_models,
    with_identity,
    with_index_keys,
    with_ttl_seconds,
)
from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.expressions import (
    Condition,
    Update,
    attr,
    check_condition,
    check_update,
)
from tctf_dynamo.model import Entity
from tctf_dynamo.validation import UnsafeValuePolicy, check_unsafe_values, validate_item
from tctf_dynamo.wire import sizes
from tctf_dynamo.wire.codec import encode_item

__all__ = [
    "WriteKind",
    "WritePlan",
    "entity_attributes",
    "item_size",
    "key_fields_of",
    "plan_condition_check",
    "plan_delete",
    "plan_put",
    "plan_update",
    "put_item",
    "wire_keys",
]

WriteKind = Literal["Put", "Update", "Delete", "ConditionCheck"]
KeyLike = Mapping[str, Any] | Entity


@attrs.frozen(slots=True)
class WritePlan:
    """One validated write of one item; ``body`` is the wire action without ReturnValues."""

    kind: WriteKind
    entity: type[Entity]
    key: dict[str, Any]
    body: dict[str, Any]
    size: int
    written: Entity | None = None
    idempotency: Idempotency = Idempotency.NATURAL
    """What keeps a resend from applying it twice (see :mod:`tctf_dynamo.core.outcomes`)."""
    token_by_default: bool = False
    """The caller's own update changes the item again on every resend (ADD, arithmetic,
    appends): repositories send it token-protected unless told ``idempotent=False``. An
    unguarded version bump alone is not idempotent either, but goes as a plain UpdateItem
    that is never resent after an ambiguous failure."""
    condition: Condition | None = None
    """The whole condition the body carries, to explain a failure from the item."""

    @property
    def non_idempotent(self) -> bool:
        """True for writes a blind resend would apply twice (ADD, arithmetic, appends, a
        version bump with no expected version): they go token-protected by default."""
        return self.idempotency is Idempotency.NOT_IDEMPOTENT

    @property
    def table_name(self) -> str:
        name: str = self.body["TableName"]
        return name

    @property
    def key_fields(self) -> dict[str, Any]:
        """The key as the entity's fields (for error reports)."""
        return self.entity.parse_key(self.key)

    def transact_item(self) -> dict[str, Any]:
        """This write as one action of TransactWriteItems."""
        return {self.kind: self.body}

    def request(self, **extra: Any) -> dict[str, Any]:
        """This write as a single-item request (PutItem, UpdateItem, DeleteItem)."""
        return {**self.body, **extra}


@functools.cache
def entity_attributes(entity: type[Entity]) -> dict[str, Any]:
    """Attributes items of ``entity`` carry beyond its fields: keys and discriminator."""
    meta = _meta(entity)
    table = meta.table
    extra: dict[str, Any] = {table.type_attribute: str, table.pk: str | int | bytes}
    if table.sk:
        extra[table.sk] = str | int | bytes
    for index in table.indexes:
        for attribute in table.index_key_schema(index.name):
            extra[attribute.name] = str | int | bytes
    return extra


def key_fields_of(entity: type[Entity], key: KeyLike) -> dict[str, Any]:
    """Key field values from a mapping of them or from an instance of the entity."""
    names = entity.key_fields()
    if type(key) is dict:  # the common case, decided without the ABC checks below
        pass
    elif isinstance(key, Entity):
        if not isinstance(key, entity):
            raise error_for(
                ErrorCode.INVALID_KEY,
                f"a {type(key).__name__} was given where a {entity.__name__} key is needed",
                {"entity": entity.__name__},
            )
        return {name: getattr(key, name) for name in names}
    elif not isinstance(key, Mapping):
        raise error_for(
            ErrorCode.INVALID_KEY,
            f"{entity.__name__}: a key is a mapping of its key fields or an instance",
            {"entity": entity.__name__, "type": type(key).__name__},
        )
    missing = [name for name in names if name not in key]
    if missing:
        raise error_for(
            ErrorCode.INVALID_KEY,
            f"{entity.__name__}: key fields {missing} are missing",
            {"entity": entity.__name__, "fields": missing},
        )
    if len(key) != len(names):  # a misspelt or non-key field would otherwise be ignored
        extra = sorted(str(name) for name in key if name not in names)
        raise error_for(
            ErrorCode.INVALID_KEY,
            f"{entity.__name__}: {extra} are not key fields",
            {"entity": entity.__name__, "fields": extra},
        )
    return {name: key[name] for name in names}


def wire_keys(entity: type[Entity], keys: Iterable[KeyLike]) -> Iterator[dict[str, Any]]:
    """The wire primary key of each of ``keys``, lazily: what
    ``entity.key(**key_fields_of(entity, key))`` gives, errors included.

    Why not that expression: a bulk job builds thousands of keys, and a plain dict holding
    exactly the key fields (the common case) passes every check those two calls make, so
    it goes straight to the key plan; anything else takes the checked way.
    """
    names = frozenset(entity.key_fields())
    to_wire = entity._compiled()[1].primary.wire
    for key in keys:
        if type(key) is dict and key.keys() == names:
            yield to_wire(key)
        else:
            yield entity.key(**key_fields_of(entity, key))


def plan_put(
    entity: Entity,
    *,
    condition: Condition | None = None,
    create: bool = False,
    policy: UnsafeValuePolicy | None = None,
    now: datetime | None = None,
) -> WritePlan:
    """A PutItem of ``entity``; ``create`` refuses to replace an existing item."""
    cls = type(entity)
    meta = _meta(cls)
    written, conditions = _as_put(entity, create, now)
    if condition is not None:
        check_condition(condition, cls, entity_attributes(cls))
        conditions.append(condition)
    item = written.to_item()
    combined = _all_of(conditions)
    request, size = requests.put_request(
        meta.table.name,
        item,
        meta.table.key_schema,
        condition=combined,
        policy=policy,
        indexes=meta.table.index_key_schemas,
    )
    key = {attribute.name: item[attribute.name] for attribute in meta.table.key_schema}
    kind = Idempotency.BY_CONDITION if combined is not None else Idempotency.NATURAL
    return WritePlan("Put", cls, key, request, size, written, idempotency=kind, condition=combined)


def put_item(
    entity: Entity, *, policy: UnsafeValuePolicy | None = None, now: datetime | None = None
) -> tuple[Entity, dict[str, Any]]:
    """What a batch put of ``entity`` stores: the entity with its managed fields set and
    its wire item, validated as :func:`plan_put` validates it.

    A batch put carries no condition and no request of its own, so none is built: this
    is :func:`plan_put`'s ``written`` and ``body["Item"]`` at a fraction of the cost, for
    bulk writes of thousands of entities.
    """
    written = _as_put(entity, False, now)[0]
    item = written.to_item()
    table = _meta(type(entity)).table
    validate_item(item, table.key_schema, policy, table.index_key_schemas)
    return written, item


def _as_put(entity: Entity, create: bool, now: datetime | None) -> tuple[Entity, list[Condition]]:
    """The entity as a put stores it (managed fields set) and the conditions it needs."""
    meta = _meta(type(entity))
    changes: dict[str, Any] = {}
    conditions: list[Condition] = []
    if meta.timestamps is not None:
        moment = now or datetime.now(UTC)
        changes[meta.timestamps.updated] = moment
        if create or getattr(entity, meta.timestamps.created) is None:
            changes[meta.timestamps.created] = moment
    if meta.version_field is not None:
        current = getattr(entity, meta.version_field)
        changes[meta.version_field] = current + 1
        if current == 0:
            create = True
        else:
            conditions.append(attr(meta.attributes[meta.version_field]) == current)
    if create:
        conditions.insert(0, attr(meta.table.pk).not_exists())
    written = entity.model_copy(update=changes) if changes else entity
    return written, conditions


def item_size(item: Entity | Mapping[str, Any], *, wire: bool = False) -> int:
    """The exact bytes DynamoDB counts for ``item``: will it fit in 409,600?

    An entity is measured as a put would store it: keys, index keys, discriminator and
    managed fields (``updated_at``, the next version) included. A plain item of Python
    values is measured as the plain item API would send it; ``wire=True`` measures an
    item of AttributeValues (``{"S": "x"}``) as it is. Counted as DynamoDB counts:
    attribute names plus values (see "DynamoDB item sizes and formats").
    """
    if isinstance(item, Entity):
        return sizes.item_size(_as_put(item, False, None)[0].to_item())
    return sizes.item_size(item if wire else encode_item(item))


def plan_update(
    entity: type[Entity],
    key: KeyLike,
    *,
    update: Update | None = None,
    set: Mapping[str, Any] | None = None,
    add: Mapping[str, Any] | None = None,
    remove: Iterable[str] = (),
    delete: Mapping[str, Any] | None = None,
    condition: Condition | None = None,
    expected_version: int | None = None,
    upsert: bool = False,
    policy: UnsafeValuePolicy | None = None,
    now: datetime | None = None,
) -> WritePlan:
    """An UpdateItem of the item with ``key``.

    The item must exist unless ``upsert`` (an update of a missing item would otherwise
    create a partial item that is not a valid entity).
    """
    meta = _meta(entity)
    fields = key_fields_of(entity, key)
    wire_key = entity.key(**fields)
    if expected_version is None:
        expected_version = _read_version(meta, key)
    check_versioned(meta, expected_version)
    stored = stored_names(meta)
    set_values = {stored(path): value for path, value in (set or {}).items()}
    cleared = [path for path, value in set_values.items() if clears(value)]
    for path in cleared:  # None and empty sets are stored by leaving the attribute out
        del set_values[path]
    set_stored = {path: dumped(value) for path, value in set_values.items()}
    if policy is not None and set_stored:
        check_unsafe_values(set_stored, policy)
    parts = Update.from_parts(
        set=set_stored,
        add={stored(path): value for path, value in (add or {}).items()},
        remove=[stored(path) for path in (*remove, *cleared)],
        delete={stored(path): value for path, value in (delete or {}).items()},
    )
    combined = with_dumped_models(update.merge(parts) if update is not None else parts)
    if combined.is_empty:
        raise error_for(
            ErrorCode.INVALID_EXPRESSION,
            f"{meta.name}: an update needs at least one action",
            {"entity": meta.name},
        )
    refuse_reserved(meta, combined, frozenset(entity_attributes(entity)))
    check_update(combined, entity, entity_attributes(entity))
    changed = {field_of(meta, path.top) for path in combined.paths}
    entity.update_key_effects(changed)  # key fields cannot change in place: INVALID_KEY
    resend_changes_item = non_idempotent(combined)
    # a version bump with no expected version counts again on every resend
    unguarded_bump = meta.version_field is not None and expected_version is None
    combined = with_ttl_seconds(meta, combined)
    combined = with_index_keys(entity, fields, combined)
    conditions: list[Condition] = [] if upsert else [attr(meta.table.pk).exists()]
    moment = now or datetime.now(UTC)
    if upsert:
        combined = with_identity(entity, fields, combined, moment)
    if meta.timestamps is not None:
        combined = combined.set(meta.attributes[meta.timestamps.updated], moment)
    if meta.version_field is not None:
        version = meta.attributes[meta.version_field]
        if expected_version is not None:
            conditions.append(attr(version) == expected_version)
        combined = combined.add(version, 1)
    if condition is not None:
        check_condition(condition, entity, entity_attributes(entity))
        conditions.append(condition)
    guard = _all_of(conditions)
    body = requests.update_request(
        meta.table.name,
        wire_key,
        meta.table.key_schema,
        combined,
        condition=guard,
        return_values=None,
        indexes=meta.table.index_key_schemas,
    )
    size = action_size({"Update": body})
    if resend_changes_item or unguarded_bump:
        kind = Idempotency.NOT_IDEMPOTENT
    else:
        kind = Idempotency.BY_CONDITION if guard is not None else Idempotency.NATURAL
    return WritePlan(
        "Update",
        entity,
        wire_key,
        body,
        size,
        idempotency=kind,
        token_by_default=resend_changes_item,
        condition=guard,
    )


def plan_delete(
    entity: type[Entity],
    key: KeyLike,
    *,
    condition: Condition | None = None,
    expected_version: int | None = None,
) -> WritePlan:
    """A DeleteItem of the item with ``key``."""
    meta = _meta(entity)
    wire_key = entity.key(**key_fields_of(entity, key))
    if expected_version is None:
        expected_version = _read_version(meta, key)
    check_versioned(meta, expected_version)
    conditions: list[Condition] = []
    if expected_version is not None:
        conditions.append(attr(meta.attributes[meta.version_field]) == expected_version)
    if condition is not None:
        check_condition(condition, entity, entity_attributes(entity))
        conditions.append(condition)
    guard = _all_of(conditions)
    body = requests.delete_request(
        meta.table.name, wire_key, meta.table.key_schema, condition=guard
    )
    size = action_size({"Delete": body})
    kind = Idempotency.BY_CONDITION if guard is not None else Idempotency.NATURAL
    return WritePlan("Delete", entity, wire_key, body, size, idempotency=kind, condition=guard)


def plan_condition_check(entity: type[Entity], key: KeyLike, condition: Condition) -> WritePlan:
    """A ConditionCheck action: the transaction commits only if ``condition`` holds."""
    meta = _meta(entity)
    wire_key = entity.key(**key_fields_of(entity, key))
    check_condition(condition, entity, entity_attributes(entity))
    body = requests.condition_check_request(
        meta.table.name, wire_key, meta.table.key_schema, condition
    )
    size = action_size({"ConditionCheck": body})
    return WritePlan("ConditionCheck", entity, wire_key, body, size, condition=condition)


# ------------------------------------------------------------------------------ helpers


def _meta(entity: type[Entity]) -> Any:
    return entity_meta(entity)


def _all_of(conditions: list[Condition]) -> Condition | None:
    if not conditions:
        return None
    combined = conditions[0]
    for condition in conditions[1:]:
        combined = combined & condition
    return combined


def _read_version(meta: Any, key: KeyLike) -> int | None:
    """The version an instance of a versioned entity was read at: given as the key, it
    guards the write (optimistic locking) without the caller repeating it."""
    if meta.version_field is None or not isinstance(key, Entity):
        return None
    version: int = getattr(key, meta.version_field)
    return version
