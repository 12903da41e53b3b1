"""Per-class plans that turn an entity into a wire item and back, compiled once.

``to_item`` walks a tuple of (field, attribute, encoder) and the compiled key attributes;
``decode_fields`` walks a tuple of (attribute, decoder) and hands the result to pydantic.
Neither looks at annotations, builds adapters or calls ``model_dump`` per call.

Storage rules: ``None`` is stored by omitting the attribute, and so is an empty set
(DynamoDB cannot hold one); reading an absent attribute gives None to an Optional field, an
empty set to a set field, and otherwise leaves the field's default to pydantic. The TTL
field is stored as whole epoch seconds, the number DynamoDB's TTL process reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import attrs

from tctf_dynamo import limits
from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode, error_for
from tctf_dynamo.model import compiled
from tctf_dynamo.model.fieldtypes import (
    AttributeConverter,
    KeyCodec,
    attribute_converter,
    key_codec,
    unwrap,
)
from tctf_dynamo.model.keys import CompiledKey, compile_key
from tctf_dynamo.model.meta import EntityMeta, IndexTemplates

if TYPE_CHECKING:
    from pydantic.fields import FieldInfo

__all__ = ["EntityPlan", "IndexPlan", "compile_plan"]


@attrs.frozen(eq=False)
class IndexPlan:
    """The compiled key attributes of one index (partition key, then sort key if any)."""

    name: str | None
    keys: tuple[CompiledKey, ...]
    fields: frozenset[str]

    def wire_from_instance(self, values: Mapping[str, Any]) -> dict[str, Any] | None:
        """The index key attributes, or None when a field is None (sparse index)."""
        wire: dict[str, Any] = {}
        for key in self.keys:
            av = key.from_instance(values)
            if av is None:
                return None
            wire[key.attribute] = av
        return wire

    def wire(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return {key.attribute: key.wire(values) for key in self.keys}

    def parse(self, wire: Mapping[str, Any]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for key in self.keys:
            fields.update(key.parse(wire.get(key.attribute)))
        return fields


@attrs.frozen(eq=False)
class EntityPlan:
    name: str
    type_attribute: str
    primary: IndexPlan
    indexes: Mapping[str, IndexPlan]
    encoders: tuple[tuple[str, str, Callable[[Any], Any]], ...]
    decoders: tuple[tuple[str, Callable[[Any], Any], Callable[[], Any] | None], ...]
    write_fields: Callable[[Mapping[str, Any], dict[str, Any]], None] = attrs.field(
        default=attrs.Factory(lambda plan: compiled.fields_encoder(plan.encoders), takes_self=True)
    )
    """The encoders' loop unrolled for this class (see :mod:`tctf_dynamo.model.compiled`)."""
    decode_fields: Callable[[Mapping[str, Any]], dict[str, Any]] = attrs.field(
        default=attrs.Factory(lambda plan: compiled.fields_decoder(plan.decoders), takes_self=True)
    )
    """Field values by attribute name, ready for ``model_validate``."""

    def to_item(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The wire item of a model's ``__dict__``: keys, index keys, discriminator, fields."""
        item = self.primary.wire_from_instance(values)
        if item is None:
            raise error_for(
                ErrorCode.INVALID_KEY,
                f"{self.name}: a primary key field is None",
                {"entity": self.name},
            )
        for index in self.indexes.values():
            wire = index.wire_from_instance(values)
            if wire is not None:
                item.update(wire)
        item[self.type_attribute] = {"S": self.name}
        try:
            self.write_fields(values, item)
        except DynamoDBServiceError:
            self._encode_each(values, item)  # raises again, naming the field
        return item

    def _encode_each(self, values: Mapping[str, Any], item: dict[str, Any]) -> None:
        """The plain loop over the encoders: slower, but it knows which field failed."""
        field = ""
        try:
            for field, attribute, encode in self.encoders:
                value = values[field]
                if value is not None:
                    av = encode(value)
                    if av is not None:
                        item[attribute] = av
        except DynamoDBServiceError as error:
            raise error_for(
                ErrorCode.INVALID_ITEM if error.code == ErrorCode.INVALID_KEY else error.code,
                f"{self.name}: field {field!r} cannot be stored: {error.message}",
                {**error.details, "entity": self.name, "field": field},
            ) from error


# ---------------------------------------------------------------- TTL


def _ttl_converter(owner: str, field: str, annotation: Any) -> AttributeConverter:
    inner, optional = unwrap(annotation)
    missing = (lambda: None) if optional else None
    if issubclass(inner, datetime):

        def encode_time(value: datetime) -> dict[str, Any]:
            if value.utcoffset() is None:
                raise error_for(
                    ErrorCode.INVALID_ITEM,
                    f"{owner}: TTL field {field!r} holds a naive datetime; attach a time zone",
                    {"entity": owner, "field": field},
                )
            return {"N": str(int(value.timestamp()))}

        def decode_time(av: dict[str, Any]) -> datetime:
            return datetime.fromtimestamp(int(av["N"]), UTC)

        return AttributeConverter(encode_time, decode_time, missing)
    return AttributeConverter(lambda value: {"N": str(int(value))}, lambda av: av["N"], missing)


# ---------------------------------------------------------------- compiling


def _codecs(
    owner: str, fields: Mapping[str, FieldInfo], templates: IndexTemplates
) -> dict[str, KeyCodec]:
    return {name: key_codec(fields[name].annotation, name, owner)[0] for name in templates.fields}


def _index_plan(
    meta: EntityMeta, fields: Mapping[str, FieldInfo], templates: IndexTemplates
) -> IndexPlan:
    table = meta.table
    schema = (
        table.key_schema if templates.index is None else table.index_key_schema(templates.index)
    )
    codecs = _codecs(meta.name, fields, templates)
    limits_by_role = (limits.MAX_PARTITION_KEY_BYTES, limits.MAX_SORT_KEY_BYTES)
    keys = tuple(
        compile_key(
            meta.name,
            attribute=attribute.name,
            wire_type=attribute.type,
            template=template,
            codecs=codecs,
            max_bytes=max_bytes,
        )
        for attribute, template, max_bytes in zip(
            schema, (templates.pk, templates.sk), limits_by_role, strict=False
        )
        if template is not None
    )
    return IndexPlan(templates.index, keys, templates.fields)


def compile_plan(meta: EntityMeta, fields: Mapping[str, FieldInfo]) -> EntityPlan:
    """Compile the key attributes and field converters of one entity class."""
    converters = {
        name: (
            _ttl_converter(meta.name, name, info.annotation)
            if name == meta.ttl_field
            else attribute_converter(info.annotation)
        )
        for name, info in fields.items()
    }
    return EntityPlan(
        name=meta.name,
        type_attribute=meta.table.type_attribute,
        primary=_index_plan(meta, fields, meta.primary),
        indexes={
            name: _index_plan(meta, fields, templates) for name, templates in meta.indexes.items()
        },
        encoders=tuple(
            (name, meta.attributes[name], converter.encode)
            for name, converter in converters.items()
        ),
        decoders=tuple(
            (meta.attributes[name], converter.decode, converter.missing)
            for name, converter in converters.items()
        ),
    )
