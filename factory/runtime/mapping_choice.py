"""A batch's target, and how each of its rows' output is mapped (docs/runtime.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from factory.runtime.output_mapping.expressions import OutputMappingConfigError, place
from factory.runtime.output_mapping.config import cached_output_mapping_set, section_of
from factory.runtime.output_mapping.methods import OutputMappings
from factory.runtime.output_mapping.registered import compile_output_schema
from factory.runtime.target_kinds import KINDS, TARGET_TYPES, kind_of_arn

TARGET_KEYS = ("type", "name", "arn")
TARGET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}\Z")
SOURCE_CONFIG, SOURCE_REGISTRY, SOURCE_STRUCTURED = "config", "registry", "structured_output"


class TargetError(ValueError):
    """A target that cannot be called: `path` (a JSONPath into the config), `detail`, `hint`."""

    def __init__(self, path: str, detail: str, hint: str = "") -> None:
        self.path, self.detail, self.hint = path, detail, hint
        super().__init__(f"{path}: {detail}" + (f" ({hint})" if hint else ""))


@dataclass(frozen=True)
class Target:
    """What a batch calls: a Step Functions agent or a Lambda tool."""

    type: str
    name: str
    arn: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "name": self.name, **({"arn": self.arn} if self.arn else {})}


def parse_target(data: Any, path: str = "$.target") -> Target:
    """A validated Target from `{"type", "name", "arn"?}`; TargetError naming the key otherwise."""
    if not isinstance(data, dict):
        raise TargetError(path, "the target must be a mapping", "{type: agent|tool, name: ..., arn: ...}")
    for key in data:
        if key not in TARGET_KEYS:
            raise TargetError(f"{path}.{key}", f"unknown key {key!r}", "a target has type, name and arn")
    kind = data.get("type")
    if kind not in TARGET_TYPES:
        raise TargetError(
            f"{path}.type",
            f"type {kind!r} is not known",
            " or ".join(f"{name} ({k.describes})" for name, k in KINDS.items()),
        )
    name = data.get("name")
    if not isinstance(name, str) or not TARGET_NAME.match(name):
        raise TargetError(
            f"{path}.name",
            f"name {name!r} is not an agent or function name",
            "letters, digits, '-', '_' and '.', at most 80",
        )
    arn = data.get("arn")
    if arn is not None and not KINDS[kind].arn_ok(arn):
        other = kind_of_arn(arn)
        if other is not None:
            detail = f"the arn is {other.describes}'s ({other.article} {other.name}) but type is {kind}"
        else:
            detail = f"{arn!r} is not {KINDS[kind].describes} ARN"
        raise TargetError(f"{path}.arn", detail, "e.g. " + KINDS[kind].arn_example)
    return Target(kind, name, arn)


@dataclass(frozen=True)
class MappingChoice:
    """How a batch's rows are mapped: `mappings` for the generic mapper, None for the structured one."""

    source: str
    mappings: OutputMappings | None
    reason: str

    @property
    def generic(self) -> bool:
        return self.mappings is not None


def choose_output_mapping(
    config: dict[str, Any] | None, target: Target | None, registered_schema: dict[str, Any] | None = None
) -> MappingChoice:
    """Config output_mappings, else the registered output schema, else structured output; a config or
    schema that cannot work raises OutputMappingConfigError, so a batch stops before its first row."""
    name = target.name if target else None
    skipped = ""
    section = section_of(config) if isinstance(config, dict) and "output_mappings" in config else None
    if section:
        mapping_set = cached_output_mapping_set(section)
        mappings = mapping_set.for_target(name)
        if mappings is not None:
            if target is not None and mappings.target_type not in (None, target.type):
                raise OutputMappingConfigError(
                    place("output_mappings", str(name), "type"),
                    f"is {mappings.target_type}, but the target {name!r} is {KINDS[target.type].article} {target.type}",
                )
            where = place("output_mappings", name) if mapping_set.targets and name else "output_mappings"
            return MappingChoice(SOURCE_CONFIG, mappings, f"the config's {where}")
        entries = ", ".join(mapping_set.target_names)
        if name is None:
            skipped = f"output_mappings names several targets ({entries}) and the batch names none; "
        else:
            skipped = f"output_mappings has no entry for {name!r} (entries: {entries}); "
    if registered_schema is not None:
        agent = registered_schema.get("agent") if isinstance(registered_schema, dict) else None
        if name is not None and agent != name:
            raise OutputMappingConfigError(
                "output_schema.agent", f"describes {agent!r}, not the target {name!r}"
            )
        return MappingChoice(
            SOURCE_REGISTRY,
            compile_output_schema(registered_schema),
            skipped + f"the registered output schema of {agent!r}",
        )
    return MappingChoice(SOURCE_STRUCTURED, None, skipped + "the structured output")
