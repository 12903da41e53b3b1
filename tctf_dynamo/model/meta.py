"""What an entity class declares, read from its class keywords and checked once.

:class:`EntityMeta` is the metadata other layers read (``Entity.__entity_meta__``): the
table, the entity name stored in the discriminator, the key templates of the table and of
each index, and the fields with a managed meaning (timestamps, version, TTL).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.model.fieldtypes import unwrap
from tctf_dynamo.model.table import GSI, LSI, Table
from tctf_dynamo.model.templates import RESERVED_KEY_PREFIX, KeyTemplate
from tctf_dynamo.validation import validate_attribute_name

if TYPE_CHECKING:
    from pydantic.fields import FieldInfo

__all__ = ["EntityMeta", "IndexTemplates", "TimestampFields", "read_index_templates"]

TemplateSpec = str | tuple[str, ...]


def _schema_error(owner: str, message: str, **details: Any) -> Exception:
    return error_for(ErrorCode.INVALID_SCHEMA, f"{owner}: {message}", {"entity": owner, **details})


@attrs.frozen
class IndexTemplates:
    """The key templates of one entity on one index (``index`` None: the table itself)."""

    index: str | None
    pk: KeyTemplate
    sk: KeyTemplate | None

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(self.pk.fields + (self.sk.fields if self.sk else ()))


@attrs.frozen
class TimestampFields:
    """Field names of the timestamps the repository sets on create and on every write."""

    created: str = "created_at"
    updated: str = "updated_at"


@attrs.frozen(eq=False)
class EntityMeta:
    """Everything the repository and query layers need to know about an entity class."""

    table: Table
    name: str
    primary: IndexTemplates
    indexes: Mapping[str, IndexTemplates]
    timestamps: TimestampFields | None
    version_field: str | None
    ttl_field: str | None
    attributes: Mapping[str, str]
    """Attribute name of every field (the field's alias when it has one)."""

    @property
    def key_fields(self) -> tuple[str, ...]:
        """Fields of the primary key, partition key fields first."""
        return _key_fields(self)

    @property
    def index_fields(self) -> dict[str, frozenset[str]]:
        return {name: templates.fields for name, templates in self.indexes.items()}

    @property
    def version_attribute(self) -> str | None:
        return self.attributes[self.version_field] if self.version_field else None

    @property
    def ttl_attribute(self) -> str | None:
        return self.attributes[self.ttl_field] if self.ttl_field else None

    def all_templates(self) -> dict[str | None, IndexTemplates]:
        templates: dict[str | None, IndexTemplates] = {None: self.primary}
        templates.update(self.indexes)
        return templates


# ---------------------------------------------------------------- reading class keywords


def read_index_templates(
    owner: str,
    table: Table,
    explicit: Mapping[str, TemplateSpec] | None,
    keywords: Mapping[str, Any],
    pk_template: KeyTemplate,
) -> dict[str, IndexTemplates]:
    """Index templates from ``indexes={...}`` and ``gsi1=(...)`` keywords (index name lower)."""
    by_lower = {index.name.lower(): index for index in table.indexes}
    specs: dict[str, TemplateSpec] = {}
    for keyword, spec in keywords.items():
        index = by_lower.get(keyword)
        if index is None:
            raise _schema_error(
                owner,
                f"unknown class keyword {keyword!r} (not an index of table {table.name!r})",
                keyword=keyword,
            )
        specs[index.name] = spec
    for name, spec in (explicit or {}).items():
        if name not in {index.name for index in table.indexes}:
            raise _schema_error(
                owner, f"template for index {name!r} which table {table.name!r} does not have"
            )
        if name in specs:
            raise _schema_error(owner, f"index {name!r} is given templates twice", index=name)
        specs[name] = spec
    return {
        name: _index_templates(owner, table.index(name), spec, pk_template)
        for name, spec in specs.items()
    }


def _index_templates(
    owner: str, index: GSI | LSI, spec: TemplateSpec, pk_template: KeyTemplate
) -> IndexTemplates:
    if isinstance(index, LSI):
        if not isinstance(spec, str):
            raise _schema_error(
                owner, f"local index {index.name!r} takes one sort key template string"
            )
        return IndexTemplates(index.name, pk_template, KeyTemplate.parse(spec))
    parts = (spec,) if isinstance(spec, str) else tuple(spec)
    expected = 1 if index.sk is None else 2
    if len(parts) != expected or not all(isinstance(part, str) for part in parts):
        shape = "(pk_template,)" if expected == 1 else "(pk_template, sk_template)"
        raise _schema_error(owner, f"index {index.name!r} takes templates {shape}")
    sk = KeyTemplate.parse(parts[1]) if expected == 2 else None
    return IndexTemplates(index.name, KeyTemplate.parse(parts[0]), sk)


def check_templates(
    owner: str, fields: Mapping[str, FieldInfo], templates: Mapping[str | None, IndexTemplates]
) -> None:
    """Every template field exists; primary key fields can never be None."""
    for index, declared in templates.items():
        for template in (declared.pk, declared.sk):
            if template is None:
                continue
            for name in template.fields:
                if name not in fields:
                    raise _schema_error(
                        owner,
                        f"key template {template.source!r} names unknown field {name!r}",
                        field=name,
                        template=template.source,
                    )
                if index is None and unwrap(fields[name].annotation)[1]:
                    raise _schema_error(
                        owner,
                        f"primary key field {name!r} (template {template.source!r}) may be "
                        "None; key fields must always have a value",
                        field=name,
                        template=template.source,
                    )


def attribute_names(owner: str, table: Table, fields: Mapping[str, FieldInfo]) -> dict[str, str]:
    """Field -> attribute name; refuses names that clash with keys or the discriminator."""
    reserved = {attribute.name for attribute in table.key_schema} | {table.type_attribute}
    for index in table.indexes:
        reserved.update(attribute.name for attribute in table.index_key_schema(index.name))
    names: dict[str, str] = {}
    for field, info in fields.items():
        attribute = info.alias or field
        if info.validation_alias not in (None, attribute):
            raise _schema_error(
                owner, f"field {field!r} has a validation alias other than its alias", field=field
            )
        validate_attribute_name(attribute)
        if attribute in reserved or attribute.startswith(RESERVED_KEY_PREFIX):
            raise _schema_error(
                owner,
                f"field {field!r} is stored as attribute {attribute!r}, which the table "
                "reserves for keys, the discriminator or the library",
                field=field,
            )
        names[field] = attribute
    if len(set(names.values())) != len(names):
        raise _schema_error(owner, "two fields are stored under the same attribute name")
    return names


def check_managed_field(
    owner: str, fields: Mapping[str, FieldInfo], field: str, role: str, kinds: tuple[type, ...]
) -> None:
    """A timestamp, version or TTL field exists and has a type the role can use."""
    if field not in fields:
        raise _schema_error(owner, f"{role} field {field!r} is not a field", field=field)
    inner, _ = unwrap(fields[field].annotation)
    if not (isinstance(inner, type) and issubclass(inner, kinds)) or issubclass(inner, bool):
        allowed = " or ".join(kind.__name__ for kind in kinds)
        raise _schema_error(owner, f"{role} field {field!r} must be {allowed}", field=field)


def check_entity_name(owner: str, name: object) -> str:
    if not isinstance(name, str) or not name or not name.isprintable():
        raise _schema_error(owner, "entity name must be a non-empty printable string")
    if name.startswith(RESERVED_KEY_PREFIX):
        raise _schema_error(owner, f"entity names may not start with {RESERVED_KEY_PREFIX!r}")
    return name


TIMESTAMP_KINDS = (datetime,)


@functools.cache
def _key_fields(meta: EntityMeta) -> tuple[str, ...]:
    """Asked for every key built from fields, so kept per entity (metas hash by identity)."""
    sk = meta.primary.sk.fields if meta.primary.sk else ()
    return meta.primary.pk.fields + sk
