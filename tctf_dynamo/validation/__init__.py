"""Pure validators: each checks one DynamoDB rule (or one rule of ours) and raises a coded error.

Nothing here touches the network, so every request can be checked before it is sent and a
refusal costs no round trip. Messages name attributes, sizes and limits, never the values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

import attrs

from tctf_dynamo import limits
from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode, error_for
from tctf_dynamo.validation.item_check import checked_size
from tctf_dynamo.validation.unsafe_values import (
    DEFAULT_UNSAFE_VALUE_POLICY,
    UnsafeValuePolicy,
    check_unsafe_values,
)
from tctf_dynamo.wire.attribute_values import check_attribute_values
from tctf_dynamo.wire.codec import decode_number, encode_number, item_size

__all__ = [
    "DEFAULT_UNSAFE_VALUE_POLICY",
    "IndexSchemas",
    "KeyAttribute",
    "UnsafeValuePolicy",
    "check_unsafe_values",
    "key_validator",
    "validate_attribute_name",
    "validate_batch_size",
    "validate_client_request_token",
    "validate_count",
    "validate_index_keys",
    "validate_index_name",
    "validate_item",
    "validate_key",
    "validate_query_filter",
    "validate_segment",
    "validate_table_name",
]

_NAME = re.compile(limits.TABLE_NAME_PATTERN)


# ---------------------------------------------------------------- names


def _check_name(name: object, code: ErrorCode, what: str) -> None:
    if type(name) is str and name in _VALID_TABLE_NAMES:
        return
    length = len(name) if isinstance(name, str) else 0
    details = {
        "length": length,
        "min": limits.MIN_TABLE_NAME_LENGTH,
        "max": limits.MAX_TABLE_NAME_LENGTH,
    }
    if not isinstance(name, str) or not (
        limits.MIN_TABLE_NAME_LENGTH <= length <= limits.MAX_TABLE_NAME_LENGTH
    ):
        raise error_for(code, f"{what} must be a string of 3 to 255 characters", details)
    if not _NAME.fullmatch(name):
        raise error_for(code, f"{what} may only hold a-z, A-Z, 0-9, '_', '-' and '.'", details)
    if len(_VALID_TABLE_NAMES) < _VALID_NAMES_CAPACITY:
        _VALID_TABLE_NAMES.add(name)


_VALID_TABLE_NAMES: set[str] = set()
"""Table and index names already found valid (the same rule holds for both)."""


def validate_table_name(name: str) -> None:
    """3 to 255 characters of ``a-z A-Z 0-9 _ - .`` (INVALID_TABLE_NAME)."""
    _check_name(name, ErrorCode.INVALID_TABLE_NAME, "table name")


def validate_index_name(name: str) -> None:
    """Index names follow the table name rule (INVALID_INDEX_NAME)."""
    _check_name(name, ErrorCode.INVALID_INDEX_NAME, "index name")


def validate_attribute_name(name: str, *, key: bool = False) -> None:
    """1 to 65,535 UTF-8 bytes; 1 to 255 for key and projected attributes."""
    if type(name) is str and (name, key) in _VALID_NAMES:
        return
    _check_attribute_name(name, key)
    if len(_VALID_NAMES) < _VALID_NAMES_CAPACITY:
        _VALID_NAMES.add((name, key))


_VALID_NAMES: set[tuple[str, bool]] = set()
"""Names already found valid: items repeat the same few names, so each is checked once."""
_VALID_NAMES_CAPACITY = 10_000


def _check_attribute_name(name: str, key: bool) -> None:
    limit = limits.MAX_KEY_ATTRIBUTE_NAME_BYTES if key else limits.MAX_ATTRIBUTE_NAME_BYTES
    if not isinstance(name, str):
        raise error_for(ErrorCode.INVALID_ATTRIBUTE_NAME, "attribute names must be strings")
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        raise error_for(
            ErrorCode.INVALID_ATTRIBUTE_NAME, "attribute name is not valid Unicode"
        ) from None
    if not 1 <= size <= limit:
        raise error_for(
            ErrorCode.INVALID_ATTRIBUTE_NAME,
            f"attribute name must be 1 to {limit} bytes of UTF-8",
            {"size": size, "limit": limit, "key": key},
        )


# ---------------------------------------------------------------- keys


@attrs.frozen
class KeyAttribute:
    """One attribute of a primary key: its name and scalar type (S, N or B)."""

    name: str
    type: Literal["S", "N", "B"]


def _invalid_key(message: str, **details: Any) -> DynamoDBServiceError:
    return error_for(ErrorCode.INVALID_KEY, message, details)


def _check_schema(schema: Sequence[KeyAttribute]) -> None:
    if len(schema) not in (1, 2):
        raise error_for(
            ErrorCode.INVALID_SCHEMA,
            "a key schema is a partition key, optionally followed by a sort key",
            {"attributes": len(schema)},
        )


def _key_limit(is_partition: bool) -> int:
    return limits.MAX_PARTITION_KEY_BYTES if is_partition else limits.MAX_SORT_KEY_BYTES


def _plain_key_text(text: object, limit: int) -> bool:
    """Whether ``text`` is a valid string key value of the common kind, decided without
    an encode: ASCII text (one byte a character, so no lone surrogate) of 1 to ``limit``
    characters. Both key checks take this answer; anything else gets the full rules."""
    return type(text) is str and 0 < len(text) <= limit and text.isascii()


def _check_key_value(
    av: Any, attribute: KeyAttribute, is_partition: bool, index: str | None = None
) -> None:
    if (
        type(av) is dict
        and len(av) == 1
        and attribute.type == "S"
        and _plain_key_text(av.get("S"), _key_limit(is_partition))
    ):
        return
    role = "partition" if is_partition else "sort"
    if index is not None:
        role = f"index {index} {role}"
    if not isinstance(av, Mapping) or len(av) != 1:
        raise _invalid_key(
            "key attribute must hold exactly one typed value", attribute=attribute.name
        )
    ((actual, payload),) = av.items()
    if actual != attribute.type:
        raise _invalid_key(
            f"{role} key attribute has the wrong type",
            attribute=attribute.name,
            expected=attribute.type,
            actual=str(actual)[:8],
        )
    if actual == "N":
        try:
            encode_number(decode_number(payload))
        except (DynamoDBServiceError, AttributeError, TypeError):
            raise _invalid_key(
                f"{role} key holds an invalid number", attribute=attribute.name
            ) from None
        return  # numbers have no key size limit of their own
    if actual == "S":
        if not isinstance(payload, str):
            raise _invalid_key(f"{role} key S value must be a string", attribute=attribute.name)
        try:
            size = len(payload.encode("utf-8"))
        except UnicodeEncodeError:
            raise error_for(
                ErrorCode.INVALID_INPUT,
                f"{role} key is not valid Unicode (it holds a lone surrogate)",
                {"attribute": attribute.name},
            ) from None
    else:
        if not isinstance(payload, bytes | bytearray | memoryview):
            raise _invalid_key(f"{role} key B value must be bytes", attribute=attribute.name)
        size = memoryview(payload).nbytes
    if size == 0:
        raise _invalid_key(f"{role} key must not be empty", attribute=attribute.name)
    limit = _key_limit(is_partition)
    if size > limit:
        raise error_for(
            ErrorCode.KEY_TOO_LARGE,
            f"{role} key is {size} bytes; the limit is {limit}",
            {"attribute": attribute.name, "size": size, "limit": limit},
        )


def _check_key_attributes(
    wire: Mapping[str, Mapping[str, Any]], schema: Sequence[KeyAttribute]
) -> None:
    _check_schema(schema)
    for position, attribute in enumerate(schema):
        av = wire.get(attribute.name)
        if av is None:
            role = "partition" if position == 0 else "sort"
            raise _invalid_key(f"{role} key attribute is missing", attribute=attribute.name)
        _check_key_value(av, attribute, position == 0)


def validate_key(key: Mapping[str, Mapping[str, Any]], schema: Sequence[KeyAttribute]) -> None:
    """A wire key holds exactly the schema's attributes, typed, non-empty and within size."""
    _check_key_attributes(key, schema)
    if len(key) != len(schema):
        expected = {attribute.name for attribute in schema}
        extra = sorted(name for name in key if name not in expected)
        raise _invalid_key("key holds attributes that are not part of the key", attributes=extra)


KeyCheck = Callable[[Mapping[str, Mapping[str, Any]]], None]


def key_validator(schema: Sequence[KeyAttribute]) -> KeyCheck:
    """:func:`validate_key` for one schema, made once for a run of keys.

    When every key attribute is a string, a key that is a plain dict holding exactly
    those attributes, each a one-entry ``{"S": text}`` of plain text, is accepted in one
    step; any other key goes through :func:`validate_key` itself, so it is refused with
    the same error, at the same key (a malformed schema too: at the first key checked).
    """
    if len(schema) not in (1, 2) or any(attribute.type != "S" for attribute in schema):
        return lambda key: validate_key(key, schema)
    names = tuple(attribute.name for attribute in schema)
    sizes = tuple(_key_limit(position == 0) for position in range(len(schema)))
    plain = _plain_key_text

    if len(names) == 1:
        (partition,), (limit,) = names, sizes

        def check_one(key: Mapping[str, Mapping[str, Any]]) -> None:
            if type(key) is dict and len(key) == 1:
                value = key.get(partition)
                if type(value) is dict and len(value) == 1 and plain(value.get("S"), limit):
                    return
            validate_key(key, schema)

        return check_one

    (partition, sort), (partition_limit, sort_limit) = names, sizes

    def check_two(key: Mapping[str, Mapping[str, Any]]) -> None:
        if type(key) is dict and len(key) == 2:
            first, second = key.get(partition), key.get(sort)
            if (
                type(first) is dict
                and type(second) is dict
                and len(first) == 1
                and len(second) == 1
                and plain(first.get("S"), partition_limit)
                and plain(second.get("S"), sort_limit)
            ):
                return
        validate_key(key, schema)

    return check_two


IndexSchemas = Mapping[str, Sequence[KeyAttribute]]
"""Key attributes of each secondary index of a table, by index name."""


def validate_index_keys(item: Mapping[str, Mapping[str, Any]], indexes: IndexSchemas) -> None:
    """Index key attributes an item holds have the index's type, are not empty and fit the
    key size limits; an item without them is simply left out of that (sparse) index."""
    for name, schema in indexes.items():
        for position, attribute in enumerate(schema):
            av = item.get(attribute.name)
            if av is not None:
                _check_key_value(av, attribute, position == 0, name)


# ---------------------------------------------------------------- items and batches


def validate_item(
    item: Mapping[str, Mapping[str, Any]],
    schema: Sequence[KeyAttribute],
    policy: UnsafeValuePolicy | None = DEFAULT_UNSAFE_VALUE_POLICY,
    indexes: IndexSchemas | None = None,
) -> int:
    """Check a wire item before a put; returns its size so callers can add sizes up.

    By default strings that could inject script are refused; ``policy=None`` (or
    :meth:`UnsafeValuePolicy.disabled`) skips that check for callers storing HTML on purpose.
    ``indexes`` are the table's secondary indexes, whose key attributes are checked too.
    """
    _check_key_attributes(item, schema)
    if indexes:
        validate_index_keys(item, indexes)
    # one walk for the common shapes; None leaves every value to the rules one by one
    size = checked_size(item, policy)
    if size is None:
        check_attribute_values(item)
    key_names = {attribute.name for attribute in schema}
    for name in item:
        if (name, name in key_names) not in _VALID_NAMES:
            validate_attribute_name(name, key=name in key_names)
    if size is None:
        size = item_size(item)
    elif policy is not None:
        policy = None  # the walk found no unsafe string
    if size > limits.MAX_ITEM_SIZE_BYTES:
        raise error_for(
            ErrorCode.ITEM_TOO_LARGE,
            f"item is {size} bytes; the limit is {limits.MAX_ITEM_SIZE_BYTES}",
            {"size": size, "limit": limits.MAX_ITEM_SIZE_BYTES},
        )
    if policy is not None:
        check_unsafe_values(item, policy)
    return size


def validate_batch_size(count: int, limit: int, operation: str) -> None:
    """At most ``limit`` requests in one call.

    Zero is accepted: an empty batch is a no-op the caller completes without sending
    anything (DynamoDB itself refuses empty batches, so callers must not send them).
    """
    if count < 0 or count > limit:
        raise error_for(
            ErrorCode.BATCH_SIZE_EXCEEDED,
            f"{operation} takes at most {limit} requests; got {count}",
            {"count": count, "limit": limit, "operation": operation},
        )


def validate_client_request_token(token: object) -> None:
    """A ClientRequestToken is a string of 1 to 36 characters (INVALID_CONFIGURATION)."""
    limit = limits.MAX_CLIENT_REQUEST_TOKEN_LENGTH
    if not isinstance(token, str) or not 1 <= len(token) <= limit:
        raise error_for(
            ErrorCode.INVALID_CONFIGURATION,
            f"client_request_token must be 1 to {limit} characters",
            {"limit": limit, "argument": "client_request_token"},
        )


# ---------------------------------------------------------------- read arguments


def validate_count(value: object, argument: str, *, limit: int | None = None) -> int:
    """A limit, page size or segment count: an int from 1 (to ``limit``), never a float or
    a string that DynamoDB would refuse as ``Limit`` (INVALID_INPUT)."""
    if type(value) is not int and (isinstance(value, bool) or not isinstance(value, int)):
        raise error_for(
            ErrorCode.INVALID_INPUT,
            f"{argument} must be an int",
            {"argument": argument, "type": type(value).__name__},
        )
    if value < 1 or (limit is not None and value > limit):
        bound = f"1 to {limit}" if limit is not None else "at least 1"
        raise error_for(
            ErrorCode.INVALID_INPUT,
            f"{argument} must be {bound}",
            {"argument": argument, "value": int(value), "limit": limit},
        )
    return int(value)


def validate_segment(segment: object) -> tuple[int, int]:
    """``(segment, total_segments)`` of a parallel scan: ``0 <= segment < total``, and at
    most 1,000,000 segments (INVALID_INPUT)."""
    if not isinstance(segment, tuple | list) or len(segment) != 2:
        raise error_for(
            ErrorCode.INVALID_INPUT,
            "segment must be a (segment, total_segments) pair",
            {"argument": "segment"},
        )
    index, total = segment
    total = validate_count(total, "total_segments", limit=limits.MAX_PARALLEL_SCAN_SEGMENTS)
    if type(index) is not int or not 0 <= index < total:
        raise error_for(
            ErrorCode.INVALID_INPUT,
            "segment must be an int from 0 to total_segments - 1",
            {"argument": "segment", "total_segments": total},
        )
    return index, total


_PATH_HEAD = re.compile(r"(?<![.\w#:])(#?[A-Za-z_]\w*)(?!\w|\s*\()")
_KEYWORDS = frozenset({"AND", "OR", "NOT", "BETWEEN", "IN"})


def validate_query_filter(request: Mapping[str, Any], key_names: Iterable[str]) -> None:
    """A Query's filter may not use the key attributes of the table or index it reads
    (INVALID_EXPRESSION): they belong in the key condition. A Scan may filter on them."""
    expression = request.get("FilterExpression")
    if not expression:
        return
    names = request.get("ExpressionAttributeNames", {})
    keys = set(key_names)
    for token in _PATH_HEAD.findall(expression):
        if token.upper() in _KEYWORDS:
            continue
        head = names.get(token, token)
        if head in keys:
            raise error_for(
                ErrorCode.INVALID_EXPRESSION,
                "a Query filter cannot use a key attribute of the table or index it reads; "
                "put the condition in the key condition (or scan)",
                {"attribute": head},
            )
