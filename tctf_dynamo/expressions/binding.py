"""Check an expression against a pydantic model before anything is sent.

DynamoDB has no schema, so a misspelled attribute or a value of the wrong type is not an
error there: the condition is silently false, the update silently writes a stray
attribute. Binding turns both into INVALID_EXPRESSION at build time, naming the attribute
and the model (never the value).

Any pydantic v2 ``BaseModel`` class works: the attributes are its ``model_fields``, stored
under the field's serialization alias (else its alias, else its name) when ``by_alias`` is
true -- the default, matching ``model_dump(by_alias=True)`` -- and under the field name
otherwise; the layer that writes items must make the same choice. ``extra_attributes``
adds names the model does not declare but items carry (``{"PK": str, "SK": str}``, a
discriminator), with their types. Nested models and dict fields are followed into nested
paths; list fields into indexes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from tctf_dynamo.expressions import typeinfo
from tctf_dynamo.expressions.binding_updates import check_update_actions
from tctf_dynamo.expressions.conditions import (
    And,
    AttributeType,
    BeginsWith,
    Between,
    Compare,
    Condition,
    Contains,
    Exists,
    In,
    Not,
    NotExists,
    Or,
)
from tctf_dynamo.expressions.key_conditions import KeyCondition, KeyPredicate, as_key_condition
from tctf_dynamo.expressions.operands import ConditionOperand, SizeOf, Value, is_number
from tctf_dynamo.expressions.paths import Path
from tctf_dynamo.expressions.projections import Projection
from tctf_dynamo.expressions.schema import NO_EXTRA_ATTRIBUTES, Schema
from tctf_dynamo.expressions.updates import Update

__all__ = [
    "bind",
    "check_condition",
    "check_key_condition",
    "check_projection",
    "check_update",
]


def _operand_type(schema: Schema, operand: ConditionOperand) -> Any:
    if isinstance(operand, Path):
        return schema.type_of(operand)
    if isinstance(operand, SizeOf):
        annotation = schema.type_of(operand.path)
        if not typeinfo.is_sized(annotation):
            raise schema.mismatch(operand.path, annotation, "size()")
        return int
    return None


def _check_against(
    schema: Schema, subject: ConditionOperand, value: ConditionOperand, exact: bool, role: str
) -> None:
    """A value compared with a path must fit the path's type; with size(), be a number."""
    annotation = _operand_type(schema, subject)
    _operand_type(schema, value)
    if not isinstance(value, Value) or annotation is None:
        return
    if isinstance(subject, SizeOf):
        if not is_number(value.value):
            raise schema.mismatch(subject.path, int, f"the value compared with size() in {role}")
    elif isinstance(subject, Path) and not typeinfo.accepts(annotation, value.value, exact):
        raise schema.mismatch(subject, annotation, f"the value in {role}", value.value)


def _subject(operand: ConditionOperand, other: ConditionOperand) -> tuple[Any, Any]:
    return (other, operand) if isinstance(operand, Value) else (operand, other)


def _check_node(schema: Schema, condition: Condition) -> None:
    match condition:
        case And(conditions=parts) | Or(conditions=parts):
            for part in parts:
                _check_node(schema, part)
        case Not(condition=inner):
            _check_node(schema, inner)
        case Compare(left=left, operator=operator, right=right):
            subject, value = _subject(left, right)
            _check_against(schema, subject, value, operator in ("=", "<>"), operator)
        case Between(operand=operand, low=low, high=high):
            for bound in (low, high):
                _check_against(schema, operand, bound, False, "BETWEEN")
        case In(operand=operand, values=values):
            for value in values:
                _check_against(schema, operand, value, True, "IN")
        case BeginsWith(path=path, prefix=prefix):
            annotation = schema.type_of(path)
            if not typeinfo.accepts_prefix(annotation, prefix.value):
                raise schema.mismatch(path, annotation, "begins_with", prefix.value)
        case Contains(path=path, operand=operand):
            annotation = schema.type_of(path)
            if isinstance(operand, Path):
                schema.type_of(operand)
            elif not typeinfo.accepts_member(annotation, operand.value):
                raise schema.mismatch(path, annotation, "contains", operand.value)
        case Exists(path=path) | NotExists(path=path) | AttributeType(path=path):
            schema.type_of(path)
        case _:
            raise TypeError(f"not a condition: {type(condition).__name__}")


def check_condition(
    condition: Condition,
    model: type[BaseModel],
    extra_attributes: Mapping[str, Any] = NO_EXTRA_ATTRIBUTES,
    *,
    by_alias: bool = True,
) -> None:
    """Raise INVALID_EXPRESSION if ``condition`` names an attribute ``model`` does not have
    or uses a value that does not fit the attribute's declared type."""
    _check_node(Schema.of(model, extra_attributes, by_alias), condition)


def check_update(
    update: Update,
    model: type[BaseModel],
    extra_attributes: Mapping[str, Any] = NO_EXTRA_ATTRIBUTES,
    *,
    by_alias: bool = True,
) -> None:
    """Like ``check_condition`` for every action; also refuses REMOVE of a required field."""
    check_update_actions(Schema.of(model, extra_attributes, by_alias), update)


def check_projection(
    projection: Projection,
    model: type[BaseModel],
    extra_attributes: Mapping[str, Any] = NO_EXTRA_ATTRIBUTES,
    *,
    by_alias: bool = True,
) -> None:
    """Every projected path must exist in ``model`` (or ``extra_attributes``)."""
    schema = Schema.of(model, extra_attributes, by_alias)
    for path in projection.paths:
        schema.type_of(path)


def check_key_condition(
    key_condition: KeyCondition | KeyPredicate,
    model: type[BaseModel],
    extra_attributes: Mapping[str, Any] = NO_EXTRA_ATTRIBUTES,
    *,
    by_alias: bool = True,
) -> None:
    """Key names must be known (usually through ``extra_attributes``), values must fit."""
    schema = Schema.of(model, extra_attributes, by_alias)
    condition = as_key_condition(key_condition)
    for predicate in (condition.partition, condition.sort):
        if predicate is None:
            continue
        path = Path((predicate.name,))
        annotation = schema.type_of(path)
        for value in predicate.values:
            if predicate.operator == "begins_with":
                fits = typeinfo.accepts_prefix(annotation, value.value)
            else:
                fits = typeinfo.accepts(annotation, value.value, predicate.operator == "=")
            if not fits:
                raise schema.mismatch(path, annotation, f"the value in {predicate.operator}")


E = TypeVar("E", Condition, Update, Projection, KeyCondition, KeyPredicate)


def bind(
    expression: E,
    model: type[BaseModel],
    extra_attributes: Mapping[str, Any] = NO_EXTRA_ATTRIBUTES,
    *,
    by_alias: bool = True,
) -> E:
    """Check any expression against ``model`` and return it unchanged (usable inline)."""
    if isinstance(expression, Condition):
        check_condition(expression, model, extra_attributes, by_alias=by_alias)
    elif isinstance(expression, Update):
        check_update(expression, model, extra_attributes, by_alias=by_alias)
    elif isinstance(expression, Projection):
        check_projection(expression, model, extra_attributes, by_alias=by_alias)
    elif isinstance(expression, KeyCondition | KeyPredicate):
        check_key_condition(expression, model, extra_attributes, by_alias=by_alias)
    else:
        raise TypeError(f"cannot bind {type(expression).__name__}")
    return expression
