"""The registry commands sit beside the generator: none of them imports it.

`register` asks the check's fast path whether `generated/` is current (hashes
against MANIFEST.json, layers read back) and reads the records from the
files, so neither it nor `list`/`show`/`deprecate`/`archive` should load the
generator's modules or its heavy dependencies. Each command runs in a fresh
interpreter, as a user runs it, and reports what it imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.registry.helpers import REPO

GENERATOR = ("factory.generation", "factory.emit", "black", "jinja2", "pydantic", "jsonschema")

PROBE = """
import json, sys
heavy_names = json.loads(sys.argv[2])
sys.argv = ["schema-factory", *json.loads(sys.argv[1])]
from factory.cli import main
try:
    main()
except SystemExit as exit:
    code = exit.code
loaded = sorted(name for name in sys.modules
                if any(name == heavy or name.startswith(heavy + ".") for heavy in heavy_names))
print(json.dumps({"exit": code, "loaded": loaded}))
"""


def probe(root: Path, *args: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(list(args)), json.dumps(GENERATOR)],
        cwd=root, capture_output=True, text=True, check=True, timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "AWS_CONFIG_FILE": str(root / "none"),
             "AWS_SHARED_CREDENTIALS_FILE": str(root / "none"), "AWS_EC2_METADATA_DISABLED": "true"},
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def registered(project: Path) -> list[str]:
    where = ["--env", "test", "--backend", "sqlite", "--registry-file", str(project / "registry.sqlite")]
    assert probe(project, "register", *where) == {"exit": 0, "loaded": []}
    return where


@pytest.mark.parametrize("command", [
    ["list"],
    ["show", "energy_tariff_quotes"],
    ["deprecate", "energy_tariff_quotes", "--version", "2.0.1"],
    ["archive", "energy_tariff_quotes", "--version", "2.0.1"],
    ["register", "--dry-run"],
], ids=lambda command: command[0] + ("-dry-run" if "--dry-run" in command else ""))
def test_registry_commands_import_nothing_of_the_generator(project: Path, registered: list[str],
                                                           command: list[str]) -> None:
    assert probe(project, *command, *registered) == {"exit": 0, "loaded": []}


def test_a_stale_tree_is_refused_without_the_generator_either(project: Path) -> None:
    """A changed schema is a finding of the fast path; register refuses before any registry call."""
    schema = project / "schemas" / "energy_tariff_quotes.json"
    document = json.loads(schema.read_text("utf-8"))
    document["description"] = "edited, not regenerated"
    schema.write_text(json.dumps(document, indent=2) + "\n", "utf-8")
    where = ["--env", "test", "--backend", "sqlite", "--registry-file", str(project / "registry.sqlite")]
    assert probe(project, "register", *where) == {"exit": 1, "loaded": []}
    assert not (project / "registry.sqlite").exists()
