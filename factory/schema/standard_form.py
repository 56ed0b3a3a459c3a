"""Authored input/output schemas in standard JSON Schema form, in stdlib only.

The loader turns per-property `"required": true` flags into `required` lists
before pydantic sees a schema; `diff` and the pre-commit `check` need the same
form from raw JSON without importing pydantic or jsonschema, so the step lives
here and all three import it.
"""

from __future__ import annotations

from typing import Any


def normalize_required(node: dict[str, Any]) -> dict[str, Any]:
    """Turn per-property `"required": true` flags into the standard list form.

    The result lists required names in authored property order, so both forms
    of the same schema load to the same model.
    """
    properties = node.get("properties")
    if not isinstance(properties, dict):
        out = dict(node)
        if isinstance(out.get("items"), dict):
            out["items"] = normalize_required(out["items"])
        if isinstance(out.get("required"), bool):
            del out["required"]
        return out
    required_value = node.get("required")
    listed: list[Any] = required_value if isinstance(required_value, list) else []
    new_properties = {}
    flagged = []
    for name, prop in properties.items():
        if isinstance(prop, dict):
            if prop.get("required") is True:
                flagged.append(name)
            new_properties[name] = normalize_required(prop)
        else:
            new_properties[name] = prop
    required = [name for name in properties if name in flagged or name in listed]
    required += [name for name in listed if name not in properties]  # reported by checks
    out = {key: value for key, value in node.items() if key != "required"}
    out["properties"] = new_properties
    if required:
        out["required"] = required
    return out


def standard_form(node: dict[str, Any]) -> dict[str, Any]:
    """An authored input/output schema as standard JSON Schema, without pydantic.

    The flags become lists through `normalize_required`, the loader's own step.
    The rest restates what `PropertySchema.to_json_schema` does to that form,
    because calling it needs pydantic: an empty `required` list disappears,
    and `items` / `properties` are kept only as schemas. Key order is not
    normalised: compare the result with `==`, which ignores dict order, and
    compare property order separately.
    """
    normal = normalize_required(node)
    out = {key: value for key, value in normal.items() if key not in ("required", "properties", "items")}
    items = normal.get("items")
    if isinstance(items, dict):
        out["items"] = standard_form(items)
    properties = normal.get("properties")
    if isinstance(properties, dict):
        out["properties"] = {
            name: standard_form(prop) if isinstance(prop, dict) else prop for name, prop in properties.items()
        }
    required = normal.get("required")
    if isinstance(required, list) and required:
        out["required"] = list(required)
    return out
