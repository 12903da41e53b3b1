"""Smoke test of the built wheel, run by ``make wheel-smoke`` in a clean venv.

Run from outside the source tree, so ``import tctf_dynamo`` finds the installed wheel and
nothing else. ``bare``: the wheel without extras (moto missing must be a clear error);
``embedded``: with the ``[embedded]`` extra, one round trip through the library.
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"wheel smoke test failed: {what}")


def bare() -> None:
    import tctf_dynamo
    from tctf_dynamo import DynamoDBService, DynamoDBServiceError, ErrorCode

    location = Path(tctf_dynamo.__file__).resolve()
    _check("site-packages" in location.parts, f"tctf_dynamo imported from {location}")
    _check(metadata.version("tctf-dynamo") == tctf_dynamo.__version__, "version mismatch")
    _check((location.parent / "py.typed").is_file(), "py.typed is missing")
    meta = metadata.metadata("tctf-dynamo")
    _check(meta.get("License-Expression") == "Apache-2.0", "license expression")
    files = [str(path) for path in metadata.files("tctf-dynamo") or []]
    _check(any(name.endswith("LICENSE") for name in files), "LICENSE is not in the wheel")
    _check(not any(name.startswith("tests") for name in files), "tests leaked into the wheel")
    requires = metadata.requires("tctf-dynamo") or []
    _check(not any(r.startswith(("ruff", "mypy")) for r in requires), "dev tools published")
    import tctf_dynamo.streams  # importable without optional dependencies

    try:
        DynamoDBService.embedded()
    except DynamoDBServiceError as error:
        _check(error.code is ErrorCode.INVALID_CONFIGURATION, f"code {error.code}")
        _check("pip install 'tctf-dynamo[embedded]'" in error.message, error.message)
    else:
        _check(False, "the embedded backend worked without moto")
    script = Path(sys.executable).with_name("tctf-dynamo")
    out = subprocess.run([script, "version"], capture_output=True, text=True, check=True)
    _check(out.stdout.strip() == f"tctf-dynamo {tctf_dynamo.__version__}", out.stdout)


def embedded() -> None:
    from tctf_dynamo import DynamoDBService, Entity, Repository, Table

    table = Table("wheel-smoke")

    class Note(Entity, table=table, pk="NOTE#{note_id}", sk="META"):
        note_id: str
        body: bytes

    with DynamoDBService.embedded() as service:
        service.create_table(table)
        notes = Repository(Note, service)
        notes.put(Note(note_id="n1", body=b"\x00\xff"))
        _check(notes.get(note_id="n1") == Note(note_id="n1", body=b"\x00\xff"), "round trip")


if __name__ == "__main__":
    {"bare": bare, "embedded": embedded}[sys.argv[1]]()
    print(f"wheel smoke test passed: {sys.argv[1]}")
