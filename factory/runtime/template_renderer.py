"""Render a browser template with one row's variables: the renderer Lambda (docs/runtime.md)."""

from __future__ import annotations

import json
from typing import Any, Callable

import chevron
import chevron.tokenizer

from factory.runtime.plan_cache import PlanCache
from factory.runtime.result_store import from_dynamodb
from factory.runtime.value_checks import property_problems


class RenderError(ValueError):
    """The variables do not satisfy the template (a required one is missing)."""


def variable_text(value: Any) -> str | None:
    """The text the browser types for a value; None and "" mean absent."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    return text if text != "" else None


def prepare_variables(specs: list[dict[str, Any]], values: dict[str, Any]) -> dict[str, str]:
    """Text for each declared variable; refuse, by name, a missing or malformed one."""
    prepared: dict[str, str] = {}
    problems = []
    for spec in specs:
        name = spec["name"]
        value = values.get(name)
        text = variable_text(value)
        if text is None:
            if spec.get("required"):
                problems.append(f"{name}: required but missing")
            continue
        rules = {key: spec[key] for key in ("enum", "pattern") if spec.get(key) not in (None, "")}
        refused = property_problems(name, value, rules)  # bounded: a pattern that could run long is refused
        if refused:
            problems.extend(refused)
            continue
        prepared[name] = text
    if problems:
        raise RenderError("invalid template variables: " + "; ".join(problems))
    return prepared


Renderer = Callable[[dict[str, str]], Any]


def _constant(value: Any) -> Renderer:
    return lambda variables: value


def compile_leaves(node: Any) -> Renderer:
    """The template as a function of the variables, built once: only a string containing `{{` goes
    through chevron, pre-tokenised; containers are rebuilt on every render, so no two scripts share one."""
    if isinstance(node, str):
        if "{{" not in node:
            return _constant(node)
        tokens = list(chevron.tokenizer.tokenize(node))
        if any(tag == "partial" for tag, _ in tokens):
            # chevron would read `{{> name}}` from a file: a template is data and never reads the disk
            raise RenderError(
                f"template uses a partial ({{{{> ...}}}}), which is not supported: {node[:80]!r}"
            )
        return lambda variables: chevron.render(tokens, variables, partials_path="")
    if isinstance(node, list):
        items = [compile_leaves(item) for item in node]
        return lambda variables: [item(variables) for item in items]
    if isinstance(node, dict):
        schema_data = node.get("action") == "act_with_schema"
        entries = [
            (key, _constant(value) if key == "schema" and schema_data else compile_leaves(value))
            for key, value in node.items()
        ]
        return lambda variables: {key: entry(variables) for key, entry in entries}
    return _constant(node)


_PLANS: PlanCache[Renderer] = PlanCache(compile_leaves)


def template_plan(template: Any) -> Renderer:
    """The compiled template, built once per container (keyed by content)."""
    return _PLANS.get(template)


def render_script(template_item: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The executable script for one row: the item's `template` with values filled in."""
    variables = prepare_variables(template_item.get("variables", []), values)
    return template_plan(template_item["template"])(variables)


# Attributes a TemplateRegistry item may hold as JSON text (DynamoDB S): the
# existing writer (scripts/register_template.py) and ours store them so.
JSON_TEXT_ATTRIBUTES = ("template", "variables", "metadata")


def _from_dynamodb(item: dict[str, Any]) -> dict[str, Any]:
    """The template item as `render_script` reads it, whichever way it arrives (docs/runtime.md)."""
    if item and all(isinstance(v, dict) and len(v) == 1 for v in item.values()) and "template" in item:
        first = item["template"]
        if isinstance(first, dict) and set(first) <= {"M", "S"}:
            from boto3.dynamodb.types import TypeDeserializer

            deserializer = TypeDeserializer()
            plain = {key: deserializer.deserialize(value) for key, value in item.items()}
            item = from_dynamodb(plain)
    decoded = dict(item)
    for name in JSON_TEXT_ATTRIBUTES:
        if isinstance(decoded.get(name), str):
            try:
                decoded[name] = json.loads(decoded[name])
            except ValueError:
                raise RenderError(f"template item attribute {name!r} is text but not JSON") from None
    variables = decoded.get("variables")
    if isinstance(variables, dict):
        decoded["variables"] = [
            {**(spec if isinstance(spec, dict) else {}), "name": name} for name, spec in variables.items()
        ]
    if not isinstance(decoded.get("template"), dict):
        raise RenderError("template item has no template object")
    return decoded


class TemplateNotFound(LookupError):
    """No template item was loaded; the agent machine catches this error name as its TemplateNotFound."""


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda entry: {"template_item", "variables"} → {"script"}; a null item raises TemplateNotFound."""
    if not event.get("template_item"):
        raise TemplateNotFound("TemplateRegistry has no item for this template id and version")
    item = _from_dynamodb(event["template_item"])
    return {"script": render_script(item, event.get("variables") or {})}
