"""Decide, from templates alone, whether two entities' keys can collide.

Every field value is treated as *any* non-empty text without ``#`` (what escaping
guarantees), so the answers are exact for string fields and safe (never missing a
collision) for typed ones. Two rules are enforced per index, between entities whose
partition key templates can produce the same value:

* **same key**: the sort key templates can produce the same text too, so one entity could
  overwrite or be read as another;
* **prefix capture**: a ``begins_with`` query on one entity's static sort key prefix (the
  text before its first field, e.g. ``SESSION#``) could return the other entity's items,
  e.g. ``SESSION#{id}`` against ``SESSION#ARCHIVED#{id}``.
"""

from __future__ import annotations

from tctf_dynamo.model.templates import DELIMITER, KeyTemplate, Segment

__all__ = ["can_produce_same_key", "prefix_captures"]


def _compatible_ends(first: Segment, second: Segment) -> bool:
    """Two field segments share a value iff their prefixes and suffixes do not conflict."""
    prefixes_fit = first.prefix.startswith(second.prefix) or second.prefix.startswith(first.prefix)
    suffixes_fit = first.suffix.endswith(second.suffix) or second.suffix.endswith(first.suffix)
    return prefixes_fit and suffixes_fit


def _literal_fits(text: str, segment: Segment) -> bool:
    """Whether the literal segment text can be produced by ``segment``."""
    if segment.field is None:
        return text == segment.prefix
    return (
        len(text) > len(segment.prefix) + len(segment.suffix)
        and text.startswith(segment.prefix)
        and text.endswith(segment.suffix)
    )


def _segments_overlap(first: Segment, second: Segment) -> bool:
    if first.field is None:
        return _literal_fits(first.prefix, second)
    if second.field is None:
        return _literal_fits(second.prefix, first)
    return _compatible_ends(first, second)


def can_produce_same_key(first: KeyTemplate | None, second: KeyTemplate | None) -> bool:
    """Whether some values make both templates format to the same text.

    ``None`` stands for an absent sort key (a hash-only table or index): two absent sort
    keys are always "the same".
    """
    if first is None or second is None:
        return first is None and second is None
    if len(first.segments) != len(second.segments):
        return False
    return all(
        _segments_overlap(a, b) for a, b in zip(first.segments, second.segments, strict=True)
    )


def _can_start_with(segment: Segment, partial: str) -> bool:
    """Whether some text produced by ``segment`` starts with ``partial`` (no ``#`` in it)."""
    if segment.field is None:
        return segment.prefix.startswith(partial)
    return segment.prefix.startswith(partial) or partial.startswith(segment.prefix)


def prefix_captures(query: KeyTemplate | None, other: KeyTemplate | None) -> bool:
    """Whether ``begins_with(query.static_prefix)`` can match a key ``other`` produces.

    Only templates with a field are queried by prefix; a fully static sort key is read by
    equality, so it captures nothing.
    """
    if query is None or other is None or query.is_static:
        return False
    *complete, partial = query.static_prefix.split(DELIMITER)
    if len(other.segments) <= len(complete):
        return False
    for text, segment in zip(complete, other.segments, strict=False):
        if not _literal_fits(text, segment):
            return False
    return _can_start_with(other.segments[len(complete)], partial)
