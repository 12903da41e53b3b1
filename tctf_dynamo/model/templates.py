"""Key templates: parse ``"USER#{user_id}"`` once, then format and split key text quickly.

A template is a sequence of ``#``-separated *segments*. A segment is either literal text or
holds exactly one field, optionally with literal text around it (``LINE{line_no}``). Field
values are escaped so that they never contain ``#``; splitting a key on ``#`` therefore
finds the segments again, and a value can never spill into a neighbouring segment or forge
another entity's key. That is why two fields may not share a segment (``{a}-{b}`` could not
be split back) and why every segment must be non-empty.

Escaping is percent-style and touches only the characters at or below ``%``: space,
``!``, ``"``, ``#``, ``$`` and ``%`` become ``%20`` to ``%25``. Removing ``#`` makes keys
splittable; the others keep *order*. DynamoDB compares keys as UTF-8 bytes, and after every
escaped value comes a ``#``, which now sorts below every character an escaped value can
hold, so ``("a", 2)`` sorts before ``("a b", 1)`` just as the tuples do, and a range over
the leading fields of a sort key selects exactly the tuples in that range. The escapes
themselves sort among the other characters as the originals do (``%2x`` in code order,
all below ``&``). Control characters are refused rather than escaped, and so is the empty
string, which would make a field vanish from the key. (A literal suffix after a string
field, ``{name}X``, is compared against the value's next character: ranges over such a
field are not in tuple order; separate fields with ``#`` when their order matters.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs

from tctf_dynamo import limits
from tctf_dynamo.errors import ErrorCode, error_for

__all__ = [
    "DELIMITER",
    "RESERVED_KEY_PREFIX",
    "KeyTemplate",
    "Segment",
    "escape_key_text",
    "is_plain_key_text",
    "unescape_key_text",
]

DELIMITER = "#"
ESCAPE = "%"
RESERVED_KEY_PREFIX = limits.RESERVED_KEY_PREFIX
"""Keys starting with this belong to the library itself (the circuit breaker's state)."""

_FIELD_RE = re.compile(r"\{([^{}]*)\}")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ESCAPE_RE = re.compile(r"%(..)?")
_ESCAPES = {character: f"%{ord(character):02X}" for character in ' !"#$%'}
"""Every character up to ``%``, in code order, so ``%20`` < ``%21`` < ... < ``%25``."""
_UNESCAPED = {escape[1:]: character for character, escape in _ESCAPES.items()}
_NEEDS_ESCAPE = re.compile("[" + re.escape("".join(_ESCAPES)) + "]")


def _schema_error(message: str, **details: object) -> Exception:
    return error_for(ErrorCode.INVALID_SCHEMA, message, details)


def _key_error(message: str, **details: object) -> Exception:
    return error_for(ErrorCode.INVALID_KEY, message, details)


# ---------------------------------------------------------------- escaping


def is_plain_key_text(value: str) -> bool:
    """Whether ``value`` goes into a key as it is: non-empty, printable, nothing to escape."""
    return bool(value) and value.isprintable() and _NEEDS_ESCAPE.search(value) is None


def escape_key_text(value: str, field: str = "") -> str:
    """The text of a string field inside a key: escaped to keep order, never empty."""
    if not value:
        raise _key_error(f"key field {field!r} is an empty string", field=field)
    if not value.isprintable() and _CONTROL_RE.search(value):
        raise _key_error(f"key field {field!r} contains a control character", field=field)
    if _NEEDS_ESCAPE.search(value) is None:
        return value
    return _NEEDS_ESCAPE.sub(lambda match: _ESCAPES[match.group()], value)


def unescape_key_text(text: str, field: str = "") -> str:
    """Inverse of :func:`escape_key_text`; refuses text it could not have produced."""
    if not text:
        raise _key_error(f"key segment for {field!r} is empty", field=field)
    if ESCAPE not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        replacement = _UNESCAPED.get(match.group(1) or "")
        if replacement is None:
            raise _key_error(f"key segment for {field!r} has a malformed escape", field=field)
        return replacement

    return _ESCAPE_RE.sub(replace, text)


# ---------------------------------------------------------------- templates


@attrs.frozen
class Segment:
    """One ``#``-separated part of a template: literal, or ``prefix{field}suffix``."""

    prefix: str
    field: str | None = None
    suffix: str = ""

    @property
    def literal(self) -> str:
        return self.prefix if self.field is None else f"{self.prefix}{{{self.field}}}{self.suffix}"


def _parse_segment(text: str, source: str) -> Segment:
    if not text:
        raise _schema_error(
            f"key template {source!r} has an empty segment (doubled, leading or trailing '#')",
            template=source,
        )
    matches = list(_FIELD_RE.finditer(text))
    outside = _FIELD_RE.sub("", text)
    if "{" in outside or "}" in outside:
        raise _schema_error(f"key template {source!r} has unbalanced braces", template=source)
    if not matches:
        return Segment(prefix=text)
    if len(matches) > 1:
        raise _schema_error(
            f"key template {source!r} puts two fields in one segment; separate them with '#'",
            template=source,
        )
    (match,) = matches
    name = match.group(1).strip()
    if not name:
        raise _schema_error(f"key template {source!r} has an empty field", template=source)
    if not name.isidentifier():
        raise _schema_error(
            f"key template {source!r} names a field that is not an identifier", template=source
        )
    return Segment(prefix=text[: match.start()], field=name, suffix=text[match.end() :])


@attrs.frozen
class KeyTemplate:
    """A parsed key template; ``fields`` are in the order they appear."""

    source: str
    segments: tuple[Segment, ...]
    fields: tuple[str, ...] = attrs.field(init=False, eq=False, repr=False)
    """The field names in order; read on every key built, so computed once."""

    def __attrs_post_init__(self) -> None:
        names = tuple(segment.field for segment in self.segments if segment.field is not None)
        object.__setattr__(self, "fields", names)

    @classmethod
    def parse(cls, source: str) -> KeyTemplate:
        """Parse and check a template; raises SchemaError (INVALID_SCHEMA) when malformed."""
        if not isinstance(source, str) or not source:
            raise _schema_error("a key template must be a non-empty string")
        if RESERVED_KEY_PREFIX in _FIELD_RE.sub("", source):
            raise _schema_error(
                f"key template {source!r} uses the reserved prefix {RESERVED_KEY_PREFIX!r}",
                template=source,
            )
        segments = tuple(_parse_segment(part, source) for part in source.split(DELIMITER))
        names = [segment.field for segment in segments if segment.field is not None]
        if len(set(names)) != len(names):
            raise _schema_error(f"key template {source!r} repeats a field", template=source)
        return cls(source=source, segments=segments)

    @property
    def static_prefix(self) -> str:
        """The literal text before the first field (the whole key for a static template)."""
        parts: list[str] = []
        for segment in self.segments:
            if segment.field is not None:
                parts.append(segment.prefix)
                return DELIMITER.join(parts)
            parts.append(segment.prefix)
        return DELIMITER.join(parts)

    @property
    def may_start_reserved(self) -> bool:
        """Whether a field value could make a formatted key start with the reserved prefix."""
        return not self.is_static and RESERVED_KEY_PREFIX.startswith(self.static_prefix)

    @property
    def is_static(self) -> bool:
        return all(segment.field is None for segment in self.segments)

    def format(self, texts: Mapping[str, str]) -> str:
        """Join already encoded field texts into a key (no escaping happens here)."""
        return DELIMITER.join(
            segment.prefix
            if segment.field is None
            else f"{segment.prefix}{texts[segment.field]}{segment.suffix}"
            for segment in self.segments
        )

    def prefix_through(self, texts: Mapping[str, str], count: int) -> str:
        """The key text up to the ``count``-th field, plus the literal that follows it.

        With ``count == 0`` this is :attr:`static_prefix`. The literal after the last given
        field is included up to the next field, so ``begins_with`` on the result matches
        that field's value exactly rather than every value it is a prefix of.
        """
        parts: list[str] = []
        seen = 0
        for segment in self.segments:
            if segment.field is None:
                parts.append(segment.prefix)
                continue
            if seen == count:
                parts.append(segment.prefix)
                return DELIMITER.join(parts)
            parts.append(f"{segment.prefix}{texts[segment.field]}{segment.suffix}")
            seen += 1
        return DELIMITER.join(parts)

    def split(self, key: str) -> dict[str, str] | None:
        """Encoded field texts of ``key``, or None when ``key`` does not fit this template."""
        parts = key.split(DELIMITER)
        if len(parts) != len(self.segments):
            return None
        texts: dict[str, str] = {}
        for part, segment in zip(parts, self.segments, strict=True):
            if segment.field is None:
                if part != segment.prefix:
                    return None
                continue
            end = len(part) - len(segment.suffix)
            if (
                end <= len(segment.prefix)
                or not part.startswith(segment.prefix)
                or not part.endswith(segment.suffix)
            ):
                return None
            texts[segment.field] = part[len(segment.prefix) : end]
        return texts
