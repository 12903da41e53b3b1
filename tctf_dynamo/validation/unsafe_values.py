"""Strings that could inject script into a web page, refused under a policy.

Not a DynamoDB rule but one of ours: values stored by one user are often shown to others,
so by default the common script-injection shapes are refused before they are stored.
Kept apart from :mod:`tctf_dynamo.validation`, which re-exports every name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Set
from decimal import Decimal
from typing import Any, NoReturn

import attrs

from tctf_dynamo.errors import ErrorCode, error_for

__all__ = [
    "DEFAULT_UNSAFE_VALUE_POLICY",
    "UnsafeValuePolicy",
    "check_unsafe_values",
    "unsafe_match",
]


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

_URL_SCHEME_ENDS = frozenset("tTaA")
"""What can precede the ``:`` of a URL pattern, separators aside: the ``t`` of
``javascript:`` and ``vbscript:``, the ``a`` of ``data:`` (IGNORECASE folds no other
character to these)."""


def _may_hold_url(text: str) -> bool:
    """Whether a string without ``<`` could match a URL pattern: one of its colons
    follows (separators skipped) a ``t`` or an ``a``. Prose and timestamps
    (``care: fragile``, ``12:30:00``) fail this in a few steps, sparing the regex a
    scan of the whole string; a string that passes is searched as any other."""
    at = text.find(":")
    while at != -1:
        before = at - 1
        while before >= 0 and (text[before] < " " or text[before].isspace()):
            before -= 1
        if before >= 0 and text[before] in _URL_SCHEME_ENDS:
            return True
        at = text.find(":", at + 1)
    return False


def unsafe_match(text: str) -> re.Match[str] | None:
    """The first unsafe pattern in ``text`` (its ``lastgroup`` names it), or None."""
    if "<" in text or (":" in text and _may_hold_url(text)):
        return _UNSAFE_PATTERN.search(text)
    return None


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
            match = unsafe_match(value)
            if match is not None:
                _refuse_unsafe(match, name)
            continue
        if isinstance(value, _PLAIN_SCALARS):
            continue
        for path, text in _strings(value, name):
            match = unsafe_match(text)
            if match is not None:
                _refuse_unsafe(match, path)


def _refuse_unsafe(match: re.Match[str] | None, path: str) -> NoReturn:
    pattern = match.lastgroup if match is not None else None
    raise error_for(
        ErrorCode.UNSAFE_VALUE,
        f"attribute holds a value that could inject script ({pattern})",
        {"attribute": path, "pattern": pattern},
    )
