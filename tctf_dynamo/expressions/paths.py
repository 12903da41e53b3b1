"""Document paths: the address of an attribute, a map entry or a list element.

A path is kept as a tuple of segments (``str`` for names, ``int`` for list indexes), never
as text: the compiler gives every name its own placeholder, so a name may be anything
DynamoDB allows -- a reserved word, or a name holding a dot -- without escaping rules.

Two spellings are accepted:

* text, ``"address.city"``, ``"tags[0]"``, ``"a.b[2].c"``: dots separate names and
  ``[n]`` indexes a list. A name cannot hold ``.``, ``[`` or ``]`` in this form;
* a tuple, ``("weird.name", "x", 0)``: each ``str`` is one name taken literally, each
  ``int`` one list index. This is the way to reach names holding those characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

import attrs

from tctf_dynamo import limits
from tctf_dynamo.errors import ErrorCode, error_for

__all__ = ["Path", "PathLike", "as_path", "parse_path"]

Segment = str | int

_NAME = re.compile(r"[^.\[\]]+")
_INDEX = re.compile(r"\[(\d+)\]")


def _invalid(message: str, **details: Any) -> Exception:
    return error_for(ErrorCode.INVALID_EXPRESSION, message, details)


def _check_segments(segments: tuple[Segment, ...]) -> None:
    if not segments:
        raise _invalid("a document path needs at least one attribute name")
    if not isinstance(segments[0], str):
        raise _invalid("a document path must start with an attribute name")
    if len(segments) - 1 > limits.MAX_DOCUMENT_DEPTH:
        raise _invalid(
            "document path is nested too deeply",
            depth=len(segments) - 1,
            limit=limits.MAX_DOCUMENT_DEPTH,
        )
    for segment in segments:
        _check_segment(segment)


def _check_segment(segment: object) -> None:
    if isinstance(segment, bool) or not isinstance(segment, str | int):
        raise _invalid(
            "path segments must be names (str) or list indexes (int)",
            type=type(segment).__name__,
        )
    if isinstance(segment, int):
        if segment < 0:
            raise _invalid("list indexes in a document path cannot be negative")
        return
    try:
        size = len(segment.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate has no UTF-8 form
        raise _invalid("attribute name in a document path is not valid Unicode") from None
    if size == 0:
        raise _invalid("attribute names in a document path cannot be empty")
    if size > limits.MAX_ATTRIBUTE_NAME_BYTES:
        raise _invalid(
            "attribute name is too long", size=size, limit=limits.MAX_ATTRIBUTE_NAME_BYTES
        )


def _as_segments(segments: Iterable[Segment]) -> tuple[Segment, ...]:
    return tuple(segments)


@attrs.frozen
class Path:
    """An immutable, validated document path; ``str(path)`` gives its text form."""

    segments: tuple[Segment, ...] = attrs.field(converter=_as_segments)

    def __attrs_post_init__(self) -> None:
        _check_segments(self.segments)

    @property
    def top(self) -> str:
        """The top-level attribute name, the only part key schemas and ADD/DELETE can see."""
        return str(self.segments[0])

    @property
    def is_top_level(self) -> bool:
        return len(self.segments) == 1

    def overlaps(self, other: Path) -> bool:
        """True when one path is a prefix of the other (``a`` and ``a.b``, or equal paths).

        DynamoDB refuses two update actions, or two projected paths, that overlap.
        """
        shortest = min(len(self.segments), len(other.segments))
        return self.segments[:shortest] == other.segments[:shortest]

    def __str__(self) -> str:
        return format_segments(self.segments)


def format_segments(segments: tuple[Segment, ...]) -> str:
    """Readable text of a path; names that the text form cannot spell are quoted."""
    parts: list[str] = []
    for position, segment in enumerate(segments):
        if isinstance(segment, int):
            parts.append(f"[{segment}]")
            continue
        text = segment if _NAME.fullmatch(segment) else f'"{segment}"'
        parts.append(text if position == 0 else f".{text}")
    return "".join(parts)


def parse_path(text: str) -> Path:
    """Parse the text form; anything that is not ``name(.name|[n])*`` is INVALID_EXPRESSION."""
    segments: list[Segment] = []
    position = 0
    expect_name = True
    while position < len(text) or expect_name:
        if expect_name:
            match = _NAME.match(text, position)
            if match is None:
                raise _invalid("document path has an empty or malformed name", position=position)
            segments.append(match.group())
            position = match.end()
            expect_name = False
        elif text.startswith(".", position):
            position += 1
            expect_name = True
        else:
            index = _INDEX.match(text, position)
            if index is None:
                raise _invalid("document path is malformed", position=position)
            segments.append(int(index.group(1)))
            position = index.end()
    return Path(tuple(segments))


@runtime_checkable
class HasPath(Protocol):
    """Anything that names a document path (``attr("x")`` does)."""

    @property
    def path(self) -> Path: ...


PathLike = str | tuple[Segment, ...] | Path | HasPath


def as_path(value: PathLike) -> Path:
    """Accept every spelling of a path the public API takes and return a ``Path``."""
    if isinstance(value, Path):
        return value
    if isinstance(value, str):
        return parse_path(value)
    if isinstance(value, tuple):
        return Path(value)
    if isinstance(value, HasPath):
        return value.path
    raise _invalid("expected a document path", type=type(value).__name__)
