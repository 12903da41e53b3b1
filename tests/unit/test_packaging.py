"""The package as users install it: metadata, license, and clear errors for missing extras."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _project() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        data: dict[str, object] = tomllib.load(handle)
    return data


def test_the_license_file_is_the_apache_license_the_metadata_names() -> None:
    project = _project()["project"]
    assert isinstance(project, dict)
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_published_extras_hold_no_development_tools() -> None:
    data = _project()
    project = data["project"]
    assert isinstance(project, dict)
    extras = project["optional-dependencies"]
    published = {requirement for group in extras.values() for requirement in group}
    for tool in ("ruff", "mypy", "pytest-timeout", "boto3-stubs", "pynamodb"):
        assert not any(requirement.startswith(tool) for requirement in published), tool
    groups = data["dependency-groups"]
    assert isinstance(groups, dict)
    assert any(requirement.startswith("ruff") for requirement in groups["dev"])
    assert "Typing :: Typed" in project["classifiers"]
    assert project["urls"]


def test_the_changelog_has_an_unreleased_section() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text.startswith("# Changelog")
    assert "## Unreleased" in text


def test_a_missing_moto_names_the_extra_to_install() -> None:
    code = (
        "import sys; sys.modules['moto'] = None\n"
        "from tctf_dynamo import DynamoDBService, DynamoDBServiceError\n"
        "try:\n"
        "    DynamoDBService.embedded()\n"
        "except DynamoDBServiceError as error:\n"
        "    print(error.code.value, '|', error.message)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    code_value, _, message = result.stdout.partition(" | ")
    assert code_value == "INVALID_CONFIGURATION"
    assert "pip install 'tctf-dynamo[embedded]'" in message


def test_a_missing_aiohttp_names_the_extra_to_install() -> None:
    code = (
        "import sys; sys.modules['aiohttp'] = None\n"
        "from tctf_dynamo.providers import EmbeddedProvider\n"
        "try:\n"
        "    from tctf_dynamo.providers import AsyncHttpProvider\n"
        "except ModuleNotFoundError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "pip install 'tctf-dynamo[async]'" in result.stdout
