"""A model's own validators of one field (``@field_validator``), run on a value alone.

A partial update writes some fields, not a whole model, so the model cannot be
validated; but the validators pydantic attaches to one field can be. They live in the
field's core schema (``model.__pydantic_core_schema__``), wrapped around its type and
constraints; model validators wrap the model schema instead, so taking the field's
schema alone runs exactly the field's rules: type, constraints and field validators,
with the model's config. The field is validated as the only key of a typed dict, so a
validator that takes ``info`` gets ``info.field_name`` and an empty ``info.data``.

What cannot be checked this way, and what the caller is told, is decided by
:mod:`tctf_dynamo.expressions.binding_updates`: a validator that needs other fields
(reads ``info.data``) fails here with an error that is not a validation error, and the
update is refused; model validators spanning several fields are not run (documented).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic_core import SchemaValidator

from tctf_dynamo.expressions.schema import stored_name

__all__ = ["field_named", "field_validator_of", "has_field_validators", "run_field_validators"]

_VALIDATORS: dict[tuple[type[BaseModel], str], SchemaValidator] = {}


def field_named(model: type[BaseModel], stored: str, by_alias: bool) -> str | None:
    """The Python name of the field of ``model`` stored as ``stored``, if any."""
    for name, info in model.model_fields.items():
        if stored_name(name, info, by_alias) == stored:
            return name
    return None


def has_field_validators(model: type[BaseModel], field: str) -> bool:
    """Whether ``model`` declares ``@field_validator`` functions for ``field`` that run
    as part of the field's own schema (a model whose validation a plain model validator
    replaces has none: its field validators never run, on a read either)."""
    decorators = getattr(model, "__pydantic_decorators__", None)
    if decorators is None:
        return False
    declared = any(
        field in decorator.info.fields or "*" in decorator.info.fields
        for decorator in decorators.field_validators.values()
    )
    return declared and _fields_of(model.__pydantic_core_schema__) is not None


def field_validator_of(model: type[BaseModel], field: str) -> SchemaValidator:
    """A validator of ``{field: value}`` by the field's core schema (built once)."""
    key = (model, field)
    found = _VALIDATORS.get(key)
    if found is None:
        found = _VALIDATORS[key] = _build(model, field)
    return found


def _model_node(outer: Any) -> Any:
    """The ``model`` schema inside definitions and model validators, or None."""
    node = outer
    while isinstance(node, dict) and node.get("type") != "model":
        node = node.get("schema")
    return node


def _fields_of(outer: Any) -> Any:
    node = _model_node(outer)
    if node is None or node["schema"].get("type") != "model-fields":
        return None
    return node["schema"]["fields"]


def _build(model: type[BaseModel], field: str) -> SchemaValidator:
    outer: Any = model.__pydantic_core_schema__
    node = _model_node(outer)
    fields = _fields_of(outer)
    one = {
        "type": "typed-dict",
        "fields": {field: {"type": "typed-dict-field", "schema": fields[field]["schema"]}},
    }
    schema: Any = one
    if outer.get("type") == "definitions":
        schema = {"type": "definitions", "schema": one, "definitions": outer["definitions"]}
    return SchemaValidator(schema, node.get("config"))


def run_field_validators(model: type[BaseModel], field: str, value: Any) -> None:
    """Validate ``value`` by the field's own rules; pydantic's ValidationError if refused,
    any other exception as the validator raised it."""
    field_validator_of(model, field).validate_python({field: value})
