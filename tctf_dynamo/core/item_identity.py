"""Which item a key addresses: the one rule every path uses to tell two items apart.

DynamoDB compares key numbers by value (``1`` and ``1.0`` are one key) and binaries by
their bytes. Batches remove duplicates and match unprocessed work back by this identity;
transactions and units of work refuse two actions on one item by it. Having one function
for all of them means none can see two items where DynamoDB sees one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from tctf_dynamo.validation import KeyAttribute
from tctf_dynamo.wire.codec import decode_number, encode_number

__all__ = ["Identity", "IdentityOf", "WireItem", "identity_function", "item_identity"]

WireItem = Mapping[str, Mapping[str, Any]]
Identity = tuple[Any, ...]
"""``(table, key value, ...)``, partition key first."""
IdentityOf = Callable[[WireItem], Identity]


def identity_function(table: str, schema: Sequence[KeyAttribute]) -> IdentityOf:
    """A function giving ``(table, key values...)`` of a wire item or key of ``table``.

    Numbers are brought to canonical text and binaries to ``bytes``; the all-string
    schemas of most single-table designs take a fast path with no per-attribute dispatch.
    The item or key must hold the schema's attributes (validated keys always do).
    """
    names = tuple((attribute.name, attribute.type) for attribute in schema)
    if all(kind == "S" for _, kind in names):
        if len(names) == 2:
            partition, sort = names[0][0], names[1][0]
            return lambda wire: (table, wire[partition]["S"], wire[sort]["S"])
        partition = names[0][0]
        return lambda wire: (table, wire[partition]["S"])
    return partial(_generic_identity, table, names)


def _generic_identity(table: str, names: tuple[tuple[str, str], ...], wire: WireItem) -> Identity:
    parts: list[Any] = [table]
    for name, kind in names:
        payload = wire[name][kind]
        if kind == "N":
            payload = encode_number(decode_number(payload))
        elif kind == "B":
            payload = bytes(payload)
        parts.append(payload)
    return tuple(parts)


def item_identity(table: str, schema: Sequence[KeyAttribute], wire: WireItem) -> Identity:
    """The identity of one wire item or key (see :func:`identity_function`)."""
    return identity_function(table, schema)(wire)
