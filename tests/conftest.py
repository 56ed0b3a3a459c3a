"""Shared fixtures: the bundled schemas, a scratch project, and the golden switch."""

from __future__ import annotations

import ast
import inspect
import json
import os
import shutil
import textwrap
from pathlib import Path
from types import FunctionType, ModuleType
from typing import Any, Callable

import pytest

REPO = Path(__file__).resolve().parents[1]
SCHEMAS_DIR = REPO / "schemas"
TESTS_DIR = Path(__file__).resolve().parent
GOLDEN_DIR = TESTS_DIR / "golden"
BUNDLED = sorted(p.stem for p in SCHEMAS_DIR.glob("*.json"))

# aws-cdk-lib runs on node through jsii: keep its cache out of $HOME and its
# end-of-life banner out of the output.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_RUNTIME_PACKAGE_CACHE_ROOT", str(REPO / ".pytest_cache" / "jsii"))


# --- the slow marker ---------------------------------------------------------------------------
# `pytest -q -m "not slow"` is the fast run. Rather than trusting every file to decorate its
# slow tests, a test is marked here when it, or any fixture it uses, or any project function
# (under the rootdir, outside site-packages) those call by name, imports one of these (CDK
# synthesis starts Node through jsii; moto's server, or its Step Functions interpreter) or runs
# pre-commit; hypothesis tests are marked too. moto's in-process mock of a plain service
# (`mock_aws()` over DynamoDB) answers in milliseconds: it belongs to the fast run. Tests slow for other reasons (a fresh venv, a wheel build) carry
# `@pytest.mark.slow` themselves. tests/test_deploy_slow_marker.py pins the rules.
SLOW_IMPORTS = {
    "aws_cdk": "CDK synthesis",
    "factory.infra": "CDK synthesis",
    "moto.server": "moto server",
    "moto.stepfunctions": "Step Functions interpreter",
    "pre_commit": "pre-commit",
}
# String constants that start a slow tool (a command word, `python -m` module) or fetch a
# slow fixture by name (request.getfixturevalue).
SLOW_WORDS = {"pre-commit": "pre-commit", "pre_commit": "pre-commit", "moto_endpoint": "moto server",
              "execute_state_machine": "Step Functions interpreter"}
# Command words that start a CDK app (Node through jsii, seconds each) when a function that also
# uses `subprocess` names them: `cdk-app` (what generated/cdk.json runs) and `cdk` (the CLI).
SUBPROCESS_WORDS = {"cdk-app": "CDK app in a subprocess", "cdk": "CDK CLI in a subprocess"}


def _slow_import(name: str) -> str | None:
    for prefix, reason in SLOW_IMPORTS.items():
        if name == prefix or name.startswith(prefix + "."):
            return reason
    return None


def _is_project_code(function: FunctionType, root: Path) -> bool:
    path = Path(function.__code__.co_filename)
    return path.is_relative_to(root) and "site-packages" not in path.parts


def _slow_reason(function: FunctionType, seen: dict[FunctionType, str | None], root: Path) -> str | None:
    """Why calling `function` is slow, following the project functions it names; None if it is not."""
    if function in seen:  # known, or being looked at further up (a cycle adds nothing)
        return seen[function]
    seen[function] = None
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return None
    named: set[str] = set()
    reasons: list[str | None] = []
    words: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            reasons += [_slow_import(alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            reasons.append(_slow_import(node.module))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            reasons.append(SLOW_WORDS.get(node.value))
            words.add(node.value)
        elif isinstance(node, ast.Name):
            named.add(node.id)
    if "subprocess" in named:
        reasons += [SUBPROCESS_WORDS.get(word) for word in sorted(words)]
    for name in sorted(named):
        target = function.__globals__.get(name)
        origin = target.__name__ if isinstance(target, ModuleType) else getattr(target, "__module__", None)
        if isinstance(origin, str):  # a slow library used through a module-level import (`@mock_aws`)
            reasons.append(_slow_import(origin))
        if isinstance(target, FunctionType) and _is_project_code(target, root):
            reasons.append(_slow_reason(target, seen, root))
    seen[function] = next((reason for reason in reasons if reason), None)
    return seen[function]


_SEEN: dict[FunctionType, str | None] = {}


def slow_reason(item: pytest.Item) -> str | None:
    """Why a collected test belongs to the slow run (see SLOW_IMPORTS), or None."""
    function = getattr(item, "obj", None)
    if getattr(function, "is_hypothesis_test", False):
        return "hypothesis"
    candidates = [inspect.unwrap(function)] if isinstance(function, FunctionType) else []
    fixture_info = getattr(item, "_fixtureinfo", None)
    for name in getattr(item, "fixturenames", ()):
        definitions = fixture_info.name2fixturedefs.get(name) if fixture_info else None
        if definitions:
            candidates.append(inspect.unwrap(definitions[-1].func))
    for candidate in candidates:
        if isinstance(candidate, FunctionType):
            reason = _slow_reason(candidate, _SEEN, item.config.rootpath)
            if reason:
                return reason
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        reason = slow_reason(item)
        if reason and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow(reason=reason))
    # Modules that hold a slow test run first, whole and in their order (a module's fixtures stay
    # set up once). With `-n`, xdist's worksteal gives each worker a contiguous part of this list and
    # an idle worker steals from the end of another's: long tests at the end would leave one worker
    # finishing them alone.
    slow_modules = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_modules)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="Rewrite tests/golden/ and tests/golden_errors/ from the current code instead of comparing.",
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
    """One moto server for the session, over real HTTP; reset its state per test."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
