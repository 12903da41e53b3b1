"""Compiled expressions against dynalite, which parses expressions as strictly as DynamoDB.

Random filters run as Scan FilterExpressions over fixed seeded items and must return
exactly the items ``evaluate`` selects; random updates applied with UpdateItem must give
the item ``apply_update`` computes (or both must refuse); projections must return exactly
the projected paths. Nothing compiled may be rejected as malformed.

The generators stay clear of a few places where dynalite itself departs from DynamoDB
(each is noted where it is avoided): ``=``/``IN`` between lists or maps (compared by
reference), ``attribute_type``/``IN`` on a ``false`` BOOL (treated as missing), ``=``
between two missing paths (true), and non-ASCII strings or binaries (lengths and
prefixes measured in JavaScript strings).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tctf_dynamo.errors import DynamoDBServiceError
from tctf_dynamo.expressions import (
    Condition,
    Path,
    Projection,
    Update,
    apply_update,
    attr,
    build_request_parts,
    evaluate,
    if_not_exists,
    list_append,
    size,
)
from tctf_dynamo.expressions.paths import as_path
from tctf_dynamo.wire import codec

pytestmark = pytest.mark.server

STATUSES = ["FUNDED", "RELEASED", "PENDING"]
WORDS = ["alpha", "beta", "gamma", "delta", "alp", "be", "zeta"]
CITIES = ["Paris", "Lyon", "Nice"]
BLOBS = [b"ab", b"abc", b"b", b"ca"]
NUMBERS = [0, 1, 2, 5, -3, Decimal("2.5"), Decimal("-0.75"), 100]


def _seed_item(index: int, rng: random.Random) -> dict[str, Any]:
    item: dict[str, Any] = {
        "PK": f"item#{index:02d}",
        "n": rng.choice(NUMBERS),
        "m": rng.choice(NUMBERS),
    }
    optional: dict[str, Any] = {
        "status": rng.choice(STATUSES),
        "name": rng.choice(WORDS),
        "data": rng.choice(BLOBS),
        "flag": rng.choice([True, False]),
        "nothing": None,
        "tags": set(rng.sample(WORDS, rng.randint(1, 3))),
        "nums": set(rng.sample([1, 2, 3, Decimal("2.5")], rng.randint(1, 3))),
        "items": [rng.choice([*WORDS[:3], 1, 2, {"k": rng.choice(WORDS)}]) for _ in range(3)],
        "address": {"city": rng.choice(CITIES), "zip": str(rng.randint(1000, 1003))},
        "size": rng.choice(NUMBERS),
        "mixed": rng.choice(["alpha", 2, [1, "x"], {"k": "v"}, True, None, {"a", "b"}]),
    }
    for name, value in optional.items():
        if rng.random() < 0.75:
            item[name] = value
    return item


SEED_ITEMS = [_seed_item(index, random.Random(index)) for index in range(30)]


def _client(endpoint: str) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


def _create_table(client: Any, name: str) -> None:
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1})


@pytest.fixture(scope="module")
def client(dynalite_endpoint: str) -> Any:
    return _client(dynalite_endpoint)


@pytest.fixture(scope="module")
def seeded_table(client: Any) -> Iterator[str]:
    """One table per module holding SEED_ITEMS; created once, read by every example."""
    name = f"expr-scan-{uuid.uuid4().hex[:10]}"
    _create_table(client, name)
    for item in SEED_ITEMS:
        client.put_item(TableName=name, Item=codec.encode_item(item))
    yield name
    client.delete_table(TableName=name)


@pytest.fixture(scope="module")
def scratch_table(client: Any) -> Iterator[str]:
    """A second table for updates, so that the seeded items stay as they are."""
    name = f"expr-update-{uuid.uuid4().hex[:10]}"
    _create_table(client, name)
    yield name
    client.delete_table(TableName=name)


# ---------------------------------------------------------------- conditions

ZIPS = ["1000", "1001", "1002", "1003"]
# Values worth comparing each path with, so that filters select some items but not all.
POOLS: dict[str, list[Any]] = {
    "n": NUMBERS,
    "m": NUMBERS,
    "size": NUMBERS,
    "status": STATUSES,
    "name": WORDS,
    "data": BLOBS,
    "address.city": CITIES,
    "address.zip": ZIPS,
    "items[0]": [*WORDS[:3], 1, 2],
    "items[2].k": WORDS,
    "flag": [True, False],
    "nothing": [None],
    "tags": [{"alpha"}, {"beta", "gamma"}, {"zeta"}],
    "nums": [{1}, {Decimal("2.5"), 3}],
    "mixed": ["alpha", 2, True, None],
}
PATHS = [*POOLS, "items", "address", "missing", "items.k"]
# Equality operands: no lists or maps (dynalite compares those by reference).
EQUALITY_VALUES = st.one_of(
    st.sampled_from(NUMBERS),
    st.sampled_from(WORDS + STATUSES + CITIES + ZIPS),
    st.sampled_from(BLOBS),
    st.booleans(),
    st.none(),
    st.sets(st.sampled_from(WORDS), min_size=1, max_size=2),
)
ORDERED_VALUES = st.one_of(
    st.sampled_from(NUMBERS), st.sampled_from(WORDS + CITIES), st.sampled_from(BLOBS)
)


def _ordered(value: Any) -> bool:
    return isinstance(value, str | bytes | int | Decimal) and not isinstance(value, bool)


@st.composite
def pooled(draw: st.DrawFn, path: str, ordered: bool = False) -> Any:
    """Mostly a value from the path's pool, sometimes any value (to meet other types)."""
    pool = [value for value in POOLS.get(path, []) if _ordered(value) or not ordered]
    if pool and draw(st.integers(0, 4)) > 0:
        return draw(st.sampled_from(pool))
    return draw(ORDERED_VALUES if ordered else EQUALITY_VALUES)


@st.composite
def comparisons(draw: st.DrawFn) -> Condition:
    if draw(st.integers(0, 5)) == 0:
        # Path against path only between attributes every item has (see module docstring).
        left, right = (attr(name) for name in draw(st.permutations(["n", "m"])))
        return draw(st.sampled_from([left == right, left != right, left < right, left >= right]))
    path = draw(st.sampled_from(PATHS))
    subject = attr(path)
    operator = draw(st.sampled_from(["=", "<>", "<", "<=", ">", ">="]))
    value = draw(pooled(path, ordered=operator not in ("=", "<>")))
    return {
        "=": subject.__eq__,
        "<>": subject.__ne__,
        "<": subject.__lt__,
        "<=": subject.__le__,
        ">": subject.__gt__,
        ">=": subject.__ge__,
    }[operator](value)


@st.composite
def between(draw: st.DrawFn) -> Condition:
    path = draw(st.sampled_from(PATHS))
    first = draw(pooled(path, ordered=True))
    same_kind = [
        value
        for value in [*NUMBERS, *WORDS, *CITIES, *ZIPS, *BLOBS]
        if type(value) is type(first) or (_number(value) and _number(first))
    ]
    second = draw(st.sampled_from(same_kind))
    low, high = sorted([first, second])
    return attr(path).between(low, high)


def _number(value: Any) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


@st.composite
def functions(draw: st.DrawFn) -> Condition:
    path = draw(st.sampled_from(PATHS))
    # attribute_type stays off "flag" and "mixed", which may hold false (see docstring).
    typed_path = draw(st.sampled_from([p for p in PATHS if p not in ("flag", "mixed")]))
    sample = draw(pooled(path, ordered=True))
    prefix = sample[: draw(st.integers(1, 3))] if isinstance(sample, str | bytes) else "a"
    member = draw(st.sampled_from([*WORDS, "a", "l", *NUMBERS[:4], *BLOBS, sample]))
    in_values = st.lists(
        pooled(path).filter(lambda v: not isinstance(v, bool)), min_size=1, max_size=4
    )
    type_tag = draw(st.sampled_from(["S", "N", "B", "SS", "NS", "L", "M", "NULL"]))
    options = [
        attr(path).begins_with(prefix),
        attr(path).contains(member),
        attr(path).exists(),
        attr(path).not_exists(),
        attr(path).is_in(*draw(in_values)),
        attr(typed_path).attribute_type(type_tag),
        size(path) == draw(st.integers(0, 4)),
        size(path) > draw(st.integers(0, 4)),
        size(path).between(1, 3),
    ]
    return draw(st.sampled_from(options))


LEAVES = st.one_of(comparisons(), between(), functions())
CONDITIONS = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda pair: pair[0] & pair[1]),
        st.tuples(inner, inner).map(lambda pair: pair[0] | pair[1]),
        inner.map(lambda condition: ~condition),
    ),
    max_leaves=6,
)


def _scan_keys(client: Any, table: str, parts: dict[str, Any]) -> set[str]:
    request: dict[str, Any] = {"TableName": table, "ConsistentRead": True, **parts}
    keys: set[str] = set()
    while True:
        page = client.scan(**request)
        keys.update(item["PK"]["S"] for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            return keys
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(condition=CONDITIONS)
def test_random_filters_select_what_evaluate_selects(
    client: Any, seeded_table: str, condition: Condition
) -> None:
    parts = build_request_parts(filter=condition)
    returned = _scan_keys(client, seeded_table, parts)
    expected = {item["PK"] for item in SEED_ITEMS if evaluate(condition, item)}
    assert returned == expected, condition.debug()


def test_seeded_filters_have_known_answers(client: Any, seeded_table: str) -> None:
    """A fixed sample, so a broken generator cannot hide a broken compiler."""
    for condition in [
        attr("status") == "FUNDED",
        (attr("n") > 1) & attr("tags").contains("alpha"),
        attr("address.city").is_in("Paris", "Nice") | (size("items") >= 3),
        ~attr("name").begins_with("al"),
        attr("data").between(b"ab", b"b"),
    ]:
        expected = {item["PK"] for item in SEED_ITEMS if evaluate(condition, item)}
        assert 0 < len(expected) < len(SEED_ITEMS), condition.debug()
        assert _scan_keys(client, seeded_table, build_request_parts(filter=condition)) == expected


# ---------------------------------------------------------------- updates

VALUES = st.one_of(
    EQUALITY_VALUES,
    st.lists(st.sampled_from([*WORDS[:3], 1, Decimal("2.5")]), max_size=3),
    st.fixed_dictionaries({"city": st.sampled_from(CITIES)}),
)


KIND_OF = {
    "n": "number",
    "m": "number",
    "size": "number",
    "fresh": "number",
    "status": "value",
    "tags": "set",
    "nums": "set",
    "items": "list",
    "address": "map",
    "mixed": "any",
}


@st.composite
def actions(draw: st.DrawFn, name: str) -> Update:
    """One action on attribute ``name`` (or inside it); actions never share a top level,
    so the order DynamoDB applies them in cannot matter. Mostly actions that suit the
    attribute, sometimes any action (DynamoDB and ``apply_update`` must then refuse alike)."""
    number = draw(st.sampled_from(NUMBERS))
    word = draw(st.sampled_from(WORDS))
    words = set(draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=2)))
    numbers = {draw(st.sampled_from([1, 2, 3, Decimal("2.5")]))}
    by_kind = {
        "value": [Update().set(name, draw(VALUES)), Update().remove(name)],
        "number": [
            Update().set(name, attr(name) + number),
            Update().set(name, attr(draw(st.sampled_from(["n", "m"]))) - number),
            Update().set(name, if_not_exists(name, number)),
            Update().set(name, if_not_exists(name, 0) + number),
            Update().add(name, number),
        ],
        "list": [
            Update().set(name, list_append(attr(name), [word])),
            Update().set(name, list_append([number], attr(name))),
            Update().set(name, list_append(if_not_exists(name, []), [word])),
            Update().set(f"{name}[{draw(st.integers(0, 4))}]", word),
            Update().remove(f"{name}[{draw(st.integers(0, 3))}]"),
        ],
        "set": [
            Update().add(name, words if name == "tags" else numbers),
            Update().delete(name, words if name == "tags" else numbers),
        ],
        "map": [Update().set(f"{name}.city", word), Update().remove(f"{name}.zip")],
    }
    kind = KIND_OF[name]
    if kind == "any" or draw(st.integers(0, 5)) == 0:
        options = [option for group in by_kind.values() for option in group]
        options += [Update().add(name, words), Update().delete(name, numbers)]
    else:
        options = by_kind[kind] + by_kind["value"]
    return draw(st.sampled_from(options))


UPDATABLE = list(KIND_OF)


@st.composite
def updates(draw: st.DrawFn) -> Update:
    names = draw(st.lists(st.sampled_from(UPDATABLE), min_size=1, max_size=3, unique=True))
    update = Update()
    for name in names:
        update = update.merge(draw(actions(name)))
    return update


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(base=st.sampled_from(SEED_ITEMS), update=updates())
def test_random_updates_match_apply_update(
    client: Any, scratch_table: str, base: dict[str, Any], update: Update
) -> None:
    key = {"PK": {"S": f"scratch#{uuid.uuid4().hex}"}}
    item = {**base, "PK": key["PK"]["S"]}
    client.put_item(TableName=scratch_table, Item=codec.encode_item(item))
    try:
        expected: dict[str, Any] | None = apply_update(update, item)
    except DynamoDBServiceError:
        expected = None
    try:
        response = client.update_item(
            TableName=scratch_table,
            Key=key,
            ReturnValues="ALL_NEW",
            **build_request_parts(update=update),
        )
    except ClientError as error:
        # Only a refusal of the data may happen, never of the expression's syntax.
        assert error.response["Error"]["Code"] == "ValidationException"
        message = error.response["Error"]["Message"]
        assert "Syntax error" not in message and "ExpressionAttribute" not in message, message
        assert expected is None, f"{update.debug()} refused by dynalite: {message}"
        return
    assert expected is not None, f"{update.debug()} accepted by dynalite"
    assert codec.decode_item(response["Attributes"]) == expected, update.debug()


# ---------------------------------------------------------------- projections

PROJECTABLE = ["n", "status", "name", "data", "tags", "size", "nothing", "missing"]
NESTED_PROJECTABLE = ["address.city", "items[1]", "items[2].k", "address.missing"]


def _project(item: dict[str, Any], paths: tuple[Path, ...]) -> dict[str, Any]:
    """The item DynamoDB returns for a projection; list elements keep their order."""
    result: dict[str, Any] = {}
    for path in paths:
        found: Any = item
        for segment in path.segments:
            if isinstance(segment, int):
                ok = isinstance(found, list) and segment < len(found)
            else:
                ok = isinstance(found, dict) and segment in found
            if not ok:
                break
            found = found[segment]
        else:
            _place(result, path.segments, found)
    return result


def _place(target: Any, segments: tuple[str | int, ...], value: Any) -> None:
    head, *rest = segments
    if not rest:
        if isinstance(target, list):
            target.append(value)
        else:
            target[head] = value
        return
    container: Any = [] if isinstance(rest[0], int) else {}
    if isinstance(target, list):
        target.append(container)
    else:
        container = target.setdefault(head, container)
    _place(container, tuple(rest), value)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    item=st.sampled_from(SEED_ITEMS),
    top=st.lists(st.sampled_from(PROJECTABLE), min_size=1, max_size=4, unique=True),
    nested=st.lists(st.sampled_from(NESTED_PROJECTABLE), max_size=1),
)
def test_projections_return_exactly_the_projected_paths(
    client: Any, seeded_table: str, item: dict[str, Any], top: list[str], nested: list[str]
) -> None:
    projection = Projection(*top, *nested)
    parts = build_request_parts(projection=projection)
    response = client.get_item(
        TableName=seeded_table, Key={"PK": {"S": item["PK"]}}, ConsistentRead=True, **parts
    )
    returned = codec.decode_item(response.get("Item", {}))
    assert returned == _project(item, tuple(as_path(path) for path in (*top, *nested)))
