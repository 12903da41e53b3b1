"""What a pydantic field annotation says about the values an expression may use with it.

Only the shapes that matter to DynamoDB are told apart: numbers (``int``, ``float`` and
``Decimal`` are interchangeable, ``bool`` is not a number), strings and what is stored as
a string (``datetime``, ``date``, ``UUID``, string enums), binaries, sets, lists, maps and
nested models. ``Optional``, ``Union``, ``Literal`` and ``Annotated`` are looked through;
anything unknown (``Any``, type variables, foreign generics) accepts everything, because a
check that cannot be sure must not refuse.
"""

from __future__ import annotations

import types
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from uuid import UUID

from pydantic import BaseModel

from tctf_dynamo.expressions.operands import is_number

__all__ = [
    "ANY",
    "accepts",
    "accepts_member",
    "accepts_prefix",
    "alternatives",
    "describe",
    "is_numeric",
    "is_set",
    "is_sized",
    "list_element",
]

ANY: Any = Any
_NONE = type(None)
_LIST_ORIGINS = (list, tuple, Sequence)
_SET_ORIGINS = (set, frozenset, AbstractSet)
_MAP_ORIGINS = (dict, Mapping)
_NUMBER_TYPES = (int, float, Decimal)
_STORED_AS_STRING = (str, datetime, date, UUID)


def alternatives(annotation: Any) -> list[Any]:
    """The members of a union (``Optional`` included), with ``Annotated`` stripped."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        flat: list[Any] = []
        for member in get_args(annotation):
            flat.extend(alternatives(member))
        return flat
    return [annotation]


def _is_unknown(member: Any) -> bool:
    if member is Any or member is object:
        return True
    origin = get_origin(member)
    if origin is None:
        return not isinstance(member, type)
    return origin not in (*_LIST_ORIGINS, *_SET_ORIGINS, *_MAP_ORIGINS, Literal)


def _class_accepts(cls: type, value: Any, exact: bool) -> bool:
    if issubclass(cls, bool):
        return isinstance(value, bool)
    if issubclass(cls, Enum):
        if isinstance(value, cls):
            return True
        return any(value == member.value for member in cls) if exact else _kind_of(cls, value)
    if issubclass(cls, _NUMBER_TYPES):
        return is_number(value)
    if issubclass(cls, str):
        return isinstance(value, str)
    if issubclass(cls, bytes | bytearray):
        return isinstance(value, bytes | bytearray | memoryview)
    if issubclass(cls, datetime):
        return isinstance(value, datetime)
    if issubclass(cls, date):
        return isinstance(value, date) and not isinstance(value, datetime)
    if issubclass(cls, BaseModel):
        return isinstance(value, cls | Mapping)
    if cls in (list, tuple):
        return isinstance(value, list | tuple)
    if cls in (set, frozenset):
        return isinstance(value, set | frozenset)
    if cls is dict:
        return isinstance(value, Mapping)
    return isinstance(value, cls)


def _kind_of(enum: type[Enum], value: Any) -> bool:
    """An enum accepts values of the kind its members hold (for ordering and prefixes)."""
    return any(type(member.value) is type(value) for member in enum)


def _literal_accepts(options: tuple[Any, ...], value: Any, exact: bool) -> bool:
    for option in options:
        if isinstance(option, bool) or isinstance(value, bool):
            if isinstance(option, bool) and isinstance(value, bool) and option == value:
                return True
            continue
        same_kind = (is_number(option) and is_number(value)) or type(option) is type(value)
        if same_kind and (not exact or option == value):
            return True
    return False


def _generic_accepts(member: Any, value: Any, exact: bool) -> bool:
    origin, args = get_origin(member), get_args(member)
    if origin in _LIST_ORIGINS:
        if not isinstance(value, list | tuple):
            return False
        element = list_element(member)
        return all(accepts(element, item, exact) for item in value)
    if origin in _SET_ORIGINS:
        if not isinstance(value, set | frozenset):
            return False
        return not args or all(accepts(args[0], item, exact) for item in value)
    if origin in _MAP_ORIGINS:
        if not isinstance(value, Mapping):
            return False
        return len(args) < 2 or all(accepts(args[1], item, exact) for item in value.values())
    return True


def accepts(annotation: Any, value: Any, exact: bool = True) -> bool:
    """Could ``value`` be stored in (``exact``) or be compared with a field of this type?

    ``exact`` also requires ``Literal`` and ``Enum`` values to be among the allowed ones.
    """
    for member in alternatives(annotation):
        if _is_unknown(member):
            return True
        if member is _NONE:
            if value is None:
                return True
            continue
        if get_origin(member) is Literal:
            if _literal_accepts(get_args(member), value, exact):
                return True
            continue
        if get_origin(member) is not None:
            if _generic_accepts(member, value, exact):
                return True
            continue
        if _class_accepts(member, value, exact):
            return True
    return False


def list_element(annotation: Any) -> Any:
    """The element type of ``list[X]``, ``tuple[X, ...]`` or ``Sequence[X]`` (``Any`` if unsaid)."""
    args = [arg for arg in get_args(annotation) if arg is not Ellipsis]
    if not args:
        return ANY
    return args[0] if len(args) == 1 else Union[tuple(args)]  # noqa: UP007


def _matches(annotation: Any, test: Any) -> bool:
    return any(_is_unknown(member) or test(member) for member in alternatives(annotation))


def _origin_or_class(member: Any) -> Any:
    return get_origin(member) or member


def is_numeric(annotation: Any) -> bool:
    return _matches(
        annotation,
        lambda m: isinstance(m, type) and issubclass(m, _NUMBER_TYPES) and not issubclass(m, bool),
    )


def is_set(annotation: Any) -> bool:
    return _matches(annotation, lambda m: _origin_or_class(m) in _SET_ORIGINS)


def is_list(annotation: Any) -> bool:
    return _matches(annotation, lambda m: _origin_or_class(m) in _LIST_ORIGINS)


def is_sized(annotation: Any) -> bool:
    """Types ``size()`` measures: strings, binaries, sets, lists, maps and models."""

    def sized(member: Any) -> bool:
        kind = _origin_or_class(member)
        if kind is Literal:
            return all(isinstance(option, str | bytes) for option in get_args(member))
        if kind in (*_LIST_ORIGINS, *_SET_ORIGINS, *_MAP_ORIGINS):
            return True
        return isinstance(kind, type) and issubclass(kind, (*_STORED_AS_STRING, bytes, BaseModel))

    return _matches(annotation, sized)


def accepts_prefix(annotation: Any, prefix: Any) -> bool:
    """``begins_with``: string-like fields (dates and UUIDs are stored as strings) take a
    ``str`` prefix, binary fields a ``bytes`` one."""
    if isinstance(prefix, bytes | bytearray):
        return _matches(annotation, lambda m: isinstance(m, type) and issubclass(m, bytes))
    if not isinstance(prefix, str):
        return False

    def string_like(member: Any) -> bool:
        if get_origin(member) is Literal:
            return all(isinstance(option, str) for option in get_args(member))
        if isinstance(member, type) and issubclass(member, Enum):
            return _kind_of(member, prefix)
        return isinstance(member, type) and issubclass(member, _STORED_AS_STRING)

    return _matches(annotation, string_like)


def accepts_member(annotation: Any, value: Any) -> bool:
    """``contains``: a substring of a string field, a member of a set or a list field."""
    for member in alternatives(annotation):
        if _is_unknown(member):
            return True
        kind = _origin_or_class(member)
        if kind in (*_SET_ORIGINS, *_LIST_ORIGINS):
            args = get_args(member)
            element = (args[0] if kind in _SET_ORIGINS else list_element(member)) if args else ANY
            if accepts(element, value, exact=False):
                return True
        elif _substring_fits(kind, value):
            return True
    return False


def _substring_fits(kind: Any, value: Any) -> bool:
    if not isinstance(kind, type):
        return False
    if issubclass(kind, str) or (issubclass(kind, Enum) and _kind_of(kind, "")):
        return isinstance(value, str)
    return issubclass(kind, bytes) and isinstance(value, bytes)


def describe(annotation: Any) -> str:
    """A short readable name for messages (``int``, ``Optional[str]``, ``list[Tag]``)."""
    while get_origin(annotation) is Annotated:  # constraints are not part of the name
        annotation = get_args(annotation)[0]
    if isinstance(annotation, type) and not get_args(annotation):
        return annotation.__name__
    return str(annotation).replace("typing.", "")
