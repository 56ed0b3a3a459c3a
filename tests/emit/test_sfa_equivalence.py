"""For the bundled BT Wholesale schema, our Unified-LLM stack says what the existing one says.

The facts of guyernest/step-functions-agent's own stack for this schema,
`stacks/agents/broadband_availability_bt_wholesale_stack.py` at ffef93d, are
restated below as literals (line ranges per literal). Our generated module is
parsed with `ast` and compared fact by fact. The differences that remain are
asserted as differences too, so the README's list of them cannot go stale.
"""

from __future__ import annotations

import re

import pytest

from factory.emit.sfa_agent_stack import emit_sfa_agent_stack
from factory.schema.loader import load_schemas
from tests.conftest import SCHEMAS_DIR
from tests.sfa_module import GENERATOR_CALL, StackModule

NAME = "broadband_availability_bt_wholesale"

# Lines ~117-171: self.structured_output_schema.
EXISTING_OUTPUT_SCHEMA = {
    "type": "object",
    "properties": {
        "success": {"type": "boolean", "description": "Whether the broadband availability check succeeded"},
        "alk": {"type": "string", "description": "Access Line Key identifier (e.g., A00022059784)"},
        "exchange_code": {"type": "string", "description": "BT exchange code (e.g., CAMBRIDGE)"},
        "fttp_avail": {"type": "boolean", "description": "Whether FTTP (Fibre to the Premises) is available"},
        "install_type": {
            "type": "string",
            "enum": ["Standard", "Premium", "N/A"],
            "description": "Installation type for FTTP service",
        },
        "sogea_avail": {
            "type": "boolean",
            "description": "Whether SoGEA (Single Order Generic Ethernet Access) is available",
        },
        "soadsl_dsl_speed": {"type": "number", "description": "SOADSL DSL speed in Mbps"},
        "ont_reference": {
            "type": "string",
            "description": "ONT (Optical Network Terminal) reference number from ONT section",
        },
        "ont_serial_no": {"type": "string", "description": "ONT serial number from ONT section"},
        "port_service_id": {"type": "string", "description": "Port Service ID from the last line of ONT section"},
        "screenshot_url": {"type": "string", "description": "URL of browser recording or screenshot"},
        "metadata": {"type": "object", "description": "Additional metadata from the extraction"},
    },
    "required": ["success", "fttp_avail"],
}
# Lines ~299-302: structured_output.output_fields (required fields first).
EXISTING_OUTPUT_FIELDS = [
    "success", "fttp_avail", "alk", "exchange_code", "install_type", "sogea_avail", "soadsl_dsl_speed",
    "ont_reference", "ont_serial_no", "port_service_id", "screenshot_url", "metadata",
]
# Lines ~174-182 with the ARNs of lines ~45-46 (Fn.import_value).
EXISTING_TOOL_CONFIGS = [
    {
        "tool_name": "browser_remote",
        "lambda_arn": ("import", "BrowserRemoteLambdaArn-{env}"),
        "requires_activity": True,
        "activity_type": "remote_execution",
        "activity_arn": ("import", "BrowserRemoteActivityArn-{env}"),
    }
]
# Lines ~304-309.
EXISTING_TEMPLATE_CONFIG = {
    "enabled": True,
    "template_id": "broadband_availability_bt_wholesale",
    "template_version": "1.0.0",
    "rendering_engine": "mustache",
}
# Lines ~279-320: the agent_spec keys.
EXISTING_AGENT_SPEC_KEYS = {
    "agent_name", "version", "status", "system_prompt", "description", "llm_provider", "llm_model", "tools",
    "structured_output", "template_config", "state_machine_arn", "environment", "metadata",
}
# Lines ~280-289: the values of the keys that are not schema text.
EXISTING_AGENT_SPEC_VALUES = {
    "version": "v1.0",
    "status": "active",
    "llm_provider": "anthropic",
    "llm_model": "claude-3-5-sonnet-20241022",
    "tools": ("json", [{"tool_name": "browser_remote", "enabled": True}]),
    "environment": "{env}",
}
# Lines ~312-319: agent_spec.metadata.
EXISTING_METADATA = {
    "supports_batch_processing": True,
    "structured_output_enabled": True,
    "execution_type": "remote_activity",
    "schema_driven": True,
    "canonical_schema": "broadband_availability_bt_wholesale v1.0.0",
    "profile_name": "Bt_broadband",
}
# Lines ~185-199: the generator call's keyword arguments (ARNs and tables resolved as above).
EXISTING_GENERATOR_KEYWORDS = {
    "agent_name", "unified_llm_arn", "tool_configs", "system_prompt", "structured_output_schema",
    "default_provider", "default_model", "llm_models_table_name", "agent_registry_table_name",
    "tool_registry_table_name", "extraction_name", "template_registry_table_name", "template_renderer_lambda_arn",
}
EXISTING_TABLES = {
    "llm_models_table_name": "LLMModels-{env}",
    "agent_registry_table_name": "AgentRegistry-{env}",
    "tool_registry_table_name": "ToolRegistry-{env}",
    "unified_llm_arn": ("import", "SharedUnifiedRustLLMLambdaArn-{env}"),
    "template_registry_table_name": ("import", "TemplateRegistryTableName-{env}"),
    "template_renderer_lambda_arn": ("import", "TemplateRendererLambdaArn-{env}"),
}
# Lines ~53-114: what the system prompt says, as (what, pattern) pairs. Input
# fields with their required marks (lines ~64-69), output fields with their
# types and required marks (lines ~71-84), template mode with template_id,
# template_version and variables (lines ~86-97), the profile (line ~58), and
# finishing with print_<extraction_name>_output (lines ~111-114).
EXISTING_PROMPT_FACTS = [
    *[(f"input {f} required", rf"^- {f}\b.*\[REQUIRED\]") for f in ("building_number", "street", "postcode")],
    ("input full_address optional", r"^- full_address\b.*\(optional\)"),
    *[(f"output {f} required", rf"^- {f} \(boolean\).*\[REQUIRED\]") for f in ("success", "fttp_avail")],
    *[
        (f"output {f} is {t}", rf"^- {f} \({t}")
        for f, t in [
            ("alk", "string"), ("exchange_code", "string"), ("install_type", "string"), ("sogea_avail", "boolean"),
            ("soadsl_dsl_speed", "number"), ("ont_reference", "string"), ("ont_serial_no", "string"),
            ("port_service_id", "string"), ("screenshot_url", "string"), ("metadata", "object"),
        ]
    ],
    ("install_type values", r'"Standard", "Premium", (or )?"N/A"'),
    ("browser_remote in template mode", r"browser_remote tool in (TEMPLATE MODE|template mode)"),
    ("template_id", r'"template_id": "broadband_availability_bt_wholesale"'),
    ("template_version", r'"template_version": "1\.0\.0"'),
    ("variables", r'"variables": \{'),
    *[(f"variable {f}", rf'"{f}": "<value from input>"') for f in ("building_number", "street", "postcode")],
    ("optional variable", r'"full_address": "<value from input if provided, otherwise omit>"'),
    ("profile", r"Bt_broadband"),
    ("remote activity", r"(?i)remote.*step functions activit"),
    ("finish with the print tool", r"MUST call the print_broadband_availability_bt_wholesale_output tool"),
]


@pytest.fixture(scope="module")
def ours() -> tuple[object, StackModule]:
    loaded, problems = load_schemas([SCHEMAS_DIR / f"{NAME}.json"])
    assert not problems
    schema = loaded[0].schema
    (data,) = emit_sfa_agent_stack(schema).values()
    return schema, StackModule.parse(data)


def _spec(module: StackModule) -> dict:
    (call,) = module.calls("BaseAgentConstruct")
    return module.keywords(call)["agent_spec"]


def _generator(module: StackModule) -> dict:
    (call,) = module.calls(GENERATOR_CALL)
    return module.keywords(call)


def test_same_output_schema(ours) -> None:
    _, module = ours
    assert _generator(module)["structured_output_schema"] == EXISTING_OUTPUT_SCHEMA
    (entry,) = _spec(module)["structured_output"][1]["schemas"].items()
    assert entry == (
        f"{NAME}_data",
        {"schema": EXISTING_OUTPUT_SCHEMA, "canonical_schema_version": "1.0.0", "canonical_schema_id": NAME},
    )


def test_same_output_fields_in_authored_order(ours) -> None:
    """Same fields; ours keep the authored order (the CSV column order), theirs list required first."""
    _, module = ours
    fields = _spec(module)["structured_output"][1]["output_fields"]
    assert sorted(fields) == sorted(EXISTING_OUTPUT_FIELDS)
    assert fields == list(EXISTING_OUTPUT_SCHEMA["properties"]) != EXISTING_OUTPUT_FIELDS


def test_same_tool_configs_and_generator_arguments(ours) -> None:
    _, module = ours
    passed = _generator(module)
    assert passed["tool_configs"] == EXISTING_TOOL_CONFIGS
    assert set(passed) == EXISTING_GENERATOR_KEYWORDS
    assert {key: passed[key] for key in EXISTING_TABLES} == EXISTING_TABLES
    assert (passed["default_provider"], passed["default_model"]) == ("anthropic", "claude-3-5-sonnet-20241022")
    assert passed["extraction_name"] == NAME


def test_same_template_config(ours) -> None:
    _, module = ours
    spec = _spec(module)
    assert spec["template_config"] == ("json", EXISTING_TEMPLATE_CONFIG)
    assert spec["metadata"]["template_config"] == EXISTING_TEMPLATE_CONFIG  # also where the UI looks


def test_same_agent_spec_keys_and_values(ours) -> None:
    _, module = ours
    spec = _spec(module)
    assert set(spec) == EXISTING_AGENT_SPEC_KEYS
    assert {key: spec[key] for key in EXISTING_AGENT_SPEC_VALUES} == EXISTING_AGENT_SPEC_VALUES
    assert {key: spec["metadata"][key] for key in EXISTING_METADATA} == EXISTING_METADATA
    assert set(spec["metadata"]) - set(EXISTING_METADATA) == {"template_config", "tags"}  # what we add


@pytest.mark.parametrize(("what", "pattern"), EXISTING_PROMPT_FACTS, ids=[w for w, _ in EXISTING_PROMPT_FACTS])
def test_system_prompt_says_the_same_things(ours, what: str, pattern: str) -> None:
    _, module = ours
    prompt = _generator(module)["system_prompt"]
    assert re.search(pattern, prompt, re.MULTILINE), what


def test_remaining_differences_are_the_listed_ones(ours) -> None:
    """Each difference the README lists, asserted, so the list stays true."""
    schema, module = ours
    spec = _spec(module)
    # Agent name: ours `<tool-name>-agent` like every other record we write; theirs
    # "broadband-availability-bt-wholesale" (line ~34). agent.name in the schema sets it.
    assert spec["agent_name"] == "broadband-availability-bt-wholesale-agent"
    # Description: ours from the schema; theirs hand-written (line ~284).
    assert spec["description"] == schema.description  # type: ignore[attr-defined]
    # Construct id of the state machine: ours "AgentStateMachine" for every schema;
    # theirs "BroadbandAvailabilityStateMachine" (line ~255).
    (machine,) = module.calls("CfnStateMachine")
    assert module.resolve(machine.args[1]) == "AgentStateMachine"


def test_agent_name_can_match_theirs(ours) -> None:
    """With agent.name set to their name, the registration and the exports use it."""
    import json

    document = json.loads((SCHEMAS_DIR / f"{NAME}.json").read_text("utf-8"))
    document["agent"] = {"name": "broadband-availability-bt-wholesale"}
    from factory.schema.model import CanonicalSchema
    from factory.schema.standard_form import standard_form

    document["input_schema"] = standard_form(document["input_schema"])
    document["output_schema"] = standard_form(document["output_schema"])
    schema = CanonicalSchema.model_validate(document)
    (data,) = emit_sfa_agent_stack(schema).values()
    module = StackModule.parse(data)
    assert _spec(module)["agent_name"] == "broadband-availability-bt-wholesale"
    exports = {module.keywords(call).get("export_name") for call in module.calls("CfnOutput")} - {None}
    # The existing stack's export names, lines ~333 and ~340.
    assert exports == {
        "broadband-availability-bt-wholesale-state-machine-arn-{env}",
        "broadband-availability-bt-wholesale-state-machine-name-{env}",
    }
