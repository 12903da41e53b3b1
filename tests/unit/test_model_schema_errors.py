"""Every mistake in an entity or table definition is refused when the class is defined."""

from __future__ import annotations

from datetime import datetime

import pytest

from tctf_dynamo import limits
from tctf_dynamo.errors import ErrorCode, InvalidInputError, SchemaError
from tctf_dynamo.model import GSI, LSI, Entity, Projection, Table


@pytest.fixture
def table() -> Table:
    return Table("platform", indexes=[GSI("GSI1"), GSI("GSI3", sk=None), LSI("LSI1")])


def define(table: Table, cls_name: str = "Thing", fields: dict | None = None, **keywords):
    """Define an entity class with ``fields`` (name -> annotation or (annotation, default))."""
    annotations, namespace = {}, {}
    for field, spec in (fields or {"thing_id": str}).items():
        if isinstance(spec, tuple):
            annotations[field], namespace[field] = spec
        else:
            annotations[field] = spec
    namespace["__annotations__"] = annotations
    keywords.setdefault("pk", "THING#{thing_id}")
    keywords.setdefault("sk", "META")
    return type(cls_name, (Entity,), namespace, table=table, **keywords)


def assert_schema_error(match: str, table: Table, **kwargs) -> SchemaError:
    with pytest.raises(SchemaError, match=match) as caught:
        define(table, **kwargs)
    assert caught.value.code is ErrorCode.INVALID_SCHEMA
    assert caught.value.message.startswith(kwargs.get("cls_name", "Thing"))
    return caught.value


def test_unknown_field_in_template(table):
    error = assert_schema_error("unknown field 'other_id'", table, pk="THING#{other_id}")
    assert error.details["field"] == "other_id"


def test_optional_primary_key_field(table):
    assert_schema_error(
        "may be None", table, fields={"thing_id": str | None}, pk="THING#{thing_id}"
    )


def test_optional_sort_key_field(table):
    assert_schema_error(
        "may be None", table, fields={"thing_id": str, "n": (int | None, None)}, sk="N#{n}"
    )


@pytest.mark.parametrize(
    ("template", "fragment"),
    [
        ("THING#{thing_id", "unbalanced"),
        ("THING#{}", "empty field"),
        ("{thing_id}{thing_id}", "two fields in one segment"),
        ("THING##{thing_id}", "empty segment"),
    ],
)
def test_malformed_template(table, template, fragment):
    error = assert_schema_error(fragment, table, pk=template)
    assert error.details["entity"] == "Thing"


def test_reserved_prefix_in_template(table):
    assert_schema_error("reserved prefix", table, pk="__tctf_x#{thing_id}")


def test_duplicate_entity_name(table):
    define(table, cls_name="A", pk="A#{thing_id}")
    assert_schema_error("already used", table, cls_name="B", pk="B#{thing_id}", name="A")


def test_identical_key_shapes_collide(table):
    define(table, cls_name="A", pk="X#{thing_id}")
    error = assert_schema_error("same key", table, cls_name="B", pk="X#{thing_id}")
    assert error.details["other"] == "A"


def test_static_prefix_capture_collides(table):
    fields = {"thing_id": str, "session_id": str}
    define(table, cls_name="Current", fields=fields, sk="SESSION#{session_id}")
    assert_schema_error(
        "begins_with", table, cls_name="Archived", fields=fields, sk="SESSION#ARCHIVED#{session_id}"
    )


def test_different_static_keys_under_one_partition_are_fine(table):
    define(table, cls_name="Profile", sk="PROFILE")
    define(table, cls_name="Settings", sk="SETTINGS")
    define(table, cls_name="Sessions", fields={"thing_id": str, "n": int}, sk="SESSION#{n}")
    assert list(table.entities) == ["Profile", "Settings", "Sessions"]


def test_collisions_are_checked_per_index(table):
    fields = {"thing_id": str, "email": (str | None, None)}
    define(table, cls_name="A", fields=fields, pk="A#{thing_id}", gsi1=("EMAIL#{email}", "X"))
    assert_schema_error(
        "index 'GSI1'",
        table,
        cls_name="B",
        fields=fields,
        pk="B#{thing_id}",
        gsi1=("EMAIL#{email}", "X"),
    )


def test_template_for_an_index_the_table_lacks(table):
    assert_schema_error("GSI9", table, indexes={"GSI9": ("A#{thing_id}", "B")})
    assert_schema_error("unknown class keyword 'gsi9'", table, gsi9=("A#{thing_id}", "B"))


def test_index_template_shapes(table):
    assert_schema_error("takes templates", table, gsi1="ONLY#{thing_id}")
    assert_schema_error("takes templates", table, gsi3=("A#{thing_id}", "B"))
    assert_schema_error("one sort key template", table, lsi1=("A", "B"))
    assert define(table, cls_name="Fine", gsi3="A#{thing_id}", lsi1="L#{thing_id}")


def test_sort_key_presence_must_match_the_table():
    hash_only = Table("hash-only", sk=None)
    with pytest.raises(SchemaError, match="no sort key"):
        define(hash_only, sk="X")
    with pytest.raises(SchemaError, match="needs an sk="):
        type(
            "T",
            (Entity,),
            {"__annotations__": {"thing_id": str}},
            table=Table("with-sk"),
            pk="T#{thing_id}",
        )


def test_key_field_type_must_be_placeable(table):
    assert_schema_error("cannot be placed in a key", table, fields={"thing_id": list[str]})
    assert_schema_error("cannot be placed in a key", table, fields={"thing_id": bytes})


def test_field_clashing_with_a_key_attribute(table):
    assert_schema_error("reserves", table, fields={"thing_id": str, "PK": (str, "x")})
    assert_schema_error("reserves", table, fields={"thing_id": str, "GSI1SK": (str, "x")})


def test_managed_fields_must_have_usable_types(table):
    assert_schema_error(
        "version field 'version' must be int",
        table,
        fields={"thing_id": str, "version": (str, "1")},
        version="version",
    )
    assert_schema_error("ttl field 'expires' is not a field", table, ttl="expires")
    assert_schema_error(
        "ttl field 'expires' must be",
        table,
        fields={"thing_id": str, "expires": (str, "")},
        ttl="expires",
    )
    assert_schema_error(
        "timestamp field 'created_at' must be",
        table,
        fields={"thing_id": str, "created_at": (str, "")},
        timestamps=True,
    )


def test_entity_keywords_without_table_are_refused():
    with pytest.raises(SchemaError, match="need table="):

        class Orphan(Entity, pk="X#{a}"):
            a: str


def test_abstract_base_without_table_is_allowed_and_not_registered(table):
    class Audited(Entity):
        created_by: str = "system"

    class Doc(Audited, table=table, pk="DOC#{doc_id}", sk="META"):
        doc_id: str

    assert Audited.__entity_meta__ is None
    assert list(table.entities) == ["Doc"]
    assert Doc(doc_id="d").to_item()["created_by"] == {"S": "system"}
    with pytest.raises(SchemaError, match="not bound to a table"):
        Audited.key()


def test_table_validation():
    with pytest.raises(InvalidInputError) as caught:
        Table("x")
    assert caught.value.code is ErrorCode.INVALID_TABLE_NAME
    with pytest.raises(InvalidInputError) as caught:
        Table("good", indexes=[GSI("b@d")])
    assert caught.value.code is ErrorCode.INVALID_INDEX_NAME
    too_many = [GSI(f"GSI{i:02d}") for i in range(limits.MAX_GLOBAL_SECONDARY_INDEXES + 1)]
    with pytest.raises(SchemaError, match="at most 20 global"):
        Table("good", indexes=too_many)
    with pytest.raises(SchemaError, match="at most 5 local"):
        Table(
            "good", indexes=[LSI(f"LSI{i}") for i in range(limits.MAX_LOCAL_SECONDARY_INDEXES + 1)]
        )
    with pytest.raises(SchemaError, match="share a name"):
        Table("good", indexes=[GSI("GSI1"), GSI("GSI1")])
    with pytest.raises(SchemaError, match="PROVISIONED"):
        Table("good", billing_mode="PROVISIONED")
    with pytest.raises(SchemaError, match="only allowed with PROVISIONED"):
        Table("good", read_capacity=5)
    with pytest.raises(SchemaError, match="local indexes need"):
        Table("good", sk=None, indexes=[LSI("LSI1")])
    with pytest.raises(SchemaError, match="two types"):
        Table("good", indexes=[GSI("GSI1", pk="X", pk_type="N"), GSI("GSI2", pk="X")])
    with pytest.raises(SchemaError, match="at least one"):
        Projection.include()


def test_timestamps_and_version_are_added_when_not_declared(table):
    Thing = define(table, timestamps=True, version="version")
    fields = Thing.model_fields
    assert fields["created_at"].annotation == datetime | None
    assert fields["updated_at"].annotation == datetime | None
    assert fields["version"].annotation is int and fields["version"].default == 0
    meta = Thing.__entity_meta__
    assert meta.timestamps.created == "created_at" and meta.timestamps.updated == "updated_at"
    assert meta.version_field == "version" and meta.version_attribute == "version"
