"""What the generated app takes from the CDK context: `deploy_settings` (factory/infra/shared_stack.py).

The CDK CLI hands `-c key=value` to the app as text, while a context file may hold
a real JSON list; both reach `deploy_settings` through `app.node.try_get_context`,
here a dict's `get`. The app itself, run as the CLI runs it, is tested in
tests/test_cli_cdk_app.py (bad values) and tests/emit/test_agent_stack_synth.py (grants).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import REPO

TOOL = "arn:aws:lambda:eu-west-2:123456789012:function:classify-ticket"
TOOL_ALIAS = "arn:aws:lambda:eu-west-2:123456789012:function:summarise:live"
AGENT = "arn:aws:states:eu-west-2:123456789012:stateMachine:llm-agent"
AGENT_2 = "arn:aws-us-gov:states:us-gov-west-1:123456789012:stateMachine:other_agent"


def settings(context: dict[str, Any], environ: dict[str, str] | None = None) -> Any:
    from factory.infra.shared_stack import deploy_settings

    return deploy_settings(context.get, environ or {})


def error(context: dict[str, Any], environ: dict[str, str] | None = None) -> str:
    from factory.infra.shared_stack import DeployContextError

    with pytest.raises(DeployContextError) as raised:
        settings(context, environ)
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_nothing_given_is_dev_with_no_foreign_targets() -> None:
    got = settings({})
    assert (got.env_name, got.batch_agent_arns, got.batch_tool_arns) == ("dev", (), ())


def test_context_env_wins_over_the_variable_and_an_empty_one_falls_back() -> None:
    assert settings({"env": "pr-42"}, {"SCHEMA_FACTORY_ENV": "qa"}).env_name == "pr-42"
    assert settings({"env": ""}, {"SCHEMA_FACTORY_ENV": "qa"}).env_name == "qa"


def test_the_app_says_which_environment_it_uses_and_where_that_came_from() -> None:
    assert settings({}).env_line() == (
        "app.py: environment dev (from the default; choose one with -c env=NAME or SCHEMA_FACTORY_ENV)"
    )
    assert settings({"env": "pr-42"}).env_line() == "app.py: environment pr-42 (from -c env)"
    assert (
        settings({}, {"SCHEMA_FACTORY_ENV": "qa"}).env_line()
        == "app.py: environment qa (from SCHEMA_FACTORY_ENV)"
    )
    app = (REPO / "generated" / "app.py").read_text("utf-8")
    assert "print(settings.env_line(), file=sys.stderr)" in app  # every synth and deploy prints it


@pytest.mark.parametrize(
    "value",
    [
        f"{TOOL},{TOOL_ALIAS}",
        f" {TOOL} , {TOOL_ALIAS},{TOOL}, ",  # spaces, a repeat and a trailing comma, as typed on a shell
        json.dumps([TOOL, TOOL_ALIAS]),  # -c 'batch_tool_arns=["...", "..."]'
        [TOOL, TOOL_ALIAS],  # a list in a context file
    ],
)
def test_tool_arns_as_a_comma_list_or_a_json_list(value: Any) -> None:
    assert settings({"batch_tool_arns": value}).batch_tool_arns == (TOOL, TOOL_ALIAS)


def test_agent_arns_keep_their_order_and_partition() -> None:
    got = settings({"batch_agent_arns": f"{AGENT_2},{AGENT}", "batch_tool_arns": "[]"})
    assert got.batch_agent_arns == (AGENT_2, AGENT)
    assert got.batch_tool_arns == ()


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (
            {"env": "Prod"},
            "-c env: 'Prod' is not an environment name: lower-case letters, digits and '-',"
            " starting with a letter, at most 16 characters (e.g. -c env=dev)",
        ),
        ({"env": 7}, "-c env: 7 is not an environment name"),
        ({"env": "a-very-long-env-name"}, "-c env: 'a-very-long-env-name' is not an environment name"),
        (
            {"batch_agent_arns": TOOL},
            f"-c batch_agent_arns: {TOOL!r} is not a literal agent ARN (e.g. arn:aws:states:",
        ),
        ({"batch_tool_arns": AGENT}, f"-c batch_tool_arns: {AGENT!r} is not a literal tool ARN"),
        ({"batch_tool_arns": TOOL + "\n; rm -rf /"}, "-c batch_tool_arns: " + repr(TOOL + "\n; rm -rf /")),
        ({"batch_tool_arns": '["' + TOOL + '"'}, "-c batch_tool_arns: not a JSON list (Expecting"),
        (
            {"batch_tool_arns": json.dumps([TOOL, 3])},
            "-c batch_tool_arns: expected tool ARNs as ARN,ARN or a JSON" " list of strings, not list",
        ),
        (
            {"batch_agent_arns": {"arn": AGENT}},
            "-c batch_agent_arns: expected agent ARNs as ARN,ARN or a JSON list" " of strings, not dict",
        ),
    ],
)
def test_a_value_the_app_cannot_use_is_one_line_naming_its_key(
    context: dict[str, Any], expected: str
) -> None:
    assert error(context).startswith(expected)


def test_a_bad_variable_names_the_variable() -> None:
    assert error({}, {"SCHEMA_FACTORY_ENV": "Prod"}).startswith(
        "SCHEMA_FACTORY_ENV: 'Prod' is not an environment name"
    )
    assert error({}, {"SCHEMA_FACTORY_ENV": ""}).startswith(
        "SCHEMA_FACTORY_ENV: '' is not an environment name"
    )
