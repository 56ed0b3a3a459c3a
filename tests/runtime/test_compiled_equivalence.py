"""The compiled mappers and renderer behave exactly as the straightforward reference.

Random mappings, schemas, rows, agent responses and templates go through both
the compiled plans and `reference_runtime` (the per-row implementations the
plans replaced); results must have the same repr (so 1, 1.0 and True, and key
order, count) and errors the same type and message.
"""

from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factory.runtime.input_mapper import InputRowError, compile_input_plan, transform_input
from factory.runtime.output_mapper import compile_output_plan, extract_structured_output
from factory.runtime.template_renderer import render_leaves, render_script
from tests.runtime import reference_runtime as reference

NOW = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

COLUMNS = ["a", "b", "c", "Post code"]
FIELDS = ["f1", "f2", "f3", "f4"]
CELLS = [
    "",
    "  ",
    "12",
    " 7 ",
    "1.5",
    "2.0",
    "-3",
    "1e3",
    "nan",
    "yes",
    "No",
    "t",
    "x",
    "SW1A 1AA",
    '{"k": [1, 2]}',
    "[1, 2]",
    "[",
    "true",
    "é ü",
    "{a}",
]
TYPES = [
    None,
    "string",
    "integer",
    "number",
    "boolean",
    "object",
    "array",
    "null",
    "weird",
    ["string", "null"],
]
PATTERNS = ["^[A-Z]", "\\d", "(", "^$"]

cells = st.none() | st.sampled_from(CELLS) | st.text(max_size=6)
scalars = (
    st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from([0.5, 2.0]) | st.sampled_from(CELLS)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(FIELDS + ["k"]), inner, max_size=3),
    max_leaves=6,
)


@st.composite
def properties(draw):
    prop = {}
    json_type = draw(st.sampled_from(TYPES))
    if json_type is not None:
        prop["type"] = json_type
    if draw(st.booleans()):
        prop["enum"] = draw(st.lists(scalars, max_size=3))
    if draw(st.integers(0, 3)) == 0:
        prop["pattern"] = draw(st.sampled_from(PATTERNS))
    for key in ("minLength", "maxLength", "minimum", "maximum"):
        if draw(st.integers(0, 4)) == 0:
            prop[key] = draw(st.integers(-2, 4) | st.sampled_from([1.5, None, "3"]))
    if draw(st.integers(0, 3)) == 0:
        prop["default"] = draw(scalars)
    if draw(st.integers(0, 3)) == 0:
        prop["required"] = True
    return prop


@st.composite
def schemas(draw):
    if draw(st.integers(0, 4)) == 0:
        return None
    names = draw(st.lists(st.sampled_from(FIELDS), unique=True, max_size=4))
    schema = {"type": "object", "properties": {name: draw(properties()) for name in names}}
    if draw(st.booleans()):
        schema["required"] = draw(st.lists(st.sampled_from(FIELDS), unique=True, max_size=3))
    return schema


@st.composite
def transformations(draw):
    kind = draw(st.sampled_from(["concat", "template", "jsonpath", "other"]))
    spec = {"field": draw(st.sampled_from(FIELDS + [""])), "type": kind}
    if kind == "concat":
        spec["columns"] = draw(st.lists(st.sampled_from(COLUMNS + ["zz"]), max_size=3))
        if draw(st.booleans()):
            spec["separator"] = draw(st.sampled_from(["", ", ", "-"]))
    elif kind == "template":
        spec["template"] = draw(st.sampled_from(["{a} {b}", "{c}-{zz}", "plain", "{a}{a}", "{Post code}!"]))
    elif kind == "jsonpath":
        spec["column"] = draw(st.sampled_from(COLUMNS))
        spec["path"] = draw(st.sampled_from(["$", "$.k", "$.k[1]", "$[0]", "$['k']", "k", "$.k.."]))
    return spec


@st.composite
def input_mappings(draw):
    section = {
        "column_mappings": draw(
            st.dictionaries(st.sampled_from(COLUMNS), st.sampled_from(FIELDS), max_size=4)
        )
    }
    if draw(st.booleans()):
        section["field_types"] = draw(st.dictionaries(st.sampled_from(FIELDS), st.sampled_from(TYPES[:8])))
    if draw(st.booleans()):
        section["required_fields"] = draw(st.lists(st.sampled_from(FIELDS + ["g"]), max_size=3))
    if draw(st.booleans()):
        section["static_values"] = draw(st.dictionaries(st.sampled_from(FIELDS), values, max_size=2))
    if draw(st.booleans()):
        section["transformations"] = draw(st.lists(transformations(), max_size=3))
    if draw(st.integers(0, 3)) == 0:
        section["prompt_template"] = draw(
            st.sampled_from(["Check {f1} at {f2}", "{f3}", "no fields", "{zz}"])
        )
    mapping = {"input_mapping": section} if draw(st.booleans()) else section
    if draw(st.booleans()):
        mapping["extraction_name"] = "bench_extraction"
    return mapping


@st.composite
def rows(draw):
    row = draw(st.dictionaries(st.sampled_from(COLUMNS + ["extra"]), cells, max_size=5))
    if row and draw(st.integers(0, 5)) == 0:
        first = next(iter(row))
        row = {("\ufeff" + first if key == first else key): value for key, value in row.items()}
    return row


def outcome(function, *args):
    """repr of the result, or the error's type and message (and an InputRowError's problems)."""
    try:
        return "ok", repr(function(*args))
    except InputRowError as exc:
        return "InputRowError", str(exc), exc.problems, exc.row_number
    except Exception as exc:  # noqa: BLE001 - any error must be the same error
        return type(exc).__name__, str(exc)


@SETTINGS
@given(input_mappings(), schemas(), st.lists(rows(), min_size=1, max_size=4))
def test_input_plan_matches_reference(mapping, schema, batch):
    try:
        plan = compile_input_plan(mapping, schema)
    except Exception as exc:  # noqa: BLE001 - the reference must refuse the mapping the same way
        expected = outcome(reference.transform_input, batch[0], mapping, schema, 1)
        assert expected == (type(exc).__name__, str(exc))
        return
    for number, row in enumerate(batch, 1):
        expected = outcome(reference.transform_input, row, mapping, schema, number)
        assert outcome(plan.transform, row, number) == expected
        assert outcome(transform_input, row, mapping, schema, number) == expected


# --- output mapper ---------------------------------------------------------------------------

TOOL = "print_bench_output"


@st.composite
def responses(draw):
    structured = draw(st.dictionaries(st.sampled_from(FIELDS + ["other"]), values, max_size=5))
    shape = draw(st.integers(0, 9))
    if shape == 0:
        return {"structured_output": structured}
    if shape == 1:
        import json

        return {"Output": json.dumps({"structured_output": structured}), "status": "SUCCEEDED"}
    if shape == 2:
        name = draw(st.sampled_from([TOOL, "print_output", "other_tool"]))
        return {
            "messages": [
                {
                    "role": "assistant",
                    "content": [
                        {"type": "text", "text": "done"},
                        {"type": "tool_use", "id": "t", "name": name, "input": structured},
                    ],
                }
            ]
        }
    if shape == 3:
        step = {
            "action": "act_with_schema",
            "parsed_response": draw(st.sampled_from([structured, None, "x"])),
        }
        if draw(st.booleans()):
            step["matches_schema"] = draw(st.booleans())
        return {"step_results": [{"action": "act"}, step]}
    if shape == 4:
        return {"Payload": {"structured_output": structured}}
    if shape == 5:
        return {"content": {"structured_output": structured}}
    if shape == 6:
        return draw(st.sampled_from(["not json", '{"structured_output": {"f1": 1}}', None, 5, []]))
    if shape == 7:
        return {"status": "FAILED", "error": "timed out"}
    if shape == 8:
        return {"structured_output": draw(values)}
    return {"output": {"message": {"content": [{"toolUse": {"name": TOOL, "input": structured}}]}}}


@st.composite
def output_mappings(draw):
    mapping = {}
    if draw(st.integers(0, 3)):
        mapping["structured_output_fields"] = draw(st.lists(st.sampled_from(FIELDS + ["other"]), max_size=5))
    if draw(st.booleans()):
        mapping["required_output_fields"] = draw(st.lists(st.sampled_from(FIELDS), max_size=2))
    if draw(st.booleans()):
        mapping["extraction_methods"] = [{"method": "tool_result", "tool_name": TOOL}, {"method": "x"}]
    return mapping


@SETTINGS
@given(output_mappings(), schemas(), st.lists(responses(), min_size=1, max_size=4))
def test_output_plan_matches_reference(mapping, schema, batch):
    plan = compile_output_plan(mapping, schema)
    for response in batch:
        expected = outcome(reference.extract_structured_output, response, mapping, schema, NOW)
        assert outcome(plan.map, response, NOW) == expected
        assert outcome(extract_structured_output, response, mapping, schema, NOW) == expected


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
def test_render_matches_reference(template, specs, batch):
    item = {"template": template, "variables": specs}
    for values in batch:
        expected = outcome(reference.render_script, item, values)
        assert outcome(render_script, item, values) == expected
    assert outcome(render_leaves, template, {"a": "1", "b": "<b>"}) == outcome(
        reference.render_leaves, template, {"a": "1", "b": "<b>"}
    )


def test_rendered_scripts_share_no_container():
    """A cached plan hands out fresh lists and dicts: changing one script cannot change the next."""
    item = {"template": {"steps": [{"action": "act", "prompt": "go"}], "tags": ["x"]}, "variables": []}
    first = render_script(item, {})
    first["steps"][0]["prompt"] = "changed"
    first["tags"].append("y")
    assert render_script(item, {}) == {"steps": [{"action": "act", "prompt": "go"}], "tags": ["x"]}
