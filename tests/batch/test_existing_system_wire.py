"""The batch wire contracts with the existing step-functions-agent system (guyernest/step-functions-agent,
ffef93d): what each agent is sent for a row, and the input mapping forms its orchestrator writes.

Each test restates the external fact as a literal, citing where it is stated; the local engine's
`request_payload` and the batch validator (the step-functions engine's first Lambda) are checked
against it. The executed machine is checked in tests/sfn/test_existing_system_batch.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from factory.batch.agents import foreign_target
from factory.batch.targets import check_foreign_ready, config_for_csv, request_payload
from factory.errors import FactoryError
from factory.runtime.batch_validator import validate_batch
from factory.runtime.input_mapper import compile_input_plan, input_section, normalised_mapping
from factory.runtime.mapping_choice import Target
from tests.conftest import REPO

ROW = {"Building Number": "12", "Street": "Mill Road", "Postcode": "CB1 2AB"}
DATA = {"building_number": "12", "street": "Mill Road", "postcode": "CB1 2AB"}
FLAT = {"Building Number": "building_number", "Street": "street", "Postcode": "postcode"}


def existing_agent_input(prompt: str, data: dict) -> dict:
    """The existing batch processor's agent input (stacks/tools/batch_processor_state_machine_jsonata.json,
    InvokeAgent, lines ~131-137 at ffef93d): {"messages": [{"role": "user", "content": <prompt>}],
    "input": <the input mapper's data>}, to every agent it runs."""
    return {"messages": [{"role": "user", "content": prompt}], "input": data}


@pytest.fixture(scope="module")
def ours():
    from factory.batch.agents import find_generated_agent

    agent = find_generated_agent("broadband_availability_bt_wholesale", REPO / "generated")
    assert agent.generated
    return agent


def test_every_agent_ours_or_not_is_sent_the_existing_batch_processors_shape(ours):
    """The existing orchestrator targets only agents with an AgentRegistry record whose structured output is
    enabled (lambda/agents/batch_orchestrator/validate_agent.py, lambda_handler, lines ~41-143 at ffef93d),
    and those agents read only `$states.input.messages` (stacks/agents/step_functions_generator_unified_llm.py,
    lines ~125-222): a record does not make an agent ours. So both engines send every agent the existing
    shape; ours read its `input`. A tool is sent the mapped fields alone."""
    mapping = {"input_mapping": {"column_mappings": FLAT, "prompt_template": "Check {postcode}"}}
    plan = compile_input_plan(mapping)
    theirs = foreign_target(Target("agent", "broadband-agent-rust", None))
    tool = foreign_target(Target("tool", "classify", None))
    assert request_payload(plan, ROW, 1, theirs) == existing_agent_input("Check CB1 2AB", DATA)
    ours_plan = compile_input_plan({**ours.mapping, "input_mapping": mapping["input_mapping"]})
    assert request_payload(ours_plan, ROW, 1, ours) == existing_agent_input("Check CB1 2AB", DATA)
    assert request_payload(plan, ROW, 1, tool) == DATA
    # the step-functions engine: the validator's payload_form, whether or not the agent has a record
    header = list(ROW)
    for record in (ours.record, None):
        target = {"type": "agent", "name": "x", "arn": "arn:aws:states:eu-west-2:1:stateMachine:x"}
        mappings = {"x": {"type": "agent", "extraction_methods": [{"method": "jmespath", "paths": {"a": "a"}}]}}
        assert validate_batch(record, mapping, header, "x", target, mappings)["payload_form"] == "messages"


def test_a_flat_input_mapping_is_the_column_mappings():
    """The existing input mapper takes a flat {csv column: field} as the input mapping ("Simple dict
    format ... comes from the state machine when batch orchestrator creates simple mappings":
    lambda/tools/batch_processor/input_mapper.py, create_natural_language_input, lines ~163-176 at
    ffef93d): no column_mappings / transformations / static_values key, its keys the CSV columns."""
    assert input_section({"input_mapping": FLAT}) == {"column_mappings": FLAT}
    mapping = {"agent_name": "broadband-agent-rust", "input_mapping": FLAT}
    assert normalised_mapping(mapping) == {**mapping, "input_mapping": {"column_mappings": FLAT}}
    assert compile_input_plan(mapping).data(ROW, 1) == DATA
    # our own form, and anything that is not text to text, is read as written
    ours = {"input_mapping": {"column_mappings": FLAT, "required_fields": ["postcode"]}}
    assert input_section(ours) is ours["input_mapping"]
    nested = {"input_mapping": {"Postcode": {"field": "postcode"}}}
    assert input_section(nested) is nested["input_mapping"]


def test_a_flat_input_mapping_passes_the_validator_for_our_agent(ours):
    """Before: "required input field 'building_number' is not mapped from any column" (BatchInputInvalid)."""
    mapping = {**ours.mapping, "input_mapping": FLAT}
    result = validate_batch(ours.record, mapping, list(ROW), ours.name)
    assert (result["valid"], result["errors"]) == (True, [])
    assert result["mapping"]["input_mapping"] == {"column_mappings": FLAT}


def test_an_empty_input_mapping_maps_every_column_to_the_field_of_its_name(ours, tmp_path: Path):
    """The existing input mapper with `{}` includes every column of the row (input_mapper.py, lines
    ~174-176 at ffef93d: "Default: include all columns from row"): with us, each CSV column feeds the
    field of the same name, for the validator (the CSV's header) and the local engine (the config's CSV)."""
    header = ["building_number", "street", "postcode", "notes"]
    mapping = {**ours.mapping, "input_mapping": {}}
    result = validate_batch(ours.record, mapping, header, ours.name)
    assert (result["valid"], result["errors"]) == (True, [])
    assert result["mapping"]["input_mapping"] == {"column_mappings": {name: name for name in header}}
    assert validate_batch(ours.record, mapping, ["Postcode"], ours.name)["valid"] is False
    csv_path = tmp_path / "rows.csv"
    csv_path.write_text("building_number,street,postcode\n12,Mill Road,CB1 2AB\n", "utf-8")
    config = {"input_mapping": {}}
    local = config_for_csv(config, csv_path)
    assert local == {"input_mapping": {"column_mappings": {n: n for n in ("building_number", "street", "postcode")}}}
    check_foreign_ready(local, csv_path.as_posix())  # maps columns now
    with pytest.raises(FactoryError, match="maps no column"):
        check_foreign_ready(config, csv_path.as_posix())
    plan = compile_input_plan(local)
    assert request_payload(plan, dict(zip(header[:3], DATA.values())), 1, foreign_target(Target("agent", "a"))) == (
        existing_agent_input('{"building_number": "12", "street": "Mill Road", "postcode": "CB1 2AB"}', DATA)
    )
