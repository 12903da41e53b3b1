"""``Entity``: the pydantic base class of every item type stored in a single table.

Class keywords declare how an entity is stored::

    class Session(Entity, table=table, pk="USER#{user_id}", sk="SESSION#{created_at}#{id}",
                  gsi1=("SESSION#{id}", "SESSION"), timestamps=True, version="version",
                  ttl="expires_at"):
        ...

They reach both hooks pydantic offers: ``__init_subclass__`` runs before pydantic collects
the fields, so that is where undeclared managed fields (``updated_at``, ``version``) are
added as ordinary annotated fields; ``__pydantic_init_subclass__`` runs once the fields
exist, so that is where templates are checked, the conversion plan is compiled and the
class is registered with its table. A class without ``table=`` is an abstract base (a
mixin of common fields) and is never registered.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, ClassVar, Self

import pydantic

from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode, SchemaError, error_for
from tctf_dynamo.model import meta as _meta
from tctf_dynamo.model.keys import CompiledKey
from tctf_dynamo.model.meta import EntityMeta, TimestampFields
from tctf_dynamo.model.plan import EntityPlan, IndexPlan, compile_plan
from tctf_dynamo.model.table import Table
from tctf_dynamo.model.templates import KeyTemplate
from tctf_dynamo.model.updates import IndexKeyUpdate, index_key_updates, update_key_effects
from tctf_dynamo.wire.codec import decode

__all__ = ["Entity", "invalid_item"]

_MISSING: Any = object()
_DECODE_FAILURES = (AttributeError, TypeError, KeyError, ValueError, OverflowError)


def invalid_item(entity: str, error: pydantic.ValidationError) -> DynamoDBServiceError:
    """INVALID_ITEM listing each failing field and error type, never the input values."""
    failures = [
        {"loc": ".".join(str(part) for part in failure["loc"]), "type": failure["type"]}
        for failure in error.errors(include_url=False, include_input=False, include_context=False)
    ]
    listed = ", ".join(f"{failure['loc'] or '<model>'} ({failure['type']})" for failure in failures)
    return error_for(
        ErrorCode.INVALID_ITEM,
        f"{entity}: invalid data in {listed}",
        {"entity": entity, "errors": failures},
    )


def _declared_fields(cls: type) -> set[str]:
    names = set(inspect.get_annotations(cls))
    for base in cls.__mro__[1:]:
        names.update(getattr(base, "__pydantic_fields__", {}))
    return names


def _add_field(cls: type, name: str, annotation: Any, default: Any) -> None:
    if "__annotations__" not in cls.__dict__:
        cls.__annotations__ = {}
    cls.__annotations__[name] = annotation
    setattr(cls, name, default)


def _add_managed_fields(cls: type, keywords: Mapping[str, Any]) -> None:
    declared = _declared_fields(cls)
    timestamps = keywords.get("timestamps")
    if timestamps:
        names = timestamps if isinstance(timestamps, TimestampFields) else TimestampFields()
        for name in (names.created, names.updated):
            if name not in declared:
                _add_field(cls, name, datetime | None, None)
    version = keywords.get("version")
    if isinstance(version, str) and version not in declared:
        _add_field(cls, version, int, 0)


def _build_meta(cls: type[Entity], keywords: dict[str, Any]) -> EntityMeta:
    owner = cls.__name__
    table = keywords.pop("table")
    if not isinstance(table, Table):
        raise error_for(ErrorCode.INVALID_SCHEMA, f"{owner}: table= must be a Table")
    pk, sk = keywords.pop("pk", None), keywords.pop("sk", _MISSING)
    if not isinstance(pk, str):
        raise error_for(ErrorCode.INVALID_SCHEMA, f"{owner}: pk= template is required")
    if (sk is _MISSING) != (table.sk is None):
        need = "needs an sk= template" if table.sk else "has no sort key; drop sk="
        raise error_for(ErrorCode.INVALID_SCHEMA, f"{owner}: table {table.name!r} {need}")
    pk_template = KeyTemplate.parse(pk)
    primary = _meta.IndexTemplates(
        None, pk_template, None if sk is _MISSING else KeyTemplate.parse(sk)
    )
    name = _meta.check_entity_name(owner, keywords.pop("name", owner))
    timestamps = keywords.pop("timestamps", False)
    version, ttl = keywords.pop("version", None), keywords.pop("ttl", None)
    explicit = keywords.pop("indexes", None)
    indexes = _meta.read_index_templates(owner, table, explicit, keywords, pk_template)
    fields = cls.model_fields
    everything: dict[str | None, _meta.IndexTemplates] = {None: primary}
    everything.update(indexes)
    _meta.check_templates(owner, fields, everything)
    stamps = None
    if timestamps:
        stamps = timestamps if isinstance(timestamps, TimestampFields) else TimestampFields()
        for field in (stamps.created, stamps.updated):
            _meta.check_managed_field(owner, fields, field, "timestamp", (datetime,))
    if version is not None:
        _meta.check_managed_field(owner, fields, version, "version", (int,))
    if ttl is not None:
        _meta.check_managed_field(owner, fields, ttl, "ttl", (datetime, int))
    return EntityMeta(
        table=table,
        name=name,
        primary=primary,
        indexes=indexes,
        timestamps=stamps,
        version_field=version,
        ttl_field=ttl,
        attributes=_meta.attribute_names(owner, table, fields),
    )


def _name_the_class(owner: str, error: SchemaError) -> SchemaError:
    if error.message.startswith(f"{owner}:"):
        return error
    details = {**error.details, "entity": owner}
    renamed = error_for(ErrorCode.INVALID_SCHEMA, f"{owner}: {error.message}", details)
    assert isinstance(renamed, SchemaError)
    return renamed


class Entity(pydantic.BaseModel):
    """Base class of stored entities; see the module docstring for the class keywords."""

    __entity_meta__: ClassVar[EntityMeta | None] = None
    __entity_plan__: ClassVar[EntityPlan | None] = None

    def __init_subclass__(cls, **keywords: Any) -> None:
        if keywords.get("table") is not None:
            _add_managed_fields(cls, keywords)
        super().__init_subclass__()

    @classmethod
    def __pydantic_init_subclass__(cls, **keywords: Any) -> None:
        super().__pydantic_init_subclass__()
        cls.__entity_meta__ = cls.__entity_plan__ = None
        if keywords.get("table") is None:
            if keywords:
                raise error_for(
                    ErrorCode.INVALID_SCHEMA,
                    f"{cls.__name__}: class keywords {sorted(keywords)} need table=",
                )
            return
        if not cls.__pydantic_complete__:
            raise error_for(
                ErrorCode.INVALID_SCHEMA,
                f"{cls.__name__}: field types could not be resolved; define the types it "
                "uses before the class",
            )
        try:
            meta = _build_meta(cls, dict(keywords))
            plan = compile_plan(meta, cls.model_fields)
            meta.table.registry.register(cls, meta)
        except SchemaError as error:
            raise _name_the_class(cls.__name__, error) from None
        cls.__entity_meta__, cls.__entity_plan__ = meta, plan

    def __init__(self, /, **data: Any) -> None:
        try:
            self.__pydantic_validator__.validate_python(data, self_instance=self)
        except pydantic.ValidationError as error:
            raise invalid_item(type(self).__name__, error) from error

    # tell pydantic this __init__ is the plain one, so model_validate keeps its fast path
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    # ------------------------------------------------------------ compiled state

    @classmethod
    def _compiled(cls) -> tuple[EntityMeta, EntityPlan]:
        meta, plan = cls.__entity_meta__, cls.__entity_plan__
        if meta is None or plan is None:
            raise error_for(
                ErrorCode.INVALID_SCHEMA,
                f"{cls.__name__} is not bound to a table; declare it with table=...",
            )
        return meta, plan

    @classmethod
    def _index_plan(cls, index: str) -> IndexPlan:
        meta, plan = cls._compiled()
        found = plan.indexes.get(index)
        if found is None:
            meta.table.index(index)  # INVALID_INDEX_NAME when the table lacks it
            raise error_for(
                ErrorCode.INVALID_INDEX_NAME,
                f"{meta.name} has no templates for index {index!r}",
                {"entity": meta.name, "index": index},
            )
        return found

    # ------------------------------------------------------------ items

    def to_item(self) -> dict[str, Any]:
        """The wire item: keys, non-sparse index keys, discriminator and every field."""
        plan = type(self).__entity_plan__
        if plan is None:
            plan = self._compiled()[1]  # raises: the class is not bound to a table
        return plan.to_item(self.__dict__)

    @classmethod
    def from_item(cls, wire: Mapping[str, Any]) -> Self:
        """Decode and validate a wire item of this entity (INVALID_ITEM otherwise)."""
        plan = cls.__entity_plan__
        if plan is None:
            plan = cls._compiled()[1]  # raises: the class is not bound to a table
        av = wire.get(plan.type_attribute)
        if (type(av) is not dict and not isinstance(av, Mapping)) or av.get("S") != plan.name:
            raise cls._unreadable(
                wire,
                error_for(
                    ErrorCode.INVALID_ITEM,
                    f"item is not a {plan.name}: discriminator {plan.type_attribute!r} differs",
                    {"entity": plan.name},
                ),
            )
        try:
            data = plan.decode_fields(wire)
        except _DECODE_FAILURES:
            malformed = error_for(
                ErrorCode.INVALID_ITEM,
                f"{plan.name}: item holds malformed attribute values",
                {"entity": plan.name},
            )
            raise cls._unreadable(wire, malformed) from None
        try:
            return cls.model_validate(data)
        except pydantic.ValidationError as error:
            raise cls._unreadable(wire, invalid_item(plan.name, error)) from error

    @classmethod
    def _unreadable(
        cls, wire: Mapping[str, Any], error: DynamoDBServiceError
    ) -> DynamoDBServiceError:
        """``error`` naming the table and the item's key, so that one unreadable item
        among many can be found (keys are the one stored value errors carry)."""
        table = cls._compiled()[0].table
        key: dict[str, Any] = {}
        for attribute in table.key_schema:
            av = wire.get(attribute.name)
            try:
                key[attribute.name] = decode(av) if isinstance(av, Mapping) else None
            except DynamoDBServiceError:
                key[attribute.name] = None
        return error_for(
            error.code,
            f"{error.message} (an item of table {table.name!r}; details['key'] is its key)",
            {**error.details, "table": table.name, "key": key},
        )

    # ------------------------------------------------------------ primary key

    @classmethod
    def key_fields(cls) -> tuple[str, ...]:
        """Fields of the primary key, partition key fields first."""
        return cls._compiled()[0].key_fields

    @classmethod
    def key(cls, **fields: Any) -> dict[str, Any]:
        """The wire primary key from the key fields alone (INVALID_KEY names what is wrong)."""
        meta, plan = cls._compiled()
        key_fields = meta.key_fields
        unknown = [name for name in fields if name not in key_fields]
        if unknown:
            raise error_for(
                ErrorCode.INVALID_KEY,
                f"{meta.name}: {sorted(unknown)} are not primary key fields",
                {"entity": meta.name, "fields": sorted(unknown)},
            )
        return plan.primary.wire(fields)

    def primary_key(self) -> dict[str, Any]:
        """The wire primary key of this instance."""
        wire = self._compiled()[1].primary.wire_from_instance(self.__dict__)
        if wire is None:
            raise error_for(ErrorCode.INVALID_KEY, f"{type(self).__name__}: a key field is None")
        return wire

    @classmethod
    def parse_key(cls, wire_key: Mapping[str, Any]) -> dict[str, Any]:
        """Key field values of a wire primary key (INVALID_KEY if not this entity's)."""
        return cls._compiled()[1].primary.parse(wire_key)

    @classmethod
    def pk_value(cls, **fields: Any) -> str:
        return cls._compiled()[1].primary.keys[0].format(fields)

    @classmethod
    def sk_value(cls, **fields: Any) -> str:
        return cls._sort_key(cls._compiled()[1].primary).format(fields)

    @classmethod
    def sk_prefix(cls, **leading_fields: Any) -> str:
        """``begins_with`` text: static prefix plus the leading fields given, in order.

        Each given field is followed by the literal after it, so the prefix matches that
        value exactly. A ``date`` given for the last, datetime-typed field matches that
        whole UTC day.
        """
        return cls._sort_key(cls._compiled()[1].primary).prefix(leading_fields)

    # ------------------------------------------------------------ indexes

    @classmethod
    def index_keys(cls, index: str, **fields: Any) -> dict[str, Any]:
        """The wire key attributes of ``index`` built from the given fields."""
        return cls._index_plan(index).wire(fields)

    @classmethod
    def parse_index_key(cls, index: str, wire: Mapping[str, Any]) -> dict[str, Any]:
        return cls._index_plan(index).parse(wire)

    @classmethod
    def index_pk_value(cls, index: str, **fields: Any) -> str:
        return cls._index_plan(index).keys[0].format(fields)

    @classmethod
    def index_sk_value(cls, index: str, **fields: Any) -> str:
        return cls._sort_key(cls._index_plan(index)).format(fields)

    @classmethod
    def index_sk_prefix(cls, index: str, **leading_fields: Any) -> str:
        return cls._sort_key(cls._index_plan(index)).prefix(leading_fields)

    @classmethod
    def _sort_key(cls, index: IndexPlan) -> CompiledKey:
        if len(index.keys) < 2:
            raise error_for(
                ErrorCode.INVALID_KEY,
                f"{cls.__name__}: {index.name or 'the table'} has no sort key",
                {"entity": cls.__name__, "index": index.name},
            )
        return index.keys[1]

    # ------------------------------------------------------------ updates

    @classmethod
    def update_key_effects(cls, changed: Iterable[str]) -> dict[str, frozenset[str]]:
        """Index name -> fields its keys need, for each index the changed fields feed."""
        return update_key_effects(cls._compiled()[0], changed)

    @classmethod
    def index_key_updates(
        cls, key: Mapping[str, Any], changes: Mapping[str, Any]
    ) -> IndexKeyUpdate:
        """SET/REMOVE actions for index key attributes affected by ``changes``."""
        meta, plan = cls._compiled()
        return index_key_updates(meta, plan, key, changes)
