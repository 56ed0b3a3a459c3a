"""The compiled renderer writes what chevron writes, leaf by leaf.

A template is compiled once (only strings holding `{{` go through chevron,
pre-tokenised); the definition is chevron rendering every string leaf on its
own, the `schema` of an act_with_schema step left as data. Random templates,
variable specs and values go through both; results must have the same repr
and errors the same type and message.
"""

from __future__ import annotations

import chevron
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factory.runtime.template_renderer import compile_leaves, prepare_variables, render_script

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FIELDS = ["f1", "f2", "f3", "f4"]
CELLS = ["", "  ", "12", " 7 ", "1.5", "yes", "x", "é ü", "{a}"]
scalars = (
    st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from([0.5, 2.0]) | st.sampled_from(CELLS)
)


def chevron_leaves(node, variables):
    """The definition: every string leaf through chevron on its own; an act_with_schema `schema` as it is."""
    if isinstance(node, str):
        return chevron.render(node, variables)
    if isinstance(node, list):
        return [chevron_leaves(item, variables) for item in node]
    if isinstance(node, dict):
        schema_data = node.get("action") == "act_with_schema"
        return {
            key: value if key == "schema" and schema_data else chevron_leaves(value, variables)
            for key, value in node.items()
        }
    return node


def chevron_script(item, values):
    return chevron_leaves(item["template"], prepare_variables(item.get("variables", []), values))


def outcome(function, *args):
    """repr of the result, or the error's type and message."""
    try:
        return "ok", repr(function(*args))
    except Exception as exc:  # noqa: BLE001 - any error must be the same error
        return type(exc).__name__, str(exc)


# --- template renderer -----------------------------------------------------------------------

NAMES = ["a", "b", "c"]
LEAVES = [
    "plain text",
    "{{{a}}}",
    "{{a}} & {{b}}",
    "{{#c}}- c: {{{c}}}\n{{/c}}",
    "{{^b}}no b{{/b}}",
    "{ single } braces }}",
    "{{! comment }}x",
    "{{#a}}unclosed",
    "{{/b}}",
    "{{{a}}",
    "",
    "{{=<% %>=}}<% a %>",
]
leaves = st.sampled_from(LEAVES) | st.text(alphabet="{}ab #/^", max_size=8) | st.integers() | st.none()


@st.composite
def templates(draw):
    tree = draw(
        st.recursive(
            leaves,
            lambda inner: st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(["prompt", "description", "steps", "schema", "action"]), inner, max_size=3
            ),
            max_leaves=10,
        )
    )
    step = {"action": "act_with_schema", "prompt": draw(leaves), "schema": {"description": "{{a}}"}}
    return {"steps": [tree, step], "name": draw(leaves)}


@st.composite
def variable_specs(draw):
    specs = []
    for name in draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=3)):
        spec = {"name": name, "required": draw(st.booleans())}
        if draw(st.integers(0, 3)) == 0:
            spec["pattern"] = "^[a-z]+$"
        if draw(st.integers(0, 3)) == 0:
            spec["enum"] = ["x", "y", 0]
        specs.append(spec)
    return specs


@SETTINGS
@given(
    templates(),
    variable_specs(),
    st.lists(st.dictionaries(st.sampled_from(NAMES), scalars, max_size=3), min_size=1, max_size=3),
)
def test_render_matches_chevron(template, specs, batch):
    item = {"template": template, "variables": specs}
    for values in batch:
        expected = outcome(chevron_script, item, values)
        assert outcome(render_script, item, values) == expected
    variables = {"a": "1", "b": "<b>"}
    assert outcome(lambda t, v: compile_leaves(t)(v), template, variables) == outcome(
        chevron_leaves, template, variables
    )


def test_rendered_scripts_share_no_container():
    """A cached plan hands out fresh lists and dicts: changing one script cannot change the next."""
    item = {"template": {"steps": [{"action": "act", "prompt": "go"}], "tags": ["x"]}, "variables": []}
    first = render_script(item, {})
    first["steps"][0]["prompt"] = "changed"
    first["tags"].append("y")
    assert render_script(item, {}) == {"steps": [{"action": "act", "prompt": "go"}], "tags": ["x"]}
