"""`schemas/<agent>.yaml` output-schema files: the design's example loads; every mistake is a located Problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from factory.output_schemas import (
    find_output_schema_files,
    load_output_schema_file,
    load_output_schemas,
    parse_output_schema,
)
from tests.runtime.transcripts import DESIGN_REGISTRY_YAML

GOOD = """\
agent: classify-ticket
version: "2.1.0"
output_format: json
fields:
  - name: category
    type: string
    required: true
    extraction:
      - type: structured
        path: "$.category"
"""


def rendered(text: str, stem: str | None = None, display: str = "schemas/x.yaml") -> list[str]:
    return [problem.render() for problem in parse_output_schema(text.encode(), display, stem).problems]


def test_the_design_example_loads_verbatim(tmp_path: Path):
    path = tmp_path / "broadband-agent-rust.yaml"
    path.write_text(DESIGN_REGISTRY_YAML, "utf-8")
    loaded = load_output_schema_file(path, "schemas/broadband-agent-rust.yaml")
    assert loaded.problems == []
    assert loaded.agent == "broadband-agent-rust"
    assert [f["name"] for f in loaded.document["fields"]] == ["exchange", "download_speed"]
    assert loaded.document["fields"][0]["extraction"][0]["pattern"] == "Exchange: ([A-Z\\s]+)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD.replace('"2.1.0"', "1.0"),
         's: $.version: version 1.0 is not MAJOR.MINOR[.PATCH] text (quote it: version: "1.0")'),
        (GOOD.replace("output_format: json", "output_format: html"),
         "s: $.output_format: output_format 'html' is not known (one of messages, structured_output, json)"),
        (GOOD.replace("type: string", "type: text"),
         "s: $.fields[0].type: type 'text' is not known (one of string, number, integer, boolean, object, array)"),
        (GOOD.replace("name: category", "name: _status"),
         "s: $.fields[0].name: field name '_status' cannot be a CSV column"),
        (GOOD.replace("required: true", "required: yes please"), "s: $.fields[0].required: required must be true"),
        (GOOD.replace('path: "$.category"', 'path: "category"'),
         "s: $.fields[0].extraction[0].path: expression must start with '$'"),
        (GOOD.replace("      - type: structured\n        path: \"$.category\"\n",
                      "      - type: tool_result\n        tool: classify\n        pattern: \"C: (.+)\"\n"),
         "s: $.fields[0].extraction[0].type: a json output has no tool results"),
        (GOOD.replace("      - type: structured", "      - type: xpath"),
         "s: $.fields[0].extraction[0].type: an extraction entry needs type tool_result or structured"),
        (GOOD.replace("    extraction:\n      - type: structured\n        path: \"$.category\"\n", "    extraction: []\n"),
         "s: $.fields[0].extraction: needs a non-empty list of extraction entries"),
        (GOOD + "  - name: category\n    type: string\n    extraction: [{type: structured, path: $.c}]\n",
         "s: $.fields[1].name: field 'category' is described twice"),
        (GOOD.replace("agent: classify-ticket", "agent: classify-ticket\nowner: me"),
         "s: $.owner: unknown key 'owner' (allowed: agent, version, output_format, description, fields)"),
        (GOOD.replace("agent: classify-ticket", "agent: ../../etc"), "s: $.agent: agent '../../etc' is not"),
        ("fields: [", "s: line 1, column 10: not valid YAML"),
        ("- a\n- b\n", "s: $: an output schema must be a mapping"),
        ("agent: a\nagent: b\n", "s: line 2, column 1: not valid YAML: duplicate key 'agent' (keep one of the two)"),
        ("x: &a [1]\ny: *a\n", "s: line 2, column 4: not valid YAML: aliases"),
    ],
)
def test_problems_are_located(text, expected):
    assert any(line.startswith(expected) for line in rendered(text, display="s")), rendered(text, display="s")


def test_messages_output_checks_tool_names_and_pattern_groups():
    text = DESIGN_REGISTRY_YAML.replace("tool: browser_broadband", "tool: browser broadband", 1).replace(
        "Download Speed: ([\\\\d.-]+\\\\s*Mbps)", "(Download) Speed: ([0-9]+)"
    )
    assert rendered(text, "broadband-agent-rust", "s") == [
        "s: $.fields[0].extraction[0].tool: tool 'browser broadband' is not a tool name "
        "(the name the agent calls the tool by, e.g. browser_broadband)",
        "s: $.fields[1].extraction[0].pattern: the pattern has 2 groups; the value is group 1 "
        "(make the other groups non-capturing: (?:...))",
    ]


def test_every_problem_at_once():
    text = "agent: 7\nversion: 1\noutput_format: x\nfields: {}\n"
    assert [line.split(":")[1].strip() for line in rendered(text, display="s")] == [
        "$.agent", "$.version", "$.output_format", "$.fields"
    ]


def test_file_name_must_be_the_agent(tmp_path: Path):
    path = tmp_path / "classify.yaml"
    path.write_text(GOOD, "utf-8")
    assert [p.render() for p in load_output_schema_file(path, "schemas/classify.yaml").problems] == [
        "schemas/classify.yaml: $.agent: the file is named 'classify' but describes agent 'classify-ticket' "
        "(rename the file to classify-ticket.yaml)"
    ]


def test_not_utf8_and_unreadable(tmp_path: Path):
    assert rendered("") == ["schemas/x.yaml: $: an output schema must be a mapping "
                            "(agent, version, output_format, fields)"]
    bad = parse_output_schema(b"agent: \xff\n", "s")
    assert [p.render() for p in bad.problems] == ["s: $: not UTF-8 text (byte 7) (save it as UTF-8)"]
    missing = load_output_schema_file(tmp_path / "absent.yaml", "absent.yaml")
    assert missing.document is None and missing.problems[0].rule == "output-schema-read"


def test_a_directory_of_schemas(tmp_path: Path):
    (tmp_path / "classify-ticket.yaml").write_text(GOOD, "utf-8")
    (tmp_path / "broadband-agent-rust.yml").write_text(DESIGN_REGISTRY_YAML, "utf-8")
    (tmp_path / "copy.yaml").write_text(GOOD, "utf-8")
    (tmp_path / "canonical.json").write_text("{}", "utf-8")
    files = find_output_schema_files(tmp_path)
    assert [p.name for p in files] == ["broadband-agent-rust.yml", "classify-ticket.yaml", "copy.yaml"]
    documents, problems = load_output_schemas(files)
    assert sorted(documents) == ["broadband-agent-rust", "classify-ticket"]
    assert [p.rule for p in problems] == ["output-schema-name", "output-schema-duplicate"]
    assert find_output_schema_files(tmp_path / "nowhere") == []


def test_the_schema_of_one_agent(tmp_path: Path):
    from factory.errors import FactoryError
    from factory.output_schemas import output_schema_for

    (tmp_path / "classify-ticket.yaml").write_text(GOOD, "utf-8")
    (tmp_path / "broken-agent.yml").write_text("agent: broken-agent\nversion: 1\n", "utf-8")
    assert output_schema_for("classify-ticket", tmp_path)["agent"] == "classify-ticket"
    assert output_schema_for("unknown-agent", tmp_path) is None
    assert output_schema_for("../classify-ticket", tmp_path) is None
    with pytest.raises(FactoryError) as caught:
        output_schema_for("broken-agent", tmp_path)
    assert [p.json_path for p in caught.value.problems] == ["$.version", "$.output_format", "$.fields"]


@pytest.mark.parametrize("opener, closer", [("[", "]"), ("{a: ", "}")], ids=["lists", "mappings"])
def test_an_output_schema_nested_without_end_is_a_depth_problem_not_a_crash(opener: str, closer: str):
    """1,000 levels raised RecursionError inside PyYAML's composer (`validate` exited 70).

    The document's own mapping is level 1, so the 64th opener after `deep: ` is one too many.
    """
    text = GOOD.replace("fields:\n", f"deep: {opener * 1000}1{closer * 1000}\nfields:\n", 1)
    loaded = parse_output_schema(text.encode(), "schemas/classify-ticket.yaml", "classify-ticket")
    where = f"line 4, column {len('deep: ') + 63 * len(opener) + 1}"
    assert [(p.rule, p.json_path) for p in loaded.problems] == [("json-depth", where)]
    assert loaded.problems[0].render().startswith(
        f"schemas/classify-ticket.yaml: {where}: nested more than 64 levels deep"
    )


def test_an_output_schema_nested_to_the_limit_still_parses():
    text = GOOD.replace("fields:\n", "deep: " + "[" * 63 + "]" * 63 + "\nfields:\n", 1)
    problems = parse_output_schema(text.encode(), "schemas/classify-ticket.yaml", "classify-ticket").problems
    assert all(p.rule != "json-depth" for p in problems), problems


def test_the_yaml_and_json_depth_limits_are_one_limit():
    from factory.schema.loader import MAX_JSON_DEPTH
    from factory.strict_yaml import MAX_DEPTH

    assert MAX_DEPTH == MAX_JSON_DEPTH
