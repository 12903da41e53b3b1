"""The stored attributes of a pydantic model, and the types found along document paths."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import date
from decimal import Decimal
from enum import Enum
from types import MappingProxyType
from typing import Annotated, Any, Literal, get_args, get_origin
from uuid import UUID

import attrs
from pydantic import BaseModel

from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.expressions import typeinfo
from tctf_dynamo.expressions.paths import Path

__all__ = ["NO_EXTRA_ATTRIBUTES", "Schema", "stored_name"]

_SCALARS = (str, bytes, bytearray, int, float, Decimal, date, UUID, Enum, type(None))


def _invalid(message: str, **details: Any) -> Exception:
    return error_for(ErrorCode.INVALID_EXPRESSION, message, details)


NO_EXTRA_ATTRIBUTES: Mapping[str, Any] = MappingProxyType({})


def stored_name(name: str, info: Any, by_alias: bool) -> str:
    """The attribute name a field is stored under: serialization alias, alias, name."""
    if not by_alias:
        return name
    return str(info.serialization_alias or info.alias or name)


def _stored_fields(model: type[BaseModel], by_alias: bool) -> dict[str, Any]:
    """Each field's annotation with the constraints pydantic keeps beside it (``le=``,
    ``max_length=``) put back as ``Annotated`` metadata, so values can be checked by them."""
    return {
        stored_name(name, info, by_alias): _constrained(info.annotation, info.metadata)
        for name, info in model.model_fields.items()
    }


def _constrained(annotation: Any, metadata: list[Any]) -> Any:
    return Annotated[annotation, *metadata] if metadata else annotation


def required_fields(model: type[BaseModel], by_alias: bool) -> frozenset[str]:
    """Stored names of the fields ``model`` cannot do without."""
    return _required_fields(model, by_alias)


def _required_fields(model: type[BaseModel], by_alias: bool) -> frozenset[str]:
    return frozenset(
        stored_name(name, info, by_alias)
        for name, info in model.model_fields.items()
        if info.is_required()
    )


@attrs.frozen
class Schema:
    """The attributes of one model as stored, with their annotations."""

    model: type[BaseModel]
    attributes: Mapping[str, Any]
    required: frozenset[str]
    by_alias: bool = True

    @classmethod
    def of(
        cls, model: type[BaseModel], extra_attributes: Mapping[str, Any], by_alias: bool
    ) -> Schema:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise TypeError("binding needs a pydantic BaseModel class")
        attributes = {**_stored_fields(model, by_alias), **extra_attributes}
        return cls(model, attributes, _required_fields(model, by_alias), by_alias)

    def unknown(self, path: Path, where: str) -> Exception:
        return _invalid(
            f"'{where}' is not an attribute of {self.model.__name__}",
            attribute=str(path),
            model=self.model.__name__,
        )

    def mismatch(self, path: Path, annotation: Any, role: str, value: Any = None) -> Exception:
        return _invalid(
            f"{role} does not fit '{path}' of {self.model.__name__} "
            f"(declared {typeinfo.describe(annotation)})",
            attribute=str(path),
            model=self.model.__name__,
            value_type=type(value).__name__,
        )

    def type_of(self, path: Path) -> Any:
        """The annotation at ``path``; unknown names raise, unknown depths give ``Any``."""
        if path.top not in self.attributes:
            raise self.unknown(path, path.top)
        annotation = self.attributes[path.top]
        for depth, segment in enumerate(path.segments[1:], start=1):
            annotation = self._child(annotation, segment, path, depth)
        return annotation

    def _child(self, annotation: Any, segment: str | int, path: Path, depth: int) -> Any:
        for member in typeinfo.alternatives(annotation):
            found = self._child_of_member(member, segment)
            if found is not _NOT_HERE:
                return found
        where = str(Path(path.segments[: depth + 1]))
        if isinstance(segment, int):
            raise self.mismatch(path, annotation, f"index in '{where}'")
        raise self.unknown(path, where)

    def _child_of_member(self, member: Any, segment: str | int) -> Any:
        kind = get_origin(member) or member
        if kind is Literal:
            return _NOT_HERE
        if member is Any or not isinstance(kind, type):
            return typeinfo.ANY
        if issubclass(kind, BaseModel):
            if isinstance(segment, int):
                return _NOT_HERE
            return _stored_fields(kind, self.by_alias).get(segment, _NOT_HERE)
        if issubclass(kind, _SCALARS) or issubclass(kind, AbstractSet):
            return _NOT_HERE
        if issubclass(kind, Mapping):
            if isinstance(segment, int):
                return _NOT_HERE
            args = get_args(member)
            return args[1] if len(args) == 2 else typeinfo.ANY
        if issubclass(kind, Sequence):
            return typeinfo.list_element(member) if isinstance(segment, int) else _NOT_HERE
        return typeinfo.ANY


_NOT_HERE: Any = object()
