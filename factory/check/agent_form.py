"""The check's view of the agent form (stdlib only: it runs on the fast path).

Three things the generic check cannot know:

- which files to judge: in the step-functions-agent form the output directory
  is an existing repository, full of files we never wrote; only the files the
  manifest records are ours, so stray files are not reported there;
- whether the directory is in the form the project now configures;
- the Unified-LLM stack's own layer: the structured output schema it passes
  is OUTPUT_SCHEMA (which `layers` compares with the output schema), and its
  system prompt names every required input and output field. The module is
  parsed with `ast`, never imported.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterator

from factory import safe_io
from factory.check.findings import LAYERS_DISAGREE, STALE, finding, generate_command
from factory.errors import FactoryError, Problem
from factory.project_config import STEP_FUNCTIONS_AGENT, configured_form, recorded_form
from factory.project_files import unsafe_manifest_path

SFA_STACK = "step-functions-agent stack"
PROMPT_CONSTANT = "SYSTEM_PROMPT_LINES"
FORM_CONSTANT = "AGENT_FORM"


def judged_files(out_dir: Path, manifest: dict[str, Any] | None, walk: Callable[[], list[str]]) -> list[str]:
    """The files under `out_dir` the check judges: all it holds (`walk`), or in a shared repository ours only.

    A repository root is not walked at all (it may hold node_modules/ and .git/).
    """
    if manifest is None or recorded_form(manifest) != STEP_FUNCTIONS_AGENT:
        return walk()
    return sorted(
        rel for rel in manifest["files"] if unsafe_manifest_path(rel) is None and (out_dir / rel).is_file()
    )


def form_findings(
    manifest: dict[str, Any] | None,
    manifest_display: str,
    root: Path | None = None,
    out_dir: Path | None = None,
) -> list[Problem]:
    """A directory generated in one form while the project configures another is stale.

    `out_dir` is the directory being checked: the fix names it (`generate --out DIR`).
    """
    if manifest is None:
        return []
    try:
        configured = configured_form(root)
    except FactoryError as err:
        problem = err.problems[0]
        return [replace(problem, kind=STALE)]
    recorded = recorded_form(manifest)
    if configured is None or configured.form == recorded:
        return []
    return [
        finding(
            manifest_display,
            STALE,
            f"generated in the {recorded} form, but {configured.origin} configures {configured.form}",
            generate_command(out_dir),
        )
    ]


APP_FILE = "app.py"
STACKS_PACKAGE = "stacks.agents"


def app_import_findings(manifest: dict[str, Any] | None, out_dir: Path | None) -> list[Problem]:
    """In the step-functions-agent form: the repository's app.py imports no agent stack module that is gone.

    Renaming or removing a schema prunes its stack module, but the line that
    `--edit-app` (or the person) added to app.py stays; `cdk synth` then fails
    on the import. The check says so here, naming the line, before a deploy does.
    """
    if manifest is None or out_dir is None or recorded_form(manifest) != STEP_FUNCTIONS_AGENT:
        return []
    app = out_dir / APP_FILE
    try:
        tree = ast.parse(safe_io.read_text(app, "python source"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return []  # no app.py, or one that is not Python: not ours to judge
    prefix = STACKS_PACKAGE + "."
    display = app.as_posix()
    problems = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or node.level or not (node.module or "").startswith(prefix):
            continue
        module = (node.module or "")[len(prefix):]
        if "." in module or (out_dir / "stacks" / "agents" / f"{module}.py").is_file():
            continue
        problems.append(finding(
            display, STALE,
            f"line {node.lineno} imports {node.module}, whose module is not there (its schema was removed "
            "or renamed)",
            f"remove that import and the stack it creates from {APP_FILE}; "
            f"{generate_command(out_dir)[:-1]} --edit-app` adds the current ones",
        ))
    return problems


def _module_constants(source: str) -> dict[str, ast.expr]:
    module = ast.parse(source)
    constants: dict[str, ast.expr] = {}
    for node in module.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    constants[target.id] = node.value
    return constants


def _self_assignments(source: str, attribute: str) -> list[ast.expr]:
    return [
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Assign)
        and any(
            isinstance(t, ast.Attribute)
            and t.attr == attribute
            and isinstance(t.value, ast.Name)
            and t.value.id == "self"
            for t in node.targets
        )
    ]


def _is_the_output_schema(value: ast.expr) -> bool:
    """`OUTPUT_SCHEMA` itself, or `self.structured_output_schema` (which holds it)."""
    if isinstance(value, ast.Name):
        return value.id == "OUTPUT_SCHEMA"
    return (
        isinstance(value, ast.Attribute)
        and value.attr == "structured_output_schema"
        and isinstance(value.value, ast.Name)
        and value.value.id == "self"
    )


def _schema_uses(source: str) -> list[ast.expr]:
    """Every `structured_output_schema=` keyword and every `"schema":` dict entry of the module."""
    uses: list[ast.expr] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.keyword) and node.arg == "structured_output_schema":
            uses.append(node.value)
        elif isinstance(node, ast.Dict):
            uses.extend(
                value
                for key, value in zip(node.keys, node.values)
                if isinstance(key, ast.Constant) and key.value == "schema"
            )
    return uses


def sfa_stack_problems(required: dict[str, list[str]], source: str) -> Iterator[str]:
    """What the Unified-LLM stack module says that its schema does not."""
    try:
        constants = _module_constants(source)
    except SyntaxError as err:
        yield f"the stack module does not parse (line {err.lineno}: {err.msg})"
        return
    passed = _self_assignments(source, "structured_output_schema")
    if len(passed) != 1 or not (isinstance(passed[0], ast.Name) and passed[0].id == "OUTPUT_SCHEMA"):
        yield "structured_output_schema is not OUTPUT_SCHEMA"
    # where the schema is used: the generator's keyword and the agent spec's "schema" entries
    uses = _schema_uses(source)
    if not uses or not all(_is_the_output_schema(value) for value in uses):
        yield "the generator call or the agent spec does not pass OUTPUT_SCHEMA (self.structured_output_schema)"
    try:
        lines = ast.literal_eval(constants[PROMPT_CONSTANT])
    except (KeyError, ValueError):
        yield f"no literal {PROMPT_CONSTANT}"
        return
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        yield f"{PROMPT_CONSTANT} is not a list of strings"
        return
    prompt_lines = "\n".join(lines).splitlines()
    for side, names in required.items():
        missing = [
            name
            for name in names
            if not any(line.startswith(f"- {name} (") and "[REQUIRED]" in line for line in prompt_lines)
        ]
        if missing:
            yield f"the system prompt does not name the required {side} field(s) {', '.join(missing)}"


def is_sfa_stack(source: str) -> bool:
    if f"{FORM_CONSTANT} = " not in source:
        return False  # the standalone stack: not parsed twice
    try:
        value = _module_constants(source).get(FORM_CONSTANT)
    except SyntaxError:
        return False
    return isinstance(value, ast.Constant) and value.value == STEP_FUNCTIONS_AGENT


def sfa_layer_findings(
    schema_display: str,
    required: dict[str, list[str]],
    stack_rel: str,
    read: Callable[[str], bytes | None],
    display: Callable[[str], str],
    out_dir: Path | None = None,
) -> list[Problem]:
    """The Unified-LLM stack's own layer, when the stack on disk is of that form."""
    data = read(stack_rel)
    if data is None:
        return []
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError:
        return []  # the generic stack layer reports an unreadable module
    if not is_sfa_stack(source):
        return []
    problems = list(sfa_stack_problems(required, source))
    if not problems:
        return []
    return [
        finding(
            path=display(stack_rel),
            kind=LAYERS_DISAGREE,
            detail=f"{SFA_STACK} layer disagrees with {schema_display}: " + "; ".join(problems),
            fix=f"do not edit generated files: put the change in {schema_display}, then {generate_command(out_dir)}",
            layer=SFA_STACK,
        )
    ]
