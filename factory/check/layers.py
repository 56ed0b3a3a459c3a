"""Read each layer back from the files on disk and compare it with the canonical schema.

The canonical schema is the reference; each generated layer restates part of
it. A disagreement names the layer, so a hand edit in one file is attributed
to that file. The stack module is parsed with `ast`, never imported.
Only stdlib (and PyYAML for the batch mapping) is used: this runs on the fast
path too, because the hashes in the manifest vouch only for the bytes, not for
what they say.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from factory import artifacts, names
from factory.check.findings import LAYERS_DISAGREE, finding, generate_command
from factory.errors import Problem
from factory.names import SchemaView
from factory.schema.standard_form import standard_form

AGENT_STACK = artifacts.AGENT_STACK.kind
BROWSER_TEMPLATE = artifacts.BROWSER_TEMPLATE.kind
TOOL_SPECS = artifacts.TOOL_SPECS.kind
BATCH_MAPPING = artifacts.BATCH_MAPPING.kind
AGENT_RECORD = artifacts.AGENT_RECORD.kind
# The generated files that restate part of the schema, each read back by its reader (READERS).
LAYERED = (artifacts.AGENT_STACK, artifacts.BROWSER_TEMPLATE, artifacts.TOOL_SPECS, artifacts.BATCH_MAPPING,
           artifacts.AGENT_RECORD)

STACK_CONSTANT = "OUTPUT_SCHEMA"


class LayerUnreadable(Exception):
    """The file exists but the layer cannot be read out of it."""


def layer_paths(view: SchemaView) -> dict[str, str]:
    """Which generated file (relative to the output directory) holds each layer."""
    return {artifact.kind: artifact.at(view) for artifact in LAYERED}


# --- comparing -----------------------------------------------------------------


def differences(expected: Any, actual: Any, where: str = "$", ordered: bool = False) -> Iterator[str]:
    """Where `actual` departs from `expected`; property order counts (it is CSV column order)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in expected:
            if key not in actual:
                yield f"{where}.{key} is missing"
        for key in actual:
            if key not in expected:
                yield f"{where}.{key} is not in the canonical schema"
        for key in expected:
            if key in actual:
                yield from differences(
                    expected[key], actual[key], f"{where}.{key}", ordered=key == "properties"
                )
        if ordered and set(expected) == set(actual) and list(expected) != list(actual):
            yield f"{where} order is {list(actual)}, expected {list(expected)}"
    elif isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for index, (left, right) in enumerate(zip(expected, actual)):
            yield from differences(left, right, f"{where}[{index}]")
    elif expected != actual or isinstance(expected, bool) != isinstance(actual, bool):
        yield f"{where} is {actual!r}, expected {expected!r}"


def _first(diffs: Iterator[str], what: str) -> Iterator[str]:
    found = list(diffs)
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        yield f"{what}: {found[0]}{more}"


@dataclass(frozen=True)
class Canonical:
    """The reference each layer is compared with, from the raw schema document."""

    view: SchemaView
    input: dict[str, Any]
    output: dict[str, Any]

    @classmethod
    def of(cls, document: dict[str, Any]) -> Canonical:
        return cls(
            SchemaView.of(document),
            standard_form(document["input_schema"]),
            standard_form(document["output_schema"]),
        )

    def output_fields(self) -> list[str]:
        return list(self.output["properties"])

    def required(self, side: str) -> list[str]:
        return list(getattr(self, side).get("required", []))


# --- reading each layer -----------------------------------------------------------


def read_stack_output_schema(source: str) -> Any:
    """The literal assigned to OUTPUT_SCHEMA at module level, via `ast` only.

    Black writes the assignment as one block ending in a `}` at column 0, so
    parsing just that block is ~8x cheaper than the module; anything unusual
    (a second assignment, a block that does not parse) falls back to the module.
    """
    lines = source.splitlines(keepends=True)
    starts = [
        i
        for i, line in enumerate(lines)
        if line.startswith(STACK_CONSTANT) and line[len(STACK_CONSTANT) :].lstrip()[:1] in ("=", ":")
    ]
    module = None
    if len(starts) == 1:
        end = starts[0] + 1
        while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t)]}"):
            end += 1
        try:
            module = ast.parse("".join(lines[starts[0] : end]))
        except SyntaxError:
            module = None
    if module is None:
        try:
            module = ast.parse(source)
        except SyntaxError as err:
            raise LayerUnreadable(f"the stack module does not parse (line {err.lineno}: {err.msg})") from None
    value = None
    for node in module.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == STACK_CONSTANT for t in node.targets
        ):
            value = node.value
        elif (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == STACK_CONSTANT
        ):
            value = node.value
    if value is None:
        raise LayerUnreadable(f"no module-level {STACK_CONSTANT} assignment")
    try:
        return ast.literal_eval(value)
    except ValueError:
        raise LayerUnreadable(f"{STACK_CONSTANT} is not a literal") from None


def _stack(canonical: Canonical, data: bytes) -> Iterator[str]:
    output = read_stack_output_schema(data.decode("utf-8"))
    yield from _first(differences(canonical.output, output), f"{STACK_CONSTANT} vs the output schema")


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError as err:
        raise LayerUnreadable(f"not valid JSON ({err})") from None


def _template(canonical: Canonical, data: bytes) -> Iterator[str]:
    """A TemplateRegistry record, or (the step-functions-agent form) the bare browser script it wraps."""
    record = _json(data)
    bare = "template" not in record and "steps" in record
    script = record if bare else record.get("template") or {}
    steps = [step for step in script.get("steps") or [] if isinstance(step, dict)]
    extract = [(i, step) for i, step in enumerate(steps) if step.get("action") == "act_with_schema"]
    if not extract:
        yield "template.steps has no act_with_schema step"
    for index, step in extract:
        yield from _first(
            differences(canonical.output, step.get("schema")),
            f"template.steps[{index}].schema vs the output schema",
        )
    if bare:  # the variables are added at registration, from the schema itself
        return
    variables = [
        (v.get("name"), v.get("type"), v.get("required"))
        for v in record.get("variables") or []
        if isinstance(v, dict)
    ]
    expected = [
        (name, prop.get("type"), name in canonical.required("input"))
        for name, prop in canonical.input["properties"].items()
    ]
    if variables != expected:
        yield f"variables vs the input schema: (name, type, required) are {variables}, expected {expected}"


def _tool_specs(canonical: Canonical, data: bytes) -> Iterator[str]:
    specs = _json(data)
    schema: Any = canonical.view
    print_name, input_name = names.print_output_tool_name(schema), names.tool_name(schema)
    forms = [
        ("anthropic", tool.get("name"), tool.get("input_schema")) for tool in specs.get("anthropic") or []
    ]
    forms += [
        (
            "bedrock",
            (tool.get("toolSpec") or {}).get("name"),
            ((tool.get("toolSpec") or {}).get("inputSchema") or {}).get("json"),
        )
        for tool in specs.get("bedrock") or []
    ]
    for dialect in ("anthropic", "bedrock"):
        printed = [schema_ for form, name, schema_ in forms if form == dialect and name == print_name]
        if not printed:
            yield f"{dialect}: no {print_name} tool"
        for found in printed:
            yield from _first(
                differences(canonical.output, found),
                f"{dialect} {print_name} input_schema vs the output schema",
            )
        for found in [s for form, name, s in forms if form == dialect and name == input_name]:
            if isinstance(found, dict) and isinstance(found.get("properties"), dict):
                found = dict(
                    found, properties={k: v for k, v in found["properties"].items() if k != "browser_config"}
                )
            yield from _first(
                differences(canonical.input, found),
                f"{dialect} {input_name} input_schema vs the input schema",
            )


def _batch_mapping(canonical: Canonical, data: bytes) -> Iterator[str]:
    import yaml  # PyYAML is light; only this layer needs it

    from factory.strict_yaml import load_strict

    try:
        mapping = load_strict(data)
    except yaml.YAMLError as err:
        raise LayerUnreadable(f"not valid YAML ({' '.join(str(err).split())})") from None
    if not isinstance(mapping, dict):
        raise LayerUnreadable("not a mapping")
    checks = (
        ("structured_output_fields", mapping.get("structured_output_fields"), canonical.output_fields()),
        ("required_output_fields", mapping.get("required_output_fields"), canonical.required("output")),
        (
            "input_mapping.required_fields",
            (mapping.get("input_mapping") or {}).get("required_fields"),
            canonical.required("input"),
        ),
    )
    for where, found, expected in checks:
        if found != expected:
            yield f"{where} is {found!r}, expected {expected!r}"


def _agent_record(canonical: Canonical, data: bytes) -> Iterator[str]:
    record = _json(data)
    structured = record.get("structured_output") or {}
    fields = structured.get("output_fields")
    if fields != canonical.output_fields():
        yield f"structured_output.output_fields is {fields!r}, expected {canonical.output_fields()!r}"
    schemas = structured.get("schemas") or {}
    yield from _first(
        differences(canonical.output, schemas.get("output")),
        "structured_output.schemas.output vs the output schema",
    )
    yield from _first(
        differences(canonical.input, schemas.get("input")),
        "structured_output.schemas.input vs the input schema",
    )


READERS: dict[str, Callable[[Canonical, bytes], Iterator[str]]] = {
    AGENT_STACK: _stack,
    BROWSER_TEMPLATE: _template,
    TOOL_SPECS: _tool_specs,
    BATCH_MAPPING: _batch_mapping,
    AGENT_RECORD: _agent_record,
}


def check_layers(
    schema_display: str,
    document: dict[str, Any],
    read: Callable[[str], bytes | None],
    display: Callable[[str], str],
    out_dir: Path | None = None,
) -> list[Problem]:
    """One finding per layer file that disagrees with its schema; absent files are left to others.

    `out_dir` is the directory being checked: the fix names it (`generate --out DIR`).
    """
    canonical = Canonical.of(document)
    findings = []
    for layer, rel in layer_paths(canonical.view).items():
        data = read(rel)
        if data is None:
            continue
        try:
            problems = list(READERS[layer](canonical, data))
        except (LayerUnreadable, UnicodeDecodeError, AttributeError, TypeError) as err:
            problems = [f"cannot read the layer: {err}"]
        if problems:
            findings.append(
                finding(
                    path=display(rel),
                    kind=LAYERS_DISAGREE,
                    detail=f"{layer} layer disagrees with {schema_display}: " + "; ".join(problems),
                    fix=f"do not edit generated files: put the change in {schema_display}, then "
                    f"{generate_command(out_dir)}",
                    layer=layer,
                )
            )
    from factory.check.agent_form import sfa_layer_findings  # the step-functions-agent form's own layer

    required = {"input": canonical.required("input"), "output": canonical.required("output")}
    stack_rel = layer_paths(canonical.view)[AGENT_STACK]
    findings.extend(sfa_layer_findings(schema_display, required, stack_rel, read, display, out_dir))
    return findings
