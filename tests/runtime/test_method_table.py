"""The extraction method table (`output_mapping.methods.METHODS`) is the only list of methods.

A new method is one row of the table and its functions: nothing else in
factory/ may list method names (a tuple, list, set or dict of two or more) or
branch on one (`kind == "jmespath"`), and both configuration forms take their
keys, tool rule and compilation from the row.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from factory.runtime.output_mapping.config import load_output_mapping_set
from factory.runtime.output_mapping.expressions import OutputMappingConfigError
from factory.runtime.output_mapping.methods import METHODS
from factory.runtime.output_mapping.sources import Context

FACTORY = Path(__file__).resolve().parents[2] / "factory"
TABLE = FACTORY / "runtime" / "output_mapping" / "methods.py"
NAMES = set(METHODS)
BRANCH_NAMES = {"kind", "method", "method_name"}


def _method_literal(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value in NAMES


def _listings_and_branches(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            items = node.elts
        elif isinstance(node, ast.Dict):
            items = [key for key in node.keys if key is not None]
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            names = {side.id for side in sides if isinstance(side, ast.Name)}
            calls = [side for side in sides if isinstance(side, (ast.Call, ast.Subscript))]
            mentions_method = any("'method'" in ast.dump(side) for side in calls)
            if any(map(_method_literal, sides)) and (names & BRANCH_NAMES or mentions_method):
                lines.append(node.lineno)
            continue
        else:
            continue
        if sum(map(_method_literal, items)) >= 2:
            lines.append(node.lineno)
    return lines


def test_no_module_but_the_table_lists_or_branches_on_methods():
    found = {
        f"{path.relative_to(FACTORY.parent)}:{line}"
        for path in FACTORY.rglob("*.py")
        if path != TABLE
        for line in _listings_and_branches(ast.parse(path.read_text("utf-8")))
    }
    assert not found, f"method names listed or branched on outside the method table: {sorted(found)}"


def test_the_scan_sees_a_second_list_and_a_kind_chain():
    assert _listings_and_branches(ast.parse('KINDS = ("jmespath", "direct")')) == [1]
    assert _listings_and_branches(ast.parse('if kind == "jmespath":\n    pass')) == [1]
    assert _listings_and_branches(ast.parse('if spec.get("method") == "direct":\n    pass')) == [1]


def test_an_unknown_method_names_the_table_rows():
    with pytest.raises(OutputMappingConfigError) as caught:
        load_output_mapping_set({"exchange": [{"method": "xpath"}]})
    assert caught.value.detail == "unknown method 'xpath'; use one of " + ", ".join(METHODS)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_each_row_compiles_in_the_field_keyed_form(name):
    row = METHODS[name]
    spec = {"method": name, **({"tool_name": "print_output"} if row.tool == "required" else {})}
    if "path" in row.field_keys:
        spec["path"] = "value"
    mappings = load_output_mapping_set({"value": [spec]}).any_target
    assert mappings is not None and mappings.fields[0].methods[0].kind == name
    assert mappings.fields[0].methods[0].extract(Context({"value": 1})) in (None, 1)


def test_a_row_says_which_methods_refuse_a_tool_name():
    for name, row in METHODS.items():
        section = {
            "agent-x": {
                "type": "agent",
                "extraction_methods": [
                    {"method": name, "tool_name": "t", "field_mappings": {"value": "$.value"}}
                ],
            }
        }
        if row.tool == "none":
            with pytest.raises(OutputMappingConfigError, match="'tool_name' does not apply"):
                load_output_mapping_set(section)
        else:
            load_output_mapping_set(section)
