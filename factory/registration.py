"""`register` as one function returning data; the CLI parses, calls it and prints.

Registration composes two layers that know nothing of each other: the
consistency check vouches that `generated/` is exactly what the schemas
generate (its fast path: hashes against `MANIFEST.json`, layers read back),
and the registry judges and writes what was vouched for, by the rules in
`factory/registry/service.py`. The composition lives here, above both, as
`generate_to_disk` composes the emitters and the writer, so `factory/registry/`
never imports the check. Nothing here imports the generator.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from factory import __version__, names, safe_io
from factory.artifacts import AGENT_RECORD, BROWSER_TEMPLATE, TOOL_SPECS
from factory.check.agent_form import form_findings
from factory.check.run import fast_findings
from factory.errors import FactoryError, Problem
from factory.output_schemas import split_paths
from factory.project_files import DEFAULT_SCHEMA_DIR, display_path, expand_schema_files, read_manifest
from factory.registry.connect import RegistryOptions, agent_arns, open_registry
from factory.registry.protocol import Registry
from factory.registry.records import RecordPair, now_iso
from factory.registry.service import RegisterRun, build_pairs, register_run, tool_items
from factory.registry.sources import (
    agent_registrar,
    existing_tool_form,
    foreign_output_schemas,
    generated_output_schema,
    our_agent_names,
    read_orchestrator_tools,
)


@dataclass(frozen=True)
class RegisterRequest:
    """What `register` was asked: which schemas, from which generated tree, and how."""

    paths: list[Path] = field(default_factory=list)
    generated_dir: Path = Path("generated")
    create_tables: bool = False
    account: str | None = None
    no_arn: bool = False
    dry_run: bool = False


@dataclass(frozen=True)
class RegisterOutcome:
    """One registration: where it went and what happened to each schema, tool and output schema."""

    registry: str  # the registry, described for people
    env: str
    dry_run: bool
    run: RegisterRun

    def as_dict(self) -> dict[str, Any]:
        run = self.run
        return {
            "registry": self.registry,
            "env": self.env,
            "dry_run": self.dry_run,
            "written": run.written,
            "results": [result.as_dict() for result in run.schemas],
            "tools": [tool.as_dict() for tool in run.tools],
            "output_schemas": [result.as_dict() for result in run.output_schemas],
        }


def read_generated_records(paths: list[Path], generated_dir: Path) -> list[RecordPair]:
    """The records of the schemas under `paths` (default `schemas/`), refused unless the tree is current."""
    manifest_display = display_path(generated_dir / names.MANIFEST_PATH)
    # As `check` judges it: a tree generated in another form than the project configures is stale.
    findings = list(fast_findings(paths, generated_dir)) + form_findings(
        read_manifest(generated_dir), manifest_display, out_dir=generated_dir
    )
    if findings:
        raise FactoryError(list(findings))
    files = expand_schema_files(paths or [DEFAULT_SCHEMA_DIR]) or []
    if not files:
        raise FactoryError(
            Problem(
                ", ".join(p.as_posix() for p in paths) or DEFAULT_SCHEMA_DIR.as_posix(),
                "$",
                "no-schemas",
                "no schema files found",
                "pass schema files or a directory holding *.json schemas",
            )
        )
    registrar = agent_registrar(generated_dir)
    found = []
    for path in files:
        view = names.SchemaView.of(json.loads(safe_io.read_bytes(path, "schema").decode("utf-8-sig")))
        template, agent, specs = (
            json.loads(safe_io.read_bytes(generated_dir / artifact.at(view), "generated file"))
            for artifact in (BROWSER_TEMPLATE, AGENT_RECORD, TOOL_SPECS)
        )
        if "template_id" not in template:  # the step-functions-agent form keeps the bare script
            template = template_record_of(path, template)
        tools = tuple(existing_tool_form(tool) for tool in specs.get("anthropic") or [])
        output_schema = (
            generated_output_schema(generated_dir, agent["agent_name"]) if registrar is None else None
        )
        found.append(RecordPair(display_path(path), template, agent, tools, output_schema, registrar))
    return found


def template_record_of(path: Path, script: dict[str, Any]) -> dict[str, Any]:
    """The TemplateRegistry record wrapping the bare browser script written for the schema at `path`.

    The check vouched that the file is what the schema generates; the record
    is built from the same schema, so its `template` is that very script.
    """
    from factory.emit.browser_template import template_record
    from factory.schema.loader import load_schemas

    loaded, problems = load_schemas([path])
    if problems or len(loaded) != 1:
        raise FactoryError(problems or [Problem(display_path(path), "$", "invalid", "cannot load", "validate it")])
    record = template_record(loaded[0].schema)
    if record["template"] != script:
        raise FactoryError(Problem(display_path(path), "$", "stale", "the template file is not what it generates",
                                   "run schema-factory generate, then register"))
    return record


def _records(
    paths: list[Path], generated_dir: Path
) -> tuple[list[RecordPair], list[tuple[str, dict[str, Any]]]]:
    """Our records (from the vouched-for tree) and other agents' output schemas named by `paths`.

    `register schemas/x.yaml` registers only that output schema, wherever it
    is: no generated tree need be current; its manifest (if any) only says
    which agents are ours.
    """
    canonical, yaml_files = split_paths(paths)
    if yaml_files and not canonical:
        return [], foreign_output_schemas(paths, our_agent_names(generated_dir))
    records = read_generated_records(canonical, generated_dir)
    return records, foreign_output_schemas(paths, {record.agent["agent_name"] for record in records})


def register_records(registry: Registry, request: RegisterRequest, region: str | None = None) -> RegisterRun:
    """Judge, then (unless a dry run or a conflict) write, every record `request` names, into `registry`."""
    records, others = _records(list(request.paths), request.generated_dir)
    if request.create_tables and not request.dry_run:
        registry.create_tables()
    registered_at = now_iso()
    ours = [record for record in records if record.agent_registered_by is None]  # agent records we write
    arns = agent_arns(registry, ours, request.account, region, request.no_arn) if ours else {}
    pairs = build_pairs(records, registered_at, arns, registry.env_name)
    orchestrator = read_orchestrator_tools(request.generated_dir) if records else []
    source = (request.generated_dir / names.ORCHESTRATOR_TOOL_SPECS_PATH).as_posix()
    items, sources = tool_items(pairs, orchestrator, __version__, source, registered_at)
    return register_run(registry, pairs, items, sources, request.dry_run, others, registered_at)


def register_from_disk(
    options: RegistryOptions, request: RegisterRequest, notice: Callable[[str], None] = lambda text: None
) -> RegisterOutcome:
    """`schema-factory register`: open the registry `options` name, register, and say what happened.

    A conflict does not raise: the outcome carries the problems (`run.problems`),
    so the caller can print every schema's outcome before refusing.
    """
    registry = open_registry(options, notice=notice)
    run = register_records(registry, request, options.region)
    return RegisterOutcome(registry.describe(), registry.env_name, request.dry_run, run)
