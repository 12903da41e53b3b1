"""Our validation against dynalite's: what it refuses, we refuse first, and send nothing.

Each case is one bad request. Its wire form is sent to dynalite as raw JSON (so no client
library checks it first) and must be refused; the same input given to the library must
raise the coded error with no request sent at all. Where dynalite departs from DynamoDB
and accepts what DynamoDB refuses, or has no such operation (transactions), AWS's
documentation decides: the case says so and names the rule, and only the library half runs.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest

from tctf_dynamo import GSI, DynamoDBService, Table, attr
from tctf_dynamo.batch import batch_write
from tctf_dynamo.errors import DynamoDBServiceError, ErrorCode
from tctf_dynamo.expressions import key
from tctf_dynamo.providers.mock import RecordingProvider

pytestmark = pytest.mark.server

LibraryCall = Callable[[DynamoDBService, Table, Table], Any]


@attrs.frozen
class Case:
    """``wire`` is the request dynalite must refuse, or None when AWS's documentation
    decides (``aws_rule`` then says which rule and why dynalite cannot)."""

    name: str
    code: ErrorCode
    library: LibraryCall
    wire: tuple[str, dict[str, Any]] | None
    aws_rule: str = ""


def _deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"S": "x"}
    for _ in range(levels):
        value = {"M": {"a": value}}
    return value


def _item(**values: Any) -> dict[str, Any]:
    return {"PK": {"S": "p"}, "SK": {"S": "s"}, **values}


def _put(**values: Any) -> tuple[str, dict[str, Any]]:
    return "PutItem", {"TableName": "{table}", "Item": _item(**values)}


def _wire_put(**values: Any) -> LibraryCall:
    return lambda service, table, numbers: batch_write(
        service, puts=[(table.name, _item(**values))]
    )


def _value_case(name: str, code: ErrorCode, value: dict[str, Any]) -> Case:
    """A wire value refused wherever it appears; binaries go to dynalite as base64."""
    ((tag, payload),) = value.items()
    if tag == "BS":
        wire = {"BS": [base64.b64encode(member).decode() for member in payload]}
    else:
        wire = value
    return Case(name, code, _wire_put(v=value), _put(v=wire))


def _transact_put(**values: Any) -> LibraryCall:
    return lambda service, table, numbers: service.transact_write(
        [{"Put": {"TableName": table.name, "Item": _item(**values)}}]
    )


UNSUPPORTED = ErrorCode.UNSUPPORTED_TYPE
INVALID = ErrorCode.INVALID_INPUT
SURROGATE = "text\ud800"
DOCS_NESTING = "AWS: nested attributes up to 32 levels deep (dynalite has no depth limit)"
DOCS_UTF8 = (
    "AWS: strings are Unicode with UTF-8 encoding; a lone surrogate has none (dynalite stores it)"
)
DOCS_INDEX_EMPTY = "AWS: secondary index key attributes cannot be empty (dynalite accepts)"
DOCS_INDEX_SIZE = "AWS: index partition keys up to 2048 bytes, sort keys 1024 (dynalite unchecked)"
DOCS_TRANSACT = "AWS TransactWriteItems (dynalite has no transactions)"

CASES = [
    *(
        _value_case(name, code, value)
        for name, code, value in [
            ("number too large", UNSUPPORTED, {"N": "1E126"}),
            ("negative number too large", UNSUPPORTED, {"N": "-1E126"}),
            ("number too small", UNSUPPORTED, {"N": "1E-131"}),
            ("39 significant digits", UNSUPPORTED, {"N": "1" * 39}),
            ("empty string set", UNSUPPORTED, {"SS": []}),
            ("empty number set", UNSUPPORTED, {"NS": []}),
            ("empty binary set", UNSUPPORTED, {"BS": []}),
            ("duplicate strings in a set", INVALID, {"SS": ["a", "a"]}),
            ("1 and 1.0 in a number set", INVALID, {"NS": ["1", "1.0"]}),
            ("duplicate binaries in a set", INVALID, {"BS": [b"a", b"a"]}),
            ("NULL false", INVALID, {"NULL": False}),
        ]
    ),
    Case(
        "number out of range in a transaction",
        UNSUPPORTED,
        _transact_put(v={"N": "1E126"}),
        _put(v={"N": "1E126"}),
    ),
    Case(
        "empty set in a transaction", UNSUPPORTED, _transact_put(v={"NS": []}), _put(v={"NS": []})
    ),
    Case(
        "index key of the wrong type",
        ErrorCode.INVALID_KEY,
        lambda service, table, numbers: service.put_item(
            table, {"PK": "p", "SK": "s", "GSI1PK": 1}
        ),
        _put(GSI1PK={"N": "1"}),
    ),
    Case(
        "index key of the wrong type set by an update",
        ErrorCode.INVALID_KEY,
        lambda service, table, numbers: service.update_item(
            table, {"PK": "p", "SK": "s"}, set={"GSI1PK": 1}
        ),
        (
            "UpdateItem",
            {
                "TableName": "{table}",
                "Key": _item(),
                "UpdateExpression": "SET GSI1PK = :v",
                "ExpressionAttributeValues": {":v": {"N": "1"}},
            },
        ),
    ),
    Case(
        "query filter on the partition key",
        ErrorCode.INVALID_EXPRESSION,
        lambda service, table, numbers: service.query(
            table, key("PK") == "p", filter=attr("PK") == "p"
        ),
        (
            "Query",
            {
                "TableName": "{table}",
                "KeyConditionExpression": "PK = :p",
                "FilterExpression": "PK = :p",
                "ExpressionAttributeValues": {":p": {"S": "p"}},
            },
        ),
    ),
    Case(
        "query filter on the sort key",
        ErrorCode.INVALID_EXPRESSION,
        lambda service, table, numbers: service.query(
            table, key("PK") == "p", filter=attr("SK") > "a"
        ),
        (
            "Query",
            {
                "TableName": "{table}",
                "KeyConditionExpression": "PK = :p",
                "FilterExpression": "SK > :p",
                "ExpressionAttributeValues": {":p": {"S": "p"}},
            },
        ),
    ),
    Case(
        "index query filter on the index sort key",
        ErrorCode.INVALID_EXPRESSION,
        lambda service, table, numbers: service.query(
            table, key("GSI1PK") == "p", index="GSI1", filter=attr("GSI1SK") == "p"
        ),
        (
            "Query",
            {
                "TableName": "{table}",
                "IndexName": "GSI1",
                "KeyConditionExpression": "GSI1PK = :p",
                "FilterExpression": "GSI1SK = :p",
                "ExpressionAttributeValues": {":p": {"S": "p"}},
            },
        ),
    ),
    Case(
        "limit 0",
        ErrorCode.INVALID_INPUT,
        lambda service, table, numbers: service.scan(table, limit=0),
        ("Scan", {"TableName": "{table}", "Limit": 0}),
    ),
    Case(
        "limit given as text",
        ErrorCode.INVALID_INPUT,
        lambda service, table, numbers: service.scan(table, limit="3"),
        ("Scan", {"TableName": "{table}", "Limit": "3"}),
    ),
    Case(
        "extra attribute in a key",
        ErrorCode.INVALID_KEY,
        lambda service, table, numbers: service.get_item(table, {"PK": "p", "SK": "s", "x": "y"}),
        ("GetItem", {"TableName": "{table}", "Key": _item(x={"S": "y"})}),
    ),
    # dynalite accepts these; AWS's documentation decides
    Case(
        "33 levels of maps", ErrorCode.UNSUPPORTED_TYPE, _wire_put(v=_deep(33)), None, DOCS_NESTING
    ),
    Case("lone surrogate", ErrorCode.INVALID_INPUT, _wire_put(v={"S": SURROGATE}), None, DOCS_UTF8),
    Case(
        "lone surrogate in an update",
        ErrorCode.INVALID_INPUT,
        lambda service, table, numbers: service.update_item(
            table, {"PK": "p", "SK": "s"}, set={"v": SURROGATE}
        ),
        None,
        DOCS_UTF8,
    ),
    Case(
        "lone surrogate in a key",
        ErrorCode.INVALID_INPUT,
        lambda service, table, numbers: service.get_item(table, {"PK": SURROGATE, "SK": "s"}),
        None,
        DOCS_UTF8,
    ),
    Case(
        "empty index key",
        ErrorCode.INVALID_KEY,
        lambda service, table, numbers: service.put_item(
            table, {"PK": "p", "SK": "s", "GSI1PK": ""}
        ),
        None,
        DOCS_INDEX_EMPTY,
    ),
    Case(
        "index partition key over 2048 bytes",
        ErrorCode.KEY_TOO_LARGE,
        lambda service, table, numbers: service.update_item(
            table, {"PK": "p", "SK": "s"}, set={"GSI1PK": "x" * 2049}
        ),
        None,
        DOCS_INDEX_SIZE,
    ),
    Case(
        "fractional limit",
        ErrorCode.INVALID_INPUT,
        lambda service, table, numbers: service.scan(table, limit=1.5),
        None,
        "AWS Scan: Limit is an Integer (dynalite truncates 1.5)",
    ),
    Case(
        "over a million scan segments",
        ErrorCode.INVALID_INPUT,
        lambda service, table, numbers: service.scan(table, segment=(0, 1_000_001)),
        None,
        "AWS Scan: TotalSegments from 1 to 1,000,000 (dynalite unchecked)",
    ),
    Case(
        "39-digit number key in a transaction",
        ErrorCode.INVALID_KEY,
        lambda service, table, numbers: service.transact_write([_delete(numbers, "1" * 39)]),
        None,
        DOCS_TRANSACT + ": keys are validated as in DeleteItem",
    ),
    Case(
        "1 and 1.0 as two keys of a transaction",
        ErrorCode.DUPLICATE_ITEM_IN_REQUEST,
        lambda service, table, numbers: service.transact_write(
            [_delete(numbers, "1"), _delete(numbers, "1.0")]
        ),
        None,
        DOCS_TRANSACT + ": two actions may not target one item (numbers compare by value)",
    ),
    Case(
        "37-character client request token",
        ErrorCode.INVALID_CONFIGURATION,
        lambda service, table, numbers: service.transact_write(
            [_delete(numbers, "1")], client_request_token="t" * 37
        ),
        None,
        DOCS_TRANSACT + ": ClientRequestToken is 1 to 36 characters",
    ),
]


def _delete(numbers: Table, number: str) -> dict[str, Any]:
    return {"Delete": {"TableName": numbers.name, "Key": {"id": {"N": number}}}}


def _raw_call(endpoint: str, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Send ``body`` as is: no client library validates or rewrites it on the way."""
    request = urllib.request.Request(
        endpoint,
        data=json.dumps(body).encode(),
        headers={
            "X-Amz-Target": f"DynamoDB_20120810.{operation}",
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Date": "20240101T000000Z",
            "Authorization": "AWS4-HMAC-SHA256 Credential=x/20240101/us-east-1/dynamodb/"
            "aws4_request, SignedHeaders=host;x-amz-date, Signature=0",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _filled(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return names.get(value.strip("{}"), value) if value.startswith("{") else value
    if isinstance(value, dict):
        return {k: _filled(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_filled(v, names) for v in value]
    return value


@pytest.fixture(scope="module")
def tables(
    dynalite_endpoint: str,
) -> Iterator[tuple[DynamoDBService, RecordingProvider, Table, Table]]:
    suffix = uuid.uuid4().hex[:10]
    table = Table(f"checks-{suffix}", indexes=[GSI("GSI1")])
    numbers = Table(f"numbers-{suffix}", pk="id", sk=None, pk_type="N")
    plain = DynamoDBService.from_endpoint(
        dynalite_endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    for each in (table, numbers):
        plain.create_table(each)
    sent = RecordingProvider(plain.provider)
    service = DynamoDBService(sent)
    service.key_schema(table)
    service.key_schema(numbers)
    yield service, sent, table, numbers
    for each in (table, numbers):
        plain.delete_table(each)
    plain.close()


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_refused_by_the_library_before_sending(
    case: Case,
    tables: tuple[DynamoDBService, RecordingProvider, Table, Table],
    dynalite_endpoint: str,
) -> None:
    service, sent, table, numbers = tables
    if case.wire is None:
        assert case.aws_rule, "a case dynalite cannot decide names the AWS rule that does"
    else:
        operation, body = case.wire
        status, answer = _raw_call(
            dynalite_endpoint,
            operation,
            _filled(body, {"table": table.name, "numbers": numbers.name}),
        )
        assert status == 400, f"dynalite accepted {case.name}: {answer}"
        assert "ValidationException" in answer.get("__type", "") or "Serialization" in answer.get(
            "__type", ""
        )
    sent.clear()
    with pytest.raises(DynamoDBServiceError) as caught:
        case.library(service, table, numbers)
    assert caught.value.code is case.code
    assert sent.calls == [], "nothing may be sent for input the library refuses"


def test_accepted_edges_are_stored_by_both(
    tables: tuple[DynamoDBService, RecordingProvider, Table, Table], dynalite_endpoint: str
) -> None:
    """The edges of each rule are accepted by dynalite and by the library alike."""
    service, sent, table, _ = tables
    edges = {
        "largest": {"N": "9.9999999999999999999999999999999999999E+125"},
        "smallest": {"N": "-1E-130"},
        "digits": {"N": "1" * 38},
        "set": {"NS": ["1", "1.5"]},
        "deep": _deep(31),
        "text": {"S": "caf\u00e9 \U0001f600"},
    }
    status, answer = _raw_call(
        dynalite_endpoint, "PutItem", {"TableName": table.name, "Item": _item(**edges)}
    )
    assert status == 200, answer
    batch_write(service, puts=[(table.name, _item(**edges))])
    service.put_item(table, {"PK": "p2", "SK": "s", "GSI1PK": "x" * 2048, "GSI1SK": "y" * 1024})
    # control characters: any non-empty UTF-8 string is a key value, primary or index
    controlled = {"PK": "p\x00\n", "SK": "s\x1f", "GSI1PK": "g\x7f\x85", "GSI1SK": "\x9f"}
    status, answer = _raw_call(
        dynalite_endpoint,
        "PutItem",
        {"TableName": table.name, "Item": {k: {"S": v} for k, v in controlled.items()}},
    )
    assert status == 200, answer
    service.put_item(table, controlled)
    assert service.get_item(table, {"PK": "p\x00\n", "SK": "s\x1f"}) == controlled
    service.scan(table, filter=attr("PK") == "p")  # a Scan may filter on key attributes
    service.query(table, key("GSI1PK") == "x", index="GSI1", filter=attr("PK") == "p")
    assert sent.operations == ["BatchWriteItem", "PutItem", "PutItem", "GetItem", "Scan", "Query"]
