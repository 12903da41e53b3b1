"""DynamoDB Streams records as entities: one call per record, and a router by entity type.

A stream record carries the item's images in DynamoDB's own typed form. Where they come
from decides how binaries look: a Lambda event (and any JSON of the Streams API) holds
``B`` values as base64 text, a boto3 ``GetRecords`` response holds bytes. Both go through
:mod:`tctf_dynamo.wire.jsonwire` into wire form and then through :meth:`Table.decode_item`, so
a stream image becomes exactly the entity a read of the same item would give.

AWS Lambda Powertools' ``DynamoDBStreamEvent`` records are accepted as they are (their
raw data is used). Its already-deserialized images (``record.dynamodb.new_image``) hold
numbers as ``Decimal`` and sets as sets, but binaries as the base64 *text* of the event:
a ``bytes`` field validated from it would silently get the text's bytes.
:func:`decode_plain_image` restores binaries from the entity's field types; it refuses a
field that may be bytes or text, where that cannot be decided.
"""

from __future__ import annotations

import base64
import binascii
import types
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, Union, get_args, get_origin

import attrs
import pydantic

from tctf_dynamo.errors import ErrorCode, error_for
from tctf_dynamo.model.fieldtypes import unwrap
from tctf_dynamo.wire.codec import decode_item, encode_item
from tctf_dynamo.wire.jsonwire import item_from_json

if TYPE_CHECKING:
    from tctf_dynamo.model import Entity, Table

__all__ = [
    "TTL_PRINCIPAL",
    "StreamChange",
    "StreamRouter",
    "decode_event",
    "decode_image",
    "decode_plain_image",
    "decode_record",
]

TTL_PRINCIPAL = "dynamodb.amazonaws.com"
"""``userIdentity.principalId`` of a REMOVE made by DynamoDB's Time to Live process."""

EventName = Literal["INSERT", "MODIFY", "REMOVE"]
Unknown = Literal["raise", "keep"]
_EVENT_NAMES = ("INSERT", "MODIFY", "REMOVE")


@attrs.frozen
class StreamChange:
    """One stream record, decoded.

    ``old`` and ``new`` are the entities of the images the stream view type carries (None
    when absent). ``entity_type`` is the class named by the images' discriminator, None
    for a record without images (``KEYS_ONLY``) or, with ``unknown="keep"``, for an item
    of a type the table does not know; ``type_name`` then says what it was, and
    ``old_item``/``new_item`` keep the wire images either way.
    """

    event_name: EventName
    keys: dict[str, Any]
    old: Entity | None
    new: Entity | None
    entity_type: type[Entity] | None
    type_name: str | None
    expired: bool
    """A REMOVE made by DynamoDB's TTL process, not by a request."""
    event_id: str | None
    sequence_number: str | None
    old_item: dict[str, Any] | None = attrs.field(repr=False)
    new_item: dict[str, Any] | None = attrs.field(repr=False)

    @property
    def entity(self) -> Entity | None:
        """The item as it is now: ``new``, or ``old`` for a REMOVE."""
        return self.new if self.new is not None else self.old

    @property
    def known(self) -> bool:
        """Whether the images were decoded into an entity class of the table."""
        return self.entity_type is not None


def _raw(record: Any) -> Mapping[str, Any]:
    """The record as a mapping: Powertools' data classes keep it in ``raw_event``."""
    raw = getattr(record, "raw_event", record)
    if not isinstance(raw, Mapping) or not isinstance(raw.get("dynamodb"), Mapping):
        raise error_for(
            ErrorCode.INVALID_ITEM, "a stream record is an object with a 'dynamodb' object"
        )
    return raw


def _image(body: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    image = body.get(name)
    return None if image is None else item_from_json(image)


def _type_name(table: Table, *images: dict[str, Any] | None) -> str | None:
    for image in images:
        if image is not None:
            value = image.get(table.type_attribute, {}).get("S")
            if isinstance(value, str):
                return value
    return None


def decode_record(table: Table, record: Any, *, unknown: Unknown = "raise") -> StreamChange:
    """Decode one stream record of ``table`` into a :class:`StreamChange`.

    ``record`` is a record of a Lambda event (``event["Records"][i]``), of a boto3
    ``GetRecords`` response, or a Powertools ``DynamoDBRecord``. An image of a type the
    table does not know raises INVALID_ITEM, or with ``unknown="keep"`` gives a change
    whose ``entity_type`` is None; an image that fails its entity's validation always
    raises INVALID_ITEM.
    """
    raw = _raw(record)
    body: Mapping[str, Any] = raw["dynamodb"]
    event_name = raw.get("eventName")
    if event_name not in _EVENT_NAMES:
        raise error_for(
            ErrorCode.INVALID_ITEM,
            "a stream record's eventName is INSERT, MODIFY or REMOVE",
            {"eventName": str(event_name)[:16]},
        )
    old_item, new_item = _image(body, "OldImage"), _image(body, "NewImage")
    entity_type = None
    if old_item is not None or new_item is not None:
        entity_type = table.registry.for_item(new_item or old_item or {}, table.type_attribute)
        if entity_type is None and unknown == "raise":
            table.entity_for_item(new_item or old_item or {})  # raises INVALID_ITEM
    identity = raw.get("userIdentity") or {}
    return StreamChange(
        event_name=event_name,
        keys=decode_item(item_from_json(body.get("Keys") or {})),
        old=None if old_item is None or entity_type is None else entity_type.from_item(old_item),
        new=None if new_item is None or entity_type is None else entity_type.from_item(new_item),
        entity_type=entity_type,
        type_name=_type_name(table, new_item, old_item),
        expired=event_name == "REMOVE"
        and identity.get("type") == "Service"
        and identity.get("principalId") == TTL_PRINCIPAL,
        event_id=raw.get("eventID"),
        sequence_number=body.get("SequenceNumber"),
        old_item=old_item,
        new_item=new_item,
    )


def decode_event(table: Table, event: Any, *, unknown: Unknown = "raise") -> Iterator[StreamChange]:
    """Every record of a Lambda event (a dict or a Powertools ``DynamoDBStreamEvent``)."""
    raw = getattr(event, "raw_event", event)
    for record in raw.get("Records", []) if isinstance(raw, Mapping) else []:
        yield decode_record(table, record, unknown=unknown)


def decode_image(table: Table, image: Mapping[str, Any]) -> Entity:
    """One typed image (``NewImage``/``OldImage``), binaries as base64 text or bytes."""
    return table.decode_item(item_from_json(image))


# ---------------------------------------------------------------- Powertools' plain images


def decode_plain_image(table: Table, image: Mapping[str, Any]) -> Entity:
    """An image already deserialized to Python values, as Powertools gives it.

    Numbers (``Decimal``), sets, lists and maps are re-encoded as they are; text in a
    field declared ``bytes`` (also inside lists, sets, maps and nested models) is the
    base64 of the binary and is decoded. A field that may hold either bytes or text
    raises INVALID_ITEM: decode the record with :func:`decode_record` instead.
    """
    type_name = image.get(table.type_attribute)
    entity_type = table.entity_for_item({table.type_attribute: {"S": type_name}})
    values = dict(image)
    for name, field in entity_type.model_fields.items():
        attribute = field.alias or name
        if attribute in values:
            values[attribute] = _restore(field.annotation, values[attribute], attribute)
    return entity_type.from_item(encode_item(values))


def _restore(annotation: Any, value: Any, path: str) -> Any:
    """``value`` with base64 text turned back into bytes wherever the type says bytes."""
    if value is None:
        return None
    inner, _ = unwrap(annotation)
    if inner is bytes:
        return _unbase64(value, path)
    origin = get_origin(inner)
    args = get_args(inner)
    if origin is Union or isinstance(inner, types.UnionType):
        if any(unwrap(arg)[0] is bytes for arg in args) and isinstance(value, str):
            raise error_for(
                ErrorCode.INVALID_ITEM,
                f"field {path!r} may hold bytes or text, which a deserialized image cannot "
                "tell apart: decode the stream record instead",
                {"field": path},
            )
        return value
    if origin in (list, set, frozenset) and args and isinstance(value, list | set | frozenset):
        restored = [_restore(args[0], element, f"{path}[]") for element in value]
        return restored if isinstance(value, list) else set(restored)
    if origin is tuple and args and isinstance(value, list | tuple):
        return [_restore(_tuple_arg(args, i), v, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is dict and len(args) == 2 and isinstance(value, Mapping):
        return {key: _restore(args[1], v, f"{path}.{key}") for key, v in value.items()}
    if isinstance(inner, type) and issubclass(inner, pydantic.BaseModel):
        return _restore_model(inner, value, path)
    return value


def _tuple_arg(args: tuple[Any, ...], index: int) -> Any:
    if len(args) == 2 and args[1] is Ellipsis:
        return args[0]
    return args[index] if index < len(args) else Any


def _restore_model(model: type[pydantic.BaseModel], value: Any, path: str) -> Any:
    if not isinstance(value, Mapping):
        return value
    restored = dict(value)
    for name, field in model.model_fields.items():
        attribute = field.alias or name
        if attribute in restored:
            inner_path = f"{path}.{attribute}"
            restored[attribute] = _restore(field.annotation, restored[attribute], inner_path)
    return restored


def _unbase64(value: Any, path: str) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise error_for(
            ErrorCode.INVALID_ITEM,
            f"field {path!r} is bytes but holds text that is not base64",
            {"field": path},
        ) from None


# ---------------------------------------------------------------- routing


Handler = Callable[[StreamChange], Any]


class StreamRouter:
    """Send each record to the handler registered for its entity type.

    Records of a type with no handler, and of a type the table does not know, go to the
    ``unknown`` handler if one is set; otherwise they raise INVALID_ITEM, so that nothing
    is dropped silently. A record without images (``KEYS_ONLY`` streams) goes to the
    ``unknown`` handler too: its type cannot be read from keys alone.
    """

    def __init__(self, table: Table) -> None:
        self.table = table
        self._handlers: dict[type[Entity], Handler] = {}
        self._unknown: Handler | None = None

    def on(self, entity: type[Entity]) -> Callable[[Handler], Handler]:
        """Decorator: ``@router.on(Order)`` handles changes of ``Order`` items."""

        def register(handler: Handler) -> Handler:
            self._handlers[entity] = handler
            return handler

        return register

    def on_unknown(self, handler: Handler) -> Handler:
        """Decorator: the handler of records no other handler takes."""
        self._unknown = handler
        return handler

    def route(self, record: Any) -> Any:
        """Decode ``record`` and call its handler; returns what the handler returns."""
        change = decode_record(self.table, record, unknown="keep")
        handler = self._handlers.get(change.entity_type) if change.entity_type else None
        if handler is None:
            handler = self._unknown
        if handler is None:
            raise error_for(
                ErrorCode.INVALID_ITEM,
                "no handler for this stream record's entity type",
                {"table": self.table.name, "type": change.type_name},
            )
        return handler(change)

    def route_event(self, event: Any) -> list[Any]:
        """Route every record of a Lambda event in order; the first failure stops it."""
        raw = getattr(event, "raw_event", event)
        records = raw.get("Records", []) if isinstance(raw, Mapping) else []
        return [self.route(record) for record in records]
