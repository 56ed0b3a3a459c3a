"""Shared fixtures: the bundled schemas, a scratch project, and the golden switch."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest

REPO = Path(__file__).resolve().parents[1]
SCHEMAS_DIR = REPO / "schemas"
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
BUNDLED = sorted(p.stem for p in SCHEMAS_DIR.glob("*.json"))

# aws-cdk-lib runs on node through jsii: keep its cache out of $HOME and its
# end-of-life banner out of the output (TOOLING.md).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_RUNTIME_PACKAGE_CACHE_ROOT", str(REPO / ".pytest_cache" / "jsii"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="Rewrite tests/golden/ from the current generator instead of comparing.",
    )


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


def bundled_document(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS_DIR / f"{name}.json").read_text("utf-8"))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch project root (cwd) with an empty schemas/ directory."""
    (tmp_path / "schemas").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def write_schema(project: Path) -> Callable[[dict[str, Any]], Path]:
    """Write a schema document into the scratch project, named after its extraction."""

    def write(document: dict[str, Any], name: str | None = None) -> Path:
        file_name = name or f"{document.get('extraction_name', 'schema')}.json"
        path = project / "schemas" / file_name
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False), "utf-8")
        return path

    return write


@pytest.fixture
def bundled_project(project: Path) -> Path:
    for path in SCHEMAS_DIR.glob("*.json"):
        shutil.copy(path, project / "schemas" / path.name)
    return project


@pytest.fixture(scope="session")
def moto_endpoint():
    """One moto server for the session, over real HTTP (TOOLING.md); reset its state per test."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
