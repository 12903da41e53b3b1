"""Pure validators: each checks one DynamoDB rule (or one rule of ours) and raises a coded error.

Nothing here touches the network, so every request can be checked before it is sent and a
refusal costs no round trip. Messages name attributes, sizes and limits, never the values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from decimal import Decimal
from typing import Any, Literal, NoReturn

import attrs

from tctf_dynamo import limits
from tctf_dynamo.codec import decode_number, encode_number, item_size
from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode, error_for

__all__ = [
    "DEFAULT_UNSAFE_VALUE_POLICY",
    "KeyAttribute",
    "UnsafeValuePolicy",
    "check_unsafe_values",
    "validate_attribute_name",
    "validate_batch_size",
    "validate_index_name",
    "validate_item",
    "validate_key",
    "validate_table_name",
]

_NAME = re.compile(limits.TABLE_NAME_PATTERN)
_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f]")


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


def _check_key_value(av: Any, attribute: KeyAttribute, is_partition: bool) -> None:
    if type(av) is dict and len(av) == 1 and attribute.type == "S":
        text = av.get("S")
        # the common case, decided without a regex or an encode: printable ASCII text
        if type(text) is str and text.isascii() and text.isprintable():
            limit = limits.MAX_PARTITION_KEY_BYTES if is_partition else limits.MAX_SORT_KEY_BYTES
            if 0 < len(text) <= limit:
                return
    role = "partition" if is_partition else "sort"
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
        if _CONTROL_CHARACTER.search(payload):
            raise _invalid_key(f"{role} key holds a control character", attribute=attribute.name)
        size = len(payload.encode("utf-8", "surrogatepass"))
    else:
        if not isinstance(payload, bytes | bytearray | memoryview):
            raise _invalid_key(f"{role} key B value must be bytes", attribute=attribute.name)
        size = memoryview(payload).nbytes
    if size == 0:
        raise _invalid_key(f"{role} key must not be empty", attribute=attribute.name)
    limit = limits.MAX_PARTITION_KEY_BYTES if is_partition else limits.MAX_SORT_KEY_BYTES
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


# ---------------------------------------------------------------- unsafe values

_SEPARATORS = r"[\s\x00-\x1f]*"
_UNSAFE_PATTERN = re.compile(
    # the lookahead lets the engine skip to candidate characters instead of trying
    # every branch at every position (about 5x faster on long strings)
    r"(?=[<jvd])(?:"
    + "|".join(
        (
            r"(?P<script_tag><\s*script\b)",
            r"(?P<iframe_tag><\s*iframe\b)",
            "(?P<javascript_url>" + _SEPARATORS.join("javascript:") + ")",
            "(?P<vbscript_url>" + _SEPARATORS.join("vbscript:") + ")",
            r"(?P<data_html_url>data\s*:\s*text/html)",
            # an on...= attribute inside a tag: <img src=x onerror=...>, never prose
            r"""(?P<event_handler><[a-z!/][^<>]*?[\s/"']on[a-z]+\s*=)""",
        )
    )
    + ")",
    re.IGNORECASE,
)
"""Every pattern needs a ``<`` or a ``:``; strings holding neither skip the regex."""


def _names(names: Iterable[str]) -> frozenset[str]:
    return frozenset(names)


@attrs.frozen
class UnsafeValuePolicy:
    """Whether strings that could inject script into a web page are refused.

    ``allowed_attributes`` names top-level attributes that may hold HTML on purpose.
    """

    enabled: bool = True
    allowed_attributes: frozenset[str] = attrs.field(default=frozenset(), converter=_names)

    @classmethod
    def disabled(cls) -> UnsafeValuePolicy:
        """A policy that accepts every string."""
        return cls(enabled=False)

    def check(self, item: Mapping[str, Any]) -> None:
        """Raise UNSAFE_VALUE for the first unsafe string in ``item`` (wire or Python form)."""
        check_unsafe_values(item, self)


DEFAULT_UNSAFE_VALUE_POLICY = UnsafeValuePolicy()

_WIRE_TAGS = frozenset({"S", "N", "B", "BOOL", "NULL", "L", "M", "SS", "NS", "BS"})
_SCALAR_TAGS = frozenset({"N", "B", "BOOL", "NULL", "NS", "BS"})
_PLAIN_SCALARS = (int, float, Decimal, bytes, bytearray, type(None))


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string nested in ``value`` with its path; wire type tags add no path segment."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        if len(value) == 1:
            ((tag, inner),) = value.items()
            if tag in _WIRE_TAGS:
                yield from _strings(inner, path)
                return
        for key, element in value.items():
            yield from _strings(element, f"{path}.{key}")
    elif isinstance(value, list | tuple | Set):
        for index, element in enumerate(value):
            yield from _strings(element, f"{path}[{index}]")


def check_unsafe_values(item: Mapping[str, Any], policy: UnsafeValuePolicy) -> None:
    """Raise UNSAFE_VALUE naming the attribute path and the pattern found."""
    if not policy.enabled:
        return
    search = _UNSAFE_PATTERN.search
    for name, attribute_value in item.items():
        if name in policy.allowed_attributes:
            continue
        value = attribute_value
        # fast paths for the common shapes: a wire string, a plain string, a scalar
        if type(value) is dict and len(value) == 1:
            text = value.get("S")
            if text is not None:
                value = text
            elif not _SCALAR_TAGS.isdisjoint(value):
                continue
        if type(value) is str:
            if ("<" in value or ":" in value) and search(value) is not None:
                _refuse_unsafe(search(value), name)
            continue
        if isinstance(value, _PLAIN_SCALARS):
            continue
        for path, text in _strings(value, name):
            if "<" not in text and ":" not in text:
                continue
            match = search(text)
            if match is not None:
                _refuse_unsafe(match, path)


def _refuse_unsafe(match: re.Match[str] | None, path: str) -> NoReturn:
    pattern = match.lastgroup if match is not None else None
    raise error_for(
        ErrorCode.UNSAFE_VALUE,
        f"attribute holds a value that could inject script ({pattern})",
        {"attribute": path, "pattern": pattern},
    )


# ---------------------------------------------------------------- items and batches


def validate_item(
    item: Mapping[str, Mapping[str, Any]],
    schema: Sequence[KeyAttribute],
    policy: UnsafeValuePolicy | None = DEFAULT_UNSAFE_VALUE_POLICY,
) -> int:
    """Check a wire item before a put; returns its size so callers can add sizes up.

    By default strings that could inject script are refused; ``policy=None`` (or
    :meth:`UnsafeValuePolicy.disabled`) skips that check for callers storing HTML on purpose.
    """
    _check_key_attributes(item, schema)
    key_names = {attribute.name for attribute in schema}
    for name in item:
        if (name, name in key_names) not in _VALID_NAMES:
            validate_attribute_name(name, key=name in key_names)
    size = item_size(item)
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
