"""Scenario ``codec``: round trip of a realistic item, Python -> wire -> Python, per item.

Competitors, each over the same records, timed interleaved:

* ours, entity: ``entity.to_item()`` then ``Entity.from_item(wire)`` (validated model back);
* ours, codec: ``encode_item(dict)`` then ``decode_item(wire)`` on plain dicts;
* boto3: ``TypeSerializer`` / ``TypeDeserializer`` attribute by attribute on plain dicts
  already in the form boto3 accepts (text dates, Decimal floats: conversions a boto3 user
  must also write, left out here, which favours boto3);
* PynamoDB: ``model.serialize()`` then ``Model.from_raw_data(wire)``;
* the floor: a hand-written converter for exactly this shape.

Building the inputs is never timed; only the round trips are.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from bench import ours, peers, shapes
from bench.harness import ScenarioResult, interleave, stopwatch

NAME = "codec"
TITLE = "codec and model round trip of a 12-attribute item"
PRESETS: dict[str, dict[str, Any]] = {
    "full": {"items": 10_000, "repeat": 7},
    "quick": {"items": 2_000, "repeat": 5},
    "smoke": {"items": 5, "repeat": 1},
}

OURS_ENTITY = "ours: entity to_item + from_item"
OURS_CODEC = "ours: codec encode_item + decode_item"
BOTO3 = "boto3: TypeSerializer + TypeDeserializer"
PYNAMODB = "PynamoDB: serialize + from_raw_data"
FLOOR = "floor: hand-written converter"

RoundTrip = Callable[[], object]


def _ours_entity(records: list[dict[str, Any]]) -> RoundTrip:
    entity_type = shapes.our_entity()
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


def _boto3(records: list[dict[str, Any]]) -> RoundTrip:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    serialize, deserialize = TypeSerializer().serialize, TypeDeserializer().deserialize
    plain = [shapes.boto3_record(record) for record in records]

    def round_trip() -> None:
        for item in plain:
            wire = {name: serialize(value) for name, value in item.items()}
            {name: deserialize(value) for name, value in wire.items()}

    return round_trip


def _pynamodb(records: list[dict[str, Any]]) -> RoundTrip:
    model = peers.pynamodb_model("http://127.0.0.1:9")
    instances = [peers.pynamodb_order(model, record) for record in records]

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


_BUILDERS: dict[str, Callable[[list[dict[str, Any]]], RoundTrip]] = {
    OURS_ENTITY: _ours_entity,
    OURS_CODEC: _ours_codec,
    BOTO3: _boto3,
    PYNAMODB: _pynamodb,
    FLOOR: _floor,
}


def run(*, items: int, repeat: int) -> ScenarioResult:
    result = ScenarioResult(NAME, TITLE, params={"items": items, "repeat": repeat})
    records = shapes.make_records(items)
    candidates: dict[str, Callable[[], float]] = {}
    for label, build in _BUILDERS.items():
        try:
            candidates[label] = stopwatch(build(records))
        except (ours.Unavailable, peers.PeerUnavailable) as error:
            result.skip(label, str(error))
    for label, seconds in interleave(candidates, repeat).items():
        result.add(label, [run * 1e6 / items for run in seconds], "us/item")
    result.ratio("PynamoDB / ours entity", PYNAMODB, OURS_ENTITY)
    result.ratio("boto3 / ours entity", BOTO3, OURS_ENTITY)
    result.ratio("boto3 / ours codec", BOTO3, OURS_CODEC)
    result.ratio("ours entity / floor", OURS_ENTITY, FLOOR)
    result.ratio("ours codec / floor", OURS_CODEC, FLOOR)
    result.target("entity round trip vs PynamoDB", "PynamoDB / ours entity", ">=", 5)
    result.target("entity round trip vs boto3 serializers", "boto3 / ours entity", ">=", 2)
    result.notes.append(
        "boto3 gets its records pre-converted (ISO text dates, Decimal floats); PynamoDB "
        "stores total as float (its NumberAttribute refuses Decimal)"
    )
    return result


if __name__ == "__main__":
    from bench.run import main

    raise SystemExit(main(["--only", NAME, *sys.argv[1:]]))
