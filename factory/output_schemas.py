"""Read `schemas/<agent>.yaml` agent output-schema files: YAML -> document -> every problem, located.

Agents this factory did not make describe their output in these files; the
conversion to the generic mapper's compiled model lives in
`factory.runtime.output_mapping.registered`, so the mapper Lambda can apply a
registered schema itself.

Stages: bytes -> UTF-8 -> YAML (safe loader; duplicate keys, aliases and
non-mapping roots refused, with line and column) -> the document checks of
`output_mapping.registered.document_problems` -> file rules (the file is named
after its agent; one file per agent). Nothing here raises for bad content: the
caller gets a list of `Problem`s to print, like the canonical schema loader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from factory import rules, safe_io
from factory.errors import FactoryError, Problem
from factory.runtime.output_mapping.registered import AGENT_NAME, document_problems
from factory.strict_yaml import YamlTooDeep, load_strict, too_deep_message

SUFFIXES = (".yaml", ".yml")
MAX_BYTES = 1_000_000
RULE = "output-schema"


@dataclass
class OutputSchemaFile:
    """One file: its document when it parsed, and everything wrong with it."""

    display: str
    document: dict[str, Any] | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def agent(self) -> str | None:
        agent = (self.document or {}).get("agent")
        return agent if isinstance(agent, str) else None


def _yaml_problem(display: str, err: yaml.YAMLError) -> Problem:
    mark = getattr(err, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "$"
    if isinstance(err, YamlTooDeep):
        return Problem(display, where, rules.JSON_DEPTH, too_deep_message(),
                       "flatten it; an output schema lists fields")
    reason = getattr(err, "problem", None) or str(err)
    if "duplicate key" in reason:
        hint = "keep one of the two"
    elif "aliases" in reason:
        hint = "write the value out in full"
    else:
        hint = "fix the YAML syntax"
    return Problem(display, where, f"{RULE}-yaml", f"not valid YAML: {reason}", hint)


def parse_output_schema(data: bytes, display: str, stem: str | None = None) -> OutputSchemaFile:
    """Check one file's bytes; `stem` (the file name without suffix) must be the agent's name."""
    if len(data) > MAX_BYTES:
        return OutputSchemaFile(
            display,
            None,
            [
                Problem(
                    display,
                    "$",
                    RULE,
                    f"larger than {MAX_BYTES} bytes",
                    "an output schema lists fields, it is small",
                )
            ],
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        return OutputSchemaFile(
            display,
            None,
            [
                Problem(
                    display, "$", f"{RULE}-encoding", f"not UTF-8 text (byte {err.start})", "save it as UTF-8"
                )
            ],
        )
    try:
        document = load_strict(text)
    except yaml.YAMLError as err:
        return OutputSchemaFile(display, None, [_yaml_problem(display, err)])
    problems = [Problem(display, p.path, RULE, p.message, p.hint) for p in document_problems(document)]
    if not isinstance(document, dict):
        return OutputSchemaFile(display, None, problems)
    agent = document.get("agent")
    if stem is not None and isinstance(agent, str) and agent != stem:
        problems.append(
            Problem(
                display,
                "$.agent",
                f"{RULE}-name",
                f"the file is named {stem!r} but describes agent {agent!r}",
                f"rename the file to {agent}.yaml",
            )
        )
    return OutputSchemaFile(display, document, problems)


def load_output_schema_file(path: Path, display: str | None = None) -> OutputSchemaFile:
    display = display or path.as_posix()
    try:
        data = safe_io.read_bytes(path, "output schema")
    except OSError as err:
        return OutputSchemaFile(
            display, None, [Problem(display, "$", f"{RULE}-read", f"cannot read: {err.strerror or err}", "")]
        )
    return parse_output_schema(data, display, path.stem if path.suffix in SUFFIXES else None)


def find_output_schema_files(directory: Path) -> list[Path]:
    """The output-schema files of a schemas directory, in name order (canonical schemas are .json)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix in SUFFIXES and p.is_file())


def load_output_schemas(paths: list[Path]) -> tuple[dict[str, dict[str, Any]], list[Problem]]:
    """Every file checked; {agent: document} of the valid ones, and every problem (one agent, one file)."""
    documents: dict[str, dict[str, Any]] = {}
    owners: dict[str, str] = {}
    problems: list[Problem] = []
    for path in paths:
        loaded = load_output_schema_file(path)
        problems.extend(loaded.problems)
        agent = loaded.agent
        if agent is not None and agent in owners:
            problems.append(
                Problem(
                    loaded.display,
                    "$.agent",
                    f"{RULE}-duplicate",
                    f"agent {agent!r} is already described by {owners[agent]}",
                    "keep one output schema per agent",
                )
            )
            continue
        if agent is not None:
            owners[agent] = loaded.display
        if loaded.document is not None and not loaded.problems and agent is not None:
            documents[agent] = loaded.document
    return documents, problems


def output_schema_for(agent: str, directory: Path) -> dict[str, Any] | None:
    """The registered output schema of `agent` in a schemas directory, None when it has none.

    A file that is there but wrong stops the batch (FactoryError with every
    problem) rather than silently falling back to the structured output.
    """
    if not AGENT_NAME.match(agent):
        return None  # not a name a file could carry; never a path
    for suffix in SUFFIXES:
        path = directory / f"{agent}{suffix}"
        if path.is_file():
            loaded = load_output_schema_file(path)
            if loaded.problems:
                raise FactoryError(loaded.problems)
            return loaded.document
    return None


def split_paths(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """(canonical schema paths, output-schema files named directly): `validate x.yaml` checks it as YAML."""
    yaml_files = [path for path in paths if path.suffix in SUFFIXES and not path.is_dir()]
    return [path for path in paths if path not in yaml_files], yaml_files


def output_schema_files_under(paths: list[Path], default_dir: Path) -> list[Path]:
    """The output-schema files `validate` and `check` judge: those named, and those in each directory given."""
    roots = paths or [default_dir]
    found: list[Path] = []
    for root in roots:
        for path in (
            find_output_schema_files(root) if root.is_dir() else [root] if root.suffix in SUFFIXES else []
        ):
            if path not in found:
                found.append(path)
    return found


def check_output_schema_files(
    paths: list[Path], default_dir: Path
) -> tuple[list[OutputSchemaFile], list[Problem]]:
    """Every output-schema file under `paths` loaded: the good ones, and every problem of any."""
    files = output_schema_files_under(paths, default_dir)
    documents, problems = load_output_schemas(files)
    good = [load_output_schema_file(path) for path in files]
    return [item for item in good if item.agent in documents and not item.problems], problems
