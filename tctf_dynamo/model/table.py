"""The table of a single-table design: its key attributes, indexes and registered entities.

A :class:`Table` is declared once, entities bind to it with ``class X(Entity, table=...)``,
and it then knows everything needed to create it (:meth:`Table.create_table_request`) and
to decode any item read from it back into the right entity class (via the discriminator
attribute, ``_type`` by default).
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import attrs

from tctf_dynamo import limits
from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.model.registry import Registry
from tctf_dynamo.validation import (
    KeyAttribute,
    validate_attribute_name,
    validate_index_name,
    validate_table_name,
)

if TYPE_CHECKING:
    from tctf_dynamo.model.entity import Entity

__all__ = ["GSI", "LSI", "BillingMode", "KeyType", "Projection", "Table"]

KeyType = Literal["S", "N", "B"]
BillingMode = Literal["PAY_PER_REQUEST", "PROVISIONED"]
_KEY_TYPES = ("S", "N", "B")


def _schema_error(message: str, **details: Any) -> Exception:
    return error_for(ErrorCode.INVALID_SCHEMA, message, details)


@attrs.frozen
class Projection:
    """Which attributes an index copies: ALL, KEYS_ONLY, or INCLUDE some non-key ones."""

    type: Literal["ALL", "KEYS_ONLY", "INCLUDE"] = "ALL"
    non_key_attributes: tuple[str, ...] = ()

    @classmethod
    def all(cls) -> Projection:
        return cls("ALL")

    @classmethod
    def keys_only(cls) -> Projection:
        return cls("KEYS_ONLY")

    @classmethod
    def include(cls, *attributes: str) -> Projection:
        if not attributes:
            raise _schema_error("an INCLUDE projection names at least one attribute")
        for name in attributes:
            validate_attribute_name(name, key=True)
        return cls("INCLUDE", tuple(dict.fromkeys(attributes)))

    def to_wire(self, type_attribute: str) -> dict[str, Any]:
        """INCLUDE and KEYS_ONLY always carry the discriminator.

        Queries keep to one entity type with a filter on it, and mixed index pages are
        decoded by it, so an index without it would answer every query with nothing.
        A KEYS_ONLY index is therefore created as INCLUDE of the discriminator alone.
        """
        if self.type == "ALL":
            return {"ProjectionType": "ALL"}
        names = list(dict.fromkeys((*self.non_key_attributes, type_attribute)))
        return {"ProjectionType": "INCLUDE", "NonKeyAttributes": names}


def _default_pk(index: Any) -> str:
    return f"{index.name}PK"


def _default_sk(index: Any) -> str:
    return f"{index.name}SK"


@attrs.frozen
class GSI:
    """A global secondary index; ``GSI("GSI1")`` keys on GSI1PK/GSI1SK, ``sk=None`` hash-only."""

    name: str
    pk: str = attrs.field(default=attrs.Factory(_default_pk, takes_self=True))
    sk: str | None = attrs.field(default=attrs.Factory(_default_sk, takes_self=True))
    projection: Projection = attrs.field(factory=Projection.all)
    pk_type: KeyType = "S"
    sk_type: KeyType = "S"
    read_capacity: int | None = None
    write_capacity: int | None = None

    @property
    def key_schema(self) -> list[KeyAttribute]:
        schema = [KeyAttribute(self.pk, self.pk_type)]
        if self.sk is not None:
            schema.append(KeyAttribute(self.sk, self.sk_type))
        return schema


@attrs.frozen
class LSI:
    """A local secondary index: the table's partition key with another sort key."""

    name: str
    sk: str = attrs.field(default=attrs.Factory(_default_sk, takes_self=True))
    projection: Projection = attrs.field(factory=Projection.all)
    sk_type: KeyType = "S"


def _check_key_types(owner: str, *types: str) -> None:
    for key_type in types:
        if key_type not in _KEY_TYPES:
            raise _schema_error(f"{owner}: key types are S, N or B", owner=owner)


@attrs.frozen(eq=False, init=False)
class Table:
    """A DynamoDB table and the entities stored in it (compared by identity)."""

    name: str
    pk: str
    sk: str | None
    pk_type: KeyType
    sk_type: KeyType
    indexes: tuple[GSI | LSI, ...]
    billing_mode: BillingMode
    read_capacity: int | None
    write_capacity: int | None
    type_attribute: str
    _registry: Registry

    def __init__(
        self,
        name: str,
        pk: str = "PK",
        sk: str | None = "SK",
        indexes: Iterable[GSI | LSI] = (),
        *,
        billing_mode: BillingMode = "PAY_PER_REQUEST",
        read_capacity: int | None = None,
        write_capacity: int | None = None,
        type_attribute: str = "_type",
        pk_type: KeyType = "S",
        sk_type: KeyType = "S",
    ) -> None:
        validate_table_name(name)
        indexes = tuple(indexes)
        for attribute in (pk, sk, type_attribute):
            if attribute is not None:
                validate_attribute_name(attribute, key=True)
        _check_key_types(name, pk_type, sk_type)
        self.__attrs_init__(
            name,
            pk,
            sk,
            pk_type,
            sk_type,
            indexes,
            billing_mode,
            read_capacity,
            write_capacity,
            type_attribute,
            Registry(name),
        )
        self._check_billing()
        self._check_indexes()

    # ------------------------------------------------------------ checks

    def _check_billing(self) -> None:
        if self.billing_mode not in ("PAY_PER_REQUEST", "PROVISIONED"):
            raise _schema_error(f"{self.name}: unknown billing mode", table=self.name)
        provisioned = self.billing_mode == "PROVISIONED"
        capacities = [self.read_capacity, self.write_capacity]
        capacities += [c for i in self.indexes if isinstance(i, GSI) for c in _capacity(i)]
        given = [capacity is not None for capacity in capacities]
        if provisioned and not all(given):
            raise _schema_error(
                f"{self.name}: PROVISIONED billing needs read and write capacity on the table "
                "and on every global index",
                table=self.name,
            )
        if not provisioned and any(given):
            raise _schema_error(
                f"{self.name}: capacities are only allowed with PROVISIONED billing",
                table=self.name,
            )

    def _check_indexes(self) -> None:
        gsis = [index for index in self.indexes if isinstance(index, GSI)]
        lsis = [index for index in self.indexes if isinstance(index, LSI)]
        if len(gsis) > limits.MAX_GLOBAL_SECONDARY_INDEXES:
            raise _schema_error(
                f"{self.name}: at most {limits.MAX_GLOBAL_SECONDARY_INDEXES} global indexes",
                table=self.name,
                limit=limits.MAX_GLOBAL_SECONDARY_INDEXES,
            )
        if len(lsis) > limits.MAX_LOCAL_SECONDARY_INDEXES:
            raise _schema_error(
                f"{self.name}: at most {limits.MAX_LOCAL_SECONDARY_INDEXES} local indexes",
                table=self.name,
                limit=limits.MAX_LOCAL_SECONDARY_INDEXES,
            )
        if lsis and self.sk is None:
            raise _schema_error(
                f"{self.name}: local indexes need a table with a sort key", table=self.name
            )
        names = [index.name for index in self.indexes]
        if len(set(names)) != len(names):
            raise _schema_error(f"{self.name}: two indexes share a name", table=self.name)
        lowered = [name.lower() for name in names]
        if len(set(lowered)) != len(lowered):
            raise _schema_error(
                f"{self.name}: index names must differ by more than letter case "
                "(entities name them in lower case)",
                table=self.name,
            )
        for index in self.indexes:
            self._check_index(index)
        self._check_attribute_types()

    def _check_index(self, index: GSI | LSI) -> None:
        if not isinstance(index, GSI | LSI):
            raise _schema_error(f"{self.name}: indexes must be GSI or LSI", table=self.name)
        validate_index_name(index.name)
        for schema in _index_schema(index, self):
            validate_attribute_name(schema.name, key=True)
        _check_key_types(index.name, *(schema.type for schema in _index_schema(index, self)))
        if isinstance(index, LSI) and index.sk in (self.pk, self.sk):
            raise _schema_error(
                f"{self.name}: local index {index.name!r} must use its own sort key attribute",
                index=index.name,
            )

    def _check_attribute_types(self) -> None:
        """One attribute name may key several indexes, but always with the same type."""
        seen: dict[str, str] = {}
        for attribute in self._all_key_attributes():
            if seen.setdefault(attribute.name, attribute.type) != attribute.type:
                raise _schema_error(
                    f"{self.name}: attribute {attribute.name!r} is a key with two types",
                    attribute=attribute.name,
                )

    def _all_key_attributes(self) -> list[KeyAttribute]:
        attributes = list(self.key_schema)
        for index in self.indexes:
            attributes.extend(_index_schema(index, self))
        return attributes

    # ------------------------------------------------------------ schema

    @property
    def key_schema(self) -> list[KeyAttribute]:
        """The primary key: partition key, then sort key when the table has one."""
        return list(_primary_schema(self.pk, self.pk_type, self.sk, self.sk_type))

    def index(self, name: str) -> GSI | LSI:
        """The index called ``name``; INVALID_INDEX_NAME when the table has none."""
        for index in self.indexes:
            if index.name == name:
                return index
        raise error_for(
            ErrorCode.INVALID_INDEX_NAME,
            f"table {self.name!r} has no index {name!r}",
            {"table": self.name, "index": name},
        )

    def index_key_schema(self, name: str) -> list[KeyAttribute]:
        """Key attributes of an index (an LSI's partition key is the table's)."""
        return _index_schema(self.index(name), self)

    @property
    def index_key_schemas(self) -> Mapping[str, Sequence[KeyAttribute]]:
        """Key attributes of every index, by index name (computed once per table)."""
        schemas = _INDEX_SCHEMAS.get(self)
        if schemas is None:
            schemas = _index_key_schemas(self.indexes, self.pk, self.pk_type)
            _INDEX_SCHEMAS[self] = schemas
        return schemas

    def create_table_request(self) -> dict[str, Any]:
        """The wire CreateTable request for this table and every index."""
        request: dict[str, Any] = {
            "TableName": self.name,
            "KeySchema": _wire_key_schema(self.key_schema),
            "AttributeDefinitions": [
                {"AttributeName": name, "AttributeType": key_type}
                for name, key_type in dict(
                    (attribute.name, attribute.type) for attribute in self._all_key_attributes()
                ).items()
            ],
            "BillingMode": self.billing_mode,
        }
        if self.billing_mode == "PROVISIONED":
            request["ProvisionedThroughput"] = _throughput(self.read_capacity, self.write_capacity)
        gsis = [self._wire_index(i) for i in self.indexes if isinstance(i, GSI)]
        lsis = [self._wire_index(i) for i in self.indexes if isinstance(i, LSI)]
        if gsis:
            request["GlobalSecondaryIndexes"] = gsis
        if lsis:
            request["LocalSecondaryIndexes"] = lsis
        return request

    def _wire_index(self, index: GSI | LSI) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "IndexName": index.name,
            "KeySchema": _wire_key_schema(_index_schema(index, self)),
            "Projection": index.projection.to_wire(self.type_attribute),
        }
        if isinstance(index, GSI) and self.billing_mode == "PROVISIONED":
            wire["ProvisionedThroughput"] = _throughput(index.read_capacity, index.write_capacity)
        return wire

    # ------------------------------------------------------------ entities

    @property
    def entities(self) -> Mapping[str, type[Entity]]:
        """Read-only view of the registered entity classes by entity name."""
        return self._registry.view

    @property
    def registry(self) -> Registry:
        return self._registry

    def entity_for_item(self, wire: Mapping[str, Any]) -> type[Entity]:
        """The entity class named by the item's discriminator; INVALID_ITEM if unknown."""
        found = self._registry.for_item(wire, self.type_attribute)
        if found is None:
            raise error_for(
                ErrorCode.INVALID_ITEM,
                f"item in table {self.name!r} has no known entity type in {self.type_attribute!r}",
                {"table": self.name, "type": _type_name(wire, self.type_attribute)},
            )
        return found

    def decode_item(self, wire: Mapping[str, Any]) -> Entity:
        """Decode an item read from this table into its entity class."""
        return self.entity_for_item(wire).from_item(wire)

    def try_decode_item(self, wire: Mapping[str, Any]) -> Entity | None:
        """Like :meth:`decode_item`, but None for an unknown entity type (for ``page.unknown``).

        Items of a known type that fail validation still raise INVALID_ITEM.
        """
        found = self._registry.for_item(wire, self.type_attribute)
        return None if found is None else found.from_item(wire)

    def __repr__(self) -> str:
        return f"Table(name={self.name!r}, entities={list(self._registry.view)!r})"


def _type_name(wire: Mapping[str, Any], type_attribute: str) -> str | None:
    av = wire.get(type_attribute)
    value = av.get("S") if isinstance(av, Mapping) else None
    return value[:255] if isinstance(value, str) else None


def _capacity(index: GSI) -> tuple[int | None, int | None]:
    return index.read_capacity, index.write_capacity


def _throughput(read: int | None, write: int | None) -> dict[str, int | None]:
    return {"ReadCapacityUnits": read, "WriteCapacityUnits": write}


def _index_schema(index: GSI | LSI, table: Table) -> list[KeyAttribute]:
    return list(_index_key_schemas(table.indexes, table.pk, table.pk_type)[index.name])


_INDEX_SCHEMAS: weakref.WeakKeyDictionary[Table, Mapping[str, Sequence[KeyAttribute]]] = (
    weakref.WeakKeyDictionary()
)
"""Asked on every write, so kept per table: hashing the index definitions costs more."""


@functools.cache
def _index_key_schemas(
    indexes: tuple[GSI | LSI, ...], pk: str, pk_type: KeyType
) -> Mapping[str, Sequence[KeyAttribute]]:
    """An LSI shares the table's partition key."""
    schemas: dict[str, Sequence[KeyAttribute]] = {}
    for index in indexes:
        if isinstance(index, GSI):
            schemas[index.name] = tuple(index.key_schema)
        else:
            schemas[index.name] = (KeyAttribute(pk, pk_type), KeyAttribute(index.sk, index.sk_type))
    return MappingProxyType(schemas)


def _wire_key_schema(schema: list[KeyAttribute]) -> list[dict[str, str]]:
    roles = ("HASH", "RANGE")
    return [
        {"AttributeName": attribute.name, "KeyType": role}
        for attribute, role in zip(schema, roles, strict=False)
    ]


@functools.cache
def _primary_schema(
    pk: str, pk_type: KeyType, sk: str | None, sk_type: KeyType
) -> tuple[KeyAttribute, ...]:
    """Built once per key shape: every write asks for it."""
    if sk is None:
        return (KeyAttribute(pk, pk_type),)
    return (KeyAttribute(pk, pk_type), KeyAttribute(sk, sk_type))
