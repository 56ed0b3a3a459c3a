"""Rules stated once in factory/names.py reach every place that enforces them."""

from __future__ import annotations

import ast

import pytest

from factory import names
from factory.errors import FactoryError
from factory.registry.records import check_env_name
from tests.conftest import REPO


def test_registry_and_generated_stacks_accept_the_same_env_names() -> None:
    check_env_name("a" * 16)
    with pytest.raises(FactoryError, match="at most 16 characters"):
        check_env_name("a" * 17)
    stack = (REPO / "generated" / "stacks" / "agents" / "energy_tariff_quotes_stack.py").read_text()
    (pattern,) = [
        node.value.args[0].value
        for node in ast.parse(stack).body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "ENV_NAME_RE"
    ]
    assert pattern == names.ENV_NAME_RE.pattern


def test_longest_agent_and_env_names_fit_a_state_machine_name() -> None:
    assert len(names.state_machine_name("a" * 63, "e" * 16)) <= 80
