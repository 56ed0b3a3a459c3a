"""The extraction method table, the compiled output mapping and its pieces (docs/runtime.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from factory.runtime.output_mapping.expressions import (
    Function,
    OutputMappingConfigError,
    compile_regex,
    compile_search,
    compile_transforms,
    pattern_parser,
    place,
)
from factory.runtime.output_mapping.sources import Context

FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}\Z")
TRANSFORM_KEYS = ("transform", "transforms")


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

    def describe(self) -> str:
        """`tool_result browser_broadband, structured_output print_output, jmespath`: what was tried."""
        return ", ".join(dict.fromkeys(method.label for mapping in self.fields for method in mapping.methods))


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


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def method_label(kind: str, tool_name: str | None) -> str:
    return f"{kind} {tool_name}" if tool_name else kind


def check_keys(spec: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in spec:
        if key not in allowed:
            raise OutputMappingConfigError(where, f"unknown key {key!r}; allowed here: {', '.join(allowed)}")


def transform_specs(spec: dict[str, Any], where: str) -> list[tuple[Any, str]]:
    """(transform spec, place) of `spec`'s `transform` or `transforms`; refused when it has both."""
    if "transform" in spec and "transforms" in spec:
        raise OutputMappingConfigError(where, "write either 'transform' or 'transforms', not both")
    return [(spec[key], place(where, key)) for key in TRANSFORM_KEYS if key in spec]


def compiled_transforms(specs: list[tuple[Any, str]], name: str | None) -> list[Function]:
    return [function for spec, where in specs for function in compile_transforms(spec, where, name)]


def check_field_name(name: Any, where: str) -> str:
    if not isinstance(name, str) or not FIELD_NAME.match(name):
        raise OutputMappingConfigError(
            where,
            f"field name {name!r} is not usable as a CSV column; use letters, digits and _ "
            "(starting with a letter, at most 64), e.g. exchange_code",
        )
    return name


# --- the method table ------------------------------------------------------------

Build = Callable[[str, "str | None", Function, "list[Function]", dict], Method]


@dataclass(frozen=True)
class MethodSpec:
    """One extraction method: its field-keyed keys, whether it reads a named tool ("required", "optional",
    "none"), whether that tool is a print tool, how it reads its root, how a field-keyed entry compiles
    (docs/runtime.md)."""

    name: str
    field_keys: tuple[str, ...]
    tool: str
    structured: bool
    build: Build
    field_value: Callable[[dict[str, Any], str, str], Function]


def _through(value: Any, transforms: list[Function]) -> Any:
    """`value` through each transform in turn; None as soon as one gives None."""
    for transform in transforms:
        if value is None:
            return None
        value = transform(value)
    return value


def _rooted(root_of: Callable[["str | None"], Callable[[Context], Any]]) -> Build:
    """A method that reads one root (`root_of(tool_name)`), then its expression and transforms."""

    def build(
        label: str, tool_name: str | None, evaluate: Function, transforms: list[Function], spec: dict
    ) -> Method:
        root = root_of(tool_name)

        def extract(context: Context) -> Any:
            value = root(context)
            return None if value is None else _through(evaluate(value), transforms)

        return Method(spec["method"], label, extract)

    return build


def _results(
    label: str, tool_name: str | None, evaluate: Function, transforms: list[Function], spec: dict
) -> Method:
    """Over each object holding the results list (the document, then tool results), the first
    non-empty value; the list is `results`, or the field-keyed form's `path` when it is a name."""
    path = spec.get("path", "results")
    key = path if isinstance(path, str) and path.isidentifier() else "results"

    def extract(context: Context) -> Any:
        for root in context.results_roots(key, tool_name):
            value = _through(evaluate(root), transforms)
            if not is_empty(value):
                return value
        return None

    return Method(spec["method"], label, extract)


def _key_value(spec: dict[str, Any], name: str, where: str) -> Function:
    """The root's `key` (default: the field's name)."""
    key = spec.get("key", name)
    if not isinstance(key, str):
        raise OutputMappingConfigError(place(where, "key"), "must be a string")
    return lambda root: root.get(key) if isinstance(root, dict) else None


def _tool_result_value(spec: dict[str, Any], name: str, where: str) -> Function:
    """The result's text searched with `pattern`, else its JSON's key named after the field."""
    if "pattern" in spec:
        parse = pattern_parser(compile_regex(spec["pattern"], place(where, "pattern")))
        return lambda view: parse(view.get("content")) if isinstance(view, dict) else None
    return lambda view: view["json"].get(name) if isinstance(view["json"], dict) else None


def _structured_value(spec: dict[str, Any], name: str, where: str) -> Function:
    if "path" in spec:
        return compile_search(spec["path"], place(where, "path"))
    return _key_value(spec, name, where)


def _search_value(spec: dict[str, Any], name: str, where: str) -> Function:
    return compile_search(spec.get("path"), place(where, "path"))


def _results_value(spec: dict[str, Any], name: str, where: str) -> Function:
    """An element of the array at `path` (chosen by `match`, then `index`), then `value` of it."""
    array = compile_search(spec.get("path", "results"), place(where, "path"))
    value = compile_search(spec.get("value", name), place(where, "value"))
    match = spec.get("match") or {}
    if not isinstance(match, dict):
        raise OutputMappingConfigError(
            place(where, "match"), "'match' must be an object of key: expected value"
        )
    index = spec.get("index", 0)
    if not isinstance(index, int) or isinstance(index, bool):
        raise OutputMappingConfigError(place(where, "index"), "'index' must be an integer")

    def evaluate(root: Any) -> Any:
        items = array(root)
        if not isinstance(items, list):
            return None
        chosen = [i for i in items if isinstance(i, dict) and all(i.get(k) == v for k, v in match.items())]
        return value(chosen[index]) if -len(chosen) <= index < len(chosen) else None

    return evaluate


_DOCUMENT = _rooted(lambda tool_name: lambda context: context.document)
METHODS: dict[str, MethodSpec] = {
    spec.name: spec
    for spec in (
        MethodSpec(
            "tool_result",
            ("tool_name", "expression", "pattern"),
            "required",
            False,
            _rooted(lambda tool_name: lambda context: context.tool_result(tool_name)),  # type: ignore[arg-type]
            _tool_result_value,
        ),
        MethodSpec(
            "structured_output",
            ("tool_name", "key", "path", "expression"),
            "optional",
            True,
            _rooted(lambda tool_name: lambda context: context.structured(tool_name)),
            _structured_value,
        ),
        MethodSpec("jmespath", ("path",), "none", False, _DOCUMENT, _search_value),
        MethodSpec(
            "results_array",
            ("tool_name", "path", "match", "index", "value"),
            "optional",
            False,
            _results,
            _results_value,
        ),
        MethodSpec("direct", ("key", "expression"), "none", False, _DOCUMENT, _key_value),
    )
}


def method_spec(spec: Any, where: str) -> MethodSpec:
    """The table row of a configured method; OutputMappingConfigError naming the ones there are."""
    if not isinstance(spec, dict):
        raise OutputMappingConfigError(where, "a method must be an object with a 'method' key")
    name = spec.get("method")
    row = METHODS.get(name) if isinstance(name, str) else None
    if row is None:
        raise OutputMappingConfigError(where, f"unknown method {name!r}; use one of {', '.join(METHODS)}")
    return row


def tool_name_of(spec: dict[str, Any], row: MethodSpec, where: str) -> str | None:
    """The method's `tool_name`: required, optional or refused, as its row says."""
    tool_name = spec.get("tool_name")
    if tool_name is not None and row.tool == "none":
        raise OutputMappingConfigError(
            where, f"{row.name} reads the whole response; 'tool_name' does not apply"
        )
    if tool_name is None and row.tool != "required":
        return None
    if not isinstance(tool_name, str) or not tool_name.strip():
        raise OutputMappingConfigError(
            where, f"{row.name} needs a 'tool_name' (the tool whose result holds the value)"
        )
    return tool_name
