"""Schema text with quotes, braces, newlines and markup comes out intact and inert."""

from __future__ import annotations

import ast
import json
from typing import Any

import black
import chevron
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factory import mustache, names
from factory.emit import generate
from factory.emit.python_source import BLACK_MODE
from factory.runtime.template_renderer import render_script
from factory.schema.loader import SchemaSource, load_source
from tests.executor_contract import contract_violations
from tests.hostile import LONG, NASTY, hostile_schema


def load_document(document: dict[str, Any]):
    source = SchemaSource(
        path=__import__("pathlib").Path(f"{document['extraction_name']}.json"),
        display="hostile.json",
        data=json.dumps(document).encode(),
    )
    schema, problems = load_source(source)
    assert problems == [], problems
    return schema


def module_constant(source: str, name: str) -> Any:
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == name:
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} not found")


def artifacts_keep_text(document: dict[str, Any], text: str) -> None:
    schema = load_document(document)
    files = generate([("schemas/x.json", schema)]).files
    stack = files[names.stack_path(schema)].decode()
    assert black.format_str(stack, mode=BLACK_MODE) == stack
    assert module_constant(stack, "OUTPUT_SCHEMA") == schema.output_schema.to_json_schema()
    assert module_constant(stack, "OUTPUT_SCHEMA")["properties"]["answer"]["description"] == text
    template = json.loads(files[names.template_path(schema)])
    assert template["description"] == text
    assert chevron.render(template["template"]["description"], {}) == text
    specs = json.loads(files[names.tool_specs_path(schema)])
    assert specs["anthropic"][0]["input_schema"]["properties"]["query"]["description"] == text
    assert specs["bedrock"][1]["toolSpec"]["inputSchema"]["json"]["properties"]["answer"]["enum"][0] == text
    record = json.loads(files[names.agent_record_path(schema)])
    assert record["description"] == text
    yaml.safe_load(files[names.batch_mapping_path(schema)])
    script = render_script(template, {"query": "q", "choice": "plain"})
    assert contract_violations(script, rendered=False) == []
    if text.strip():
        assert f"query ({text}): q" in script["steps"][0]["prompt"]
    ast.parse(files[names.APP_PATH].decode())


def test_nasty_and_long_text_survive_every_artifact() -> None:
    artifacts_keep_text(hostile_schema(), NASTY)
    artifacts_keep_text(hostile_schema(text=LONG), LONG)
    assert len(LONG) > 10_000


SAFE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=120
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=SAFE_TEXT)
def test_any_text_survives_every_artifact(text: str) -> None:
    artifacts_keep_text(hostile_schema(text=text), text)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from("{}=<%>#/^&! \n\tab"), max_size=40) | SAFE_TEXT)
def test_literal_renders_to_itself(text: str) -> None:
    assert chevron.render(mustache.literal(text), {}) == text
    wrapped = "(" + mustache.literal(text) + ") " + mustache.placeholder("v")
    assert chevron.render(wrapped, {"v": "<&>"}) == f"({text}) <&>"
