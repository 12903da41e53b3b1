"""``check_key_schema(table)``: property-test every entity registered on a table.

Class definition already refuses templates that could collide; this runs the real
converters on generated data to confirm, for every entity:

* formatting then parsing a key (table and index keys) gives the fields back;
* two instances with different key fields never share a primary key, across all entities;
* a ``begins_with`` query on an entity's static sort key prefix never matches another
  entity's sort key in the same partition;
* for ordered key fields (numbers, datetimes, dates, bools, UUIDs; not strings, whose
  escaping and ``#`` delimiter do not preserve order), sort key order is field order.

A failure raises AssertionError describing the entities and the rule broken.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tctf_dynamo.model.entity import Entity
from tctf_dynamo.model.keys import CompiledKey
from tctf_dynamo.model.table import Table
from tctf_dynamo.testing.strategies import entities, value_strategy

__all__ = ["check_key_schema"]

_CLASHING_TEXT = st.sampled_from(["1", "a", "#", "%", "1#a", "%23", "a%", "##", "1%25"])


def check_key_schema(table: Table, max_examples: int = 100) -> None:
    """Property-test the key schema of every entity on ``table`` (AssertionError on failure)."""
    classes = list(table.entities.values())
    run_settings = settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    made = _Strategies()
    checks: list[tuple[str, Callable[[st.DataObject], None]]] = []
    for entity in classes:
        checks.append((f"{entity.__name__}: key round trip", _round_trip(made, entity)))
        checks.extend(_order_checks(made, entity))
        for other in classes:
            checks.append(
                (
                    f"{entity.__name__} vs {other.__name__}: distinct keys",
                    _distinct(made, entity, other),
                )
            )
            if other is not entity:
                checks.append(
                    (f"{entity.__name__} vs {other.__name__}: prefix", _prefix(made, entity, other))
                )
    for description, check in checks:
        test = given(st.data())(run_settings(check))
        try:
            test()
        except AssertionError as failure:
            raise AssertionError(
                f"check_key_schema({table.name!r}) failed [{description}]: {failure}"
            ) from failure


def _key_values(instance: Entity, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(instance, name) for name in fields}


class _Strategies:
    """Strategies built once per check run (building them reads every field's type)."""

    def __init__(self) -> None:
        self._plain: dict[type[Entity], st.SearchStrategy[Entity]] = {}
        self._clashing: dict[type[Entity], st.SearchStrategy[Entity]] = {}

    def plain(self, entity: type[Entity]) -> st.SearchStrategy[Entity]:
        if entity not in self._plain:
            self._plain[entity] = entities(entity)
        return self._plain[entity]

    def clashing(self, entity: type[Entity]) -> st.SearchStrategy[Entity]:
        if entity not in self._clashing:
            self._clashing[entity] = st.one_of(self.plain(entity), _clashing(entity))
        return self._clashing[entity]


def _clashing(entity: type[Entity]) -> st.SearchStrategy[Entity]:
    """Instances whose string key fields come from a tiny, delimiter-heavy pool."""
    meta = entity.__entity_meta__
    assert meta is not None
    overrides = {
        name: _CLASHING_TEXT
        for name in meta.key_fields
        if entity.model_fields[name].annotation is str
    }
    return entities(entity, **overrides)


def _round_trip(made: _Strategies, entity: type[Entity]) -> Callable[[st.DataObject], None]:
    def check(data: st.DataObject) -> None:
        instance = data.draw(made.plain(entity), label=entity.__name__)
        fields = entity.key_fields()
        parsed = entity.parse_key(instance.primary_key())
        assert parsed == _key_values(instance, fields), (
            f"{entity.__name__}: primary key parsed back to other field values"
        )
        item = instance.to_item()
        plan = entity.__entity_plan__
        assert plan is not None
        for name, index in plan.indexes.items():
            if all(key.attribute in item for key in index.keys):
                got = entity.parse_index_key(name, item)
                assert got == _key_values(instance, tuple(got)), (
                    f"{entity.__name__}: index {name!r} key parsed back to other field values"
                )

    return check


def _distinct(
    made: _Strategies, first: type[Entity], second: type[Entity]
) -> Callable[[st.DataObject], None]:
    def check(data: st.DataObject) -> None:
        one = data.draw(made.clashing(first), label=first.__name__)
        two = data.draw(made.clashing(second), label=second.__name__)
        if one.primary_key() != two.primary_key():
            return
        assert first is second, (
            f"{first.__name__} and {second.__name__} produced the same primary key"
        )
        fields = first.key_fields()
        assert _key_values(one, fields) == _key_values(two, fields), (
            f"two {first.__name__} instances with different key fields share a primary key"
        )

    return check


def _prefix(
    made: _Strategies, query: type[Entity], other: type[Entity]
) -> Callable[[st.DataObject], None]:
    def check(data: st.DataObject) -> None:
        plan = query.__entity_plan__
        assert plan is not None
        if len(plan.primary.keys) < 2 or plan.primary.keys[1].template.is_static:
            return
        one = data.draw(made.clashing(query), label=query.__name__)
        two = data.draw(made.clashing(other), label=other.__name__)
        key_one, key_two = one.primary_key(), two.primary_key()
        pk, sk = (key.attribute for key in plan.primary.keys)
        if key_one[pk] != key_two[pk]:
            return
        prefix, text = query.sk_prefix(), key_two[sk].get("S")
        assert text is None or not text.startswith(prefix), (
            f"begins_with({prefix!r}) for {query.__name__} matches a {other.__name__} sort key"
        )

    return check


def _order_checks(
    made: _Strategies, entity: type[Entity]
) -> list[tuple[str, Callable[[st.DataObject], None]]]:
    plan = entity.__entity_plan__
    assert plan is not None
    checks: list[tuple[str, Callable[[st.DataObject], None]]] = []
    for index in (plan.primary, *plan.indexes.values()):
        if len(index.keys) < 2:
            continue
        sort_key = index.keys[1]
        for field in sort_key.fields:
            if sort_key.codecs[field].ordered:
                where = index.name or "table"
                checks.append(
                    (
                        f"{entity.__name__}: {where} sort order of {field!r}",
                        _order(made, entity, sort_key, field),
                    )
                )
    return checks


def _order(
    made: _Strategies, entity: type[Entity], sort_key: CompiledKey, field: str
) -> Callable[..., None]:
    info = entity.model_fields[field]
    values = value_strategy(info.annotation, info.metadata, key=True)

    def check(data: st.DataObject) -> None:
        instance = data.draw(made.plain(entity), label=entity.__name__)
        base = {name: getattr(instance, name) for name in sort_key.fields}
        if any(value is None for value in base.values()):
            return
        low, high = data.draw(values, label="a"), data.draw(values, label="b")
        try:
            less = low < high
            more = high < low
        except TypeError:  # an unordered enum: nothing to compare
            return
        text_low = sort_key.format({**base, field: low}).encode()
        text_high = sort_key.format({**base, field: high}).encode()
        assert (text_low < text_high) == less and (text_high < text_low) == more, (
            f"{entity.__name__}: sort key order of field {field!r} differs from value order"
        )

    return check
