"""Property tests: the keys a bulk job builds are exactly the keys ``Entity.key`` builds.

Bulk gets and deletes build their wire keys through :func:`wire_keys`, which sends a
plain dict of exactly the key fields straight to the key plan. Whatever a caller hands
over -- right or wrong types, missing or extra fields, None, reserved prefixes, texts
too long, instances, other mappings, non-mappings -- the outcome must be the one of
``entity.key(**key_fields_of(entity, key))``: the same wire key, or an error with the
same code, message and details.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tctf_dynamo.core.writes import key_fields_of, wire_keys
from tctf_dynamo.errors import DynamoDBServiceError
from tctf_dynamo.model import Entity, Table

FAST = settings(max_examples=400, deadline=None)
_TABLE = Table("bulk-key-properties")


class Shipment(Entity, table=_TABLE, pk="ACCOUNT#{account}", sk="SHIP#{day}#{number}"):
    account: str
    day: datetime
    number: int
    note: str = ""


class Other(Entity, table=_TABLE, pk="OTHER#{account}", sk="OTHER"):
    account: str


_VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["~reserved", "#", "", "a" * 1100]),
    st.integers(-(10**6), 10**6),
    st.datetimes(timezones=st.just(UTC)),
    st.datetimes(),
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False),
)
_NAMES = st.sampled_from(["account", "day", "number", "note", "other"])


def _valid(account: str, day: datetime, number: int) -> dict[str, Any]:
    return {"account": account, "day": day, "number": number}


_KEYS = st.one_of(
    st.builds(
        _valid,
        st.text(max_size=12),
        st.datetimes(timezones=st.just(UTC)),
        st.integers(0, 10**6),
    ),
    st.dictionaries(_NAMES, _VALUES, max_size=5),
    st.dictionaries(_NAMES, _VALUES, max_size=5).map(OrderedDict),
    st.builds(
        lambda account, day, number: Shipment(account=account, day=day, number=number),
        st.text(max_size=12),
        st.datetimes(timezones=st.just(UTC)),
        st.integers(0, 10**6),
    ),
    st.builds(lambda account: Other(account=account), st.text(min_size=1, max_size=5)),
    st.sampled_from([None, 7, "account", ("account", "day")]),
)


def _outcome(build: Any) -> tuple[Any, ...]:
    try:
        return ("key", build())
    except DynamoDBServiceError as error:
        return ("error", error.code, str(error), error.details)


@FAST
@given(_KEYS)
def test_a_bulk_key_is_the_key_entity_key_builds(key: Any) -> None:
    expected = _outcome(lambda: Shipment.key(**key_fields_of(Shipment, key)))
    assert _outcome(lambda: next(wire_keys(Shipment, [key]))) == expected


@FAST
@given(st.lists(_KEYS, max_size=8))
def test_a_stream_of_keys_is_built_lazily_in_order(keys: list[Any]) -> None:
    built = wire_keys(Shipment, keys)
    for key in keys:
        expected = _outcome(lambda key=key: Shipment.key(**key_fields_of(Shipment, key)))
        assert _outcome(lambda: next(built)) == expected
        if expected[0] == "error":
            return  # a failed key ends the stream as the expression it replaces would


def test_the_plain_dict_case_is_covered_by_the_examples() -> None:
    day = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    key = next(wire_keys(Shipment, [{"account": "a", "day": day, "number": 3}]))
    assert key == Shipment.key(account="a", day=day, number=3)
    assert key["PK"] == {"S": "ACCOUNT#a"}
