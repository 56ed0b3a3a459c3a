"""A local agent's contract, through the real CLI: what it gets, and which answers make which row.

The agent behind `--invoke module:function` gets `{"messages": [...], "input": {field: value}}`
and may answer the output object itself. An optional field it leaves out is no fault (SUCCESS, as
in the original batch processor); an optional value that breaks the schema is dropped (PARTIAL, and
`_error` names it); a required field missing, or no output object at all, fails the row. The Step
Functions engine maps each response with the same code: its child workflow's WriteResults Lambda maps
through `factory.runtime.child_results.row_mapper`, which must give every row the same status and error.
"""

from __future__ import annotations

import csv
import json
import shlex
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from factory.cli import main
from factory.runtime.child_results import row_mapper
from tests.conftest import REPO

AGENT = "broadband_availability_bt_wholesale"
ADDRESSES = REPO / "examples" / "addresses.csv"

PAYLOAD_AGENT = """
import json, os
from examples.example_agent import answer

def invoke(payload):
    with open(os.environ["RESPONSES_LOG"], "a", encoding="utf-8") as handle:
        handle.write(json.dumps(payload) + "\\n")
    return answer(payload["input"])
"""

VARYING_AGENT = """
import json, os
from examples.example_agent import answer

def invoke(payload):
    data = payload["input"]
    out = answer(data)
    kind = sum(map(ord, str(data["building_number"]))) % 4
    if kind == 1:
        out.pop("exchange_code", None)          # an optional field left out
    elif kind == 2:
        out["install_type"] = "Gold"            # an optional value outside its enum
    elif kind == 3:
        out.pop("fttp_avail")                   # a required field left out
    with open(os.environ["RESPONSES_LOG"], "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"number": data["building_number"], "response": out}) + "\\n")
    return out
"""


def kind_of(row: dict[str, str]) -> int:
    """The varying agent's choice for this row, as it computes it from the building number."""
    return sum(map(ord, row["Building Number"])) % 4


def run(tmp_path: Path, csv_path: Path, spec: str):
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        main,
        [
            "batch",
            "run",
            str(csv_path),
            "--agent",
            AGENT,
            "--invoke",
            spec,
            "--store",
            str(tmp_path / "s.sqlite"),
            "--out",
            str(out),
            "--quiet",
        ],
    )
    with open(out, newline="", encoding="utf-8") as handle:
        return result, list(csv.DictReader(handle))


def contract_section() -> str:
    text = (REPO / "docs" / "batch.md").read_text("utf-8")
    return text.split("## Your own agent: the contract\n", 1)[1].split("\n## ", 1)[0]


def test_the_documented_agent_is_the_example_file_and_its_payload_is_what_it_gets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    section = contract_section()
    shown = section.split("```python\n", 1)[1].split("```", 1)[0]
    code = (REPO / "examples" / "plain_agent.py").read_text("utf-8")
    assert (
        code.endswith(shown) and code[: -len(shown)].count('"""') == 2
    )  # the file is its docstring and this
    documented = json.loads(section.split("```json\n", 1)[1].split("```", 1)[0])
    package = tmp_path / "agents"
    package.mkdir()
    (package / "payload_agent_for_contract_tests.py").write_text(PAYLOAD_AGENT)
    monkeypatch.syspath_prepend(str(package))
    monkeypatch.setenv("RESPONSES_LOG", str(tmp_path / "payloads.jsonl"))
    monkeypatch.chdir(REPO)
    run(tmp_path, ADDRESSES, "payload_agent_for_contract_tests:invoke")
    payloads = [json.loads(line) for line in (tmp_path / "payloads.jsonl").read_text("utf-8").splitlines()]
    first = next(p for p in payloads if p["input"] == documented["input"])
    assert set(first) == set(documented) and first["messages"][0]["role"] == "user"


def test_the_five_line_agent_answering_the_output_object_succeeds_on_every_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """examples/plain_agent.py, run as docs/batch.md runs it: 50 of 50 rows SUCCESS."""
    monkeypatch.chdir(REPO)
    command = contract_section().split("```bash\n", 1)[1].split("```", 1)[0].strip()
    args = shlex.split(command)
    assert args[:2] == ["schema-factory", "batch"] and "examples.plain_agent:invoke" in args
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        main, [*args[1:], "--store", str(tmp_path / "s.sqlite"), "--out", str(out), "--quiet"]
    )
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert result.exit_code == 0, result.output
    assert len(rows) == 50
    assert {row["_status"] for row in rows} == {"SUCCESS"}, {row["_error"] for row in rows}
    assert all(row["_error"] == "" for row in rows)
    assert sum(1 for row in rows if row["exchange_code"]) > 40


def test_each_answer_makes_the_row_the_contract_says_on_both_engines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "agents"
    package.mkdir()
    (package / "varying_agent_for_contract_tests.py").write_text(VARYING_AGENT)
    monkeypatch.syspath_prepend(str(package))
    monkeypatch.setenv("RESPONSES_LOG", str(tmp_path / "responses.jsonl"))
    monkeypatch.chdir(REPO)
    result, rows = run(tmp_path, ADDRESSES, "varying_agent_for_contract_tests:invoke")
    assert result.exit_code == 1, result.output  # the rows missing a required field failed
    by_kind: dict[int, set[tuple[str, str]]] = {0: set(), 1: set(), 2: set(), 3: set()}
    for row in rows:
        by_kind[kind_of(row)].add((row["_status"], row["_error"]))
    assert all(by_kind.values()), by_kind  # every kind of answer was given
    assert by_kind[0] == by_kind[1] == {("SUCCESS", "")}
    assert by_kind[2] == {
        (
            "PARTIAL",
            "dropped invalid optional value(s): install_type: 'Gold' is not one of "
            "['Standard', 'Premium', 'N/A']",
        )
    }
    assert by_kind[3] == {("FAILED", "fttp_avail: required field is missing")}
    assert all(row["install_type"] == "" for row in rows if kind_of(row) == 2)

    mapping = yaml.safe_load((REPO / "generated" / "batch_mappings" / f"{AGENT}.yaml").read_text("utf-8"))
    record = json.loads(
        (
            REPO / "generated" / "registry" / "agents" / "broadband-availability-bt-wholesale-agent.json"
        ).read_text()
    )
    schema = record["structured_output"]["schemas"]["output"]
    responses = {}
    for line in (tmp_path / "responses.jsonl").read_text("utf-8").splitlines():
        entry = json.loads(line)
        responses[entry["number"]] = entry["response"]
    for row in rows:
        mapped = row_mapper({"mapping": mapping, "output_schema": schema})(responses[row["Building Number"]])
        assert (mapped["_status"], mapped["_error"] or "") == (row["_status"], row["_error"])
        for name in mapping["structured_output_fields"]:
            assert (mapped[name] is None) == (row[name] == ""), (row["Building Number"], name)
