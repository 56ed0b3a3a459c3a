"""Read canonical schema files into models, collecting every problem.

Stages: bytes → JSON (line/column on syntax errors, duplicate keys refused) →
meta-schema → one required form → pydantic model → semantic checks. Each
stage reports all it finds; a later stage runs only on what the earlier one
accepted, so one mistake is never reported three times.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from pydantic import ValidationError

from factory.errors import FactoryError, Problem, json_path
from factory.project_files import display_path, expand_schema_files
from factory.schema.checks import check_schema, check_schema_set
from factory.schema.model import CanonicalSchema
from factory.schema.standard_form import normalize_required


@dataclass(frozen=True)
class SchemaSource:
    """A schema file as read: where it came from and its exact bytes."""

    path: Path
    display: str
    data: bytes


@dataclass(frozen=True)
class LoadedSchema:
    source: SchemaSource
    schema: CanonicalSchema


@lru_cache(maxsize=1)
def meta_schema() -> dict[str, Any]:
    """The published meta-schema for canonical schemas (shipped in the package)."""
    text = resources.files("factory.schema").joinpath("meta_schema.json").read_text("utf-8")
    return json.loads(text)


def read_source(path: Path) -> SchemaSource:
    display = display_path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise FactoryError(
            Problem(display, "$", "unreadable", f"cannot read file: {err.strerror}", "check the path")
        ) from None
    return SchemaSource(path=path, display=display, data=data)


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen


class _NonFiniteNumber(ValueError):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _refuse_non_finite(text: str) -> Any:
    raise _NonFiniteNumber(text)


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def parse_json(source: SchemaSource) -> tuple[Any, list[Problem]]:
    """JSON text to data; syntax errors located by line and column."""
    try:
        text = source.data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        return None, [
            Problem(source.display, "$", "encoding", f"not UTF-8 (byte {err.start})", "save the file as UTF-8")
        ]
    try:
        return (
            json.loads(text, object_pairs_hook=_refuse_duplicate_keys, parse_constant=_refuse_non_finite),
            [],
        )
    except json.JSONDecodeError as err:
        return None, [
            Problem(
                source.display,
                "$",
                "json-syntax",
                f"invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}",
                "fix the JSON syntax",
            )
        ]
    except _NonFiniteNumber as err:
        return None, [
            Problem(source.display, "$", "json-number", f"{err.text} is not a JSON number", "use a finite number")
        ]
    except _DuplicateKey as err:
        return None, [
            Problem(
                source.display,
                "$",
                "json-duplicate-key",
                f"key {err.key!r} appears twice in one object",
                "keep one of them; JSON readers disagree on which wins",
            )
        ]


def check_meta_schema(display: str, document: Any) -> list[Problem]:
    validator = Draft202012Validator(meta_schema())
    problems = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
        message = error.message
        if error.validator == "additionalProperties":
            message = f"{message}; see the canonical schema format in README.md"
        elif error.validator == "oneOf" and list(error.absolute_path)[-1:] == ["required"]:
            message = "'required' must be true/false or a list of property names"
        if len(message) > 300:
            message = message[:297] + "..."
        problems.append(Problem(display, json_path(list(error.absolute_path)), "meta-schema", message))
    return problems


def normalize_document(document: dict[str, Any]) -> dict[str, Any]:
    out = dict(document)
    for section in ("input_schema", "output_schema"):
        out[section] = normalize_required(document[section])
    return out


def _pydantic_problems(display: str, err: ValidationError) -> list[Problem]:
    return [
        Problem(display, json_path(list(e["loc"])), "model", e["msg"])
        for e in err.errors(include_url=False)
    ]


def load_source(source: SchemaSource) -> tuple[CanonicalSchema | None, list[Problem]]:
    """Load one schema; returns the model only when there are no problems."""
    document, problems = parse_json(source)
    if problems:
        return None, problems
    problems = check_meta_schema(source.display, document)
    if problems:
        return None, problems
    try:
        schema = CanonicalSchema.model_validate(normalize_document(document))
    except ValidationError as err:
        return None, _pydantic_problems(source.display, err)
    problems = check_schema(source.display, source.path, document, schema)
    return (None if problems else schema), problems


def schema_files(paths: list[Path]) -> list[Path]:
    """Expand directories to their `*.json` files, sorted so order never varies."""
    for path in paths:
        if not path.exists():
            raise FactoryError(
                Problem(display_path(path), "$", "missing-file", "no such file or directory", "check the path")
            )
    return expand_schema_files(paths) or []


def load_schemas(paths: list[Path]) -> tuple[list[LoadedSchema], list[Problem]]:
    """Load every schema under `paths`; problems from all files together."""
    loaded: list[LoadedSchema] = []
    problems: list[Problem] = []
    seen: set[Path] = set()
    for path in schema_files(paths):
        key = path.resolve()
        if key in seen:
            continue
        seen.add(key)
        source = read_source(path)
        schema, found = load_source(source)
        problems.extend(found)
        if schema is not None:
            loaded.append(LoadedSchema(source, schema))
    problems.extend(check_schema_set([(item.source.display, item.schema) for item in loaded]))
    return loaded, problems
