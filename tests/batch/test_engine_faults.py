"""Every agent fault is a row, never a crashed or empty batch (local engine).

A Python agent may return values JSON cannot hold (datetime, Decimal, set),
or call sys.exit() / raise KeyboardInterrupt in its worker. Each such row is
stored as text or failed with the reason; every other row still runs.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from factory.cli import main
from tests.conftest import REPO

AGENT = "broadband_availability_bt_wholesale"

FAULTY_AGENT = '''
import datetime, decimal, sys

def invoke(payload):
    data = payload.get("input", payload)
    kind = data.get("street", "")
    out = {"success": True, "fttp_avail": True, "alk": "A1", "exchange_code": "X", "sogea_avail": False}
    if kind == "datetime":
        out["alk"] = datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    if kind == "date":
        out["exchange_code"] = datetime.date(2025, 1, 2)
    if kind == "decimal":
        out["soadsl_dsl_speed"] = decimal.Decimal("12.5")
    if kind == "decimal-text":
        out["alk"] = decimal.Decimal("1.10")
    if kind == "decimal-long":
        out["soadsl_dsl_speed"] = decimal.Decimal("0.1234567890123456789")
    if kind == "surrogate":
        out["alk"] = "A\\ud800"
    if kind == "surrogate-key":
        out["metadata"] = {"k\\udfff": 1}
    if kind == "surrogate-error":
        raise ValueError("bad \\ud800 byte")
    if kind == "set":
        out["metadata"] = {"tags": {"b", "a"}}
    if kind == "exit":
        sys.exit(3)
    if kind == "keyboard":
        raise KeyboardInterrupt
    if kind == "object":
        out["metadata"] = {"x": object()}
    if kind == "nan":
        out["soadsl_dsl_speed"] = float("nan")
    return {"structured_output": out}
'''

KINDS = ["ok", "datetime", "date", "decimal", "set", "exit", "keyboard", "object", "nan", "decimal-text",
         "decimal-long", "surrogate", "surrogate-key", "surrogate-error", "ok"]


@pytest.fixture
def faulty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    package = tmp_path / "agents"
    package.mkdir()
    (package / "faulty_agent_for_engine_tests.py").write_text(FAULTY_AGENT)
    monkeypatch.syspath_prepend(str(package))
    monkeypatch.chdir(REPO)
    path = tmp_path / "in.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Building Number", "Street", "Postcode"])
        for number, kind in enumerate(KINDS, 1):
            writer.writerow([str(number), kind, "CB1 2AB"])
    return path


def test_agent_faults_are_rows_and_the_batch_completes(faulty: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(main, [
        "batch", "run", str(faulty), "--agent", AGENT, "--invoke", "faulty_agent_for_engine_tests:invoke",
        "--store", str(tmp_path / "s.sqlite"), "--out", str(out), "--retries", "1", "--quiet",
    ])
    assert "internal error" not in result.output
    assert "Traceback" not in result.output
    assert result.exit_code == 1, result.output  # some rows failed
    with open(out, newline="", encoding="utf-8") as handle:
        rows = {row["Street"] + row["Building Number"]: row for row in csv.DictReader(handle)}
    assert len(rows) == len(KINDS)
    by = {key.rstrip("0123456789"): row for key, row in rows.items()}
    assert by["datetime"]["alk"] == "2025-01-02T03:04:05+00:00"
    assert by["datetime"]["_status"] != "FAILED"
    assert by["decimal"]["soadsl_dsl_speed"] == "12.5"
    assert by["decimal"]["_status"] != "FAILED"
    # A decimal keeps its own digits: as text when no JSON number has them; a number field then refuses the text.
    assert by["decimal-text"]["alk"] == "1.10" and by["decimal-text"]["_status"] != "FAILED"
    assert by["decimal-long"]["soadsl_dsl_speed"] == ""  # the optional number field drops the text
    assert by["decimal-long"]["_status"] == "PARTIAL"
    assert by["decimal-long"]["_error"] == (
        "dropped invalid optional value(s): soadsl_dsl_speed: expected number, got string '0.1234567890123456789'"
    )
    # Text that is not valid Unicode (a lone surrogate) fails its row, naming where it sits; it crashed the batch.
    assert by["surrogate"]["_status"] == "FAILED"
    surrogate = "not valid Unicode (a lone surrogate such as \\ud800) at $.structured_output.alk"
    assert surrogate in by["surrogate"]["_error"]
    assert by["surrogate-key"]["_status"] == "FAILED"
    assert "has a key that is not valid Unicode" in by["surrogate-key"]["_error"]
    assert "at $.structured_output.metadata;" in by["surrogate-key"]["_error"]
    assert by["surrogate-error"]["_status"] == "FAILED"
    assert by["surrogate-error"]["_error"].endswith("ValueError: bad \\ud800 byte")
    assert by["set"]["_status"] != "FAILED" and '"tags":["a","b"]' in by["set"]["metadata"]
    # A date where text is expected is text; the schema decides whether that is valid.
    assert by["date"]["exchange_code"] == "2025-01-02"
    assert by["exit"]["_status"] == "FAILED" and "SystemExit: 3 raised by the agent" in by["exit"]["_error"]
    assert by["keyboard"]["_status"] == "FAILED" and "KeyboardInterrupt" in by["keyboard"]["_error"]
    assert by["object"]["_status"] == "FAILED"
    assert "object at $.structured_output.metadata.x" in by["object"]["_error"]
    assert by["nan"]["_status"] == "FAILED" and "not a finite number" in by["nan"]["_error"]
    assert rows["ok1"]["_status"] != "FAILED" and rows[f"ok{len(KINDS)}"]["_status"] != "FAILED"


def test_jsonable_gives_text_for_python_values() -> None:
    from factory.batch.engine import AgentOutputError, jsonable

    when = datetime.datetime(2025, 1, 2, 3, 4, 5)
    ident = uuid.UUID(int=7)
    value = {"t": when, "d": decimal.Decimal("3"), "f": decimal.Decimal("0.25"), "s": {3, 1, 2},
             "tu": (1, "a"), "u": ident, "n": None}
    assert jsonable(value) == {"t": "2025-01-02T03:04:05", "d": 3, "f": 0.25, "s": [1, 2, 3], "tu": [1, "a"],
                               "u": str(ident), "n": None}
    # Never rounded: the JSON number that prints the decimal's digits, else its digits as text.
    digits = {"1.1": 1.1, "3.0": 3.0, "1E+2": 100, "1E-7": 1e-07, "1.10": "1.10", "12.50": "12.50",
              "0.1234567890123456789": "0.1234567890123456789", "1E+400": "1E+400",
              "123456789012345678901234567890": 123456789012345678901234567890}
    assert {text: jsonable(decimal.Decimal(text)) for text in digits} == digits
    for bad, where in [({"a": [b"x"]}, "$.a[0]"), ({"a": decimal.Decimal("NaN")}, "$.a"), ({1: "x"}, "$"),
                       ({"a": float("inf")}, "$.a"), ({"a": ["ok", "\ud800"]}, "$.a[1]"), ({"\udc80": 1}, "$")]:
        with pytest.raises(AgentOutputError, match=r"at \$"):
            jsonable(bad)
        try:
            jsonable(bad)
        except AgentOutputError as err:
            assert where in str(err)


def test_output_nested_past_the_stack_fails_its_row_only() -> None:
    from factory.batch.engine import AgentOutputError, agent_output

    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(AgentOutputError, match="nested too deeply"):
        agent_output({"structured_output": deep})
    plain = {"a": [1, 2.5, "x", None, True, {"b": []}]}
    assert agent_output(plain) is plain, "JSON-native output passes untouched (no copy)"


NAMED_FAILURE_AGENT = '''
import threading
from factory.batch.invokers import AgentFailedError

CALLS = []
LOCK = threading.Lock()

def invoke(payload):
    data = payload.get("input", payload)
    with LOCK:
        CALLS.append(data.get("street"))
    if data.get("street") == "named":
        raise AgentFailedError("BrowserRunFailed: page gone on " + data.get("postcode", ""))
    raise RuntimeError("socket closed")
'''


def test_an_agents_named_failure_is_retried_then_written_in_its_own_words(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A FAILED agent execution's "<Error>: <Cause>" is the cell the step-functions engine writes for the row
    (tests/sfn/test_batch_machine.py compares both engines); any other failure keeps the attempt count."""
    package = tmp_path / "agents"
    package.mkdir()
    (package / "named_failure_agent_for_engine_tests.py").write_text(NAMED_FAILURE_AGENT)
    monkeypatch.syspath_prepend(str(package))
    monkeypatch.chdir(REPO)
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("Building Number,Street,Postcode\r\n1,named,CB1 2AB\r\n2,other,CB1 2AB\r\n", "utf-8")
    result = CliRunner().invoke(main, [
        "batch", "run", str(source), "--agent", AGENT, "--invoke", "named_failure_agent_for_engine_tests:invoke",
        "--store", str(tmp_path / "s.sqlite"), "--out", str(out), "--retries", "1", "--quiet",
    ])
    assert result.exit_code == 1, result.output
    with open(out, newline="", encoding="utf-8") as handle:
        errors = {row["Street"]: (row["_status"], row["_error"]) for row in csv.DictReader(handle)}
    assert errors == {
        "named": ("FAILED", "BrowserRunFailed: page gone on CB1 2AB"),
        "other": ("FAILED", "agent call failed after 2 attempt(s): RuntimeError: socket closed"),
    }
    import named_failure_agent_for_engine_tests as agent

    assert sorted(agent.CALLS) == ["named", "named", "other", "other"]  # both retried once


def test_an_integer_too_long_to_write_as_text_fails_its_row_not_the_batch() -> None:
    """Python refuses to write an int of more than 4300 digits (json.dumps, the results CSV): the run crashed."""
    from factory.batch.engine import AgentOutputError, agent_output

    with pytest.raises(AgentOutputError, match=r"more than 4300 digits at \$\.a\[0\]"):
        agent_output({"a": [10**5000]})
    assert agent_output({"a": 10**400, "b": True}) == {"a": 10**400, "b": True}


def test_a_cell_the_input_mapping_cannot_take_fails_its_row_not_the_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 25, case 9: a cell nested 2,000 deep under a jsonpath transformation stopped the batch (exit 70)."""
    import yaml

    monkeypatch.chdir(REPO)
    config = yaml.safe_load((REPO / "generated" / "batch_mappings" / f"{AGENT}.yaml").read_text("utf-8"))
    config["input_mapping"]["column_mappings"] = {"Building Number": "building_number", "Street": "street",
                                                  "Postcode": "postcode"}
    config["input_mapping"]["transformations"] = [
        {"field": "street", "type": "jsonpath", "column": "Street", "path": "$[0]"}]
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(config), "utf-8")
    with open(tmp_path / "in.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["Building Number", "Street", "Postcode"], ["1", '["High Street"]', "CB1 2AB"],
                                      ["2", "[" * 2_000 + "]" * 2_000, "CB1 2AB"]])
    result = CliRunner().invoke(main, ["batch", "run", str(tmp_path / "in.csv"), "--agent", AGENT, "--config",
                                       str(tmp_path / "cfg.yaml"), "--invoke", "examples.example_agent:invoke",
                                       "--store", str(tmp_path / "s.sqlite"), "--out", str(tmp_path / "out.csv"),
                                       "--quiet", "--retries", "0"])
    assert result.exit_code == 1, result.output
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["_status"] != "FAILED", rows[0]["_error"]
    assert rows[1]["_status"] == "FAILED"
    assert rows[1]["_error"]  # the mapper's own reason, or the engine's "the row's input could not be mapped: ..."
