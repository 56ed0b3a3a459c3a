"""The browser template runs in the script executor as it is, with values verbatim."""

from __future__ import annotations

import pytest

from factory.emit.browser_template import template_record
from factory.runtime.template_renderer import RenderError, render_script
from factory.schema.loader import LoadedSchema, load_schemas
from tests.conftest import BUNDLED, SCHEMAS_DIR
from tests.executor_contract import contract_violations

HOSTILE_VALUE = "O'Brien & \"Sons\" <Ltd> C:\\x {{postcode}} </script> ünïcode\nsecond line"


def load_bundled(name: str) -> LoadedSchema:
    loaded, problems = load_schemas([SCHEMAS_DIR / f"{name}.json"])
    assert not problems
    return loaded[0]


# Values for the bundled schemas' patterned fields; everything else gets hostile text.
PATTERN_EXAMPLES = {"postcode": "SW1A 1AA", "company_number": "SC123456"}


def sample_values(schema, *, optional: bool) -> dict[str, object]:
    values: dict[str, object] = {}
    for field, prop in schema.input_schema.properties.items():
        if not optional and not schema.input_schema.is_required(field):
            continue
        if prop.pattern is not None:
            values[field] = PATTERN_EXAMPLES[field]
            continue
        if prop.enum is not None:
            values[field] = prop.enum[-1]
            continue
        values[field] = {"string": f"{field}:{HOSTILE_VALUE}", "integer": 0, "number": 1.5, "boolean": False}.get(
            prop.type, {"k": HOSTILE_VALUE}
        )
    return values


@pytest.mark.parametrize("name", BUNDLED)
def test_unrendered_template_satisfies_the_executor_contract(name: str) -> None:
    record = template_record(load_bundled(name).schema)
    assert contract_violations(record["template"], rendered=False) == []


@pytest.mark.parametrize("name", BUNDLED)
@pytest.mark.parametrize("optional", [True, False], ids=["all-fields", "required-only"])
def test_rendered_script_satisfies_the_contract_and_keeps_values_verbatim(name: str, optional: bool) -> None:
    schema = load_bundled(name).schema
    record = template_record(schema)
    values = sample_values(schema, optional=optional)
    script = render_script(record, values)
    assert contract_violations(script, rendered=False) == []
    prompts = "\n".join(step.get("prompt", "") for step in script["steps"])
    for field, value in values.items():
        if isinstance(value, str):
            assert value in prompts, f"{field} not inserted verbatim"
    assert "&quot;" not in prompts and "&amp;" not in prompts and "&lt;" not in prompts
    if not optional:
        for field in schema.input_schema.properties:
            if not schema.input_schema.is_required(field):
                assert f"{field}:" not in prompts, f"absent optional {field} left text behind"


@pytest.mark.parametrize("name", BUNDLED)
def test_act_with_schema_steps_carry_the_output_schema_and_are_not_rendered(name: str) -> None:
    schema = load_bundled(name).schema
    record = template_record(schema)
    script = render_script(record, sample_values(schema, optional=True))
    extract_steps = [step for step in script["steps"] if step["action"] == "act_with_schema"]
    assert extract_steps
    expected = schema.output_schema.to_json_schema()
    for step in extract_steps:
        assert step["schema"] == expected
        assert not list(boolean_required_flags(step["schema"]))


def boolean_required_flags(node, path="$"):
    """Per-property `required: true` is canonical-only; emitted schemas use lists."""
    if isinstance(node, dict):
        if isinstance(node.get("required"), bool):
            yield path
        for key, value in node.items():
            yield from boolean_required_flags(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from boolean_required_flags(value, f"{path}[{index}]")


def test_zero_and_false_are_values_not_absence() -> None:
    schema = load_bundled("energy_tariff_quotes").schema
    script = render_script(template_record(schema), {"postcode": "SW1A 1AA", "annual_kwh": 0, "fuel_type": "gas"})
    assert "annual_kwh" in script["steps"][0]["prompt"] and ": 0\n" in script["steps"][0]["prompt"]


def test_missing_required_variable_is_refused_by_name() -> None:
    schema = load_bundled("broadband_availability_bt_wholesale").schema
    with pytest.raises(RenderError, match="postcode: required but missing"):
        render_script(template_record(schema), {"building_number": "1", "street": "High Street"})


def test_value_failing_its_pattern_or_enum_is_refused_by_name() -> None:
    schema = load_bundled("energy_tariff_quotes").schema
    record = template_record(schema)
    with pytest.raises(RenderError, match="postcode: 'nowhere' does not match pattern"):
        render_script(record, {"postcode": "nowhere", "annual_kwh": 3000})
    with pytest.raises(RenderError, match="fuel_type: 'coal' is not one of"):
        render_script(record, {"postcode": "SW1A 1AA", "annual_kwh": 3000, "fuel_type": "coal"})


def test_authored_workflow_placeholders_become_verbatim() -> None:
    schema = load_bundled("company_profile_companies_house").schema
    record = template_record(schema)
    prompts = [step.get("prompt", "") for step in record["template"]["steps"]]
    assert "{{{company_number}}}" in prompts[0]
    script = render_script(record, {"company_number": "SC123456", "include_resigned_officers": True})
    assert "number SC123456 and" in script["steps"][0]["prompt"]
    assert "resigned officers are shown" in script["steps"][2]["prompt"]
    script = render_script(record, {"company_number": "00445790"})
    assert "resigned" not in script["steps"][2]["prompt"]


def test_session_follows_browser_config() -> None:
    schema = load_bundled("planning_applications_council").schema
    session = template_record(schema)["template"]["session"]
    assert session == {
        "profile_name": "Planning_portal",
        "required_tags": ["planning-team"],
        "allow_temp_profile": False,
        "clone_for_parallel": False,
        "requires_human_login": True,
    }


def test_dynamodb_typed_item_renders_like_a_plain_one() -> None:
    from boto3.dynamodb.types import TypeSerializer

    from factory.runtime.template_renderer import handler

    schema = load_bundled("broadband_availability_bt_wholesale").schema
    record = template_record(schema)
    serializer = TypeSerializer()
    typed = {key: serializer.serialize(value) for key, value in record.items()}
    values = sample_values(schema, optional=True)
    assert handler({"template_item": typed, "variables": values}) == {"script": render_script(record, values)}
