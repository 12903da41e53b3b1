"""Per-class conversion functions generated once, when the class is defined.

An entity converts every field on every read and write, so the per-field loop of a plan
(unpack a tuple, look up the field, call its converter) is a visible share of the work on
wide items. Here the loop is unrolled into a function written for the class: one line per
field, the common string and number cases inline, every other converter called as before.
The generated code only reorders what the plan already decided; error handling stays with
the plan (on an error it re-runs its own loop, which names the field).

Generated source holds field and attribute names only as ``repr`` literals, and converters
only as names bound in the function's namespace.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["fields_decoder", "fields_encoder", "map_decoder", "map_encoder"]

Encode = Callable[[Any], Any]
Decode = Callable[[Any], Any]

_TAG_OF_DECODER: dict[Callable[[Any], Any], str] = {}
"""Decoders that read one tag and fall back to themselves otherwise (``S``, ``N``, ...)."""
_STRING_ENCODERS: set[Callable[[Any], Any]] = set()
"""Encoders that give ``{"S": value}`` for a plain ``str`` and never omit a value."""


def register_tag_decoder(decode: Decode, tag: str) -> Decode:
    """Declare that ``decode(av)`` is ``av[tag]`` whenever that tag is present."""
    _TAG_OF_DECODER[decode] = tag
    return decode


def register_string_encoder(encode: Encode) -> Encode:
    """Declare that ``encode(text)`` is ``{"S": text}`` for every plain ``str``."""
    _STRING_ENCODERS.add(encode)
    return encode


def _build(name: str, lines: list[str], namespace: dict[str, Any]) -> Any:
    exec("\n".join(lines), namespace)  # source built above from repr() literals
    return namespace[name]


def fields_encoder(
    encoders: Sequence[tuple[str, str, Encode]],
) -> Callable[[Mapping[str, Any], dict[str, Any]], None]:
    """``write(values, item)``: every non-None field's AttributeValue into ``item``."""
    namespace: dict[str, Any] = {}
    lines = ["def write(values, item):"]
    for number, (field, attribute, encode) in enumerate(encoders):
        namespace[f"e{number}"] = encode
        lines.append(f"    x = values[{field!r}]")
        lines.append("    if x is not None:")
        if encode in _STRING_ENCODERS:
            lines.append(
                f"        item[{attribute!r}] = {{'S': x}} if type(x) is str else e{number}(x)"
            )
        else:
            lines.append(f"        av = e{number}(x)")
            lines.append("        if av is not None:")
            lines.append(f"            item[{attribute!r}] = av")
    if len(lines) == 1:
        lines.append("    pass")
    return _build("write", lines, namespace)  # type: ignore[no-any-return]


def fields_decoder(
    decoders: Sequence[tuple[str, Decode, Callable[[], Any] | None]],
) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """``read(wire)``: field values by attribute name, ready for pydantic."""
    namespace: dict[str, Any] = {}
    lines = ["def read(wire):", "    data = {}", "    get = wire.get"]
    for number, (attribute, decode, missing) in enumerate(decoders):
        namespace[f"d{number}"] = decode
        lines.append(f"    av = get({attribute!r})")
        lines.append("    if av is not None:")
        lines.append(f"        data[{attribute!r}] = {_decode_expression(decode, number)}")
        if missing is not None:
            namespace[f"m{number}"] = missing
            lines.append("    else:")
            lines.append(f"        data[{attribute!r}] = m{number}()")
    lines.append("    return data")
    return _build("read", lines, namespace)  # type: ignore[no-any-return]


def _decode_expression(decode: Decode, number: int) -> str:
    tag = _TAG_OF_DECODER.get(decode)
    if tag is None:
        return f"d{number}(av)"
    return f"t if (t := av.get({tag!r})) is not None else d{number}(av)"


def map_encoder(
    model: type, fields: Sequence[tuple[str, Encode]], unhandled: type[Exception]
) -> Encode:
    """``encode(instance)``: ``{"M": {...}}`` of a model instance of exactly ``model``.

    Raises ``unhandled`` for an instance of another class (a subclass serializes as its
    declared type) or one missing a field.
    """
    namespace: dict[str, Any] = {"model": model, "Unhandled": unhandled}
    parts = []
    for number, (name, encode) in enumerate(fields):
        namespace[f"e{number}"] = encode
        value = f"(x{number} := d[{name!r}])"
        if encode in _STRING_ENCODERS:
            parts.append(
                f"{name!r}: {{'S': x{number}}} if type({value}) is str else e{number}(x{number})"
            )
        else:
            parts.append(f"{name!r}: e{number}(d[{name!r}])")
    lines = [
        "def encode(value):",
        "    if type(value) is not model:",
        "        raise Unhandled",
        "    d = value.__dict__",
        "    try:",
        f"        return {{'M': {{{', '.join(parts)}}}}}",
        "    except KeyError:",
        "        raise Unhandled from None",
    ]
    return _build("encode", lines, namespace)  # type: ignore[no-any-return]


def map_decoder(fields: Sequence[tuple[str, Decode]], fallback: Decode) -> Decode:
    """``decode(payload)``: a nested map's fields, when it holds exactly these fields with
    their usual tags; ``fallback(payload)`` for anything else (absent or extra attributes,
    NULLs, other tags)."""
    namespace: dict[str, Any] = {"fallback": fallback}
    parts = []
    for number, (name, decode) in enumerate(fields):
        namespace[f"d{number}"] = decode
        tag = _TAG_OF_DECODER.get(decode)
        parts.append(
            f"{name!r}: p[{name!r}][{tag!r}]" if tag else f"{name!r}: d{number}(p[{name!r}])"
        )
    lines = [
        "def decode(p):",
        f"    if len(p) == {len(fields)}:",
        "        try:",
        f"            return {{{', '.join(parts)}}}",
        "        except (KeyError, TypeError):",
        "            pass",
        "    return fallback(p)",
    ]
    return _build("decode", lines, namespace)  # type: ignore[no-any-return]
