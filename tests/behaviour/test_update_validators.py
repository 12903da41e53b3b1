"""A field's own validators (``@field_validator``) hold for every value an update writes.

Runs on every backend and through both APIs: a value the field's validators refuse is
refused before anything is sent, and a write whose result they cannot see is refused too;
what passes reads back.
"""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import BaseModel, Field, ValidationInfo, field_validator

from tctf_dynamo import (
    Entity,
    ErrorCode,
    InvalidInputError,
    Table,
    attr,
    if_not_exists,
)

pytestmark = pytest.mark.both_apis


class Address(BaseModel):
    city: str

    @field_validator("city")
    @classmethod
    def capitalised(cls, value: str) -> str:
        if not value[:1].isupper():
            raise ValueError("a city starts with a capital")
        return value


def build(table_name: str) -> SimpleNamespace:
    table = Table(table_name)

    class Account(Entity, table=table, pk="A#{aid}", sk="META"):
        aid: str
        balance: Decimal = Decimal(0)
        visits: int = 0
        nickname: str = "anon"
        other: str = "x"
        home: Address | None = None
        tags: list[str] = Field(default_factory=list)
        currency: str = "EUR"
        amount: Decimal = Decimal(0)

        @field_validator("balance")
        @classmethod
        def never_negative(cls, value: Decimal) -> Decimal:
            if value < 0:
                raise ValueError("a balance is never negative")
            return value

        @field_validator("nickname", mode="before")
        @classmethod
        def lower_case(cls, value: Any) -> Any:
            if isinstance(value, str) and value != value.lower():
                raise ValueError("nicknames are lower case")
            return value

        @field_validator("tags")
        @classmethod
        def sorted_tags(cls, value: list[str]) -> list[str]:
            if value != sorted(value):
                raise ValueError("tags are kept sorted")
            return value

        @field_validator("amount")
        @classmethod
        def cents_for_euros(cls, value: Decimal, info: ValidationInfo) -> Decimal:
            if info.data["currency"] == "EUR" and value != round(value, 2):
                raise ValueError("euros have cents")
            return value

    return SimpleNamespace(table=table, Account=Account)


@pytest.fixture
def bank(backend: SimpleNamespace, table_name: str) -> Any:
    built = build(table_name)
    backend.service.create_table(built.table)
    recording = backend.recording()
    built.recorder = recording.recorder
    built.service = recording.service
    built.repo = backend.repository(built.Account, recording.service)
    built.repo.put(built.Account(aid="a1", balance=Decimal(10), home=Address(city="Oslo")))
    built.recorder.clear()
    yield built
    backend.service.delete_table(built.table, missing_ok=True)


REFUSED: list[tuple[str, dict[str, Any]]] = [
    ("a value the validator refuses", {"set": {"balance": Decimal(-1)}}),
    ("a before-validator", {"set": {"nickname": "Ada"}}),
    ("a nested model's field validator", {"set": {"home.city": "oslo"}}),
    ("a nested model whole", {"set": {"home": {"city": "oslo"}}}),
    ("a list the validator refuses", {"set": {"tags": ["b", "a"]}}),
    ("ADD to a validated number", {"add": {"balance": Decimal(-20)}}),
    ("arithmetic on a validated number", {"set": {"balance": attr("balance") - 20}}),
    ("copying another field into a validated one", {"set": {"nickname": attr("other")}}),
    ("a default the validator refuses", {"set": {"nickname": if_not_exists("nickname", "X")}}),
    ("an element of a validated list", {"set": {"tags[0]": "z"}}),
    ("removing from a validated list", {"remove": ["tags[0]"]}),
    ("a validator needing other fields", {"set": {"amount": Decimal("1.5")}}),
]


@pytest.mark.parametrize(("case", "update"), REFUSED, ids=[case for case, _ in REFUSED])
def test_a_value_the_fields_validators_refuse_is_refused_and_nothing_is_sent(
    bank: Any, case: str, update: dict[str, Any]
) -> None:
    with pytest.raises(InvalidInputError) as raised:
        bank.repo.update({"aid": "a1"}, idempotent=False, **update)
    assert raised.value.code is ErrorCode.INVALID_EXPRESSION
    assert bank.recorder.calls == []
    assert bank.repo.get(aid="a1").balance == Decimal(10)


def test_a_unit_of_work_refuses_them_too(backend: SimpleNamespace, bank: Any) -> None:
    uow = backend.unit(bank.service)
    for _, update in REFUSED:
        with pytest.raises(InvalidInputError):
            uow.update(bank.Account, {"aid": "a1"}, **update)
    assert len(uow) == 0 and bank.recorder.calls == []


ACCEPTED: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"set": {"balance": Decimal(0)}}, {"balance": Decimal(0)}),
    ({"set": {"nickname": "ada", "home.city": "Bergen"}}, {"nickname": "ada"}),
    ({"set": {"tags": ["a", "b"]}}, {"tags": ["a", "b"]}),
    ({"set": {"nickname": if_not_exists("nickname", "x")}}, {}),
    ({"add": {"visits": 1}}, {"visits": 1}),  # no validators: ADD as before
]


@pytest.mark.parametrize(("update", "changes"), ACCEPTED)
def test_values_the_validators_accept_are_written_and_read_back(
    bank: Any, update: dict[str, Any], changes: dict[str, Any]
) -> None:
    stored = bank.repo.update({"aid": "a1"}, idempotent=False, **update)
    assert bank.repo.get(aid="a1") == stored
    for name, value in changes.items():
        assert getattr(stored, name) == value
