"""The table of target kinds (factory/runtime/target_kinds.py) is the only list of them.

A kind is added by adding a row to KINDS: these tests fail when a second list
of kind names, a second ARN rule, or a kind the other layers do not handle
appears anywhere in factory/.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from factory.runtime.target_kinds import KINDS, TARGET_TYPES, kind_of_arn

FACTORY = Path(__file__).resolve().parents[2] / "factory"
TABLE = FACTORY / "runtime" / "target_kinds.py"
# An ARN rule: a regular expression about a state machine's or a function's ARN.
ARN_RULE = re.compile(r"(stateMachine|function):[\[(\\]")


def python_files() -> list[Path]:
    return sorted(path for path in FACTORY.rglob("*.py") if path != TABLE)


# The registry's record kinds (template, agent, tool) share two names with the target kinds: a
# collection that also names "template" lists record kinds, not target kinds.
RECORD_KIND = "template"


def kind_names(values: list[ast.expr | None]) -> set[str]:
    names = {v.value for v in values if isinstance(v, ast.Constant) and isinstance(v.value, str)}
    return set() if RECORD_KIND in names else names & set(TARGET_TYPES)


def string_constants(node: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


@pytest.mark.parametrize("path", python_files(), ids=lambda p: str(p.relative_to(FACTORY)))
def test_no_other_module_lists_the_kinds_or_writes_an_arn_rule(path):
    tree = ast.parse(path.read_text("utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            names = kind_names(list(node.elts))
            assert (
                len(names) < 2
            ), f"{path}:{node.lineno}: a list of target kinds; read factory.runtime.target_kinds"
        if isinstance(node, ast.Dict):
            names = kind_names(list(node.keys))
            assert (
                len(names) < 2
            ), f"{path}:{node.lineno}: a table keyed by target kind; add a column to KINDS"
    for text in string_constants(tree):
        assert not ARN_RULE.search(text), f"{path}: an ARN rule {text!r}; use KINDS[kind].arn"


def test_one_arn_rule_per_kind_refuses_what_is_not_a_real_region():
    agent, tool = KINDS["agent"], KINDS["tool"]
    assert agent.arn_ok("arn:aws:states:eu-west-2:123456789012:stateMachine:agent-dev")
    assert agent.arn_ok("arn:aws-us-gov:states:us-gov-west-1:123456789012:stateMachine:a_b")
    assert tool.arn_ok("arn:aws:lambda:eu-west-2:123456789012:function:classify:live")
    for bad in (
        "arn:aws:states:local:123456789012:stateMachine:a",  # Step Functions Local, not a deployed agent
        "arn:aws:states:eu-west-2:123456789012:stateMachine:a\n",
        "arn:awsx:states:eu-west-2:123456789012:stateMachine:a",
        "arn:aws:states:eu-west-2:12345678901:stateMachine:a",
        "arn:aws:lambda:eu-west-2:123456789012:function:*",
    ):
        assert kind_of_arn(bad) is None, bad
    assert kind_of_arn(agent.arn_example) is agent and kind_of_arn(tool.arn_example) is tool


def test_every_layer_has_what_each_kind_names():
    from factory.batch.invokers import INVOKERS
    from factory.runtime.child_results import KEPT_READERS

    assert {kind.invoker for kind in KINDS.values()} == set(INVOKERS)
    assert {kind.task.kept for kind in KINDS.values()} <= set(KEPT_READERS)
    assert len({kind.invoker for kind in KINDS.values()}) == len(KINDS)


def test_the_batch_machine_has_one_branch_per_kind():
    pytest.importorskip("aws_cdk")
    from factory.infra.batch_processor import KEPT

    assert {kind.task.kept for kind in KINDS.values()} <= set(KEPT)
