"""Document paths: parsing, the tuple form, validation and overlap."""

from __future__ import annotations

import pytest

from tctf_dynamo import limits
from tctf_dynamo.errors import ErrorCode, InvalidInputError
from tctf_dynamo.expressions import Path, attr
from tctf_dynamo.expressions.paths import as_path, parse_path


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("status", ("status",)),
        ("address.city", ("address", "city")),
        ("tags[0]", ("tags", 0)),
        ("a.b[2].c", ("a", "b", 2, "c")),
        ("m[1][2]", ("m", 1, 2)),
        ("with space.and-dash", ("with space", "and-dash")),
        ("ünïcode.名前", ("ünïcode", "名前")),
    ],
)
def test_text_form_parses_into_segments(text: str, segments: tuple[str | int, ...]) -> None:
    assert parse_path(text).segments == segments


@pytest.mark.parametrize(
    "text", ["", ".a", "a.", "a..b", "a[", "a[]", "a[x]", "a[-1]", "[0]", "a]b", "a[0]b", "a.[0]"]
)
def test_malformed_text_is_invalid_expression(text: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_path(text)
    assert caught.value.code is ErrorCode.INVALID_EXPRESSION


def test_tuple_form_takes_names_literally() -> None:
    path = attr(("weird.name", "x[1]", 3)).path
    assert path.segments == ("weird.name", "x[1]", 3)
    assert str(path) == '"weird.name"."x[1]"[3]'


@pytest.mark.parametrize(
    "segments", [(), (0,), ("a", -1), ("a", True), ("",), ("a", 1.5), ("a", None)]
)
def test_invalid_tuple_segments_are_refused(segments: tuple[object, ...]) -> None:
    with pytest.raises(InvalidInputError) as caught:
        Path(segments)  # type: ignore[arg-type]
    assert caught.value.code is ErrorCode.INVALID_EXPRESSION


def test_name_longer_than_the_limit_is_refused_with_size_and_limit() -> None:
    with pytest.raises(InvalidInputError) as caught:
        Path(("x" * (limits.MAX_ATTRIBUTE_NAME_BYTES + 1),))
    assert caught.value.details == {
        "size": limits.MAX_ATTRIBUTE_NAME_BYTES + 1,
        "limit": limits.MAX_ATTRIBUTE_NAME_BYTES,
    }


def test_paths_deeper_than_documents_can_nest_are_refused() -> None:
    Path(("a", *([0] * limits.MAX_DOCUMENT_DEPTH)))
    with pytest.raises(InvalidInputError):
        Path(("a", *([0] * (limits.MAX_DOCUMENT_DEPTH + 1))))


def test_every_spelling_gives_the_same_path() -> None:
    expected = Path(("a", "b", 1))
    assert as_path("a.b[1]") == expected
    assert as_path(("a", "b", 1)) == expected
    assert as_path(expected) is expected
    assert as_path(attr("a.b[1]")) == expected
    assert attr("a")["b"][1].path == expected


def test_as_path_refuses_other_types() -> None:
    with pytest.raises(InvalidInputError):
        as_path(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("left", "right", "overlap"),
    [
        ("a", "a", True),
        ("a", "a.b", True),
        ("a.b", "a", True),
        ("tags", "tags[1]", True),
        ("tags[1]", "tags[2]", False),
        ("a.b", "a.c", False),
        ("a", "ab", False),
    ],
)
def test_overlap_means_one_path_is_a_prefix_of_the_other(
    left: str, right: str, overlap: bool
) -> None:
    assert parse_path(left).overlaps(parse_path(right)) is overlap
