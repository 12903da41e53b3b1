"""``item_size`` answers "will this fit?" with the bytes the stored item really takes."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tctf_dynamo import ErrorCode, InvalidInputError, Repository, item_size, limits
from tctf_dynamo.wire.codec import encode_item
from tctf_dynamo.wire.sizes import item_size as wire_size


def stored_wire(backend: SimpleNamespace, table: str, key: dict[str, str]) -> dict[str, object]:
    request = {"TableName": table, "Key": encode_item(key), "ConsistentRead": True}
    item: dict[str, object] = backend.service.provider.call("GetItem", request)["Item"]
    return item


def test_an_entity_measures_as_the_item_a_put_stores(backend, models) -> None:
    users = Repository(models.User, backend.service)
    user = models.User(user_id="u1", email="ada@example.com", name="Ada", tags={"a", "bb"})
    size = item_size(user)  # managed fields (timestamps, version) counted as a put sets them
    users.put(user)
    stored = stored_wire(backend, models.table.name, {"PK": "USER#u1", "SK": "PROFILE"})
    assert size == wire_size(stored)  # type: ignore[arg-type]
    again = users.get(user_id="u1")
    assert again is not None and item_size(again) == wire_size(stored)  # type: ignore[arg-type]


def test_a_plain_item_measures_as_the_plain_api_stores_it(backend, models) -> None:
    item = {"PK": "RAW#1", "SK": "X", "n": 12345, "s": "héllo", "l": [1, "a", None]}
    backend.service.put_item(models.table, item)
    stored = stored_wire(backend, models.table.name, {"PK": "RAW#1", "SK": "X"})
    assert item_size(item) == wire_size(stored)  # type: ignore[arg-type]
    assert item_size(stored, wire=True) == item_size(item)  # type: ignore[arg-type]


def test_an_entity_of_exactly_the_limit_fits_and_one_byte_more_does_not(backend, models) -> None:
    if "exact_item_limit" not in backend.capabilities:
        pytest.skip(f"{backend.name} refuses items above 405,000 bytes; DynamoDB allows 409,600")
    users = Repository(models.User, backend.service)
    probe = models.User(user_id="big", email="e@x.io", name="")
    padding = limits.MAX_ITEM_SIZE_BYTES - item_size(probe)
    exact = probe.model_copy(update={"name": "n" * padding})
    assert item_size(exact) == limits.MAX_ITEM_SIZE_BYTES
    users.put(exact)
    over = probe.model_copy(update={"name": "n" * (padding + 1)})
    assert item_size(over) == limits.MAX_ITEM_SIZE_BYTES + 1
    with pytest.raises(InvalidInputError) as raised:
        users.put(over)
    assert raised.value.code is ErrorCode.ITEM_TOO_LARGE
