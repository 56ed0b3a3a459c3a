"""Our browser templates under the existing system's TemplateRenderer Lambda: where the two renderers agree.

The contract, restated from guyernest/step-functions-agent
`lambda/shared/template_renderer/lambda_function.py` (`render_template`, lines ~43-66;
`lambda_handler`, ~69-105): the Lambda takes `{"template": <script object>,
"variables": {...}}`, writes the whole script as JSON text
(`json.dumps(template, indent=2)`), renders that text once with chevron, parses the
result back with `json.loads` and answers `{"rendered_script": ...}`; a parse failure
is raised as `ValueError("Invalid JSON in template rendering: ...")`.

So a variable value is pasted into JSON text. Our placeholders are `{{{name}}}`
(verbatim), which that renderer fills in without escaping: a value holding `"`, `\\`
or a control character breaks the JSON, where our renderer (leaf by leaf,
factory/runtime/template_renderer.py) keeps it verbatim. The agents we generate use
our renderer; an agent of the existing system (issue 20's form) uses theirs, and the
README says which values it can take.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import chevron
import pytest

from factory.runtime.template_renderer import render_script

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((REPO / "generated" / "templates").glob("*.json"))


def existing_renderer(template: dict[str, Any], variables: dict[str, Any]) -> dict[str, Any]:
    """The existing TemplateRenderer's behaviour (see the module docstring), as a contract."""
    try:
        return {"rendered_script": json.loads(chevron.render(json.dumps(template, indent=2), variables))}
    except json.JSONDecodeError as err:
        raise ValueError(f"Invalid JSON in template rendering: {err}") from None


PATTERN_SAMPLES = ("SW1A 1AA", "SC123456")  # values meeting the generated templates' patterns


def row_values(item: dict[str, Any], text: str) -> dict[str, str]:
    """A value for every declared variable: `text` for free text, a valid value for the others."""
    values = {}
    for spec in item["variables"]:
        kind = spec.get("type", "string")
        if spec.get("pattern"):
            values[spec["name"]] = next(v for v in PATTERN_SAMPLES if re.search(spec["pattern"], v))
        elif spec.get("enum"):
            values[spec["name"]] = str(spec["enum"][0])
        elif kind in ("integer", "number"):
            values[spec["name"]] = "42"
        elif kind == "boolean":
            values[spec["name"]] = "true"
        else:
            values[spec["name"]] = text
    return values


@pytest.mark.parametrize("path", TEMPLATES, ids=[path.stem for path in TEMPLATES])
def test_plain_values_render_the_same_script_on_both_sides(path: Path) -> None:
    """Letters, digits, spaces and common punctuation: both renderers give the very same script."""
    item = json.loads(path.read_text("utf-8"))
    values = row_values(item, "12 High Street, Cambridge-upon-Cam (flat 3/4) & co.")
    ours = render_script(item, values)
    assert existing_renderer(item["template"], values)["rendered_script"] == ours


BT = REPO / "generated" / "templates" / "broadband_availability_bt_wholesale_v1.0.0.json"
BT_ROW = {"building_number": "23", "street": "High Street", "postcode": "SW1A 1AA"}


def test_the_bt_wholesale_template_renders_the_same_script_on_both_sides() -> None:
    item = json.loads(BT.read_text("utf-8"))
    assert existing_renderer(item["template"], BT_ROW)["rendered_script"] == render_script(item, BT_ROW)


@pytest.mark.parametrize("street", ['Mill "Road"', "C:\\path", "Line\tfeed"])
def test_a_value_with_a_quote_backslash_or_control_character_breaks_only_theirs(street: str) -> None:
    """The documented difference: their renderer fails (or would change the text); ours keeps it verbatim."""
    item = json.loads(BT.read_text("utf-8"))
    row = {**BT_ROW, "street": street}
    ours = json.dumps(render_script(item, row), ensure_ascii=False)
    assert json.dumps(street, ensure_ascii=False)[1:-1] in ours  # the value, verbatim, as JSON text
    with pytest.raises(ValueError, match="Invalid JSON in template rendering"):
        existing_renderer(item["template"], row)
