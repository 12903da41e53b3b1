"""Whether the value an update writes can be read back by the model that owns the item.

Binding checks the *kind* of a value (a number for a number field); this module checks the
value itself against everything pydantic knows about the field: its exact type (``1.5``
is no ``int``), ``Literal`` members, nested models and the constraints declared with
``Field`` or ``Annotated`` (``le``, ``max_length``, ``pattern``...). The value is checked
as it will be read back: encoded as it is sent, decoded as a read decodes it, then
validated by the field's own type, so what passes here is what a later read accepts.

Some writes compute their result inside DynamoDB, from a value the library never sees:
``ADD`` and ``+``/``-`` on a number, ``list_append``, ``ADD``/``DELETE`` of set members,
copying one attribute into another. Their operands are checked against the field's type;
when the field also carries a constraint the result could break (``le=`` under an
``ADD``, ``max_length=`` under an append), the update is refused with INVALID_EXPRESSION
before anything is sent: only a read-modify-write (``set=`` the new value, guarded by
``expected_version``) can keep such a field valid.

A field's own validators (``@field_validator``) are run on each whole value written to
it, as the entity will run them on a read (:func:`check_field_validators`). A write whose
result they cannot see (computed inside DynamoDB, copied from another attribute, or made
inside the field's value) is refused like a write a constraint could break.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

import pydantic
from annotated_types import MaxLen, MinLen
from pydantic import BaseModel

from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.expressions import typeinfo
from tctf_dynamo.expressions.paths import Path
from tctf_dynamo.expressions.validators import run_field_validators
from tctf_dynamo.wire import codec

__all__ = [
    "check_copy",
    "check_field_validators",
    "check_stored",
    "check_unbounded",
    "constraints_of",
    "plain_type",
    "refuse_unvalidated",
]

_ADAPTERS: dict[Any, pydantic.TypeAdapter[Any]] = {}
_HARMLESS = (pydantic.Strict,)
"""Metadata that no computed result can break."""


def _adapter(annotation: Any) -> pydantic.TypeAdapter[Any]:
    """One adapter per annotation, built once: building one costs far more than using it."""
    try:
        found = _ADAPTERS.get(annotation)
    except TypeError:  # an unhashable annotation: build it each time
        return pydantic.TypeAdapter(annotation)
    if found is None:
        found = _ADAPTERS[annotation] = pydantic.TypeAdapter(annotation)
    return found


def _refused(model: type[BaseModel], path: Path, message: str, **details: Any) -> Exception:
    return error_for(
        ErrorCode.INVALID_EXPRESSION,
        f"{message} ('{path}' of {model.__name__})",
        {"attribute": str(path), "model": model.__name__, **details},
    )


def check_stored(
    model: type[BaseModel], path: Path, annotation: Any, value: Any, role: str
) -> None:
    """Refuse ``value`` unless ``annotation`` validates it as a read will see it."""
    if annotation is typeinfo.ANY:
        return
    read_back = codec.decode(codec.encode(value))
    try:
        _adapter(annotation).validate_python(read_back)
    except pydantic.ValidationError as error:
        failures = error.errors(include_url=False, include_input=False, include_context=False)
        kinds = sorted({failure["type"] for failure in failures})
        raise _refused(
            model,
            path,
            f"{role} breaks the field's type or constraints ({', '.join(kinds)})",
            errors=kinds,
            value_type=type(value).__name__,
        ) from None


def constraints_of(annotation: Any) -> list[Any]:
    """The constraints declared on the field itself (not on its elements or members)."""
    found: list[Any] = []
    pending = [annotation]
    while pending:
        current = pending.pop()
        origin = get_origin(current)
        if origin is Annotated:
            found.extend(current.__metadata__)
            pending.append(get_args(current)[0])
        elif origin in (Union, types.UnionType):
            pending.extend(get_args(current))
    for item in list(found):
        if isinstance(item, pydantic.fields.FieldInfo):
            found.remove(item)
            found.extend(item.metadata)
    return [item for item in found if not _harmless(item)]


def _harmless(item: Any) -> bool:
    return isinstance(item, _HARMLESS) or (isinstance(item, MinLen) and item.min_length == 0)


def plain_type(annotation: Any) -> Any:
    """``annotation`` without the constraints of the field itself (element ones stay)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return plain_type(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return Union[tuple(plain_type(member) for member in get_args(annotation))]  # noqa: UP007
    return annotation


def check_unbounded(
    model: type[BaseModel],
    path: Path,
    annotation: Any,
    role: str,
    allowed: tuple[type, ...] = (),
) -> None:
    """Refuse a write whose result DynamoDB computes when the field has a constraint
    (other than ``allowed`` ones, which that write cannot break) the result could break."""
    binding = [item for item in constraints_of(annotation) if not isinstance(item, allowed)]
    if binding:
        names = sorted({type(item).__name__.lstrip("_") for item in binding})
        raise _refused(
            model,
            path,
            f"{role} computes its result inside DynamoDB, so the field's constraints "
            f"({', '.join(names)}) cannot be checked before the write; set the new value "
            "instead (with expected_version to guard against concurrent changes)",
            constraints=names,
        )


GROWS = (MinLen,)
"""A write that only adds members cannot break a minimum length."""
SHRINKS = (MaxLen,)
"""A write that only removes members cannot break a maximum length."""


def _nullable(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def check_copy(
    model: type[BaseModel], target: Path, annotation: Any, source: Path, source_type: Any
) -> None:
    """Copying one attribute into another (``SET a = b``): the library never sees the
    value, so the source must be declared exactly as the target is (constraints too)."""
    if target == source or annotation is typeinfo.ANY:
        return
    if source_type == annotation or _nullable(source_type) == _nullable(annotation):
        return
    raise _refused(
        model,
        target,
        f"copying '{source}' cannot be checked: it is declared "
        f"{typeinfo.describe(source_type)}, the target {typeinfo.describe(annotation)}",
        source=str(source),
    )


def check_field_validators(
    model: type[BaseModel], path: Path, field: str, value: Any, role: str
) -> None:
    """Refuse ``value`` unless ``field``'s own validators accept it as a read will see it.

    A validator that fails with anything but a validation error (most often by reading
    another field from ``info.data``, which a partial update does not have) cannot be
    run on an update: the write is refused rather than sent unchecked.
    """
    read_back = codec.decode(codec.encode(value))
    try:
        run_field_validators(model, field, read_back)
    except pydantic.ValidationError as error:
        failures = error.errors(include_url=False, include_input=False, include_context=False)
        kinds = sorted({failure["type"] for failure in failures})
        raise _refused(
            model,
            path,
            f"{role} is refused by the field's validators ({', '.join(kinds)})",
            errors=kinds,
            value_type=type(value).__name__,
        ) from None
    except Exception as error:  # any failure of a user's validator
        raise _refused(
            model,
            path,
            f"the field's validators cannot run on a partial update ({type(error).__name__}; "
            "a validator that reads other fields needs the whole entity): write it with put",
            validator_error=type(error).__name__,
        ) from None


def refuse_unvalidated(model: type[BaseModel], path: Path, role: str, why: str) -> Exception:
    """The error for a write whose result the field's validators cannot be run on."""
    return _refused(
        model,
        path,
        f"{role} {why}, so the field's validators cannot be run on it before the write; "
        "set the whole new value instead (with expected_version to guard against "
        "concurrent changes)",
        constraints=["field_validator"],
    )
