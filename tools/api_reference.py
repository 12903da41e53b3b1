"""Generate ``docs/api.md``, the API reference, from the public names and their docstrings.

Run ``make api-docs`` (or ``python -m tools.api_reference``) after changing a public name or
docstring; ``tests/unit/test_api_reference.py`` fails while the committed page differs
from what this script generates. Only the standard library is used: ``inspect`` reads
signatures and docstrings of what each public module lists in ``__all__``.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "docs" / "api.md"
MODULES = (
    "tctf_dynamo",
    "tctf_dynamo.batch",
    "tctf_dynamo.sync.dryrun",
    "tctf_dynamo.pagination",
    "tctf_dynamo.streams",
    "tctf_dynamo.testing",
)
"""The public modules, in page order; each documents the names of its ``__all__``."""

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_QUOTED_ANNOTATION = re.compile(r"(: |-> )'([^']*)'")


def _doc(value: Any) -> str:
    return inspect.cleandoc(value.__doc__) if getattr(value, "__doc__", None) else ""


def _own_doc(value: Any) -> str:
    """The docstring written for ``value`` itself, not one inherited from a base."""
    doc = value.__dict__.get("__doc__") if isinstance(value, type) else value.__doc__
    return inspect.cleandoc(doc) if isinstance(doc, str) else ""


def _signature(value: Any) -> str:
    try:
        text = str(inspect.signature(value))
    except (TypeError, ValueError):
        return ""
    return _QUOTED_ANNOTATION.sub(r"\1\2", _ADDRESS.sub("", text))


def _first_paragraph(doc: str) -> str:
    return doc.split("\n\n", 1)[0].replace("\n", " ") if doc else ""


def _members(cls: type) -> Iterator[tuple[str, Any]]:
    """Public attributes defined by the class itself or by its unexported library bases
    (a shell's shared core), not by pydantic or builtins."""
    seen: set[str] = set()
    for owner in cls.__mro__:
        if owner is not cls and not _unexported_library_base(owner):
            continue
        for name, member in owner.__dict__.items():
            if name.startswith("_") or name in seen:
                continue
            seen.add(name)
            yield from _member(cls, name, member)


def _unexported_library_base(owner: type) -> bool:
    import tctf_dynamo

    exported = owner.__name__ in tctf_dynamo.__all__
    return owner.__module__.startswith("tctf_dynamo") and not exported


def _member(cls: type, name: str, member: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(member, classmethod):
        yield name, getattr(cls, name)
    elif isinstance(member, staticmethod):
        yield name, member.__func__
    elif isinstance(member, property) or inspect.isfunction(member):
        yield name, member


def _class_section(qualified: str, cls: type) -> list[str]:
    lines = [f"### `{qualified}`", ""]
    if issubclass(cls, BaseException):
        lines += ["```text", f"class {cls.__name__}({cls.__base__.__name__})", "```", ""]
    else:
        signature = _signature(cls).removesuffix(" -> None")
        lines += ["```text", f"class {cls.__name__}{signature}", "```", ""]
    doc = _own_doc(cls)
    if doc:
        lines += [doc, ""]
    for name, member in _members(cls):
        if isinstance(member, property):
            lines.append(f"- `{name}` (property): {_first_paragraph(_doc(member)) or '-'}")
        else:
            summary = _first_paragraph(_doc(member)) or "-"
            lines.append(f"- `{name}{_signature(member)}`: {summary}")
    if lines[-1] != "":
        lines.append("")
    return lines


def _value_section(qualified: str, value: Any) -> list[str]:
    if inspect.isclass(value):
        return _class_section(qualified, value)
    if callable(value):
        lines = [f"### `{qualified}`", "", "```text"]
        lines += [f"def {value.__name__}{_signature(value)}", "```", ""]
        doc = _doc(value)
        return [*lines, doc, ""] if doc else lines
    if isinstance(value, set | frozenset):  # in a stable order, whatever the hash seed
        shown = f"{type(value).__name__}({{{', '.join(sorted(map(repr, value)))}}})"
    else:
        shown = _ADDRESS.sub("", repr(value))
    if len(shown) > 80:
        shown = f"<{type(value).__name__}>"
    return [f"### `{qualified}`", "", f"A constant: `{shown}`.", ""]


def _module_section(module: ModuleType, seen: set[int]) -> list[str]:
    name = module.__name__
    lines = [f"## `{name}`", ""]
    summary = _first_paragraph(_doc(module))
    if summary:
        lines += [summary, ""]
    for public in module.__all__:
        value = getattr(module, public)
        if id(value) in seen and not _is_constant(value):
            lines += [f"- `{name}.{public}`: see above.", ""]
            continue
        seen.add(id(value))
        lines += _value_section(f"{name}.{public}", value)
    return lines


def _is_constant(value: Any) -> bool:
    return isinstance(value, str | int | float | bytes | tuple | frozenset)


def generate() -> str:
    """The whole reference page."""
    lines = [
        "# API reference",
        "",
        "Generated from the docstrings by `make api-docs` (`tools/api_reference.py`); do not",
        "edit by hand. The guides explain how the pieces fit together: start at",
        "[the index](index.md).",
        "",
    ]
    lines += [f"- [`{name}`](#{name.replace('.', '')})" for name in MODULES]
    lines.append("")
    seen: set[int] = set()
    for name in MODULES:
        lines += _module_section(importlib.import_module(name), seen)
    return "\n".join(lines).rstrip("\n") + "\n"


def main() -> int:
    OUTPUT.write_text(generate(), encoding="utf-8")
    sys.stdout.write(f"wrote {OUTPUT.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
