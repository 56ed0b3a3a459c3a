"""Which agent form a project generates, read from its configuration (stdlib only).

Two forms come from the same schemas:

- `standalone` (the default): our own agent stack, CDK app and shared stack;
  the output directory is its own deployment.
- `step-functions-agent`: the Unified-LLM agent stack of an existing
  guyernest/step-functions-agent repository, written into that repository.

A project picks one in `schema-factory.toml` (`form = "..."` at the top level)
or in `pyproject.toml` (`[tool.schema-factory]`, `form = "..."`), both read
from the working directory, or per run with `generate --form`. Precedence,
highest first:

1. `generate --form FORM`;
2. `schema-factory.toml`;
3. `pyproject.toml` `[tool.schema-factory]`;
4. the form recorded in the output directory's MANIFEST.json (the directory
   remembers how it was generated, as it remembers its schemas);
5. `standalone`.

The consistency check uses the same order without step 1, so `check` judges a
directory by the form `generate` would write into it. This module is stdlib
only: the check's fast path imports it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factory import rules, safe_io
from factory.errors import FactoryError, Problem

STANDALONE = "standalone"
STEP_FUNCTIONS_AGENT = "step-functions-agent"
FORMS = (STANDALONE, STEP_FUNCTIONS_AGENT)
DEFAULT_FORM = STANDALONE

CONFIG_FILE = "schema-factory.toml"
PYPROJECT_FILE = "pyproject.toml"
PYPROJECT_TABLE = "schema-factory"
# The manifest key; absent for the default form, so standalone manifests are unchanged.
MANIFEST_FORM_KEY = "form"
KNOWN_KEYS = ("form",)


@dataclass(frozen=True)
class FormChoice:
    """The form in effect and where it came from (for messages)."""

    form: str
    origin: str


def _problem(file: str, where: str, message: str, hint: str) -> FactoryError:
    return FactoryError(Problem(file, where, rules.PROJECT_CONFIG, message, hint))


def _display(path: Path) -> str:
    """A configuration file as the user knows it: relative to the working directory when inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _read_toml(path: Path) -> dict[str, Any] | None:
    try:
        data = safe_io.read_bytes(path, "config")
    except FileNotFoundError:
        return None
    except OSError as err:
        raise _problem(
            _display(path), "$", f"cannot read: {err.strerror}", "check the file's permissions"
        ) from None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise _problem(_display(path), "$", f"not valid TOML ({err})", "fix the file's syntax") from None


def _table_form(table: Any, file: str, where: str) -> str | None:
    if not isinstance(table, dict):
        raise _problem(
            file, where, "must be a table", f'write it as [{where[2:] or "..."}] with form = "..."'
        )
    for key in table:
        if key not in KNOWN_KEYS:
            raise _problem(
                file, f"{where}.{key}", f"unknown setting {key!r}", f"known: {', '.join(KNOWN_KEYS)}"
            )
    form = table.get("form")
    if form is None:
        return None
    if form not in FORMS:
        raise _problem(file, f"{where}.form", f"unknown form {form!r}", f"use one of: {', '.join(FORMS)}")
    return str(form)


def configured_form(root: Path | None = None) -> FormChoice | None:
    """The form the project's configuration files name, or None when they name none."""
    root = Path.cwd() if root is None else root
    own = _read_toml(root / CONFIG_FILE)
    if own is not None:
        form = _table_form(own, _display(root / CONFIG_FILE), "$")
        if form is not None:
            return FormChoice(form, CONFIG_FILE)
    pyproject = _read_toml(root / PYPROJECT_FILE)
    tool = (pyproject or {}).get("tool")
    if isinstance(tool, dict) and PYPROJECT_TABLE in tool:
        form = _table_form(tool[PYPROJECT_TABLE], _display(root / PYPROJECT_FILE), "$.tool.schema-factory")
        if form is not None:
            return FormChoice(form, f"{PYPROJECT_FILE} [tool.{PYPROJECT_TABLE}]")
    return None


def recorded_form(manifest: dict[str, Any] | None) -> str:
    """The form a manifest says its directory was generated in (absent: the default)."""
    form = (manifest or {}).get(MANIFEST_FORM_KEY, DEFAULT_FORM)
    return form if form in FORMS else DEFAULT_FORM


def resolve_form(flag: str | None, manifest: dict[str, Any] | None, root: Path | None = None) -> FormChoice:
    """The form in effect: flag, then schema-factory.toml, then pyproject.toml, then the manifest."""
    if flag is not None:
        if flag not in FORMS:
            raise _problem("--form", "$", f"unknown form {flag!r}", f"use one of: {', '.join(FORMS)}")
        return FormChoice(flag, "--form")
    configured = configured_form(root)
    if configured is not None:
        return configured
    if manifest is not None and MANIFEST_FORM_KEY in manifest:
        return FormChoice(recorded_form(manifest), "MANIFEST.json")
    return FormChoice(DEFAULT_FORM, "default")


DEFAULT_OUT_DIR = "generated"


def default_out_dir(root: Path | None = None) -> Path:
    """The output directory commands use without `--out`: `.` where the project configures the
    step-functions-agent form (its stacks and templates live at the repository's root), else `generated`.

    So `generate`, `check` (and the pre-commit hook that runs it), `register` and
    `batch` agree on where the files are without a flag in either form.
    """
    choice = configured_form(root)
    return Path(".") if choice is not None and choice.form == STEP_FUNCTIONS_AGENT else Path(DEFAULT_OUT_DIR)
