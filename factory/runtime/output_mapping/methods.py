"""The compiled output mapping, and the pieces every form builds its methods from.

`OutputMappings` is what the generic mapper runs for one target: fields in
order, each with its methods in order, the first non-empty value winning. A
`Method` is a root (where in the response it reads: a tool result view, the
structured output, the document, objects holding `results`), an expression
over that root, and transforms. `OutputMappingSet` is a whole section: one
mapping per target, or one for any target. `config` builds
these from either configuration form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from factory.runtime.output_mapping.expressions import Function, OutputMappingConfigError, compile_transforms, place
from factory.runtime.output_mapping.sources import Context

METHODS = ("tool_result", "structured_output", "jmespath", "results_array", "direct")
FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


@dataclass(frozen=True)
class Method:
    kind: str
    label: str
    extract: Callable[[Context], Any]


@dataclass(frozen=True)
class FieldMapping:
    name: str
    required: bool
    methods: tuple[Method, ...]


@dataclass(frozen=True)
class OutputMappings:
    """The compiled mapping for one target: what the generic mapper runs per row."""

    fields: tuple[FieldMapping, ...]
    structured_tools: tuple[str, ...] = ()
    target_type: str | None = None
    output_schema: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def names(self) -> list[str]:
        return [mapping.name for mapping in self.fields]

    @property
    def required(self) -> list[str]:
        return [mapping.name for mapping in self.fields if mapping.required]

    @property
    def tool_names(self) -> tuple[str, ...]:
        return self.structured_tools

    def describe(self) -> str:
        """`tool_result browser_broadband, structured_output print_output, jmespath`: what was tried."""
        labels: list[str] = []
        for mapping in self.fields:
            for method in mapping.methods:
                if method.label not in labels:
                    labels.append(method.label)
        return ", ".join(labels)


@dataclass(frozen=True)
class OutputMappingSet:
    """A whole section: per-target mappings (design form), or one for any target (field form)."""

    targets: tuple[tuple[str, OutputMappings], ...] = ()
    any_target: OutputMappings | None = None

    @property
    def target_names(self) -> list[str]:
        return [name for name, _ in self.targets]

    def for_target(self, name: str | None) -> OutputMappings | None:
        """The mapping that applies to target `name` (None: the only one there is)."""
        if self.any_target is not None:
            return self.any_target
        if name is None:
            return self.targets[0][1] if len(self.targets) == 1 else None
        return dict(self.targets).get(name)


# --- building one method --------------------------------------------------------


def make_method(
    kind: str, label: str, root: Callable[[Context], Any], evaluate: Function, transforms: list[Function]
) -> Method:
    def extract(context: Context) -> Any:
        value = root(context)
        if value is None:
            return None
        value = evaluate(value)
        for transform in transforms:
            if value is None:
                return None
            value = transform(value)
        return value

    return Method(kind, label, extract)


def results_method(
    label: str, key: str, tool_name: str | None, evaluate: Function, transforms: list[Function]
) -> Method:
    """Over each object holding `key` (the document, then tool results), the first non-empty value."""

    def extract(context: Context) -> Any:
        for root in context.results_roots(key, tool_name):
            value = evaluate(root)
            for transform in transforms:
                if value is None:
                    break
                value = transform(value)
            if not is_empty(value):
                return value
        return None

    return Method("results_array", label, extract)


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def tool_name_of(spec: dict[str, Any], kind: str, where: str, required: bool) -> str | None:
    tool_name = spec.get("tool_name")
    if tool_name is None and not required:
        return None
    if not isinstance(tool_name, str) or not tool_name.strip():
        raise OutputMappingConfigError(
            where, f"{kind} needs a 'tool_name' (the tool whose result holds the value)"
        )
    return tool_name


def method_root(kind: str, tool_name: str | None) -> Callable[[Context], Any]:
    if kind == "tool_result":
        assert tool_name is not None
        return lambda context: context.tool_result(tool_name)
    if kind == "structured_output":
        return lambda context: context.structured(tool_name)
    return lambda context: context.document


def method_label(kind: str, tool_name: str | None) -> str:
    return f"{kind} {tool_name}" if tool_name else kind


def check_keys(spec: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in spec:
        if key not in allowed:
            raise OutputMappingConfigError(where, f"unknown key {key!r}; allowed here: {', '.join(allowed)}")


def transforms_of(spec: dict[str, Any], where: str, name: str | None) -> list[Function]:
    if "transform" in spec and "transforms" in spec:
        raise OutputMappingConfigError(where, "write either 'transform' or 'transforms', not both")
    key = "transform" if "transform" in spec else "transforms"
    return compile_transforms(spec.get(key), place(where, key), name)


def check_field_name(name: Any, where: str) -> str:
    if not isinstance(name, str) or not FIELD_NAME.match(name):
        raise OutputMappingConfigError(
            where,
            f"field name {name!r} is not usable as a CSV column; use letters, digits and _ "
            "(starting with a letter, at most 64), e.g. exchange_code",
        )
    return name
