"""Our agents' output-schema files: valid by the registry's own rules, and mapping like the structured mapper."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import yaml

from factory import names
from factory.emit.batch_mapping import batch_mapping
from factory.emit.output_schema_file import emit_output_schema_file, output_schema_path
from factory.output_schemas import parse_output_schema
from factory.runtime.output_mapping.generic import map_output
from factory.runtime.output_mapping.structured import extract_structured_output
from factory.runtime.output_mapping.registered import compile_output_schema
from tests.conftest import BUNDLED
from tests.emit.test_browser_template import load_bundled

NOW = datetime(2026, 1, 2, tzinfo=timezone.utc)
SAMPLES = {"string": "v", "number": 2.5, "integer": 3, "boolean": True, "object": {"k": 1}, "array": [1, "a"]}


@pytest.mark.parametrize("name", BUNDLED)
def test_emitted_file_is_a_valid_output_schema(name: str) -> None:
    schema = load_bundled(name).schema
    files = emit_output_schema_file(schema)
    assert list(files) == [output_schema_path(schema)] == [f"output_schemas/{names.agent_name(schema)}.yaml"]
    data = files[output_schema_path(schema)]
    loaded = parse_output_schema(data, "generated", names.agent_name(schema))
    assert loaded.problems == []
    document = yaml.safe_load(data)
    assert document["version"] == schema.version and document["output_format"] == "structured_output"
    assert [f["name"] for f in document["fields"]] == schema.output_schema.field_names()
    assert [f["name"] for f in document["fields"] if f.get("required")] == list(schema.output_schema.required)
    assert emit_output_schema_file(schema) == files  # deterministic


@pytest.mark.parametrize("name", BUNDLED)
def test_mapping_through_it_equals_the_structured_mapper(name: str) -> None:
    """Every field but the last present: the same cells either way, the last one empty in both."""
    schema = load_bundled(name).schema
    properties = schema.output_schema.properties
    output = {field: SAMPLES[prop.type] for field, prop in list(properties.items())[:-1]}
    response = {"Output": {"structured_output": output}, "executionArn": "arn"}
    document = yaml.safe_load(emit_output_schema_file(schema)[output_schema_path(schema)])
    generic = map_output(response, compile_output_schema(document), now=NOW)
    structured = extract_structured_output(response, batch_mapping(schema), now=NOW)
    fields = schema.output_schema.field_names()
    assert [generic[f] for f in fields] == [structured[f] for f in fields]
    assert generic[fields[-1]] is None and generic[fields[0]] is not None
