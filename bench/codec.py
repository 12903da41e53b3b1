"""Scenario ``codec``: round trip of an item, Python -> wire -> Python, per item, per shape.

Two shapes (see :mod:`bench.shapes` and :mod:`bench.wide`):

* ``order``: twelve attributes of short values and a 200-character text;
* ``wide``: twenty-five attributes: two nested address models, a list of three line
  models, a string set and a number set, three datetimes, four Decimals, a map and texts of
  600 and 1,200 characters.

Competitors, each over the same records, all interleaved in every round:

* ours, entity: ``entity.to_item()`` then ``Entity.from_item(wire)`` (validated model back);
* ours, codec: ``encode_item(dict)`` then ``decode_item(wire)`` on plain dicts;
* boto3: ``TypeSerializer`` / ``TypeDeserializer`` attribute by attribute on plain dicts
  already in the form boto3 accepts (text dates, Decimal floats: conversions a boto3 user
  must also write, left out here, which favours boto3);
* PynamoDB: ``model.serialize()`` then ``Model.from_raw_data(wire)``;
* the floor (``order`` only): a hand-written converter for exactly that shape.

Building the inputs is never timed; only the round trips are, in CPU time of the process
(``time.process_time``): on a shared machine, time spent waiting for a core is not the
converter's.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from bench import ours, peers, shapes, wide
from bench.harness import ScenarioResult, interleave, stopwatch

NAME = "codec"
TITLE = "codec and model round trip per item, two item shapes"
PRESETS: dict[str, dict[str, Any]] = {
    "full": {"items": 10_000, "wide_items": 3_000, "repeat": 7},
    "quick": {"items": 2_000, "wide_items": 600, "repeat": 5},
    "smoke": {"items": 5, "wide_items": 3, "repeat": 1},
}

OURS_ENTITY = "ours: entity to_item + from_item"
OURS_CODEC = "ours: codec encode_item + decode_item"
BOTO3 = "boto3: TypeSerializer + TypeDeserializer"
PYNAMODB = "PynamoDB: serialize + from_raw_data"
FLOOR = "floor: hand-written converter"
SHAPES = ("order", "wide")

RoundTrip = Callable[[], object]


def label(shape: str, competitor: str) -> str:
    """The figure label of one competitor on one shape."""
    return f"{shape} | {competitor}"


def _ours_entity(entity_type: type[Any], records: list[dict[str, Any]]) -> RoundTrip:
    entities = [entity_type(**record) for record in records]
    first = entities[0]
    if entity_type.from_item(first.to_item()) != first:
        raise RuntimeError("our entity round trip changed the item")

    def round_trip() -> None:
        from_item = entity_type.from_item
        for entity in entities:
            from_item(entity.to_item())

    return round_trip


def _ours_codec(records: list[dict[str, Any]]) -> RoundTrip:
    encode_item, decode_item = ours.require("encode_item"), ours.require("decode_item")

    def round_trip() -> None:
        for record in records:
            decode_item(encode_item(record))

    return round_trip


def _boto3(plain: list[dict[str, Any]]) -> RoundTrip:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    serialize, deserialize = TypeSerializer().serialize, TypeDeserializer().deserialize

    def round_trip() -> None:
        for item in plain:
            wire = {name: serialize(value) for name, value in item.items()}
            {name: deserialize(value) for name, value in wire.items()}

    return round_trip


def _pynamodb(model: type[Any], instances: list[Any]) -> RoundTrip:
    def round_trip() -> None:
        from_raw_data = model.from_raw_data
        for instance in instances:
            from_raw_data(instance.serialize())

    return round_trip


def _floor(records: list[dict[str, Any]]) -> RoundTrip:
    if shapes.floor_decode(shapes.floor_encode(records[0])) != records[0]:
        raise RuntimeError("the hand-written converter changed the item")

    def round_trip() -> None:
        encode, decode = shapes.floor_encode, shapes.floor_decode
        for record in records:
            decode(encode(record))

    return round_trip


def _order_builders(count: int) -> dict[str, Callable[[], RoundTrip]]:
    records = shapes.make_records(count)

    def pynamodb() -> RoundTrip:
        model = peers.pynamodb_model("http://127.0.0.1:9")
        return _pynamodb(model, [peers.pynamodb_order(model, record) for record in records])

    return {
        OURS_ENTITY: lambda: _ours_entity(shapes.our_entity(), records),
        OURS_CODEC: lambda: _ours_codec(records),
        BOTO3: lambda: _boto3([shapes.boto3_record(record) for record in records]),
        PYNAMODB: pynamodb,
        FLOOR: lambda: _floor(records),
    }


def _wide_builders(count: int) -> dict[str, Callable[[], RoundTrip]]:
    records = wide.make_records(count)

    def pynamodb() -> RoundTrip:
        model = wide.pynamodb_model("http://127.0.0.1:9")
        return _pynamodb(model, [wide.pynamodb_order(model, record) for record in records])

    return {
        OURS_ENTITY: lambda: _ours_entity(wide.our_entity(), records),
        OURS_CODEC: lambda: _ours_codec(records),
        BOTO3: lambda: _boto3([wide.boto3_record(record) for record in records]),
        PYNAMODB: pynamodb,
    }


def run(*, items: int, wide_items: int, repeat: int) -> ScenarioResult:
    params = {"items": items, "wide_items": wide_items, "repeat": repeat}
    result = ScenarioResult(NAME, TITLE, params=params)
    counts = {"order": items, "wide": wide_items}
    builders = {"order": _order_builders(items), "wide": _wide_builders(wide_items)}
    candidates: dict[str, Callable[[], float]] = {}
    for shape in SHAPES:
        for competitor, build in builders[shape].items():
            try:
                candidates[label(shape, competitor)] = stopwatch(build(), time.process_time)
            except (ours.Unavailable, peers.PeerUnavailable) as error:
                result.skip(label(shape, competitor), str(error))
    for name, seconds in interleave(candidates, repeat).items():
        count = counts[name.split(" | ", 1)[0]]
        result.add(name, [run * 1e6 / count for run in seconds], "CPU us/item")
    for shape in SHAPES:
        entity, codec = label(shape, OURS_ENTITY), label(shape, OURS_CODEC)
        result.ratio(f"{shape}: PynamoDB / ours entity", label(shape, PYNAMODB), entity)
        result.ratio(f"{shape}: boto3 / ours entity", label(shape, BOTO3), entity)
        result.ratio(f"{shape}: boto3 / ours codec", label(shape, BOTO3), codec)
        if shape == "order":
            result.ratio(f"{shape}: ours entity / floor", entity, label(shape, FLOOR))
        result.target(
            f"{shape}: entity round trip vs PynamoDB", f"{shape}: PynamoDB / ours entity", ">=", 5
        )
        result.target(
            f"{shape}: entity round trip vs boto3 serializers",
            f"{shape}: boto3 / ours entity",
            ">=",
            2.5,
        )
    result.notes.append(
        "boto3 gets its records pre-converted (ISO text dates, Decimal floats); PynamoDB "
        "stores Decimals as floats (its NumberAttribute refuses Decimal) and its nested "
        "models are MapAttributes"
    )
    return result


if __name__ == "__main__":
    from bench.run import main

    raise SystemExit(main(["--only", NAME, *sys.argv[1:]]))
