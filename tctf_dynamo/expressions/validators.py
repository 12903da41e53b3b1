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
    """Whether ``model`` declares ``@field_validator`` functions for ``field``."""
    decorators = getattr(model, "__pydantic_decorators__", None)
    if decorators is None:
        return False
    return any(
        field in decorator.info.fields or "*" in decorator.info.fields
        for decorator in decorators.field_validators.values()
    )


def field_validator_of(model: type[BaseModel], field: str) -> SchemaValidator:
    """A validator of ``{field: value}`` by the field's core schema (built once)."""
    key = (model, field)
    found = _VALIDATORS.get(key)
    if found is None:
        found = _VALIDATORS[key] = _build(model, field)
    return found


def _build(model: type[BaseModel], field: str) -> SchemaValidator:
    outer: Any = model.__pydantic_core_schema__
    node = outer
    while node.get("type") != "model":  # definitions, model validators around the model
        node = node["schema"]
    fields = node["schema"]["fields"]
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
