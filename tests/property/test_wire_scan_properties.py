"""The response scan never lets a binary value through undecoded.

:func:`tctf_dynamo.providers.wire_format.decode_response` skips the decoding that turns
base64 text back into bytes when a quick scan of the body finds neither a binary tag nor
a JSON escape. Generated responses, written compactly as DynamoDB writes them, with
non-ASCII text left raw, or with every ``B`` escaped as a server may escape it, must
decode exactly as the plain decoder (every object through the binary hook) decodes them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tctf_dynamo.providers.wire_format import (
    _decode_binary,
    decode_response,
    encode_request,
    may_hold_binary,
)
from tests.wire_items import wire_items

_ITEMS = wire_items(
    names=st.sampled_from(["xB", "B\\", 'B"']), texts=st.sampled_from(['"B"', "\\"])
)
_TAG = re.compile(rb'"(BS?)"')


def _plain(body: bytes) -> Any:
    """The reference: every object of the body through the binary hook."""
    return json.loads(body, object_hook=_decode_binary)


def _bodies(response: dict[str, Any]) -> list[bytes]:
    """The response as DynamoDB writes it, with raw UTF-8, and with tags escaped."""
    compact = encode_request(response)
    raw = json.dumps(json.loads(compact), ensure_ascii=False, separators=(",", ":"))
    escaped = _TAG.sub(lambda tag: b'"\\u0042' + tag.group(1)[1:] + b'"', compact)
    return [compact, raw.encode("utf-8"), escaped]


@settings(max_examples=300, deadline=None)
@given(item=_ITEMS, table=st.sampled_from(["B", "BS", "things"]))
def test_the_scan_decodes_every_response_as_the_plain_decoder(
    item: dict[str, Any], table: str
) -> None:
    for response in (
        {"Item": item},
        {"Responses": {table: [item, item]}, "UnprocessedKeys": {}},
        {"Items": [item], "Count": 1, "ScannedCount": 1},
    ):
        for body in _bodies(response):
            assert decode_response(body) == _plain(body)
            if not may_hold_binary(body):
                assert json.loads(body) == _plain(body)


def test_the_scan_finds_tags_and_escapes() -> None:
    assert may_hold_binary(b'{"Item":{"b":{"B":"AQ=="}}}')
    assert may_hold_binary(b'{"Item":{"b":{"BS":["AQ=="]}}}')
    assert may_hold_binary(b'{"Item":{"b":{"\\u0042":"AQ=="}}}')
    assert may_hold_binary(b'{"Item":{"s":{"S":"a\\nb"}}}')
    assert not may_hold_binary(b'{"Item":{"b":{"BOOL":true},"s":{"S":"Bob"}}}')
