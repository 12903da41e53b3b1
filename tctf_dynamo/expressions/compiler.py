"""Compile expression values into request text against one placeholder accumulator.

Every attribute name becomes ``#n0, #n1, ...`` and every value ``:v0, :v1, ...``, shared by
all the expressions of one request: the same name or the same encoded value reuses its
placeholder. Reserved words, names with dots and names that are not identifiers therefore
need no special handling, and DynamoDB never sees an unused or undefined placeholder
(it rejects both, and rejects an empty ExpressionAttributeValues, so empty maps are left
out of the request altogether).

Output is deterministic: the same expressions in the same order give identical strings and
dicts, because placeholders are numbered in the order the walk meets them and set members
are sorted when encoded.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from tctf_dynamo import limits
from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.expressions.conditions import Condition
from tctf_dynamo.expressions.key_conditions import KeyCondition, KeyPredicate, as_key_condition
from tctf_dynamo.expressions.paths import PathLike
from tctf_dynamo.expressions.projections import Projection
from tctf_dynamo.expressions.rendering import (
    render_condition,
    render_key_condition,
    render_projection,
    render_update,
)
from tctf_dynamo.expressions.updates import Update
from tctf_dynamo.expressions.wire import canonical
from tctf_dynamo.wire import codec
from tctf_dynamo.wire.attribute_values import check_attribute_values

__all__ = [
    "Placeholders",
    "build_request_parts",
    "compile_condition",
    "compile_key_condition",
    "compile_projection",
    "compile_update",
]


def _invalid(message: str, **details: Any) -> Exception:
    return error_for(ErrorCode.INVALID_EXPRESSION, message, details)


def _freeze(encoded: Any) -> Hashable:
    if isinstance(encoded, dict):
        return tuple(sorted((name, _freeze(element)) for name, element in encoded.items()))
    if isinstance(encoded, list):
        return tuple(_freeze(element) for element in encoded)
    if isinstance(encoded, Hashable):
        return encoded
    raise TypeError(f"unexpected encoded payload {type(encoded).__name__}")


def _ordering_key(tag: str, payload: Any) -> Any:
    return Decimal(payload) if tag == "N" else payload


class Placeholders:
    """The names and values of one request; pass the same instance to every compile call."""

    def __init__(self) -> None:
        self._name_of: dict[str, str] = {}
        self._names: dict[str, str] = {}
        self._value_of: dict[Hashable, str] = {}
        self._values: dict[str, dict[str, Any]] = {}

    def name(self, name: str) -> str:
        """The placeholder of an attribute name (the same one each time it is asked)."""
        placeholder = self._name_of.get(name)
        if placeholder is None:
            placeholder = f"#n{len(self._names)}"
            self._name_of[name] = placeholder
            self._names[placeholder] = name
        return placeholder

    def _encode(self, value: Any, allowed: frozenset[str] | None, role: str) -> dict[str, Any]:
        encoded = canonical(codec.encode(value))
        tag = next(iter(encoded))
        if allowed is not None and tag not in allowed:
            raise _invalid(
                f"operand of {role or 'the expression'} has the wrong type",
                type=tag,
                allowed=sorted(allowed),
            )
        return encoded

    def _register(self, encoded: dict[str, Any]) -> str:
        key = _freeze(encoded)
        placeholder = self._value_of.get(key)
        if placeholder is None:
            placeholder = f":v{len(self._values)}"
            self._value_of[key] = placeholder
            self._values[placeholder] = encoded
        return placeholder

    def value(self, value: Any, allowed: frozenset[str] | None = None, role: str = "") -> str:
        """The placeholder of a value, deduplicated by its encoded form."""
        return self._register(self._encode(value, allowed, role))

    def bounds(self, low: Any, high: Any, allowed: frozenset[str]) -> tuple[str, str]:
        """BETWEEN bounds: one ordered type, ``low <= high`` (DynamoDB refuses otherwise)."""
        low_encoded = self._encode(low, allowed, "BETWEEN")
        high_encoded = self._encode(high, allowed, "BETWEEN")
        ((low_tag, low_payload),) = low_encoded.items()
        ((high_tag, high_payload),) = high_encoded.items()
        if low_tag != high_tag:
            raise _invalid("BETWEEN bounds must have the same type", types=[low_tag, high_tag])
        if _ordering_key(low_tag, low_payload) > _ordering_key(high_tag, high_payload):
            raise _invalid("BETWEEN needs the lower bound first")
        return self._register(low_encoded), self._register(high_encoded)

    @property
    def names(self) -> dict[str, str]:
        """``{"#n0": "status", ...}`` -- a copy, ready for ExpressionAttributeNames."""
        return dict(self._names)

    @property
    def values(self) -> dict[str, dict[str, Any]]:
        """``{":v0": {"S": "FUNDED"}, ...}`` -- a copy, ready for ExpressionAttributeValues."""
        return {key: dict(value) for key, value in self._values.items()}

    def request_parts(self) -> dict[str, Any]:
        """ExpressionAttributeNames/Values, each left out when empty."""
        parts: dict[str, Any] = {}
        if self._names:
            parts["ExpressionAttributeNames"] = self.names
        if self._values:
            parts["ExpressionAttributeValues"] = self.values
        return parts

    @contextmanager
    def _atomic(self) -> Iterator[None]:
        """A compile that fails leaves the accumulator as it was."""
        saved = (dict(self._name_of), dict(self._names), dict(self._value_of), dict(self._values))
        try:
            yield
        except BaseException:
            self._name_of, self._names, self._value_of, self._values = saved
            raise


def _within_limit(text: str, role: str) -> str:
    size = len(text.encode("utf-8"))
    if size > limits.MAX_EXPRESSION_BYTES:
        raise _invalid(
            f"{role} is too long", expression=role, size=size, limit=limits.MAX_EXPRESSION_BYTES
        )
    return text


def compile_condition(
    condition: Condition, placeholders: Placeholders, *, role: str = "ConditionExpression"
) -> str:
    """Text of a ConditionExpression or FilterExpression (``role`` names it in errors)."""
    if not isinstance(condition, Condition):
        raise _invalid("expected a condition", type=type(condition).__name__)
    with placeholders._atomic():
        return _within_limit(render_condition(condition, placeholders), role)


def compile_update(update: Update, placeholders: Placeholders) -> str:
    """Text of an UpdateExpression; an update without actions is refused."""
    if not isinstance(update, Update):
        raise _invalid("expected an Update", type=type(update).__name__)
    if update.is_empty:
        raise _invalid("an update needs at least one action")
    with placeholders._atomic():
        return _within_limit(render_update(update, placeholders), "UpdateExpression")


def _as_projection(projection: Projection | Iterable[PathLike]) -> Projection:
    if isinstance(projection, Projection):
        return projection
    if isinstance(projection, str):
        return Projection(projection)
    return Projection(*projection)


def compile_projection(
    projection: Projection | Iterable[PathLike], placeholders: Placeholders
) -> str:
    """Text of a ProjectionExpression; a plain iterable of paths is accepted too."""
    with placeholders._atomic():
        text = render_projection(_as_projection(projection), placeholders)
        return _within_limit(text, "ProjectionExpression")


def compile_key_condition(
    key_condition: KeyCondition | KeyPredicate, placeholders: Placeholders
) -> str:
    """Text of a KeyConditionExpression (partition equality, optional sort condition)."""
    condition = as_key_condition(key_condition)
    with placeholders._atomic():
        text = render_key_condition(condition, placeholders)
        return _within_limit(text, "KeyConditionExpression")


def build_request_parts(
    *,
    key_condition: KeyCondition | KeyPredicate | None = None,
    filter: Condition | None = None,
    condition: Condition | None = None,
    update: Update | None = None,
    projection: Projection | Iterable[PathLike] | None = None,
) -> dict[str, Any]:
    """The expression keys of one request, sharing one accumulator; absent ones left out."""
    placeholders = Placeholders()
    parts: dict[str, Any] = {}
    if key_condition is not None:
        parts["KeyConditionExpression"] = compile_key_condition(key_condition, placeholders)
    if filter is not None:
        parts["FilterExpression"] = compile_condition(filter, placeholders, role="FilterExpression")
    if condition is not None:
        parts["ConditionExpression"] = compile_condition(condition, placeholders)
    if update is not None:
        parts["UpdateExpression"] = compile_update(update, placeholders)
    if projection is not None:
        parts["ProjectionExpression"] = compile_projection(projection, placeholders)
    placed = placeholders.request_parts()
    values = placed.get("ExpressionAttributeValues")
    if values:
        check_attribute_values(values)  # the codec leaves Unicode validity to this check
    parts.update(placed)
    return parts
