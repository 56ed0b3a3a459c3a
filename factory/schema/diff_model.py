"""What a diff rule reads and what it reports, shared by the rule table and the engine.

A rule sees a `SchemaPair`: both raw documents and every field of each,
flattened to dotted paths (`input.postcode`,
`output.registered_office.postal_code`, `output.officers[].role`), so nested
properties and array items follow the same rules as top-level fields. It
reports `Change`s. Stdlib only, like the rest of the diff.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator

from factory.schema.standard_form import standard_form

BREAKING = "breaking"
ADDITIVE = "additive"
COSMETIC = "cosmetic"

SIDES = ("input", "output")


@dataclass(frozen=True)
class FieldInfo:
    """One field (or array items schema) at a flattened path."""

    side: str  # "input" | "output"
    path: str  # "input.officers[].role"
    parent: str | None
    schema: dict[str, Any]
    required: bool


def flatten(side: str, root: dict[str, Any]) -> dict[str, FieldInfo]:
    """Every field under an input/output schema, keyed by dotted path, in authored order."""
    fields: dict[str, FieldInfo] = {}

    def walk(prefix: str, node: dict[str, Any]) -> None:
        required = node.get("required") or []
        for name, prop in (node.get("properties") or {}).items():
            if not isinstance(prop, dict):
                continue
            path = f"{prefix}.{name}"
            fields[path] = FieldInfo(side, path, prefix if prefix != side else None, prop, name in required)
            visit(path, prop)

    def visit(path: str, prop: dict[str, Any]) -> None:
        items = prop.get("items")
        if isinstance(items, dict):
            item_path = f"{path}[]"
            fields[item_path] = FieldInfo(side, item_path, path, items, True)
            visit(item_path, items)
        if isinstance(prop.get("properties"), dict):
            walk(path, prop)

    walk(side, standard_form(root))
    return fields


@dataclass(frozen=True)
class Change:
    rule: str
    kind: str
    path: str
    message: str


@dataclass(frozen=True)
class SchemaPair:
    """Both versions, parsed once for every rule."""

    old: dict[str, Any]
    new: dict[str, Any]
    old_fields: dict[str, FieldInfo]
    new_fields: dict[str, FieldInfo]

    @classmethod
    def of(cls, old: dict[str, Any], new: dict[str, Any]) -> SchemaPair:
        def fields(doc: dict[str, Any]) -> dict[str, FieldInfo]:
            out: dict[str, FieldInfo] = {}
            for side in SIDES:
                section = doc.get(f"{side}_schema")
                if isinstance(section, dict):
                    out.update(flatten(side, section))
            return out

        return cls(old, new, fields(old), fields(new))


Check = Callable[[SchemaPair, "Rule"], Iterator[Change]]


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    purpose: str
    check: Check
