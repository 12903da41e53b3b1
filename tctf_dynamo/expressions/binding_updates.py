"""Binding checks for update actions (see ``binding`` for the rules and the why)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, get_origin

from pydantic import BaseModel

from tctf_dynamo.expressions import binding_values, typeinfo
from tctf_dynamo.expressions.operands import Arithmetic, IfNotExists, ListAppend, SetOperand, Value
from tctf_dynamo.expressions.paths import Path
from tctf_dynamo.expressions.schema import Schema, required_fields
from tctf_dynamo.expressions.updates import (
    AddAction,
    DeleteAction,
    RemoveAction,
    SetAction,
    Update,
)
from tctf_dynamo.expressions.validators import field_named, has_field_validators

__all__ = ["check_update_actions"]


def _validated(schema: Schema, path: Path) -> tuple[type[BaseModel], str] | None:
    """The model and field name ``path`` ends on, when that field has its own
    ``@field_validator`` functions (None for anything else: list elements, map
    entries, attributes no single model declares)."""
    last = path.segments[-1]
    if isinstance(last, int):
        return None
    if path.is_top_level:
        models: list[Any] = [schema.model]
    else:
        parent = schema.type_of(Path(path.segments[:-1]))
        models = [
            member
            for member in typeinfo.alternatives(parent)
            if isinstance(member, type) and issubclass(member, BaseModel)
        ]
    if len(models) != 1:
        return None
    field = field_named(models[0], last, schema.by_alias)
    if field is None or not has_field_validators(models[0], field):
        return None
    return models[0], field


def _refuse_computed(schema: Schema, target: Path, role: str) -> None:
    """A result computed inside DynamoDB never passes the field's validators."""
    if _validated(schema, target) is not None:
        raise binding_values.refuse_unvalidated(
            schema.model, target, role, "computes its result inside DynamoDB"
        )


def _check_ancestors(schema: Schema, path: Path, role: str) -> None:
    """A write inside a field changes the value that field's validators check, and
    the library never sees that whole value: refused when the field has validators."""
    for depth in range(1, len(path.segments)):
        if _validated(schema, Path(path.segments[:depth])) is not None:
            raise binding_values.refuse_unvalidated(
                schema.model, path, role, f"changes part of '{Path(path.segments[:depth])}'"
            )


def _check_value(schema: Schema, target: Path, annotation: Any, value: Any, role: str) -> None:
    """A value written whole: its kind first (clear message), then the field's own rules:
    type and constraints, then its validators."""
    if not typeinfo.accepts(annotation, value, exact=True):
        raise schema.mismatch(target, annotation, role, value)
    binding_values.check_stored(schema.model, target, annotation, value, role)
    owner = _validated(schema, target)
    if owner is not None:
        binding_values.check_field_validators(owner[0], target, owner[1], value, role)


def _check_copy(schema: Schema, target: Path, annotation: Any, source: Path) -> None:
    binding_values.check_copy(schema.model, target, annotation, source, schema.type_of(source))
    if source != target and _validated(schema, target) is not None:
        raise binding_values.refuse_unvalidated(
            schema.model, target, "a copy", f"reads '{source}' inside DynamoDB"
        )


def _check_source(schema: Schema, target: Path, annotation: Any, operand: SetOperand) -> None:
    """One operand of a SET value: paths must exist, values must fit the target."""
    match operand:
        case Value(value=value):
            _check_value(schema, target, annotation, value, "the SET value")
        case Path():
            _check_copy(schema, target, annotation, operand)
        case IfNotExists(path=path, default=default):
            _check_copy(schema, target, annotation, path)
            _check_source(schema, target, annotation, default)
        case ListAppend(first=first, second=second):
            if not typeinfo.is_list(annotation):
                raise schema.mismatch(target, annotation, "list_append")
            binding_values.check_unbounded(schema.model, target, annotation, "list_append")
            _refuse_computed(schema, target, "list_append")
            elements = binding_values.plain_type(annotation)  # each operand is a whole list
            _check_source(schema, target, elements, first)
            _check_source(schema, target, elements, second)
        case Arithmetic(left=left, right=right):
            if not typeinfo.is_numeric(annotation):
                raise schema.mismatch(target, annotation, "+ and -")
            binding_values.check_unbounded(schema.model, target, annotation, "+ and -")
            _refuse_computed(schema, target, "+ and -")
            for side in (left, right):
                _check_source(schema, target, annotation, side)


def _check_add(schema: Schema, action: AddAction) -> None:
    annotation = schema.type_of(action.path)
    value = action.value.value
    if isinstance(value, set | frozenset):
        fits = typeinfo.is_set(annotation) and typeinfo.accepts(annotation, value, exact=True)
    else:
        fits = typeinfo.is_numeric(annotation)
    if not fits:
        raise schema.mismatch(action.path, annotation, "ADD", value)
    model, path = schema.model, action.path
    _refuse_computed(schema, path, "ADD")
    if isinstance(value, set | frozenset):
        # the item may have no set yet: the members added must make a valid set alone
        binding_values.check_unbounded(model, path, annotation, "ADD", binding_values.GROWS)
        binding_values.check_stored(model, path, annotation, value, "ADD")
    else:
        binding_values.check_unbounded(model, path, annotation, "ADD")
        plain = binding_values.plain_type(annotation)
        binding_values.check_stored(model, path, plain, value, "ADD")


def _check_delete(schema: Schema, action: DeleteAction) -> None:
    annotation = schema.type_of(action.path)
    value = action.value.value
    if not (typeinfo.is_set(annotation) and typeinfo.accepts(annotation, value, exact=False)):
        raise schema.mismatch(action.path, annotation, "DELETE", value)
    model, path = schema.model, action.path
    binding_values.check_unbounded(model, path, annotation, "DELETE", binding_values.SHRINKS)
    _refuse_computed(schema, path, "DELETE")


def _check_remove(schema: Schema, action: RemoveAction) -> None:
    annotation = schema.type_of(action.path)
    if action.path.is_top_level and action.path.top in schema.required:
        raise schema.mismatch(
            action.path, schema.attributes[action.path.top], "REMOVE of a required field"
        )
    if not action.path.is_top_level and _required_in_parent(schema, action.path):
        raise schema.mismatch(action.path, annotation, "REMOVE of a required field")


def _required_in_parent(schema: Schema, path: Path) -> bool:
    """Whether ``path`` names a required field of the nested model holding it: removing
    it would leave an item its entity can no longer read."""
    last = path.segments[-1]
    if isinstance(last, int):
        return False
    parent = schema.type_of(Path(path.segments[:-1]))
    for member in typeinfo.alternatives(parent):
        is_model = isinstance(member, type) and issubclass(member, BaseModel)
        if is_model and last in required_fields(member, schema.by_alias):
            return True
    return False


def _check_container(schema: Schema, path: Path, role: str, allowed: tuple[type, ...]) -> None:
    """A SET or REMOVE of a list element or map entry may change the container's length
    (DynamoDB appends past a list's end): a bound on that length cannot be checked."""
    if path.is_top_level:
        return
    parent = schema.type_of(Path(path.segments[:-1]))
    containers = (list, tuple, Sequence, dict, Mapping)
    if any(get_origin(member) in containers for member in typeinfo.alternatives(parent)):
        binding_values.check_unbounded(schema.model, path, parent, role, allowed)


_ROLES = {SetAction: "SET", AddAction: "ADD", DeleteAction: "DELETE", RemoveAction: "REMOVE"}


def check_update_actions(schema: Schema, update: Update) -> None:
    for action in update.actions:
        _check_ancestors(schema, action.path, _ROLES[type(action)])
        if isinstance(action, SetAction):
            _check_source(schema, action.path, schema.type_of(action.path), action.value)
            _check_container(schema, action.path, "SET", binding_values.GROWS)
        elif isinstance(action, AddAction):
            _check_add(schema, action)
        elif isinstance(action, DeleteAction):
            _check_delete(schema, action)
        else:
            _check_remove(schema, action)
            _check_container(schema, action.path, "REMOVE", binding_values.SHRINKS)
