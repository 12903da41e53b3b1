"""The committed API reference is what the generator makes from today's docstrings."""

from __future__ import annotations

from tools.api_reference import MODULES, OUTPUT, generate


def test_the_committed_api_reference_is_up_to_date() -> None:
    committed = OUTPUT.read_text(encoding="utf-8")
    assert committed == generate(), "docs/api.md is stale: run `make api-docs` and commit it"


def test_every_public_module_and_name_is_in_the_reference() -> None:
    import importlib

    page = generate()
    for name in MODULES:
        module = importlib.import_module(name)
        assert f"## `{name}`" in page
        for public in module.__all__:
            assert f"`{name}.{public}" in page, f"{name}.{public} is missing"


def test_the_reference_holds_no_memory_addresses() -> None:
    assert " at 0x" not in generate()
