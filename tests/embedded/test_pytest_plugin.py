"""The pytest plugin, driven as users drive it: small test files run by pytester.

Each inner run loads the plugin with ``-p`` and nothing else: entry-point autoloading is
switched off, so an installed copy of the plugin is never registered twice.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from tctf_dynamo import GSI, DynamoDBService, Entity, Repository, Table
from tctf_dynamo.errors import OutcomeUnknownError
from tctf_dynamo.testing import FaultRates, create_tables, entities
from tctf_dynamo.testing.pytest_plugin import FaultyServiceFactory

pytest_plugins = ["pytester"]

PLUGIN = "tctf_dynamo.testing.pytest_plugin"

MODELS = """
from decimal import Decimal
from tctf_dynamo import Entity, GSI, Repository, Table

table = Table("shop", indexes=[GSI("GSI1")])

class Customer(Entity, table=table, pk="CUSTOMER#{customer_id}", sk="PROFILE",
               gsi1=("EMAIL#{email}", "CUSTOMER#{customer_id}")):
    customer_id: str
    email: str
    credit: Decimal = Decimal(0)

class Order(Entity, table=table, pk="CUSTOMER#{customer_id}", sk="ORDER#{number}"):
    customer_id: str
    number: int
    total: Decimal
"""


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(shop_models=MODELS)
    return pytester


def run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_user=textwrap.dedent(source))
    return pytester.runpytest_subprocess("-p", PLUGIN, *args)


# --------------------------------------------------------------------- dynamo_service


def test_dynamo_service_is_a_fresh_backend_per_test_and_closed_after(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
        import pytest
        from tctf_dynamo.errors import NotFoundError
        from tctf_dynamo.testing import create_tables
        from shop_models import Customer, Repository, table

        seen = []

        def test_writes_and_reads(dynamo_service):
            seen.append(dynamo_service)
            create_tables(dynamo_service, table)
            customers = Repository(Customer, dynamo_service)
            customers.create(Customer(customer_id="c#1", email="a@x"))
            assert customers.get(customer_id="c#1").email == "a@x"
            assert [c.customer_id for c in customers.query(index="GSI1", email="a@x")] == ["c#1"]

        def test_the_next_test_starts_empty(dynamo_service):
            assert seen[0].provider.closed
            with pytest.raises(NotFoundError):
                dynamo_service.describe_table(table)

        def test_paging_works_out_of_the_box(dynamo_service):
            create_tables(dynamo_service, table)
            customers = Repository(Customer, dynamo_service)
            for number in range(3):
                customers.create(Customer(customer_id=f"c{number}", email="same@x"))
            first = customers.query(index="GSI1", email="same@x").page(size=2)
            rest = customers.query(index="GSI1", email="same@x").page(first.cursor, size=2)
            assert len(first.items) + len(rest.items) == 3

        def test_a_wrong_expectation_still_fails(dynamo_service):
            create_tables(dynamo_service, table)
            assert Repository(Customer, dynamo_service).get(customer_id="nobody") is not None
        """,
    )
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*test_a_wrong_expectation_still_fails*"])


def test_endpoint_ini_value_and_option_show_in_the_header(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\ndynamo_endpoint = http://127.0.0.1:1\n")
    source = "def test_nothing():\n    pass\n"
    from_ini = run(pytester, source)
    from_ini.stdout.fnmatch_lines(["tctf_dynamo: dynamo_service uses http://127.0.0.1:1"])
    from_option = run(pytester, source, "--dynamo-endpoint", "http://127.0.0.1:2")
    from_option.stdout.fnmatch_lines(["tctf_dynamo: dynamo_service uses http://127.0.0.1:2"])
    from_option.assert_outcomes(passed=1)


def test_without_an_endpoint_the_header_says_nothing(pytester: pytest.Pytester) -> None:
    result = run(pytester, "def test_nothing():\n    pass\n")
    assert "tctf_dynamo:" not in result.stdout.str()


@pytest.mark.server
def test_dynamo_endpoint_runs_the_same_tests_on_a_server_and_drops_only_its_tables(
    pytester: pytest.Pytester, moto_endpoint: str, table_name: str
) -> None:
    """Tables a test created are deleted after it; a table that was there is kept."""
    kept = Table(f"{table_name}-kept")
    with DynamoDBService.from_endpoint(
        moto_endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    ) as outside:
        create_tables(outside, kept)
        pytester.makepyfile(names=f"FRESH = {table_name + '-fresh'!r}\nKEPT = {kept.name!r}\n")
        result = run(
            pytester,
            """
            import pytest
            from tctf_dynamo import Table
            from tctf_dynamo.errors import NotFoundError
            from tctf_dynamo.testing import create_tables
            from names import FRESH, KEPT

            def test_creates_and_writes(dynamo_service):
                assert type(dynamo_service.provider.inner).__name__ == "Boto3Provider"
                create_tables(dynamo_service, Table(FRESH), Table(KEPT))
                dynamo_service.put_item(FRESH, {"PK": "a", "SK": "b"})

            def test_the_created_table_is_gone_and_the_other_kept(dynamo_service):
                with pytest.raises(NotFoundError):
                    dynamo_service.describe_table(FRESH)
                assert dynamo_service.describe_table(KEPT)["TableStatus"] == "ACTIVE"
            """,
            "--dynamo-endpoint",
            moto_endpoint,
        )
        result.assert_outcomes(passed=2)
        assert outside.describe_table(kept)["TableStatus"] == "ACTIVE"
        outside.delete_table(kept)


# --------------------------------------------------------------------- dynamo_recorder


def test_dynamo_recorder_lets_a_test_assert_the_exact_request(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        from tctf_dynamo.testing import create_tables
        from shop_models import Customer, Repository, table

        def test_an_email_change_is_one_conditional_update(dynamo_recorder):
            create_tables(dynamo_recorder.service, table)
            customers = Repository(Customer, dynamo_recorder.service)
            customers.create(Customer(customer_id="c1", email="a@x"))
            dynamo_recorder.clear()

            customers.update({"customer_id": "c1"}, set={"email": "b@x"})

            assert dynamo_recorder.operations == ["UpdateItem"]
            sent = dynamo_recorder.requests("UpdateItem")[0]
            assert sent["Key"] == {"PK": {"S": "CUSTOMER#c1"}, "SK": {"S": "PROFILE"}}
            assert sent["UpdateExpression"].startswith("SET ")
            assert "ConditionExpression" in sent
            assert dynamo_recorder.calls[0].succeeded

        def test_a_request_that_was_not_sent_fails(dynamo_recorder):
            assert dynamo_recorder.operations == ["PutItem"]
        """,
    )
    result.assert_outcomes(passed=1, failed=1)


# --------------------------------------------------------------------- dynamo_faults


def test_dynamo_faults_retries_without_waiting(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest
        from tctf_dynamo import RetryPolicy
        from tctf_dynamo.errors import ThrottledError, RetriesExhaustedError
        from tctf_dynamo.testing import FaultRates, create_tables
        from shop_models import Customer, Repository, table

        def test_writes_survive_throttling(dynamo_faults):
            create_tables(dynamo_faults.clean, table)
            flaky = dynamo_faults(
                seed=3, rates=FaultRates(throttle=0.5), retry=RetryPolicy(max_attempts=20)
            )
            customers = Repository(Customer, flaky)
            for number in range(10):
                customers.put(Customer(customer_id=f"c{number}", email="a@x"))
            assert flaky.provider.injected["throttle"] > 0
            assert len(dynamo_faults.sleeps) == flaky.provider.injected["throttle"]
            stored = Repository(Customer, dynamo_faults.clean).scan().all()
            assert len(stored) == 10

        def test_constant_throttling_gives_up(dynamo_faults):
            create_tables(dynamo_faults.clean, table)
            down = dynamo_faults(rates=FaultRates(throttle=1.0), retry=RetryPolicy(max_attempts=2))
            with pytest.raises((ThrottledError, RetriesExhaustedError)):
                Repository(Customer, down).put(Customer(customer_id="c", email="a@x"))
            assert down.provider.injected["throttle"] == 2
        """,
        "--durations=0",
    )
    result.assert_outcomes(passed=2)


def test_fault_factory_services_share_one_backend_that_closes_once() -> None:
    factory = FaultyServiceFactory()
    table = Table("shared")
    create_tables(factory.clean, table)
    faulty = factory(seed=1, rates={"PutItem": FaultRates(timeout_after=1.0)})
    with pytest.raises(OutcomeUnknownError):  # applied, but every answer was lost
        faulty.put_item(table, {"PK": "a", "SK": "b"})
    assert faulty.provider.injected["timeout_after"] == 3  # type: ignore[attr-defined]
    assert len(factory.sleeps) == 2
    assert factory.clean.get_item(table, {"PK": "a", "SK": "b"}) == {"PK": "a", "SK": "b"}
    factory.close()
    assert factory.backend.closed


# --------------------------------------------------------------------- check_key_schema


def test_check_key_schema_in_a_user_suite(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        from tctf_dynamo import Entity, Table
        from tctf_dynamo.model import registry
        from tctf_dynamo.testing import check_key_schema
        import shop_models

        def test_the_shop_key_schema_is_sound():
            check_key_schema(shop_models.table, max_examples=25)

        def test_a_clash_is_reported_with_the_rule_broken(monkeypatch):
            monkeypatch.setattr(registry, "_check_pair", lambda new, old: None)
            broken = Table("broken")

            class Invoice(Entity, table=broken, pk="DOC#{doc_id}", sk="V#{n}"):
                doc_id: str
                n: int

            class Receipt(Entity, table=broken, pk="DOC#{doc_id}", sk="V#{n}"):
                doc_id: str
                n: int

            check_key_schema(broken, max_examples=100)
        """,
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*check_key_schema('broken') failed*distinct keys*same primary key*"]
    )


# --------------------------------------------------------------------- entities()


class Address(BaseModel):
    street: str
    zip_code: str = Field(max_length=10)


TABLE = Table("kit", indexes=[GSI("GSI1")])


class Member(
    Entity,
    table=TABLE,
    pk="MEMBER#{member_id}",
    sk="JOINED#{joined_at}",
    gsi1=("TIER#{tier}", "MEMBER#{member_id}"),
    timestamps=True,
):
    member_id: str
    joined_at: datetime
    tier: Literal["gold", "silver"]
    points: int = Field(ge=0)
    balance: Decimal
    tags: set[str] = Field(default_factory=set)
    address: Address | None = None
    nickname: str | None = Field(default=None, max_length=12)


@pytest.fixture(scope="module")
def members() -> Iterator[Repository[Member]]:
    with DynamoDBService.embedded() as service:
        create_tables(service, TABLE)
        yield Repository(Member, service)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(member=entities(Member))
def test_generated_entities_round_trip_through_a_repository(
    members: Repository[Member], member: Member
) -> None:
    stored = members.put(member)
    key = {"member_id": member.member_id, "joined_at": member.joined_at}
    assert members.get(key, consistent=True) == stored
    assert stored.model_dump(exclude={"created_at", "updated_at"}) == member.model_dump(
        exclude={"created_at", "updated_at"}
    )
    found = members.query(index="GSI1", tier=member.tier).all()
    assert stored in found
    members.delete(key)


@settings(max_examples=15, deadline=None)
@given(member=entities(Member, tier="gold", points=st.integers(5, 9)))
def test_overrides_pin_or_narrow_fields(member: Member) -> None:
    assert member.tier == "gold"
    assert 5 <= member.points <= 9
