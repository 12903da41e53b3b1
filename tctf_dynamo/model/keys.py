"""One key attribute of one entity (``PK``, ``GSI1SK``...), compiled for fast format and parse.

The template is flattened into alternating literals and field converters, so formatting a
key from a model instance is one string concatenation per field with no lookups. String
key attributes hold the composed text; numeric key attributes (a table created with an
``N`` key) hold exactly one field and store it as a DynamoDB number.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs

from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.model.fieldtypes import KeyCodec
from tctf_dynamo.model.sortable import encode_sortable_date
from tctf_dynamo.model.templates import DELIMITER, RESERVED_KEY_PREFIX, KeyTemplate
from tctf_dynamo.wire import codec

__all__ = ["CompiledKey", "compile_key"]


def _key_error(message: str, **details: Any) -> Exception:
    return error_for(ErrorCode.INVALID_KEY, message, details)


@attrs.frozen(eq=False)
class CompiledKey:
    """Format and parse the value of one key attribute for one entity."""

    entity: str
    attribute: str
    wire_type: str
    template: KeyTemplate
    codecs: Mapping[str, KeyCodec]
    literals: tuple[str, ...]
    pieces: tuple[tuple[str, Callable[[Any], str]], ...]
    max_bytes: int
    reserved_check: bool
    """Whether a value could make the key start with the reserved prefix (checked then)."""
    formatter: Callable[[Mapping[str, Any]], str | None]
    """Key text from a model's ``__dict__`` (None when a field is None), see _formatter."""
    check_above: int
    """Texts longer than this many characters might exceed ``max_bytes`` in UTF-8."""
    kinds: tuple[tuple[str, type], ...] = ()
    """Each field and the type its codec converts without validating first: values of
    exactly these types are formatted by ``formatter`` directly."""

    @property
    def fields(self) -> tuple[str, ...]:
        return self.template.fields

    # ------------------------------------------------------------ formatting

    def _checked(self, text: str) -> str:
        if len(text) * 4 > self.max_bytes and len(text.encode()) > self.max_bytes:
            raise error_for(
                ErrorCode.KEY_TOO_LARGE,
                f"{self.entity}: key attribute {self.attribute!r} is longer than "
                f"{self.max_bytes} bytes",
                {"attribute": self.attribute, "limit": self.max_bytes},
            )
        if self.reserved_check and text.startswith(RESERVED_KEY_PREFIX):
            raise _key_error(
                f"{self.entity}: key attribute {self.attribute!r} would start with the "
                f"reserved prefix {RESERVED_KEY_PREFIX!r}",
                attribute=self.attribute,
            )
        return text

    def _wire(self, text: str) -> dict[str, Any]:
        return {self.wire_type: text}

    def from_instance(self, values: Mapping[str, Any]) -> dict[str, Any] | None:
        """The AttributeValue from a model's ``__dict__``; None if a field is None (sparse)."""
        text = self.formatter(values)
        if text is None:
            return None
        if self.reserved_check or len(text) > self.check_above:
            text = self._checked(text)
        return {self.wire_type: text}

    def texts(self, values: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, str]:
        """Key texts for ``fields`` from user-supplied values, validated by type."""
        texts: dict[str, str] = {}
        for name in fields:
            if name not in values or values[name] is None:
                raise _key_error(
                    f"{self.entity}: key field {name!r} is required for {self.attribute!r}",
                    field=name,
                    attribute=self.attribute,
                )
            texts[name] = self.codecs[name].text(values[name])
        return texts

    def format(self, values: Mapping[str, Any]) -> str:
        """The key text from user-supplied field values (missing field: INVALID_KEY)."""
        # values of exactly their codecs' types (the common case) need no validation
        text = None
        for name, kind in self.kinds:
            if type(values.get(name)) is not kind:
                break
        else:
            text = self.formatter(values)
        if text is None:
            return self._checked(self.template.format(self.texts(values, self.fields)))
        if self.reserved_check or len(text) > self.check_above:
            text = self._checked(text)
        return text

    def wire(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return self._wire(self.format(values))

    def prefix(self, values: Mapping[str, Any]) -> str:
        """``begins_with`` text through the leading fields given (see ``KeyTemplate``)."""
        count = 0
        for name in self.fields:
            if name not in values:
                break
            count += 1
        extra = set(values) - set(self.fields[:count])
        if extra:
            raise _key_error(
                f"{self.entity}: a prefix of {self.attribute!r} takes leading template fields "
                f"in order; got {sorted(extra)}",
                attribute=self.attribute,
                fields=sorted(extra),
            )
        if count and _is_day_of(
            self.codecs[self.fields[count - 1]], values[self.fields[count - 1]]
        ):
            texts = self.texts(values, self.fields[: count - 1])
            day = encode_sortable_date(values[self.fields[count - 1]])
            return self.template.prefix_through(texts, count - 1) + day
        texts = self.texts(values, self.fields[:count])
        return self.template.prefix_through(texts, count)

    # ------------------------------------------------------------ parsing

    def parse(self, av: Any) -> dict[str, Any]:
        """Field values of a key AttributeValue; INVALID_KEY when it is not this entity's."""
        text = av.get(self.wire_type) if isinstance(av, Mapping) else None
        if not isinstance(text, str):
            raise _key_error(
                f"{self.entity}: key attribute {self.attribute!r} is not of type {self.wire_type}",
                attribute=self.attribute,
            )
        if self.wire_type == "N":
            return self._parse_number(text)
        texts = self.template.split(text)
        if texts is None:
            raise _key_error(
                f"{self.entity}: key attribute {self.attribute!r} does not match the "
                f"template {self.template.source!r}",
                attribute=self.attribute,
            )
        return {name: self.codecs[name].value(texts[name]) for name in self.fields}

    def _parse_number(self, text: str) -> dict[str, Any]:
        (name,) = self.fields
        number: int | Decimal = codec.decode_number(text)
        return {name: self.codecs[name].adapter.validate_python(number)}


def _is_day_of(codec: KeyCodec, value: Any) -> bool:
    """A date given for a datetime field: the prefix then matches that whole UTC day."""
    return (
        issubclass(codec.kind, datetime)
        and isinstance(value, date)
        and not isinstance(value, datetime)
    )


def _formatter(
    literals: tuple[str, ...], pieces: tuple[tuple[str, Callable[[Any], str]], ...]
) -> Callable[[Mapping[str, Any]], str | None]:
    """A closure specialised for the number of fields: formatting is on every write."""
    if not pieces:
        constant = literals[0]
        return lambda values: constant
    if len(pieces) == 1:
        ((name, to_text),) = pieces
        head, tail = literals

        def one(values: Mapping[str, Any]) -> str | None:
            value = values[name]
            return None if value is None else head + to_text(value) + tail

        return one
    if len(pieces) == 2:
        (first, first_text), (second, second_text) = pieces
        head, middle, tail = literals

        def two(values: Mapping[str, Any]) -> str | None:
            a, b = values[first], values[second]
            if a is None or b is None:
                return None
            return head + first_text(a) + middle + second_text(b) + tail

        return two

    def many(values: Mapping[str, Any]) -> str | None:
        text = literals[0]
        for (name, to_text), literal in zip(pieces, literals[1:], strict=True):
            value = values[name]
            if value is None:
                return None
            text = text + to_text(value) + literal
        return text

    return many


def _flatten(template: KeyTemplate) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Alternating literals around the fields: ``len(literals) == len(fields) + 1``."""
    literals: list[str] = []
    fields: list[str] = []
    pending = ""
    for index, segment in enumerate(template.segments):
        if index:
            pending += DELIMITER
        pending += segment.prefix
        if segment.field is not None:
            literals.append(pending)
            fields.append(segment.field)
            pending = segment.suffix
    literals.append(pending)
    return tuple(literals), tuple(fields)


def compile_key(
    entity: str,
    *,
    attribute: str,
    wire_type: str,
    template: KeyTemplate,
    codecs: Mapping[str, KeyCodec],
    max_bytes: int,
) -> CompiledKey:
    """Compile one key attribute; numeric attributes must hold exactly one numeric field."""
    literals, fields = _flatten(template)
    pieces: list[tuple[str, Callable[[Any], str]]] = []
    for name in fields:
        to_text = codecs[name].to_text
        if wire_type == "N":
            to_text = codec.encode_number
        pieces.append((name, to_text))
    if wire_type != "S":
        numeric = len(fields) == 1 and literals == ("", "") and wire_type == "N"
        if not numeric or not issubclass(codecs[fields[0]].kind, int | Decimal | float):
            raise error_for(
                ErrorCode.INVALID_SCHEMA,
                f"{entity}: key attribute {attribute!r} has type {wire_type}; its template "
                "must be one numeric field alone, like '{n}'",
                {"entity": entity, "attribute": attribute},
            )
        codecs = {
            fields[0]: attrs.evolve(codecs[fields[0]], to_text=codec.encode_number),
        }
    return CompiledKey(
        entity=entity,
        attribute=attribute,
        wire_type=wire_type,
        template=template,
        codecs=codecs,
        literals=literals,
        pieces=tuple(pieces),
        max_bytes=max_bytes,
        reserved_check=template.may_start_reserved,
        formatter=_formatter(literals, tuple(pieces)),
        check_above=max_bytes // 4,
        kinds=tuple((name, codecs[name].kind) for name in fields),
    )
