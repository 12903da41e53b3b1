"""Hypothesis strategies that build valid entity instances, for users' property tests.

``entities(User)`` draws every field from its annotation and its constraints (``ge``,
``max_length``...). Key fields are drawn to stress the key layer: strings full of ``#``,
``%`` and non-ASCII letters (never empty, never control characters, which keys refuse),
time-zone-aware datetimes. Any field can be pinned or narrowed with a keyword::

    @given(entities(Session, user_id=st.just("u1")))
    def test_sessions(session): ...

Hypothesis is imported only here and in :mod:`tctf_dynamo.testing.schema_checks`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal, TypeVar, get_args, get_origin
from uuid import UUID

import annotated_types
import pydantic
from hypothesis import strategies as st

from tctf_dynamo.model.entity import Entity
from tctf_dynamo.model.fieldtypes import unwrap

__all__ = ["entities", "key_text", "value_strategy"]

E = TypeVar("E", bound=Entity)

_BOUND = 10**38 - 1
_KEY_ALPHABET = "#%ab1Z-_/ éß漢😀"


def key_text() -> st.SearchStrategy[str]:
    """Strings a key field may hold, biased towards the delimiter and escape characters."""
    printable = st.characters(exclude_categories=("Cc", "Cs"))
    return st.one_of(
        st.text(alphabet=_KEY_ALPHABET, min_size=1, max_size=12),
        st.text(alphabet=printable, min_size=1, max_size=24),
    )


def _bounds(metadata: list[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in metadata:
        for name in ("ge", "gt", "le", "lt", "min_length", "max_length"):
            value = getattr(item, name, None)
            if value is not None and isinstance(item, annotated_types.BaseMetadata):
                found[name] = value
    return found


def _int_strategy(bounds: Mapping[str, Any]) -> st.SearchStrategy[int]:
    low = bounds.get("ge", bounds["gt"] + 1 if "gt" in bounds else -_BOUND)
    high = bounds.get("le", bounds["lt"] - 1 if "lt" in bounds else _BOUND)
    return st.integers(min_value=low, max_value=high)


def _float_strategy(bounds: Mapping[str, Any]) -> st.SearchStrategy[float]:
    floats = st.floats(
        min_value=bounds.get("ge", bounds.get("gt", -1e100)),
        max_value=bounds.get("le", bounds.get("lt", 1e100)),
        exclude_min="gt" in bounds,
        exclude_max="lt" in bounds,
        allow_nan=False,
        allow_infinity=False,
    )
    return floats.filter(lambda number: number == 0 or abs(number) >= 1e-100)


def _decimal_strategy(bounds: Mapping[str, Any]) -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=bounds.get("ge", bounds.get("gt", -(10**20))),
        max_value=bounds.get("le", bounds.get("lt", 10**20)),
        places=6,
        allow_nan=False,
        allow_infinity=False,
    ).filter(
        lambda number: (
            ("gt" not in bounds or number > bounds["gt"])
            and ("lt" not in bounds or number < bounds["lt"])
        )
    )


def _text_strategy(bounds: Mapping[str, Any], key: bool) -> st.SearchStrategy[str]:
    if key:
        base = key_text()
    else:
        base = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=30)
    low, high = bounds.get("min_length", 0), bounds.get("max_length")
    if low or high is not None:
        return base.filter(lambda text: len(text) >= low and (high is None or len(text) <= high))
    return base


_ANY = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**9), 10**9) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)


def _scalar(inner: type, bounds: Mapping[str, Any], key: bool) -> st.SearchStrategy[Any] | None:
    if issubclass(inner, Enum):
        return st.sampled_from(list(inner))
    simple: dict[type, st.SearchStrategy[Any]] = {
        bool: st.booleans(),
        datetime: st.datetimes(timezones=st.just(UTC)),
        date: st.dates(),
        UUID: st.uuids(),
        bytes: st.binary(min_size=1, max_size=16),
    }
    for kind, strategy in simple.items():
        if issubclass(inner, kind):
            return strategy
    if issubclass(inner, int):
        return _int_strategy(bounds)
    if issubclass(inner, float):
        return _float_strategy(bounds)
    if issubclass(inner, Decimal):
        return _decimal_strategy(bounds)
    if issubclass(inner, str):
        return _text_strategy(bounds, key)
    return None


def _container(inner: Any, key: bool) -> st.SearchStrategy[Any] | None:
    origin, args = get_origin(inner), get_args(inner)
    if origin is list:
        return st.lists(value_strategy(args[0]), max_size=4)
    if origin in (set, frozenset):
        element = value_strategy(args[0])
        if args[0] is str:
            element = st.text(min_size=1, max_size=8)
        return st.sets(element, max_size=4).map(origin)
    if origin is dict:
        return st.dictionaries(st.text(max_size=8), value_strategy(args[1]), max_size=3)
    return None


def value_strategy(
    annotation: Any, metadata: list[Any] | None = None, *, key: bool = False
) -> st.SearchStrategy[Any]:
    """A strategy for values of ``annotation`` that the model layer can store exactly."""
    inner, optional = unwrap(annotation)
    metadata = list(metadata or [])
    if get_origin(annotation) is Annotated:
        metadata.extend(get_args(annotation)[1:])
    bounds = _bounds(metadata)
    strategy: st.SearchStrategy[Any] | None
    if inner is Any or inner is object:
        strategy = _ANY
    elif get_origin(inner) is Literal:
        strategy = st.sampled_from(get_args(inner))
    elif isinstance(inner, type) and issubclass(inner, pydantic.BaseModel):
        strategy = _model_strategy(inner)
    elif isinstance(inner, type) and get_origin(inner) is None:
        strategy = _scalar(inner, bounds, key)
    else:
        strategy = _container(inner, key)
    if strategy is None:
        strategy = st.from_type(inner)
    return st.none() | strategy if optional and not key else strategy


def _model_strategy(model: type[pydantic.BaseModel]) -> st.SearchStrategy[Any]:
    fields = {
        info.alias or name: value_strategy(info.annotation, info.metadata)
        for name, info in model.model_fields.items()
    }
    return st.fixed_dictionaries(fields).map(lambda data: model(**data))


def _valid_for(annotation: Any, metadata: list[Any]) -> Any:
    """A filter that keeps values pydantic accepts (covers constraints not modelled above)."""
    adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(
        Annotated[annotation, *metadata] if metadata else annotation
    )

    def valid(value: Any) -> bool:
        try:
            adapter.validate_python(value)
        except pydantic.ValidationError:
            return False
        return True

    return valid


def entities(entity: type[E], **overrides: Any) -> st.SearchStrategy[E]:
    """Valid instances of ``entity``; keywords pin fields (a value) or narrow them (a strategy)."""
    meta = entity.__entity_meta__
    key_fields: set[str] = set()
    primary: set[str] = set()
    if meta is not None:
        primary = set(meta.key_fields)
        for templates in meta.all_templates().values():
            key_fields |= templates.fields
    ttl = meta.ttl_field if meta is not None else None
    drawn: dict[str, st.SearchStrategy[Any]] = {}
    for name, info in entity.model_fields.items():
        attribute = info.alias or name
        if name in overrides:
            value = overrides[name]
            drawn[attribute] = value if isinstance(value, st.SearchStrategy) else st.just(value)
            continue
        strategy = value_strategy(info.annotation, info.metadata, key=name in key_fields)
        if name in key_fields and name not in primary and unwrap(info.annotation)[1]:
            strategy = st.none() | strategy  # index-only fields may be None (sparse index)
        if name == ttl:
            strategy = strategy.map(_whole_seconds)
        if info.metadata:  # constraints beyond the bounds modelled above
            strategy = strategy.filter(_valid_for(info.annotation, info.metadata))
        drawn[attribute] = strategy
    return st.fixed_dictionaries(drawn).map(lambda data: entity(**data))


def _whole_seconds(value: Any) -> Any:
    """TTL values are stored as whole epoch seconds."""
    return value.replace(microsecond=0) if isinstance(value, datetime) else value
