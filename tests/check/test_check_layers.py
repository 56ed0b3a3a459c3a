"""A hand edit in each of the five layers is caught and attributed to that layer.

Each edit also updates the file's hash in the manifest, so the tree looks
untouched to the hash comparison and only reading the layer back can tell.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from factory.check.findings import EDITED, LAYERS_DISAGREE
from factory.check.layers import read_stack_output_schema
from factory.schema.diff import standard_form

SCHEMA = "company_profile_companies_house"  # nested objects and arrays of objects


def dump_json(path, data) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def edit_stack(path) -> None:
    source = path.read_text()
    assert source.count("OUTPUT_SCHEMA = {\n") == 1
    path.write_text(source.replace("OUTPUT_SCHEMA = {\n", 'OUTPUT_SCHEMA = {\n    "title": "hand edit",\n'))


def edit_template_schema(path) -> None:
    record = json.loads(path.read_text())
    step = [s for s in record["template"]["steps"] if s["action"] == "act_with_schema"][-1]
    officers = step["schema"]["properties"]["officers"]
    officers["items"]["properties"]["role"]["enum"].append("chair")
    dump_json(path, record)


def edit_template_variables(path) -> None:
    record = json.loads(path.read_text())
    record["variables"][0]["required"] = not record["variables"][0]["required"]
    dump_json(path, record)


def edit_tool_specs(path) -> None:
    specs = json.loads(path.read_text())
    (tool,) = [t for t in specs["anthropic"] if t["name"].startswith("print_")]
    tool["input_schema"]["properties"]["registered_office"]["required"] = ["postal_code"]
    dump_json(path, specs)


def edit_batch_mapping(path) -> None:
    mapping = yaml.safe_load(path.read_text())
    mapping["structured_output_fields"] = list(reversed(mapping["structured_output_fields"]))
    path.write_text(yaml.safe_dump(mapping, sort_keys=False))


def edit_agent_record(path) -> None:
    record = json.loads(path.read_text())
    record["structured_output"]["output_fields"].pop()
    dump_json(path, record)


CASES = [
    ("stacks/agents/", edit_stack, "agent stack", "OUTPUT_SCHEMA vs the output schema: $.title"),
    ("templates/", edit_template_schema, "browser template", "$.properties.officers.items.properties.role.enum"),
    ("templates/", edit_template_variables, "browser template", "variables vs the input schema"),
    ("tool_specs/", edit_tool_specs, "tool specs", "$.properties.registered_office.required"),
    ("batch_mappings/", edit_batch_mapping, "batch mapping", "structured_output_fields is"),
    ("registry/agents/", edit_agent_record, "agent record", "structured_output.output_fields is"),
]


@pytest.mark.parametrize(("prefix", "edit", "layer", "where"), CASES, ids=[c[1].__name__ for c in CASES])
def test_hand_edit_in_one_layer_is_attributed_to_it(project, prefix, edit, layer, where):
    path = project.layer_file(SCHEMA, prefix)
    edit(path)
    project.record_hash(path)

    result = project.run("check", "--json")

    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["mode"] == "fast"  # the hashes agree; only the layer read-back sees it
    (finding,) = report["findings"]
    assert finding["path"] == f"generated/{path.relative_to(project.generated).as_posix()}"
    assert finding["kind"] == LAYERS_DISAGREE
    assert finding["layer"] == layer
    assert finding["detail"].startswith(f"{layer} layer disagrees with schemas/{SCHEMA}.json")
    assert where in finding["detail"]

    text = project.run("check")
    assert text.exit_code == 1
    assert f"{finding['path']}: layers-disagree: {layer} layer disagrees" in text.output


def test_hand_edit_without_hash_update_is_edited_and_attributed(project):
    path = project.layer_file(SCHEMA, "registry/agents/")
    edit_agent_record(path)
    report = json.loads(project.run("check", "--json").stdout)
    assert {(f["kind"], f.get("layer")) for f in report["findings"]} == {
        (EDITED, None),
        (LAYERS_DISAGREE, "agent record"),
    }


def test_stack_is_read_with_ast_not_imported(project):
    path = project.layer_file(SCHEMA, "stacks/agents/")
    source = path.read_text()
    document = json.loads(project.schema(SCHEMA).read_text())
    assert read_stack_output_schema(source) == standard_form(document["output_schema"])
    # A later reassignment wins, as it would at import time.
    assert read_stack_output_schema(source + "\nOUTPUT_SCHEMA = {'type': 'object'}\n") == {"type": "object"}


def test_unparsable_stack_is_reported_on_its_layer(project):
    path = project.layer_file(SCHEMA, "stacks/agents/")
    path.write_text(path.read_text().replace("OUTPUT_SCHEMA = {\n", "OUTPUT_SCHEMA = {{\n"))
    project.record_hash(path)
    report = json.loads(project.run("check", "--json").stdout)
    (finding,) = report["findings"]
    assert finding["layer"] == "agent stack" and "does not parse" in finding["detail"]


def test_required_list_form_and_odd_text_read_back_clean(project):
    """Layers generated from the list form of `required` and awkward text agree with their schema."""
    from factory.generation import generate_to_disk

    def rewrite(document):
        output = document["output_schema"]
        flagged = [name for name, prop in output["properties"].items() if prop.pop("required", False) is True]
        output["required"] = flagged
        output["properties"]["company_name"]["description"] = 'Quotes " \\ """ {{x}} and\na newline'
        document["input_schema"]["properties"]["company_number"]["required"] = True

    project.edit_schema(SCHEMA, rewrite)
    generate_to_disk([], Path("generated"))
    result = project.run("check")
    assert result.exit_code == 0, result.output
