"""The step-functions-agent form end to end: generate into a repository, the app lines, check, hostile text."""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import black
import pytest
from click.testing import CliRunner

from factory.cli import main
from factory.emit.python_source import BLACK_MODE
from factory.emit.sfa_agent_stack import emit_sfa_agent_stack
from factory.emit.system_prompt import system_prompt_lines
from factory.schema.loader import load_schemas
from tests.conftest import SCHEMAS_DIR
from tests.hostile import hostile_schema
from tests.sfa_module import StackModule

BT = "broadband_availability_bt_wholesale"
BT_STACK = f"stacks/agents/{BT}_stack.py"

# The shape of the existing repository's app.py (app.py at ffef93d, lines ~13-61
# imports, ~75-90 main()'s `environment`, `app`, `env`, ~87-110 the shared stacks,
# ~796-799 `app.synth()` after a comment): our own text restating it.
EXISTING_APP = '''#!/usr/bin/env python3
"""App."""

import os
import aws_cdk as cdk
from stacks.shared.shared_llm_stack import SharedLLMStack
from stacks.agents.sql_agent_unified_llm_stack import SQLAgentUnifiedLLMStack
from stacks.agents.travel_time_checker_structured_stack import TravelTimeCheckerStructuredStack
from stacks.shared.structured_output_infrastructure_stack import StructuredOutputInfrastructureStack


def main():
    environment = os.environ.get("ENVIRONMENT", "prod")
    app = cdk.App()
    env = cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"))
    shared_llm_stack = SharedLLMStack(app, f"SharedLLMStack-{environment}", env_name=environment, env=env)
    agent_registry_stack = object()

    # Synthesize the app
    app.synth()


if __name__ == "__main__":
    main()
'''


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


@pytest.fixture
def repo(project: Path) -> Path:
    """A step-functions-agent checkout as cwd: its app.py, its own agent stacks, our schemas."""
    (project / "app.py").write_text(EXISTING_APP, "utf-8")
    (project / "stacks" / "agents").mkdir(parents=True)
    for module in ("sql_agent_unified_llm_stack", "travel_time_checker_structured_stack"):  # as app.py imports
        (project / "stacks" / "agents" / f"{module}.py").write_text("# theirs\n", "utf-8")
    shutil.copy(SCHEMAS_DIR / f"{BT}.json", project / "schemas" / f"{BT}.json")
    return project


def test_generate_form_flag_writes_the_stack_and_prints_the_app_lines(repo: Path) -> None:
    code, out = run("generate", "--form", "step-functions-agent", "--out", ".")
    assert code == 0, out
    assert "from stacks.agents.broadband_availability_bt_wholesale_stack import BroadbandAvailabilityBtWholesaleStack" in out
    assert '        f"BroadbandAvailabilityBtWholesaleStack-{environment}",' in out
    assert (repo / BT_STACK).is_file()
    assert (repo / "app.py").read_text("utf-8") == EXISTING_APP  # printed, not edited
    assert not (repo / "cdk.json").exists()
    manifest = json.loads((repo / "MANIFEST.json").read_text("utf-8"))
    assert manifest["form"] == "step-functions-agent"
    assert list(manifest["schemas"]) == [f"schemas/{BT}.json"]  # not under the checkout's own name
    assert sorted(manifest["files"]) == sorted([
        BT_STACK,
        f"templates/{BT}_v1.0.0.json",
        f"tool_specs/{BT}.json",
        "tool_specs/_batch_orchestrator.json",
        f"batch_mappings/{BT}.yaml",
        "registry/agents/broadband-availability-bt-wholesale-agent.json",
        "output_schemas/broadband-availability-bt-wholesale-agent.yaml",
    ])
    # No standalone stack, no shared stack of ours.
    assert "UnifiedLLMStepFunctionsGenerator" in (repo / BT_STACK).read_text("utf-8")


def test_edit_app_adds_once(repo: Path) -> None:
    code, out = run("generate", "--form", "step-functions-agent", "--out", ".", "--edit-app")
    assert code == 0, out
    edited = (repo / "app.py").read_text("utf-8")
    lines = edited.splitlines()
    imported = lines.index(
        "from stacks.agents.broadband_availability_bt_wholesale_stack import BroadbandAvailabilityBtWholesaleStack"
    )
    assert lines[imported - 1].startswith("from stacks.agents.travel_time_checker")  # after the last agent import
    block = lines.index("    broadband_availability_bt_wholesale_agent = BroadbandAvailabilityBtWholesaleStack(")
    assert block < lines.index("    # Synthesize the app") < lines.index("    app.synth()")
    # Only the dependencies this app binds.
    assert "    broadband_availability_bt_wholesale_agent.add_dependency(shared_llm_stack)" in lines
    assert "    broadband_availability_bt_wholesale_agent.add_dependency(agent_registry_stack)" in lines
    assert not any("browser_remote_tool" in line for line in lines)
    ast.parse(edited)
    code, out = run("generate", "--out", ".", "--edit-app")  # the manifest remembers the form
    assert code == 0, out
    assert "already has every stack" in out
    assert (repo / "app.py").read_text("utf-8") == edited


def test_edit_app_leaves_a_stack_the_app_already_has(repo: Path) -> None:
    text = EXISTING_APP.replace(
        "    # Synthesize", "    bt = BroadbandAvailabilityBtWholesaleStack(app, 'x', env_name=environment)\n\n    # Synthesize"
    ).replace(
        "import aws_cdk as cdk\n",
        "import aws_cdk as cdk\nfrom stacks.agents.broadband_availability_bt_wholesale_stack import "
        "BroadbandAvailabilityBtWholesaleStack\n",
    )
    (repo / "app.py").write_text(text, "utf-8")
    code, out = run("generate", "--form", "step-functions-agent", "--out", ".", "--edit-app")
    assert code == 0, out
    assert (repo / "app.py").read_text("utf-8") == text


def test_edit_app_without_synth_is_a_clear_error(repo: Path) -> None:
    (repo / "app.py").write_text("import aws_cdk as cdk\n", "utf-8")
    code, out = run("generate", "--form", "step-functions-agent", "--out", ".", "--edit-app")
    assert code == 1
    assert "app.py: $: cannot place the BroadbandAvailabilityBtWholesaleStack stack" in out
    assert "Traceback" not in out


def test_edit_app_is_for_the_step_functions_agent_form(repo: Path) -> None:
    code, out = run("generate", "--edit-app")
    assert code == 2 and "--edit-app" in out


def test_configured_form_and_check(repo: Path) -> None:
    (repo / "schema-factory.toml").write_text('form = "step-functions-agent"\n', "utf-8")
    assert run("generate", "--out", ".")[0] == 0
    code, out = run("check", "--out", ".")
    assert code == 0, out  # their own files (app.py, stacks/agents/sql_...) are not ours to judge
    stack = repo / BT_STACK
    original = stack.read_bytes()

    stack.write_bytes(original.replace(b"self.structured_output_schema = OUTPUT_SCHEMA", b"self.structured_output_schema = {}"))
    code, out = run("check", "--out", ".")
    assert code == 1
    assert f"{BT_STACK}: edited:" in out
    assert "step-functions-agent stack layer disagrees" in out and "structured_output_schema is not OUTPUT_SCHEMA" in out

    # the schema the generator and the agent spec are given, not only the attribute that holds it
    for used in (b"structured_output_schema=self.structured_output_schema",
                 b'"schema": self.structured_output_schema'):
        assert used in original
        stack.write_bytes(original.replace(used, used.replace(b"self.structured_output_schema", b"{}")))
        code, out = run("check", "--out", ".")
        assert code == 1 and "does not pass OUTPUT_SCHEMA" in out, out

    stack.write_bytes(original.replace(b'"- postcode (string) [REQUIRED]', b'"- postcode (string)'))
    code, out = run("check", "--out", ".")
    assert code == 1 and "does not name the required input field(s) postcode" in out

    stack.write_bytes(original)
    schema_path = repo / "schemas" / f"{BT}.json"
    document = json.loads(schema_path.read_text("utf-8"))
    document["description"] = "Check broadband availability (changed)"
    schema_path.write_text(json.dumps(document), "utf-8")
    code, out = run("check", "--out", ".")
    assert code == 1 and f"{BT_STACK}: stale:" in out
    assert run("check", "--out", ".", "--fix")[0] == 0
    assert b"(changed)" in stack.read_bytes()
    assert (repo / "app.py").read_text("utf-8") == EXISTING_APP


def test_check_reports_a_form_the_project_no_longer_configures(repo: Path) -> None:
    assert run("generate", "--form", "step-functions-agent", "--out", ".")[0] == 0
    (repo / "pyproject.toml").write_text('[tool.schema-factory]\nform = "standalone"\n', "utf-8")
    code, out = run("check", "--out", ".")
    assert code == 1
    assert "MANIFEST.json: stale: generated in the step-functions-agent form, but pyproject.toml" in out


def test_unsafe_model_id_is_refused_for_this_form(repo: Path) -> None:
    path = repo / "schemas" / f"{BT}.json"
    document = json.loads(path.read_text("utf-8"))
    document["agent"] = {"model_id": "x' & $eval('1') & '"}
    path.write_text(json.dumps(document), "utf-8")
    code, out = run("generate", "--form", "step-functions-agent", "--out", ".")
    assert code == 1
    assert f"schemas/{BT}.json: $.agent.model_id: agent.model_id" in out
    assert not (repo / BT_STACK).exists()
    assert run("generate")[0] == 0  # the standalone form records it as data


def test_text_that_looks_like_a_cdk_token_is_refused_for_this_form(repo: Path) -> None:
    """aws-cdk-lib would try to resolve it (UnrecognizedTokenKey at synth): refused before writing."""
    path = repo / "schemas" / f"{BT}.json"
    document = json.loads(path.read_text("utf-8"))
    document["output_schema"]["properties"]["alk"]["description"] = "see ${Token[TOKEN.99]}"
    path.write_text(json.dumps(document), "utf-8")
    code, out = run("generate", "--form", "step-functions-agent", "--out", ".")
    assert code == 1
    assert f"schemas/{BT}.json: $: schema text contains '${{Token['" in out
    assert not (repo / BT_STACK).exists()
    assert run("generate")[0] == 0  # the standalone stack escapes `$`


def test_schema_llm_settings_reach_the_stack() -> None:
    loaded, _ = load_schemas([SCHEMAS_DIR / "planning_applications_council.json"])
    (data,) = emit_sfa_agent_stack(loaded[0].schema).values()
    module = StackModule.parse(data)
    (call,) = module.calls("generate_unified_llm_agent_definition")
    passed = module.keywords(call)
    assert (passed["default_provider"], passed["default_model"]) == ("bedrock", "anthropic.claude-sonnet-4-5")


def _hostile_model():
    from factory.schema.model import CanonicalSchema
    from factory.schema.standard_form import standard_form

    document = hostile_schema()
    document["input_schema"] = standard_form(document["input_schema"])
    document["output_schema"] = standard_form(document["output_schema"])
    return CanonicalSchema.model_validate(document)


def test_hostile_text_stays_data() -> None:
    schema = _hostile_model()
    first = emit_sfa_agent_stack(schema)
    assert first == emit_sfa_agent_stack(schema)  # deterministic
    ((rel, data),) = first.items()
    source = data.decode("utf-8")
    assert black.format_str(source, mode=BLACK_MODE) == source
    compile(source, rel, "exec")
    module = StackModule.parse(source)
    constants = module.constants()
    assert module.resolve(constants["AGENT_DESCRIPTION"]) == schema.agent.description
    assert module.resolve(constants["OUTPUT_SCHEMA"]) == schema.output_schema.to_json_schema()
    # Text never opens a line of its own in the prompt: same shape as with plain text.
    plain = hostile_schema(text="plain")
    from factory.schema.model import CanonicalSchema
    from factory.schema.standard_form import standard_form

    plain["input_schema"] = standard_form(plain["input_schema"])
    plain["output_schema"] = standard_form(plain["output_schema"])
    lines = system_prompt_lines(schema)
    assert len(lines) == len(system_prompt_lines(CanonicalSchema.model_validate(plain)))
    assert all("\n" not in line and "\r" not in line for line in lines)
    # The class body's names come from the extraction name only.
    assert [node.name for node in module.classes()] == ["HostileTextStack"]


def test_check_names_an_app_import_of_a_stack_that_is_gone(repo: Path) -> None:
    """Renaming a schema prunes its stack module, but app.py still imports it and `cdk synth` would fail:
    the check names the line, and the fix (remove it; --edit-app adds the current stack) makes it clean."""
    assert run("generate", "--form", "step-functions-agent", "--out", ".", "--edit-app")[0] == 0
    schema_path = repo / "schemas" / f"{BT}.json"
    document = json.loads(schema_path.read_text("utf-8"))
    document["extraction_name"] = "bt_wholesale_check"
    schema_path.unlink()
    (repo / "schemas" / "bt_wholesale_check.json").write_text(json.dumps(document), "utf-8")
    code, out = run("generate", "--out", ".")
    assert code == 0 and f"removed {BT_STACK}" in out, out
    code, out = run("check", "--out", ".")
    assert code == 1, out
    assert "app.py: stale: line" in out and f"imports stacks.agents.{BT}_stack, whose module is not there" in out
    app = repo / "app.py"
    app.write_text("".join(line for line in app.read_text("utf-8").splitlines(keepends=True)
                           if "BroadbandAvailabilityBtWholesaleStack" not in line
                           and "broadband_availability_bt_wholesale_agent" not in line), "utf-8")
    assert run("generate", "--out", ".", "--edit-app")[0] == 0
    code, out = run("check", "--out", ".")
    assert code == 0, out
