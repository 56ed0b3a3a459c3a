"""Read canonical schema files into models, collecting every problem.

Stages: bytes → JSON (line/column on syntax errors, duplicate keys refused) →
meta-schema → one required form → pydantic model → semantic checks. Each
stage reports all it finds; a later stage runs only on what the earlier one
accepted, so one mistake is never reported three times.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from pydantic import ValidationError

from factory import rules, safe_io
from factory.errors import FactoryError, Problem, json_path
from factory.runtime.bounded_parse import MAX_DEPTH, JsonTooDeep, json_loads
from factory.project_files import SchemaPathError, display_path, expand_schema_files
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
        data = safe_io.read_bytes(path, "schema")
    except OSError as err:
        raise FactoryError(
            Problem(display, "$", rules.UNREADABLE, f"cannot read file: {err.strerror}", "check the path")
        ) from None
    return SchemaSource(path=path, display=display, data=data)


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen


# JSON nesting (objects and arrays) a schema may have: about 30 levels of nested
# `properties`, far beyond any real extraction, and far from Python's recursion
# limit in the validators and emitters that walk the document. One limit for all
# untrusted JSON and YAML (factory/runtime/bounded_parse.py).
MAX_JSON_DEPTH = MAX_DEPTH
# Text is parsed up to this depth so the scan below can name the path where MAX_JSON_DEPTH is passed;
# deeper text is refused before the (recursive) parser runs.
_PARSE_DEPTH = 10 * MAX_JSON_DEPTH  # well inside the interpreter's recursion limit (1,000)


class _NonFinite(float):
    """NaN, Infinity or a number too large for a float (1e999), remembered with its text."""

    text: str

    def __new__(cls, text: str) -> _NonFinite:
        value = super().__new__(cls, float(text))
        value.text = text
        return value


def _parse_float(text: str) -> float:
    value = float(text)
    return value if math.isfinite(value) else _NonFinite(text)


def _parse_int(text: str) -> int | float:
    """An integer a float (a JSON reader in JavaScript, a tool spec) cannot hold is not finite either.

    `float(text)` rounds exactly as JavaScript's Number does, so 10**400 is Infinity in both (node would
    re-serialise it as null); converting the text first also keeps Python's 4,300-digit int limit unreached.
    """
    return int(text) if math.isfinite(float(text)) else _NonFinite(text)


def _number_text(text: str) -> str:
    """The number as written, shortened when it is too long for one readable line."""
    return text if len(text) <= 40 else f"{text[:20]}... ({len(text.lstrip('-'))} digits)"


def _too_deep(display: str, where: str) -> Problem:
    return Problem(display, where, rules.JSON_DEPTH, f"nested more than {MAX_JSON_DEPTH} levels deep",
                   "flatten the schema; see the canonical schema format in docs/schemas.md")


def _scan_numbers_and_depth(display: str, document: Any) -> list[Problem]:
    """Every non-finite number, with its JSON path, and the first place nesting goes too deep.

    Iterative, so a hostile document cannot exhaust the stack here.
    """
    problems: list[Problem] = []
    too_deep = False
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(document, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, _NonFinite):
            problems.append(Problem(display, json_path(list(path)), rules.JSON_NUMBER,
                                    f"{_number_text(value.text)} is not a finite JSON number", "use a finite number"))
        elif isinstance(value, (dict, list)):
            if len(path) >= MAX_JSON_DEPTH:
                if not too_deep:
                    too_deep = True
                    problems.append(_too_deep(display, json_path(list(path))))
                continue
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend((child, (*path, key)) for key, child in reversed(list(items)))
    return sorted(problems, key=lambda p: (p.rule, p.json_path))


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
            Problem(source.display, "$", rules.ENCODING, f"not UTF-8 (byte {err.start})", "save the file as UTF-8")
        ]
    try:
        document = json_loads(
            text,
            max_depth=_PARSE_DEPTH,
            object_pairs_hook=_refuse_duplicate_keys,
            parse_constant=_NonFinite,
            parse_float=_parse_float,
            parse_int=_parse_int,
        )
    except JsonTooDeep:
        return None, [_too_deep(source.display, "$")]
    except json.JSONDecodeError as err:
        return None, [
            Problem(
                source.display,
                "$",
                rules.JSON_SYNTAX,
                f"invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}",
                "fix the JSON syntax",
            )
        ]
    except _DuplicateKey as err:
        return None, [
            Problem(
                source.display,
                "$",
                rules.JSON_DUPLICATE_KEY,
                f"key {err.key!r} appears twice in one object",
                "keep one of them; JSON readers disagree on which wins",
            )
        ]
    problems = _scan_numbers_and_depth(source.display, document)
    return (None, problems) if problems else (document, [])


def check_meta_schema(display: str, document: Any) -> list[Problem]:
    validator = Draft202012Validator(meta_schema())
    problems = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
        message = error.message
        if error.validator == "additionalProperties":
            message = f"{message}; see the canonical schema format in docs/schemas.md"
        elif error.validator == "oneOf" and list(error.absolute_path)[-1:] == ["required"]:
            message = "'required' must be true/false or a list of property names"
        if len(message) > 300:
            message = message[:297] + "..."
        problems.append(Problem(display, json_path(list(error.absolute_path)), rules.META_SCHEMA, message))
    return problems


def normalize_document(document: dict[str, Any]) -> dict[str, Any]:
    out = dict(document)
    for section in ("input_schema", "output_schema"):
        out[section] = normalize_required(document[section])
    return out


def _pydantic_problems(display: str, err: ValidationError) -> list[Problem]:
    return [
        Problem(display, json_path(list(e["loc"])), rules.MODEL, e["msg"])
        for e in err.errors(include_url=False)
    ]


def without_unknown_keys(document: Any) -> Any | None:
    """A copy of `document` without the keys the meta-schema does not know; None when it has none.

    A misspelt key is reported, then the rest of the schema is still checked
    as if it were absent, so every problem shows in one run.
    """
    pruned = copy.deepcopy(document)
    removed = False
    for error in Draft202012Validator(meta_schema()).iter_errors(document):
        if error.validator != "additionalProperties" or not isinstance(error.instance, dict):
            continue
        node = pruned
        for step in error.absolute_path:
            node = node[step]
        known = set((error.schema or {}).get("properties", {})) if isinstance(error.schema, dict) else set()
        for key in [key for key in node if key not in known]:
            del node[key]
            removed = True
    return pruned if removed else None


def _model_and_checks(source: SchemaSource, document: Any) -> tuple[CanonicalSchema | None, list[Problem]]:
    try:
        schema = CanonicalSchema.model_validate(normalize_document(document))
    except ValidationError as err:
        return None, _pydantic_problems(source.display, err)
    problems = check_schema(source.display, source.path, document, schema)
    return (None if problems else schema), problems


def load_source(source: SchemaSource) -> tuple[CanonicalSchema | None, list[Problem]]:
    """Load one schema; returns the model only when there are no problems."""
    document, problems = parse_json(source)
    if problems:
        return None, problems
    problems = check_meta_schema(source.display, document)
    if problems:
        pruned = without_unknown_keys(document)
        if pruned is None or check_meta_schema(source.display, pruned):
            return None, problems
        return None, problems + _model_and_checks(source, pruned)[1]
    return _model_and_checks(source, document)


def schema_files(paths: list[Path]) -> list[Path]:
    """Expand directories to their `*.json` files, sorted so order never varies."""
    try:
        files = expand_schema_files(paths)
    except SchemaPathError as err:
        raise FactoryError(
            Problem(err.path.as_posix(), "$", rules.SYMLINK_LOOP, f"cannot read: {err.reason}",
                    "remove the link or point it at a real schema file")
        ) from None
    if files is None:
        missing = next(path for path in paths if not path.exists())
        raise FactoryError(
            Problem(display_path(missing), "$", rules.MISSING_FILE, "no such file or directory", "check the path")
        )
    return files


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
