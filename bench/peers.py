"""The competitors' own forms of the benchmark record: a PynamoDB model and boto3 clients.

PynamoDB is optional (``bench/requirements.txt``): when it is missing, :func:`pynamodb_model`
raises :class:`PeerUnavailable` and the scenarios report it instead of failing.
"""

from __future__ import annotations

from typing import Any

from bench import shapes

__all__ = [
    "ACCESS_KEY",
    "DUMMY_CREDENTIALS",
    "REGION",
    "SECRET_KEY",
    "PeerUnavailable",
    "boto3_client",
    "pynamodb_client",
    "pynamodb_model",
    "pynamodb_order",
]

ACCESS_KEY = SECRET_KEY = "bench"
DUMMY_CREDENTIALS = {"aws_access_key_id": ACCESS_KEY, "aws_secret_access_key": SECRET_KEY}
REGION = "us-east-1"


class PeerUnavailable(Exception):
    """A library we compare against is not installed."""


def boto3_client(
    endpoint_url: str, *, max_pool_connections: int = 10, parameter_validation: bool = True
) -> Any:
    """A plain boto3 DynamoDB client with boto3's default settings (what users start from);
    ``parameter_validation=False`` turns off botocore's check of every request."""
    import boto3
    from botocore.config import Config

    config = Config(
        max_pool_connections=max_pool_connections, parameter_validation=parameter_validation
    )
    return boto3.client(
        "dynamodb",
        region_name=REGION,
        endpoint_url=endpoint_url,
        config=config,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )


def pynamodb_model(host: str, table_name: str = shapes.TABLE_NAME) -> type[Any]:
    """A PynamoDB model with attributes equivalent to the record's, bound to ``host``.

    PynamoDB's ``NumberAttribute`` stores through ``json.dumps``, which refuses Decimal, so
    its ``total`` is a float there; keys are plain attributes the caller fills in.
    """
    try:
        from pynamodb.attributes import (
            BooleanAttribute,
            ListAttribute,
            MapAttribute,
            NumberAttribute,
            UnicodeAttribute,
            UnicodeSetAttribute,
            UTCDateTimeAttribute,
        )
        from pynamodb.models import Model
    except ImportError as error:
        raise PeerUnavailable(f"pynamodb is not installed ({error})") from error
    table, endpoint = table_name, host

    class Address(MapAttribute[str, str]):
        street = UnicodeAttribute()
        city = UnicodeAttribute()
        zip = UnicodeAttribute()

    class PynamoOrder(Model):
        class Meta:
            table_name = table
            host = endpoint
            region = REGION
            aws_access_key_id = ACCESS_KEY
            aws_secret_access_key = SECRET_KEY

        pk = UnicodeAttribute(hash_key=True, attr_name="PK")
        sk = UnicodeAttribute(range_key=True, attr_name="SK")
        type_name = UnicodeAttribute(attr_name="_type", default=shapes.TYPE_NAME)
        customer_id = UnicodeAttribute()
        order_id = UnicodeAttribute()
        quantity = NumberAttribute()
        total = NumberAttribute()
        paid = BooleanAttribute()
        created_at = UTCDateTimeAttribute()
        tags = ListAttribute(of=UnicodeAttribute)
        labels = UnicodeSetAttribute()
        address = Address()  # type: ignore[no-untyped-call]
        note = UnicodeAttribute(null=True)
        weight = NumberAttribute()
        description = UnicodeAttribute()

    return PynamoOrder


def pynamodb_order(model: type[Any], record: dict[str, Any]) -> Any:
    """An instance of ``model`` holding ``record``."""
    values = dict(record)
    values["total"] = float(record["total"])
    return model(
        pk=f"CUSTOMER#{record['customer_id']}",
        sk=f"ORDER#{record['order_id']}",
        **values,
    )


def pynamodb_client(model: type[Any]) -> Any:
    """The botocore client under a PynamoDB model (where event hooks are registered)."""
    return model._get_connection().connection.client
