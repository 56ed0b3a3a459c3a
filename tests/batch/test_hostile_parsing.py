"""Issue #25, the parsers (cases 3, 5, 8, 9): untrusted text is parsed in bounded time, memory and depth.

Each test drives the real CLI in a child process, with a time bound (and, for
YAML aliases, a memory bound), so the unbounded behaviour these tests replace
(minutes of backtracking, gigabytes of alias expansion, RecursionError and
exit 70) fails them quickly instead of hanging the suite.
"""

from __future__ import annotations

import csv
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

AGENT = "echo-agent"
AGENT_MODULE = '''
import json, os

def invoke(event):
    """Answers each row with `text` (ANSWER_REPEAT "a:5" gives "aaaaa", default the row's id) and its input."""
    repeat = os.environ.get("ANSWER_REPEAT")
    text = repeat.split(":")[0] * int(repeat.split(":")[1]) if repeat else event["input"]["id"]
    return {"text": text, "ok": True, "input": event["input"]}
'''
BOUND_SECONDS = 60


def project(tmp_path: Path, rows: list[dict[str, str]], config: dict | str) -> Path:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "echo_agent.py").write_text(AGENT_MODULE, "utf-8")
    with open(tmp_path / "in.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    text = config if isinstance(config, str) else yaml.safe_dump(config, sort_keys=False)
    (tmp_path / "batch.yaml").write_text(text, "utf-8")
    return tmp_path


def config(word_expression: str = "$.text", **input_mapping: object) -> dict:
    return {
        "target": {"type": "agent", "name": AGENT},
        "input_mapping": {"column_mappings": {"id": "id"}, **input_mapping},
        "output_mappings": {"word": [{"method": "direct", "expression": word_expression}]},
    }


def cli(
    where: Path, *args: str, env: dict[str, str] | None = None, memory_bytes: int | None = None
) -> subprocess.CompletedProcess[str]:
    def limit_memory() -> None:
        if memory_bytes is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(where)]), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "factory", *args],
        cwd=where,
        env=environment,
        text=True,
        capture_output=True,
        timeout=BOUND_SECONDS,
        preexec_fn=limit_memory,
    )


def run_batch(where: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return cli(
        where,
        "batch",
        "run",
        "in.csv",
        "--agent",
        AGENT,
        "--config",
        "batch.yaml",
        "--invoke",
        "echo_agent:invoke",
        "--store",
        "store.sqlite",
        "--quiet",
        "--retries",
        "0",
        **kwargs,
    )  # type: ignore[arg-type]


def one_line_user_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith(("notice:", "error: "))]
    assert len(lines) == 1, result.stderr
    return lines[0]


def results(where: Path) -> list[dict[str, str]]:
    with open(where / "in.results.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_a_backtracking_output_regex_is_refused_before_any_row(tmp_path: Path) -> None:
    """Case 3: parse('^(a+)+$') on 'a' * 32 + '!' took minutes per row; now the config is refused, naming the place."""
    where = project(tmp_path, [{"id": "a" * 32 + "!"}], config("$.text | parse('^(a+)+$')"))
    line = one_line_user_error(run_batch(where))
    assert "output_mappings.word" in line
    assert "repeats a group that holds a quantifier" in line
    assert not (where / "in.results.csv").exists()


def test_a_regex_that_may_run_reads_a_bounded_prefix_of_a_long_answer(tmp_path: Path) -> None:
    """(.+)x is quadratic when searched: over a 2 MB answer it would take hours, over the capped prefix well under a second."""
    where = project(tmp_path, [{"id": "1"}], config("$.text | parse('(.+)x')"))
    result = run_batch(where, env={"ANSWER_REPEAT": "a:2000000"})
    assert (
        result.returncode == 1
    ), result.stderr  # no x: the field is empty, the row FAILED, the batch finished
    assert results(where)[0]["_status"] == "FAILED"


@pytest.mark.parametrize(
    "expression,fragment",
    [
        ("$.text | parse('" + "(" * 500 + "a" + ")" * 500 + "')", "nests groups more than 32 deep"),
        ("$." + "(" * 1000 + "text" + ")" * 1000, "nested more than 32 levels deep"),
    ],
    ids=["regex-500-groups", "jmespath-1000-parens"],
)
def test_deep_mapping_expressions_are_one_line_not_exit_70(
    tmp_path: Path, expression: str, fragment: str
) -> None:
    """Case 8: RecursionError inside re's or JMESPath's parser was an internal error (exit 70)."""
    where = project(tmp_path, [{"id": "a"}], config(expression))
    line = one_line_user_error(run_batch(where))
    assert "output_mappings.word" in line and fragment in line


@pytest.mark.parametrize(
    "pattern,rule,fragment",
    [
        ("(" * 500 + "a" + ")" * 500, "pattern-unsafe", "nests groups more than 32 deep"),
        ("^(a+)+$", "pattern-unsafe", "repeats a group that holds a quantifier"),
        ("^([^:]+):(.+)$", None, None),
    ],
    ids=["500-groups", "nested-quantifier", "fine"],
)
def test_a_schema_pattern_is_checked_by_validate(
    tmp_path: Path, pattern: str, rule: str | None, fragment: str | None
) -> None:
    """Case 8: `validate` crashed on a deep schema pattern; a backtracking one passed and ran on every row."""
    document = json.loads((REPO / "schemas" / "broadband_availability_bt_wholesale.json").read_text("utf-8"))
    document["input_schema"]["properties"]["postcode"]["pattern"] = pattern
    document["input_schema"]["properties"]["postcode"].pop("examples", None)
    document["input_schema"]["properties"]["postcode"].pop("default", None)
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "broadband_availability_bt_wholesale.json").write_text(
        json.dumps(document), "utf-8"
    )
    result = cli(tmp_path, "validate", "--json")
    if rule is None:
        assert result.returncode == 0, result.stdout + result.stderr
        return
    assert result.returncode == 1, result.stdout + result.stderr
    problems = (
        [p for item in json.loads(result.stdout)["files"] for p in item["problems"]]
        if "files" in json.loads(result.stdout)
        else json.loads(result.stdout)["problems"]
    )
    assert [(p["rule"], p["json_path"]) for p in problems] == [
        (rule, "$.input_schema.properties.postcode.pattern")
    ]
    assert fragment in problems[0]["message"]


def test_billion_laughs_in_a_batch_config_is_refused_in_one_line(tmp_path: Path) -> None:
    """Case 5: nine levels of aliases grew to 3.1 GB and exit 70; the one YAML loader refuses aliases."""
    laughs = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    laughs += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 10)]
    text = "\n".join(laughs) + "\n" + yaml.safe_dump(config(), sort_keys=False)
    where = project(tmp_path, [{"id": "a"}], text)
    line = one_line_user_error(run_batch(where, memory_bytes=1 << 30))
    assert line.startswith("batch.yaml: line 2, column ") and "aliases (*name) are not allowed" in line


def test_a_cell_nested_2000_deep_fails_its_row_not_the_batch(tmp_path: Path) -> None:
    """Case 9: RecursionError in json.loads stopped the batch (exit 70, left interrupted, --resume crashed again)."""
    rows = [
        {"id": "1", "payload": '{"a": "one"}'},
        {"id": "2", "payload": "[" * 2000 + "]" * 2000},
        {"id": "3", "payload": '{"a": "three"}'},
    ]
    transformation = {"field": "doc", "type": "jsonpath", "column": "payload", "path": "$.a"}
    where = project(tmp_path, rows, config("$.input.doc", transformations=[transformation]))
    result = run_batch(where)
    assert result.returncode == 1, result.stderr  # one FAILED row
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    got = [(row["id"], row["word"], row["_status"]) for row in results(where)]
    assert got == [("1", "one", "SUCCESS"), ("2", "", "FAILED"), ("3", "three", "SUCCESS")]
    assert "nested more than 64 levels deep" in results(where)[1]["_error"]
    status = cli(where, "batch", "status", "--store", "store.sqlite", "--json")
    assert status.returncode in (0, 1) and "interrupted" not in status.stdout, status.stdout + status.stderr


def test_one_yaml_loader_everywhere() -> None:
    """Every PyYAML load in factory/ goes through factory/strict_yaml.py (aliases refused, depth bounded)."""
    import ast

    loaders = {
        "load",
        "safe_load",
        "full_load",
        "unsafe_load",
        "load_all",
        "safe_load_all",
        "compose",
        "parse",
    }
    offenders = []
    for path in sorted((REPO / "factory").rglob("*.py")):
        if path.name == "strict_yaml.py":
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in loaders
                and isinstance(node.value, ast.Name)
                and node.value.id == "yaml"
            ) or (isinstance(node, ast.Name) and "Loader" in node.id and node.id != "StrictLoader"):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert offenders == []


def test_a_prompt_placeholder_that_names_no_field_is_refused_before_any_row(tmp_path: Path) -> None:
    """Case 12: "Check {qq} now" sent every row "Check  now", exit 0; placeholders are now checked at load time."""
    where = project(tmp_path, [{"id": "a"}], config(prompt_template="Check {qq} now"))
    line = one_line_user_error(run_batch(where))
    assert "prompt_template placeholder {qq} names no input field (fields: id)" in line
    assert not (where / "in.results.csv").exists()
    (where / "batch.yaml").write_text(yaml.safe_dump(config(prompt_template="Check {id} now")), "utf-8")
    assert run_batch(where).returncode == 0


EVIL_HEADER = "Post\x1b[2J\x1b]0;owned\x07code\r\u202eevil"


def assert_inert(text: str) -> None:
    for char in ("\x1b", "\x07", "\r", "\u202e"):
        assert char not in text, repr(text)


def test_terminal_escapes_in_a_csv_header_are_printed_escaped(tmp_path: Path) -> None:
    """Case 13: escape sequences in a header reached the terminal raw, in `analyze` output and in error lines."""
    where = project(tmp_path, [{"id": "a", EVIL_HEADER: "x"}], config())
    analyzed = cli(
        where,
        "batch",
        "analyze",
        "in.csv",
        "--agent",
        "broadband_availability_bt_wholesale",
        "--generated",
        str(REPO / "generated"),
        "--registry-backend",
        "none",
    )
    assert analyzed.returncode == 1, analyzed.stderr  # the agent's required inputs have no column
    assert_inert(analyzed.stdout + analyzed.stderr)
    assert "Post\\x1b[2J\\x1b]0;owned\\x07code\\r\\u202eevil" in analyzed.stdout
    (where / "batch.yaml").write_text(
        yaml.safe_dump(config(prompt_template="{" + EVIL_HEADER + "}")), "utf-8"
    )
    line = one_line_user_error(run_batch(where))
    assert_inert(line)
    assert "{Post\\x1b[2J" in line
