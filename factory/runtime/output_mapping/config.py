"""The `output_mappings` section, in either of its two forms, compiled to one model (docs/runtime.md)."""

from __future__ import annotations

from typing import Any

from factory.runtime.target_kinds import TARGET_TYPES
from factory.runtime.output_mapping.expressions import OutputMappingConfigError, compile_expression, place
from factory.runtime.output_mapping.methods import (
    FieldMapping,
    Method,
    OutputMappings,
    OutputMappingSet,
    TRANSFORM_KEYS,
    check_field_name,
    check_keys,
    compiled_transforms,
    method_label,
    method_spec,
    tool_name_of,
    transform_specs,
)
from factory.runtime.plan_cache import PlanCache

ROOT = "output_mappings"
TARGET_KEYS = ("type", "extraction_methods", "required_fields", "description")
DESIGN_METHOD_KEYS = (
    "method",
    "tool_name",
    "field_mappings",
    "paths",
    "transform",
    "transforms",
    "description",
)


# --- the design's form: target -> methods -> fields ------------------------------


def _design_method(spec: Any, where: str) -> list[tuple[str, Method]]:
    """One method of the target-keyed form -> (field, compiled method) for each field it names."""
    row = method_spec(spec, where)
    check_keys(spec, DESIGN_METHOD_KEYS, where)
    if "field_mappings" not in spec and "paths" not in spec:
        raise OutputMappingConfigError(
            where, f"{row.name} needs 'field_mappings' {{field: expression}} or 'paths'"
        )
    shared = transform_specs(spec, where)
    tool_name = tool_name_of(spec, row, where)
    entries: list[tuple[Any, Any, str, list[tuple[Any, str]]]] = []
    if "field_mappings" in spec:
        mappings, at = spec["field_mappings"], place(where, "field_mappings")
        if not isinstance(mappings, dict) or not mappings:
            raise OutputMappingConfigError(at, "must be a non-empty {field: expression}")
        entries.extend(
            (name, expression, place(at, str(name)), shared) for name, expression in mappings.items()
        )
    if "paths" in spec:
        entries.extend(_path_entries(spec["paths"], place(where, "paths"), shared))
    label = method_label(row.name, tool_name)
    compiled = []
    for name, expression, at, transforms in entries:
        name = check_field_name(name, at)
        evaluate = compile_expression(expression, at, field=name, bare=True)
        compiled.append(
            (name, row.build(label, tool_name, evaluate, compiled_transforms(transforms, name), spec))
        )
    return compiled


def _path_entries(paths: Any, where: str, method_level: list[tuple[Any, str]]) -> list[tuple]:
    """`paths: {field: path | {path, transform}}` -> (field, path, place, transform specs); a
    `transform` key applies to every plain path."""
    if not isinstance(paths, dict) or not paths:
        raise OutputMappingConfigError(where, "must be a non-empty {field: path | {path, transform}}")
    shared = method_level + [(paths[key], place(where, key)) for key in TRANSFORM_KEYS if key in paths]
    entries = []
    for name, value in paths.items():
        at = place(where, str(name))
        if name in TRANSFORM_KEYS:
            continue
        if isinstance(value, str):
            entries.append((name, value, at, shared))
        elif isinstance(value, dict):
            check_keys(value, ("path", *TRANSFORM_KEYS), at)
            if "path" not in value:
                raise OutputMappingConfigError(at, "needs a 'path'")
            entries.append((name, value["path"], at, transform_specs(value, at) or shared))
        else:
            raise OutputMappingConfigError(at, "must be a path string or {path, transform}")
    if not entries:
        raise OutputMappingConfigError(where, "names no field; write {field: path}")
    return entries


def _design_target(name: str, body: dict[str, Any]) -> OutputMappings:
    where = place(ROOT, name)
    check_keys(body, TARGET_KEYS, where)
    kind = body.get("type")
    if kind not in TARGET_TYPES:
        raise OutputMappingConfigError(
            place(where, "type"), f"must be one of {', '.join(TARGET_TYPES)}, not {kind!r}"
        )
    methods = body.get("extraction_methods")
    if not isinstance(methods, list) or not methods:
        raise OutputMappingConfigError(
            place(where, "extraction_methods"), "needs a non-empty list of methods"
        )
    by_field: dict[str, list[Method]] = {}
    structured_tools: list[str] = []
    for index, spec in enumerate(methods):
        at = place(where, "extraction_methods", index)
        for field_name, method in _design_method(spec, at):
            by_field.setdefault(field_name, []).append(method)
    _structured_tools(methods, structured_tools)
    required = body.get("required_fields") or []
    if not isinstance(required, list):
        raise OutputMappingConfigError(place(where, "required_fields"), "must be a list of field names")
    for index, field_name in enumerate(required):
        if field_name not in by_field:
            raise OutputMappingConfigError(
                place(where, "required_fields", index),
                f"{field_name!r} is not a field of any method; fields: {', '.join(by_field)}",
            )
    fields = tuple(FieldMapping(n, n in required, tuple(ms)) for n, ms in by_field.items())
    return OutputMappings(fields, tuple(structured_tools), kind)


# --- the field-keyed form: field -> methods ---------------------------------------


def _field_method(spec: Any, name: str, where: str) -> Method:
    row = method_spec(spec, where)
    check_keys(spec, ("method", *row.field_keys, "transform", "transforms", "description"), where)
    transforms = compiled_transforms(transform_specs(spec, where), name)
    tool_name = tool_name_of(spec, row, where)
    if "expression" in spec:
        evaluate = compile_expression(spec["expression"], place(where, "expression"), field=name)
    else:
        evaluate = row.field_value(spec, name, where)
    return row.build(method_label(row.name, tool_name), tool_name, evaluate, transforms, spec)


def _structured_tools(specs: list[Any], structured_tools: list[str]) -> None:
    """Add the tools whose input is the structured output (their methods' rows say so), once each."""
    for spec in specs:
        tool = spec.get("tool_name")
        if tool and method_spec(spec, "").structured and tool not in structured_tools:
            structured_tools.append(tool)


def _field_entries(config: Any) -> list[tuple[Any, bool, Any, str]]:
    """(field, required, methods, place) from the dict form or the list form."""
    if isinstance(config, dict):
        entries = []
        for name, body in config.items():
            at = place(ROOT, str(name))
            if isinstance(body, dict):
                check_keys(body, ("required", "methods", "description"), at)
                entries.append((name, bool(body.get("required", False)), body.get("methods"), at))
            else:
                entries.append((name, False, body, at))
        return entries
    if isinstance(config, list):
        entries = []
        for index, body in enumerate(config):
            at = place(ROOT, index)
            if not isinstance(body, dict) or not isinstance(body.get("field"), str):
                raise OutputMappingConfigError(at, "needs a 'field' name")
            check_keys(body, ("field", "required", "methods", "description"), at)
            entries.append((body["field"], bool(body.get("required", False)), body.get("methods"), at))
        return entries
    raise OutputMappingConfigError(
        ROOT,
        "must be {agent or tool name: {type, extraction_methods}}, {field: [methods]} or [{field, methods}]",
    )


def _field_keyed(config: Any) -> OutputMappings:
    fields = []
    structured_tools: list[str] = []
    seen: set[str] = set()
    for name, required, methods, where in _field_entries(config):
        check_field_name(name, where)
        if name in seen:
            raise OutputMappingConfigError(where, f"field {name!r} is mapped twice")
        seen.add(name)
        if not isinstance(methods, list) or not methods:
            raise OutputMappingConfigError(where, "needs a non-empty list of methods")
        compiled = tuple(_field_method(spec, name, place(where, index)) for index, spec in enumerate(methods))
        _structured_tools(methods, structured_tools)
        fields.append(FieldMapping(name, required, compiled))
    return OutputMappings(tuple(fields), tuple(structured_tools))


# --- the section -----------------------------------------------------------------


def _is_target_entry(body: Any) -> bool:
    return isinstance(body, dict) and ("extraction_methods" in body or "type" in body)


def load_output_mapping_set(section: Any) -> OutputMappingSet:
    """Validate and compile a whole `output_mappings` section (either form)."""
    if isinstance(section, dict) and section and any(_is_target_entry(body) for body in section.values()):
        targets = []
        for name, body in section.items():
            if not _is_target_entry(body):
                raise OutputMappingConfigError(
                    place(ROOT, str(name)),
                    "mixes the two forms: every entry must be {type, extraction_methods} when one is",
                )
            if not isinstance(name, str) or not name.strip():
                raise OutputMappingConfigError(
                    place(ROOT, str(name)), "an agent or tool name must be a string"
                )
            targets.append((name, _design_target(name, body)))
        return OutputMappingSet(targets=tuple(targets))
    return OutputMappingSet(any_target=_field_keyed(section))


def section_of(config: Any) -> Any:
    """The `output_mappings` value of a batch config, or the section itself."""
    if isinstance(config, dict) and "output_mappings" in config:
        return config["output_mappings"]
    return config


def load_output_mappings(config: Any, target: str | None = None) -> OutputMappings:
    """One compiled mapping: the section's entry for `target` (or its only entry, or the field form),
    compiled once per distinct config content."""
    mapping_set = cached_output_mapping_set(section_of(config))
    chosen = mapping_set.for_target(target)
    if chosen is None:
        names = ", ".join(mapping_set.target_names)
        wanted = f"no entry for {target!r}" if target else "several targets and no target named"
        raise OutputMappingConfigError(ROOT, f"{wanted}; entries: {names}")
    return chosen


_SETS: PlanCache[OutputMappingSet] = PlanCache(load_output_mapping_set)


def cached_output_mapping_set(section: Any) -> OutputMappingSet:
    """Compile once per distinct section content for the life of a process (a Lambda container)."""
    return _SETS.get(section)
