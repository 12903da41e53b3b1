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

__all__ = ["check_update_actions"]


def _check_value(schema: Schema, target: Path, annotation: Any, value: Any, role: str) -> None:
    """A value written whole: its kind first (clear message), then the field's own rules."""
    if not typeinfo.accepts(annotation, value, exact=True):
        raise schema.mismatch(target, annotation, role, value)
    binding_values.check_stored(schema.model, target, annotation, value, role)


def _check_source(schema: Schema, target: Path, annotation: Any, operand: SetOperand) -> None:
    """One operand of a SET value: paths must exist, values must fit the target."""
    match operand:
        case Value(value=value):
            _check_value(schema, target, annotation, value, "the SET value")
        case Path():
            source = schema.type_of(operand)
            binding_values.check_copy(schema.model, target, annotation, operand, source)
        case IfNotExists(path=path, default=default):
            source = schema.type_of(path)
            binding_values.check_copy(schema.model, target, annotation, path, source)
            _check_source(schema, target, annotation, default)
        case ListAppend(first=first, second=second):
            if not typeinfo.is_list(annotation):
                raise schema.mismatch(target, annotation, "list_append")
            binding_values.check_unbounded(schema.model, target, annotation, "list_append")
            elements = binding_values.plain_type(annotation)  # each operand is a whole list
            _check_source(schema, target, elements, first)
            _check_source(schema, target, elements, second)
        case Arithmetic(left=left, right=right):
            if not typeinfo.is_numeric(annotation):
                raise schema.mismatch(target, annotation, "+ and -")
            binding_values.check_unbounded(schema.model, target, annotation, "+ and -")
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


def check_update_actions(schema: Schema, update: Update) -> None:
    for action in update.actions:
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
