"""Compiled converters for fields holding pydantic models (``address: Address``,
``lines: list[Line]``): the entity's hot path without pydantic's dump and the codec's
generic walk.

Only *plain* models are compiled: no aliases, serializers, computed or excluded fields,
extra attributes or strict validation, and fields whose types the compiled walk knows.
For those, ``model.__dict__`` holds exactly what ``dump_python(mode="python")`` would
give, so the item written is the same, attribute for attribute. Anything else (another
model, a subclass instance, a value the walk cannot encode) makes the encoder return None,
and the caller takes pydantic's dump: the compiled path is an optimisation, never a second
set of rules.

Decoding turns each nested map back into a dict for pydantic to validate, with the same
small per-type decoders the entity uses for its own fields, and the codec's general
decoding for any attribute it does not know or whose shape is unexpected (pydantic then
reports what is wrong).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, get_args, get_origin
from uuid import UUID

import pydantic

from tctf_dynamo.model import compiled
from tctf_dynamo.wire import codec

__all__ = ["model_converter"]

Encode = Callable[[Any], Any]
Decode = Callable[[Any], Any]

_SCALARS = (str, bool, int, float, Decimal, bytes, datetime, date, UUID)
_PLAIN_CONTAINERS = (list, set, frozenset, dict)
_MAX_DEPTH = 8
"""Models nested deeper than this take pydantic's dump (and the codec's depth check)."""


def model_converter(annotation: Any) -> tuple[Encode, Decode] | None:
    """(encode, decode) for a plain model or a list of plain models; None otherwise.

    ``encode`` returns None for a value it does not handle (the caller then dumps it).
    """
    from tctf_dynamo.model.fieldtypes import unwrap  # a cycle at import time otherwise

    inner, _ = unwrap(annotation)
    if _is_model(inner):
        walk = _model_walk(inner, 0)
        if walk is None:
            return None
        return _guarded(walk[0]), walk[1]
    if get_origin(inner) is list:
        (element,) = get_args(inner) or (Any,)
        element, optional = unwrap(element)
        walk = _model_walk(element, 0) if _is_model(element) and not optional else None
        if walk is None:
            return None
        return _list_encoder(walk[0]), _list_decoder(walk[1])
    return None


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel)


class _UnhandledError(Exception):
    """The compiled walk met a value it does not encode; the caller dumps instead."""


def _guarded(encode_model: Encode) -> Encode:
    def encode(value: Any) -> Any:
        try:
            return encode_model(value)
        except _UnhandledError:
            return None

    return encode


def _list_encoder(encode_model: Encode) -> Encode:
    def encode(value: Any) -> Any:
        if type(value) is not list:
            return None
        try:
            return {"L": [encode_model(element) for element in value]}
        except _UnhandledError:
            return None

    return encode


def _list_decoder(decode_model: Decode) -> Decode:
    def decode(av: Any) -> Any:
        elements = av.get("L") if type(av) is dict else None
        if type(elements) is not list:
            return codec.decode(av)
        return [decode_model(element) for element in elements]

    return decode


def _plain_model(model: type[pydantic.BaseModel]) -> bool:
    config = model.model_config
    decorators = model.__pydantic_decorators__
    if config.get("strict") or config.get("extra") == "allow" or model.model_computed_fields:
        return False
    if decorators.field_serializers or decorators.model_serializers:
        return False
    if isinstance(model, type) and issubclass(model, pydantic.RootModel):
        return False
    return all(
        info.alias is None
        and info.serialization_alias is None
        and info.validation_alias is None
        and not info.exclude
        and all(_only_a_constraint(item) for item in info.metadata)
        for info in model.model_fields.values()
    )


def _only_a_constraint(metadata: Any) -> bool:
    """Length or range constraints change validation, never what is stored."""
    return type(metadata).__module__ == "annotated_types"


def _model_walk(model: type[pydantic.BaseModel], depth: int) -> tuple[Encode, Decode] | None:
    if depth > _MAX_DEPTH or not _plain_model(model):
        return None
    encoders: list[tuple[str, Encode]] = []
    decoders: dict[str, Decode] = {}
    for name, info in model.model_fields.items():
        pair = _field_walk(info.annotation, depth)
        if pair is None:
            return None
        encoders.append((name, pair[0]))
        decoders[name] = pair[1]
    # a subclass instance serializes as its declared type, and an instance built without
    # a field (model_construct) is pydantic's to dump: both raise _UnhandledError
    encode = compiled.map_encoder(model, encoders, _UnhandledError)

    def each_attribute(payload: dict[str, Any]) -> dict[str, Any]:
        decoded: dict[str, Any] = {}
        get = decoders.get
        for key, element in payload.items():
            decode_field = get(key)
            decoded[key] = decode_field(element) if decode_field else codec.decode(element)
        return decoded

    decode_map = compiled.map_decoder(list(decoders.items()), each_attribute)

    def decode(av: Any) -> Any:
        payload = av.get("M") if type(av) is dict else None
        if type(payload) is not dict:
            return codec.decode(av)
        return decode_map(payload)

    return encode, decode


def _field_walk(annotation: Any, depth: int) -> tuple[Encode, Decode] | None:
    from tctf_dynamo.model.fieldtypes import unwrap

    inner, _ = unwrap(annotation)
    if _is_model(inner):
        walk = _model_walk(inner, depth + 1)
        if walk is None:
            return None
        encode_model, decode_model = walk
        return (lambda value: {"NULL": True} if value is None else encode_model(value)), (
            decode_model
        )
    if inner is str:
        return _encode_string, _decode_string
    if inner is int:
        return _encode_int, _decode_int
    if inner is Decimal or inner is float:
        return (_encode_decimal if inner is Decimal else _encode_value), _decode_number_text
    if inner is bool:
        return _encode_value, _decode_flag
    if isinstance(inner, type) and issubclass(inner, _SCALARS) and not issubclass(inner, str):
        return _encode_value, codec.decode
    origin = get_origin(inner)
    if origin in _PLAIN_CONTAINERS and all(
        isinstance(arg, type) and issubclass(arg, _SCALARS) for arg in get_args(inner)
    ):
        return _encode_value, codec.decode
    return None


def _encode_value(value: Any) -> Any:
    """The codec's encoding; a model where a plain value was expected is not handled."""
    if isinstance(value, pydantic.BaseModel):
        raise _UnhandledError
    return codec.encode(value)


_SMALL_INT = 10**15


def _encode_int(value: Any) -> Any:
    if type(value) is int and -_SMALL_INT < value < _SMALL_INT:
        return {"N": str(value)}
    return _encode_value(value)


def _encode_decimal(value: Any) -> Any:
    return codec.encode(value) if type(value) is Decimal else _encode_value(value)


def _decode_int(av: Any) -> Any:
    text = av.get("N") if type(av) is dict else None
    if text is not None and text.isdigit():
        try:
            return int(text)
        except ValueError:  # a digit int() does not read (superscripts)
            pass
    return codec.decode(av)


@compiled.register_string_encoder
def _encode_string(value: Any) -> Any:
    return {"S": value} if type(value) is str else _encode_value(value)


@functools.partial(compiled.register_tag_decoder, tag="S")
def _decode_string(av: Any) -> Any:
    text = av.get("S") if type(av) is dict else None
    return text if text is not None else codec.decode(av)


@functools.partial(compiled.register_tag_decoder, tag="N")
def _decode_number_text(av: Any) -> Any:
    """The number's text: pydantic makes the field's Decimal or float of it exactly."""
    text = av.get("N") if type(av) is dict else None
    return text if text is not None else codec.decode(av)


@functools.partial(compiled.register_tag_decoder, tag="BOOL")
def _decode_flag(av: Any) -> Any:
    flag = av.get("BOOL") if type(av) is dict else None
    return flag if flag is not None else codec.decode(av)
