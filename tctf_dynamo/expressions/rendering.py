"""Expression values -> DynamoDB expression text, through a ``Renderer``.

The same walk produces the text sent to DynamoDB (the ``Placeholders`` renderer turns every
name into ``#n`` and every value into ``:v``) and the readable ``debug()`` form (real names,
values shown with ``repr``), so the two can never disagree about structure.

Each ``value`` call states which DynamoDB types are legal in that position (``N`` around
``+``, ``S``/``B`` for ``begins_with``...); the placeholder renderer checks the encoded type,
so a bad operand fails here rather than as a ValidationException from the server.
"""

from __future__ import annotations

from typing import Any, Protocol

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
from tctf_dynamo.expressions.key_conditions import KeyCondition, KeyPredicate
from tctf_dynamo.expressions.operands import (
    Arithmetic,
    ConditionOperand,
    IfNotExists,
    ListAppend,
    SetOperand,
    SizeOf,
    Value,
)
from tctf_dynamo.expressions.paths import Path, format_segments
from tctf_dynamo.expressions.projections import Projection
from tctf_dynamo.expressions.updates import (
    AddAction,
    DeleteAction,
    RemoveAction,
    SetAction,
    Update,
    UpdateAction,
)

__all__ = [
    "ORDERED",
    "DebugRenderer",
    "Renderer",
    "render_condition",
    "render_key_condition",
    "render_projection",
    "render_update",
]

ORDERED = frozenset({"S", "N", "B"})
"""Types DynamoDB can order: the only ones legal with < <= > >= and BETWEEN."""
_NUMBER = frozenset({"N"})
_PREFIXABLE = frozenset({"S", "B"})
_SETS = frozenset({"SS", "NS", "BS"})
_ADDABLE = _SETS | _NUMBER
_LIST = frozenset({"L"})


class Renderer(Protocol):
    """Turns names and values into expression text."""

    def name(self, name: str) -> str: ...

    def value(self, value: Any, allowed: frozenset[str] | None = None, role: str = "") -> str: ...

    def bounds(self, low: Any, high: Any, allowed: frozenset[str]) -> tuple[str, str]:
        """Both BETWEEN bounds; a checking renderer verifies one type and ``low <= high``."""
        ...


class DebugRenderer:
    """Real names, ``repr`` of values (or ``?`` when ``show_values`` is false)."""

    def __init__(self, *, show_values: bool = True) -> None:
        self.show_values = show_values

    def name(self, name: str) -> str:
        return format_segments((name,))

    def value(self, value: Any, allowed: frozenset[str] | None = None, role: str = "") -> str:
        return repr(value) if self.show_values else "?"

    def bounds(self, low: Any, high: Any, allowed: frozenset[str]) -> tuple[str, str]:
        return self.value(low), self.value(high)


def render_path(path: Path, renderer: Renderer) -> str:
    parts: list[str] = []
    for position, segment in enumerate(path.segments):
        if isinstance(segment, int):
            parts.append(f"[{segment}]")
        else:
            name = renderer.name(segment)
            parts.append(name if position == 0 else f".{name}")
    return "".join(parts)


def _operand(
    operand: ConditionOperand, renderer: Renderer, allowed: frozenset[str] | None, role: str
) -> str:
    if isinstance(operand, Path):
        return render_path(operand, renderer)
    if isinstance(operand, SizeOf):
        return f"size({render_path(operand.path, renderer)})"
    return renderer.value(operand.value, allowed, role)


def _allowed_against(other: ConditionOperand, ordering: bool) -> frozenset[str] | None:
    """A value compared with size() must be a number; ordering needs an ordered type."""
    if isinstance(other, SizeOf):
        return _NUMBER
    return ORDERED if ordering else None


def _compare(node: Compare, renderer: Renderer) -> str:
    ordering = node.operator in Compare.ORDERING
    left = _operand(node.left, renderer, _allowed_against(node.right, ordering), node.operator)
    right = _operand(node.right, renderer, _allowed_against(node.left, ordering), node.operator)
    return f"{left} {node.operator} {right}"


def _between(node: Between, renderer: Renderer) -> str:
    subject = _operand(node.operand, renderer, None, "BETWEEN")
    allowed = _allowed_against(node.operand, True) or ORDERED
    if isinstance(node.low, Value) and isinstance(node.high, Value):
        low, high = renderer.bounds(node.low.value, node.high.value, allowed)
    else:
        low = _operand(node.low, renderer, allowed, "BETWEEN")
        high = _operand(node.high, renderer, allowed, "BETWEEN")
    return f"{subject} BETWEEN {low} AND {high}"


def _in(node: In, renderer: Renderer) -> str:
    subject = _operand(node.operand, renderer, None, "IN")
    allowed = _allowed_against(node.operand, False)
    options = ", ".join(_operand(value, renderer, allowed, "IN") for value in node.values)
    return f"{subject} IN ({options})"


def _nested(condition: Condition, renderer: Renderer) -> str:
    text = render_condition(condition, renderer)
    return f"({text})" if isinstance(condition, And | Or) else text


def render_condition(condition: Condition, renderer: Renderer) -> str:
    """Condition text; NOT binds tighter than AND, AND tighter than OR (parenthesized)."""
    match condition:
        case And(conditions=parts):
            return " AND ".join(_nested(part, renderer) for part in parts)
        case Or(conditions=parts):
            return " OR ".join(_nested(part, renderer) for part in parts)
        case Not(condition=inner):
            return f"NOT ({render_condition(inner, renderer)})"
        case Compare():
            return _compare(condition, renderer)
        case Between():
            return _between(condition, renderer)
        case In():
            return _in(condition, renderer)
        case BeginsWith(path=path, prefix=prefix):
            text = renderer.value(prefix.value, _PREFIXABLE, "begins_with")
            return f"begins_with({render_path(path, renderer)}, {text})"
        case Contains(path=path, operand=operand):
            return (
                f"contains({render_path(path, renderer)}, {_operand(operand, renderer, None, '')})"
            )
        case Exists(path=path):
            return f"attribute_exists({render_path(path, renderer)})"
        case NotExists(path=path):
            return f"attribute_not_exists({render_path(path, renderer)})"
        case AttributeType(path=path, type=type_tag):
            return f"attribute_type({render_path(path, renderer)}, {renderer.value(type_tag)})"
    raise TypeError(f"not a condition: {type(condition).__name__}")


def _set_operand(operand: SetOperand, renderer: Renderer, allowed: frozenset[str] | None) -> str:
    match operand:
        case Path():
            return render_path(operand, renderer)
        case Value(value=value):
            return renderer.value(value, allowed, "SET")
        case IfNotExists(path=path, default=default):
            inner = _set_operand(default, renderer, allowed)
            return f"if_not_exists({render_path(path, renderer)}, {inner})"
        case ListAppend(first=first, second=second):
            left, right = (_set_operand(side, renderer, _LIST) for side in (first, second))
            return f"list_append({left}, {right})"
        case Arithmetic(left=left, operator=operator, right=right):
            left_text = _set_operand(left, renderer, _NUMBER)
            return f"{left_text} {operator} {_set_operand(right, renderer, _NUMBER)}"
    raise TypeError(f"not an update operand: {type(operand).__name__}")


_CLAUSES = (
    ("SET", SetAction),
    ("REMOVE", RemoveAction),
    ("ADD", AddAction),
    ("DELETE", DeleteAction),
)


def _action(action: UpdateAction, renderer: Renderer) -> str:
    path = render_path(action.path, renderer)
    match action:
        case SetAction(value=value):
            return f"{path} = {_set_operand(value, renderer, None)}"
        case AddAction(value=value):
            return f"{path} {renderer.value(value.value, _ADDABLE, 'ADD')}"
        case DeleteAction(value=value):
            return f"{path} {renderer.value(value.value, _SETS, 'DELETE')}"
    return path


def render_update(update: Update, renderer: Renderer) -> str:
    """Clauses in a fixed order (SET, REMOVE, ADD, DELETE), actions in call order.

    Rendering clause by clause numbers the placeholders in the order they appear.
    """
    clauses: list[str] = []
    for verb, kind in _CLAUSES:
        actions = [
            _action(action, renderer) for action in update.actions if isinstance(action, kind)
        ]
        if actions:
            clauses.append(f"{verb} {', '.join(actions)}")
    return " ".join(clauses)


def _key_predicate(predicate: KeyPredicate, renderer: Renderer, allowed: frozenset[str]) -> str:
    name = renderer.name(predicate.name)
    values = [item.value for item in predicate.values]
    if predicate.operator == "BETWEEN":
        low, high = renderer.bounds(values[0], values[1], ORDERED)
        return f"{name} BETWEEN {low} AND {high}"
    if predicate.operator == "begins_with":
        return f"begins_with({name}, {renderer.value(values[0], _PREFIXABLE, 'begins_with')})"
    return f"{name} {predicate.operator} {renderer.value(values[0], allowed, 'key')}"


def render_key_condition(condition: KeyCondition, renderer: Renderer) -> str:
    text = _key_predicate(condition.partition, renderer, ORDERED)
    if condition.sort is None:
        return text
    return f"{text} AND {_key_predicate(condition.sort, renderer, ORDERED)}"


def render_projection(projection: Projection, renderer: Renderer) -> str:
    return ", ".join(render_path(path, renderer) for path in projection.paths)


def debug_condition(condition: Condition, *, values: bool = True) -> str:
    return render_condition(condition, DebugRenderer(show_values=values))


def debug_update(update: Update, *, values: bool = True) -> str:
    if update.is_empty:
        return "(no actions)"
    return render_update(update, DebugRenderer(show_values=values))


def debug_key_condition(condition: KeyCondition | KeyPredicate, *, values: bool = True) -> str:
    renderer = DebugRenderer(show_values=values)
    if isinstance(condition, KeyPredicate):
        return _key_predicate(condition, renderer, ORDERED)
    return render_key_condition(condition, renderer)
