"""Look at a field's annotation once and choose how its values are converted.

Two kinds of converters come out of here, both chosen when the class is defined so that no
call pays for reflection:

* key codecs turn a key field's value into key text and back (strings escaped, numbers,
  dates, bools, UUIDs and enums in their order-preserving form);
* attribute converters turn a field's value into its AttributeValue and back. Scalars get
  small specialised functions; containers of plain values go through ``codec.encode``; and
  anything holding models or unknown types is dumped by pydantic first.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from uuid import UUID

import attrs
import pydantic

from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode, error_for
from tctf_dynamo.model import compiled, nested, sortable
from tctf_dynamo.model.templates import escape_key_text, is_plain_key_text, unescape_key_text
from tctf_dynamo.wire import codec

__all__ = [
    "AttributeConverter",
    "KeyCodec",
    "attribute_converter",
    "key_codec",
    "omit_empty_sets",
    "unwrap",
]

Encode = Callable[[Any], Any]
Decode = Callable[[Any], Any]

_SCALARS = (str, bool, int, float, Decimal, bytes, datetime, date, UUID)
_CONTAINERS = (list, tuple, set, frozenset, dict)


def unwrap(annotation: Any) -> tuple[Any, bool]:
    """The annotation without ``Annotated`` and ``None``, and whether None was allowed."""
    optional = False
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [arg for arg in get_args(annotation) if arg is not type(None)]
            optional = optional or len(members) != len(get_args(annotation))
            if len(members) != 1:
                return annotation, optional
            annotation = members[0]
        else:
            return annotation, optional


# ---------------------------------------------------------------- key codecs


@attrs.frozen(eq=False)
class KeyCodec:
    """Converts one key field between its Python value and its text inside a key."""

    field: str
    kind: type
    to_text: Callable[[Any], str]
    from_text: Callable[[str], Any]
    adapter: pydantic.TypeAdapter[Any]
    ordered: bool
    """Whether key text order follows value order (numbers, times, bools, UUIDs)."""

    def text(self, value: Any) -> str:
        """Key text for ``value``; values of another type are validated first (``"7"``)."""
        if not isinstance(value, self.kind) or (
            self.kind is date and isinstance(value, datetime)  # a datetime is a date too
        ):
            try:
                value = self.adapter.validate_python(value)
            except pydantic.ValidationError:
                raise error_for(
                    ErrorCode.INVALID_KEY,
                    f"key field {self.field!r} expects {self.kind.__name__}",
                    {"field": self.field, "expected": self.kind.__name__},
                ) from None
        return self.to_text(value)

    def value(self, text: str) -> Any:
        return self.from_text(text)


def _string_codec(field: str) -> tuple[Callable[[Any], str], Callable[[str], Any]]:
    def to_text(value: str) -> str:
        if is_plain_key_text(value):
            return value if type(value) is str else str.__str__(value)
        return escape_key_text(str.__str__(value), field)

    return to_text, lambda text: unescape_key_text(text, field)


def _scalar_key_codec(kind: type, field: str) -> tuple[Encode, Decode, bool] | None:
    if issubclass(kind, str):
        to_text, from_text = _string_codec(field)
        return to_text, from_text, False
    pair = sortable.sortable_codec_for(kind)
    if pair is None:
        return None
    return pair[0], pair[1], True


def key_codec(annotation: Any, field: str, owner: str) -> tuple[KeyCodec, bool]:
    """The key codec of a field and whether the field may be None; SchemaError if unusable."""
    inner, optional = unwrap(annotation)
    adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(annotation)
    if get_origin(inner) is Literal:
        values = get_args(inner)
        if not values or not all(isinstance(value, str) for value in values):
            raise _unusable(owner, field)
        to_text, from_text = _string_codec(field)
        return KeyCodec(field, str, to_text, from_text, adapter, False), optional
    if isinstance(inner, type) and issubclass(inner, Enum):
        member_values = {type(member.value) for member in inner}
        value_kind = member_values.pop() if len(member_values) == 1 else None
        found = _scalar_key_codec(value_kind, field) if value_kind else None
        if found is None:
            raise _unusable(owner, field)
        to_text, from_text = sortable.enum_codec(inner, (found[0], found[1]))
        return KeyCodec(field, inner, to_text, from_text, adapter, found[2]), optional
    found = _scalar_key_codec(inner, field) if isinstance(inner, type) else None
    if found is None:
        raise _unusable(owner, field)
    return KeyCodec(field, inner, found[0], found[1], adapter, found[2]), optional


def _unusable(owner: str, field: str) -> DynamoDBServiceError:
    return error_for(
        ErrorCode.INVALID_SCHEMA,
        f"{owner}: field {field!r} is used in a key template but its type cannot be placed "
        "in a key (use str, int, Decimal, float, bool, datetime, date, UUID, an Enum or a "
        "Literal of strings)",
        {"entity": owner, "field": field},
    )


# ---------------------------------------------------------------- attribute converters


@attrs.frozen(eq=False)
class AttributeConverter:
    """``encode`` returns None for values stored by omission (None, empty sets)."""

    encode: Encode
    decode: Decode
    missing: Callable[[], Any] | None
    """What an absent attribute means for this field, or None to let pydantic decide."""


def _number_text(value: Any) -> str:
    return codec.encode_number(value)


_SMALL_INT = 10**15


def _encode_int(value: int) -> dict[str, Any]:
    if type(value) is int and -_SMALL_INT < value < _SMALL_INT:
        return {"N": str(value)}
    return {"N": codec.encode_number(value)}


def _encode_float(value: float) -> dict[str, Any]:
    """Plain ``repr`` text when it has no exponent (the common case), else the codec's."""
    if type(value) is float:
        text = repr(value)
        if "e" not in text and "n" not in text:  # not exponent, nan or inf
            text = text.rstrip("0").rstrip(".")
            return {"N": "0" if text == "-0" else text}
    return {"N": codec.encode_number(value)}


@functools.partial(compiled.register_tag_decoder, tag="S")
def _decode_s(av: dict[str, Any]) -> Any:
    text = av.get("S")
    return text if text is not None else codec.decode(av)


@functools.partial(compiled.register_tag_decoder, tag="N")
def _decode_n(av: dict[str, Any]) -> Any:
    text = av.get("N")
    return text if text is not None else codec.decode(av)


@compiled.register_string_encoder
def _encode_str(value: str) -> dict[str, Any]:
    return {"S": str.__str__(value)}


def _decode_int(av: dict[str, Any]) -> Any:
    text = av.get("N")
    if text is not None:
        try:
            return int(text)
        except ValueError:
            return codec.decode_number(text)
    return codec.decode(av)


@functools.partial(compiled.register_tag_decoder, tag="BOOL")
def _decode_bool(av: dict[str, Any]) -> Any:
    flag = av.get("BOOL")
    return flag if flag is not None else codec.decode(av)


def _encode_generic(value: Any) -> Any:
    if isinstance(value, set | frozenset) and not value:
        return None
    try:
        return codec.encode(value)
    except DynamoDBServiceError as error:
        # rare, so the common case pays nothing: an empty set deeper in a document
        pruned = omit_empty_sets(value) if error.code == ErrorCode.UNSUPPORTED_TYPE else value
        if pruned is value:
            raise
        return codec.encode(pruned)


def omit_empty_sets(value: Any) -> Any:
    """``value`` with every map entry holding an empty set left out, at every depth.

    DynamoDB has no empty set. A top-level one is stored by omitting the attribute, and
    a field of a nested model the same way, so it reads back as the field's default.
    Returns ``value`` itself when there is nothing to omit (callers test ``is``).
    """
    if isinstance(value, dict):
        kept = {
            key: omit_empty_sets(item)
            for key, item in value.items()
            if not (isinstance(item, set | frozenset) and not item)
        }
        unchanged = len(kept) == len(value) and all(kept[k] is value[k] for k in kept)
        return value if unchanged else kept
    if isinstance(value, list | tuple):
        items = [omit_empty_sets(item) for item in value]
        unchanged = all(new is old for new, old in zip(items, value, strict=True))
        return value if unchanged else type(value)(items)
    return value


def _scalar_converter(kind: type) -> tuple[Encode, Decode] | None:
    if issubclass(kind, Enum):
        return _encode_generic, codec.decode
    if issubclass(kind, bool):
        return (lambda value: {"BOOL": value}), _decode_bool
    if issubclass(kind, str):
        return _encode_str, _decode_s
    if issubclass(kind, int):
        return _encode_int, _decode_int
    if issubclass(kind, float):
        return _encode_float, _decode_n
    if issubclass(kind, Decimal):
        return codec.encode, _decode_n  # the codec's table goes straight to Decimal
    if issubclass(kind, bytes):
        return (lambda value: {"B": bytes(value)}), codec.decode
    if issubclass(kind, datetime):
        return (lambda value: {"S": sortable.encode_sortable_datetime(value)}), _decode_s
    if issubclass(kind, date | UUID):
        return (lambda value: {"S": str(value)}), _decode_s
    return None


def _string_container(inner: Any) -> tuple[Encode, Decode] | None:
    """list[str], set[str] and set[int] are common enough to deserve their own converters."""
    origin, args = get_origin(inner), get_args(inner)
    if args == (int,) and origin in (set, frozenset):
        return _encode_int_set, _decode_int_set
    if args == (str, str) and origin is dict:
        return _encode_string_map, _decode_string_map
    if args != (str,):
        return None
    if origin is list:
        return (lambda value: {"L": [{"S": text} for text in value]}), _decode_string_list
    if origin in (set, frozenset):
        return (lambda value: {"SS": sorted(value)} if value else None), _decode_string_set
    return None


def _encode_string_map(value: Any) -> Any:
    encoded = {}
    for key, text in value.items():
        if type(key) is not str or type(text) is not str:
            return _encode_generic(value)
        encoded[key] = {"S": text}
    return {"M": encoded}


def _decode_string_map(av: dict[str, Any]) -> Any:
    try:
        return {key: element["S"] for key, element in av["M"].items()}
    except (KeyError, TypeError, AttributeError):
        return codec.decode(av)  # not all strings: let pydantic report it


def _encode_int_set(value: Any) -> Any:
    if not value:
        return None
    for element in value:
        if type(element) is not int or not -_SMALL_INT < element < _SMALL_INT:
            return _encode_generic(value)
    return {"NS": [str(element) for element in sorted(value)]}


def _decode_int_set(av: dict[str, Any]) -> Any:
    texts = av.get("NS")
    if texts is not None:
        try:
            return {int(text) for text in texts}
        except (ValueError, TypeError):
            pass  # a fraction or an exponent: the codec's exact reading, then pydantic's
    return codec.decode(av)


def _decode_string_list(av: dict[str, Any]) -> Any:
    try:
        return [element["S"] for element in av["L"]]
    except (KeyError, TypeError):
        return codec.decode(av)  # not all strings: let pydantic report it


def _decode_string_set(av: dict[str, Any]) -> Any:
    texts = av.get("SS")
    return texts if texts is not None else codec.decode(av)


def _is_plain(annotation: Any) -> bool:
    """Whether codec.encode handles every value of ``annotation`` without pydantic's help."""
    inner, _ = unwrap(annotation)
    if inner is Any or inner is object:
        return True
    if get_origin(inner) is Literal:
        return True
    if isinstance(inner, type) and issubclass(inner, (*_SCALARS, Enum)):
        return True
    origin = get_origin(inner)
    if origin in _CONTAINERS:
        return all(arg is Ellipsis or _is_plain(arg) for arg in get_args(inner))
    return inner in _CONTAINERS


def _set_like(annotation: Any) -> bool:
    inner, _ = unwrap(annotation)
    return (get_origin(inner) or inner) in (set, frozenset)


def attribute_converter(annotation: Any) -> AttributeConverter:
    """Choose the converters for one field from its annotation."""
    inner, optional = unwrap(annotation)
    missing: Callable[[], Any] | None = None
    if _set_like(annotation):
        missing = (lambda: None) if optional else set
    elif optional:
        missing = lambda: None  # noqa: E731 - a tiny constant factory
    if isinstance(inner, type) and get_origin(inner) is None:
        scalar = _scalar_converter(inner)
        if scalar is not None:
            return AttributeConverter(scalar[0], scalar[1], missing)
    if get_origin(inner) is Literal:
        return AttributeConverter(_encode_generic, codec.decode, missing)
    strings = _string_container(inner)
    if strings is not None:
        return AttributeConverter(strings[0], strings[1], missing)
    adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(annotation)
    models = nested.model_converter(inner)
    if models is not None:
        fast_encode, fast_decode = models

        def encode_model(value: Any) -> Any:
            """Compiled walk of plain models; pydantic's dump for anything else."""
            try:
                found = fast_encode(value)
            except DynamoDBServiceError:
                found = None  # let the general path raise with its own message
            if found is not None:
                return found
            return _encode_generic(adapter.dump_python(value, mode="python", by_alias=True))

        return AttributeConverter(encode_model, fast_decode, missing)

    def encode_dumped(value: Any) -> Any:
        return _encode_generic(adapter.dump_python(value, mode="python", by_alias=True))

    if not _is_plain(annotation):
        return AttributeConverter(encode_dumped, codec.decode, missing)

    def encode_plain(value: Any) -> Any:
        """codec first; an Any-typed value may still hold a model, which pydantic dumps."""
        try:
            return _encode_generic(value)
        except DynamoDBServiceError as error:
            if error.code != ErrorCode.UNSUPPORTED_TYPE:
                raise
            return encode_dumped(value)

    return AttributeConverter(encode_plain, codec.decode, missing)
