"""Hypothesis strategies for DynamoDB wire items (``{"name": {"S": ...}}``), shared by the
tests that compare our wire codec with botocore's and with the plain decoder."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st


def wire_items(
    *, names: st.SearchStrategy[str] | None = None, texts: st.SearchStrategy[str] | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """Items of every attribute type, nested lists and maps included. ``names`` and
    ``texts`` add awkward attribute names and string values to the generated ones."""
    plain_names = st.sampled_from(["B", "BS", "S", "PK"]) | st.text(min_size=1, max_size=6)
    all_names = plain_names | names if names is not None else plain_names
    plain_texts = st.text(max_size=8)
    all_texts = plain_texts | texts if texts is not None else plain_texts
    scalars = st.one_of(
        st.builds(lambda text: {"S": text}, all_texts),
        st.builds(lambda number: {"N": str(number)}, st.integers()),
        st.builds(lambda data: {"B": data}, st.binary(max_size=12)),
        st.builds(lambda flag: {"BOOL": flag}, st.booleans()),
        st.just({"NULL": True}),
        st.builds(lambda words: {"SS": sorted(words)}, st.sets(st.text(max_size=4), min_size=1)),
        st.builds(
            lambda ints: {"NS": [str(n) for n in sorted(ints)]},
            st.sets(st.integers(), min_size=1),
        ),
        st.builds(lambda blobs: {"BS": sorted(blobs)}, st.sets(st.binary(max_size=6), min_size=1)),
    )

    def nested(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        lists = st.builds(lambda members: {"L": members}, st.lists(inner, max_size=3))
        fields = st.dictionaries(all_names, inner, max_size=3)
        maps = st.builds(lambda members: {"M": members}, fields)
        return lists | maps

    values = st.recursive(scalars, nested, max_leaves=12)
    return st.dictionaries(all_names, values, max_size=5)
