"""A table's design as Markdown: keys, entities, key templates and the access patterns served.

What ``tctf-dynamo describe MODULE:TABLE`` prints, for design reviews and for a README of
the data model. It reads only the definitions (``Table`` and the entities registered on
it), so it needs no backend. Access patterns are derived from the key templates:

* a primary key whose templates hold every key field gets one item;
* a sort key template with fields serves a query of one partition, in sort key order,
  with ``begins_with`` on the template's literal prefix;
* an index partition template without fields lists every item of the entity;
* entities whose partition templates have the same shape on one index share partitions:
  one query returns them together (an item collection).
"""

from __future__ import annotations

import re
from collections import defaultdict

from tctf_dynamo.model import Table
from tctf_dynamo.model.meta import EntityMeta, IndexTemplates
from tctf_dynamo.model.templates import KeyTemplate

__all__ = ["describe_table"]

_FIELD = re.compile(r"\{[^}]*\}")


def _code(text: str) -> str:
    return f"`{text}`" if text else "-"


def _fields(fields: tuple[str, ...]) -> str:
    return ", ".join(fields)


def _key_columns(table: Table) -> list[tuple[str, str, str]]:
    rows = [("table", *_attributes(table, None))]
    rows.extend((index.name, *_attributes(table, index.name)) for index in table.indexes)
    return rows


def _attributes(table: Table, index: str | None) -> tuple[str, str]:
    schema = table.key_schema if index is None else table.index_key_schema(index)
    texts = [f"{_code(attribute.name)} ({attribute.type})" for attribute in schema]
    return texts[0], texts[1] if len(texts) > 1 else "-"


def _metas(table: Table) -> list[EntityMeta]:
    metas = [entity.__entity_meta__ for entity in table.entities.values()]
    return [meta for meta in metas if meta is not None]


def _templates(meta: EntityMeta) -> list[IndexTemplates]:
    return [meta.primary, *meta.indexes.values()]


def _where(templates: IndexTemplates) -> str:
    return templates.index or "table"


def _names(table: Table, index: str | None) -> tuple[str, str]:
    schema = table.key_schema if index is None else table.index_key_schema(index)
    return schema[0].name, schema[1].name if len(schema) > 1 else ""


def _patterns(meta: EntityMeta, templates: IndexTemplates) -> list[tuple[str, str]]:
    """``(pattern, key condition)`` rows for one entity on one index."""
    pk, sk = templates.pk, templates.sk
    pk_name, sk_name = _names(meta.table, templates.index)
    pk_condition = f"{pk_name} = {_code(pk.source)}"
    name, rows = meta.name, []
    if templates.index is None:
        every = _fields(pk.fields + (sk.fields if sk else ()))
        exact = pk_condition + (f", {sk_name} = {_code(sk.source)}" if sk else "")
        rows.append((f"get one {name} by {every}", exact))
    partition = f"of one {_fields(pk.fields)}" if pk.fields else "(all of them)"
    if sk is not None and sk.fields:
        condition = pk_condition
        if sk.static_prefix:
            condition += f", {sk_name} begins with {_code(sk.static_prefix)}"
        rows.append((f"list {name} {partition}, ordered by {_fields(sk.fields)}", condition))
    elif templates.index is not None:
        verb = "find" if pk.fields else "list every"
        subject = f"{name} by {_fields(pk.fields)}" if pk.fields else name
        rows.append((f"{verb} {subject}", pk_condition))
    return rows


def _shape(template: KeyTemplate) -> str:
    return _FIELD.sub("{}", template.source)


def _collections(metas: list[EntityMeta]) -> list[tuple[str, str, str]]:
    groups: dict[tuple[str | None, str], list[IndexTemplates]] = defaultdict(list)
    names: dict[tuple[str | None, str], list[str]] = defaultdict(list)
    for meta in metas:
        for templates in _templates(meta):
            if templates.pk.fields:
                group = (templates.index, _shape(templates.pk))
                groups[group].append(templates)
                names[group].append(meta.name)
    rows = []
    for (index, shape), members in groups.items():
        if len(members) > 1:
            pk_name = _names(metas[0].table, index)[0]
            fields = _fields(members[0].pk.fields)
            pattern = f"{' and '.join(names[(index, shape)])} of one {fields}, together"
            rows.append((pattern, index or "table", f"{pk_name} = {_code(members[0].pk.source)}"))
    return rows


def describe_table(table: Table) -> str:
    """The Markdown description of ``table`` and every entity registered on it."""
    lines = [f"# Table `{table.name}`", ""]
    lines += ["| keys of | partition key | sort key |", "|---|---|---|"]
    lines += [f"| {where} | {pk} | {sk} |" for where, pk, sk in _key_columns(table)]
    lines += ["", f"Entity type attribute: {_code(table.type_attribute)}.", ""]
    metas = _metas(table)
    if not metas:
        return "\n".join([*lines, "No entity is registered on this table.", ""])
    lines += ["## Entities", ""]
    lines += ["| entity | index | partition key template | sort key template |"]
    lines += ["|---|---|---|---|"]
    for meta in metas:
        for templates in _templates(meta):
            sk = templates.sk.source if templates.sk is not None else ""
            row = (meta.name, _where(templates), _code(templates.pk.source), _code(sk))
            lines.append("| " + " | ".join(row) + " |")
    lines += ["", "## Access patterns", ""]
    lines += ["| access pattern | index | key condition |", "|---|---|---|"]
    for meta in metas:
        for templates in _templates(meta):
            for pattern, condition in _patterns(meta, templates):
                lines.append(f"| {pattern} | {_where(templates)} | {condition} |")
    for pattern, where, condition in _collections(metas):
        lines.append(f"| {pattern} | {where} | {condition} |")
    lines.append("")
    return "\n".join(lines)
