"""Issue #17 §2 (local engine): a plain Lambda tool as a batch target, called through the Lambda Invoke API.

The tool is a ticket classifier: it takes the mapped input (the fields
themselves, typed by the config) and answers with its own JSON. The engine
calls it with the real boto3 client at `--endpoint-url` (tests/batch/lambda_stub.py
serves the Invoke operation); `target.arn` in the config names the function.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from factory.cli import main
from tests.batch.lambda_stub import LambdaStub

ARN = "arn:aws:lambda:eu-west-2:123456789012:function:classify-ticket"
CONFIG = {
    "target": {"type": "tool", "name": "classify-ticket", "arn": ARN},
    "input_mapping": {"column_mappings": {"Ticket ID": "ticket_id", "Subject": "subject", "Body": "body",
                                          "Priority": "priority"},
                      "field_types": {"ticket_id": "integer", "priority": "integer"},
                      "required_fields": ["subject"]},
    "output_mappings": {"classify-ticket": {
        "type": "tool",
        "required_fields": ["category"],
        "extraction_methods": [{"method": "direct", "field_mappings": {
            "category": "$.category",
            "confidence": "$.confidence_score | to_number()",
            "label_count": "length(labels)",
        }}]}},
}
TICKETS = [
    ("101", "Refund for invoice 2231", "I was charged twice for my March invoice", "2"),
    ("102", "Cannot log in", "Password reset email never arrives", "1"),
    ("103", "=HYPERLINK(\"http://x\")", "crash me", "3"),
    ("104", "Upgrade plan", "", "x"),
]


def classify(event: dict[str, Any]) -> dict[str, Any]:
    """The tool: keyword rules over subject and body, as a small real classifier would be."""
    if event["body"] == "crash me":
        raise RuntimeError("model endpoint returned 500")
    text = f"{event['subject']} {event.get('body', '')}".lower()
    if "refund" in text or "invoice" in text:
        return {"category": "billing", "confidence_score": "0.93", "labels": ["invoice", "refund"]}
    if "log in" in text or "password" in text:
        return {"category": "account", "confidence_score": 0.81, "labels": ["login"]}
    return {"category": "other", "confidence_score": 0.2, "labels": []}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "eu-west-2"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with open(tmp_path / "tickets.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Ticket ID", "Subject", "Body", "Priority"])
        writer.writerows(TICKETS)
    (tmp_path / "batch.yaml").write_text(yaml.safe_dump(CONFIG, sort_keys=False), "utf-8")
    return tmp_path


def run(stub: LambdaStub, *extra: str):
    return CliRunner().invoke(main, ["batch", "run", "tickets.csv", "--agent", "classify-ticket", "--config",
                                     "batch.yaml", "--quiet", "--store", "store.sqlite", "--region", "eu-west-2",
                                     "--endpoint-url", stub.endpoint, "--concurrency", "2", "--retries", "2",
                                     *extra])


def test_a_lambda_tool_runs_as_a_batch_target(project: Path) -> None:
    with LambdaStub({ARN: classify}) as stub:
        result = run(stub)
    assert result.exit_code == 1, result.output + result.stderr  # rows 3 and 4 fail
    with open(project / "tickets.results.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["category"], r["confidence"], r["label_count"], r["_status"]) for r in rows] == [
        ("billing", "0.93", "2", "SUCCESS"), ("account", "0.81", "1", "SUCCESS"),
        ("", "", "", "FAILED"), ("", "", "", "FAILED")]
    # the function's own "<errorType>: <errorMessage>", the words the step-functions engine writes for it
    assert rows[2]["_error"] == "RuntimeError: model endpoint returned 500"
    assert "priority" in rows[3]["_error"] and "'x' is not an integer" in rows[3]["_error"]
    # The function got the mapped input itself, typed, once per row (a FunctionError is not retried).
    calls = sorted(stub.calls, key=lambda call: call["payload"]["ticket_id"])
    assert [call["payload"] for call in calls] == [
        {"ticket_id": 101, "subject": "Refund for invoice 2231", "body": "I was charged twice for my March invoice",
         "priority": 2},
        {"ticket_id": 102, "subject": "Cannot log in", "body": "Password reset email never arrives", "priority": 1},
        {"ticket_id": 103, "subject": '=HYPERLINK("http://x")', "body": "crash me", "priority": 3},
    ]
    assert {(c["function"], c["type"], c["signed"]) for c in calls} == {(ARN, "RequestResponse", True)}


def test_invoke_flag_names_the_function_too(project: Path) -> None:
    """--invoke with a Lambda ARN wins over the config's target.arn (and is stored for --resume)."""
    other = "arn:aws:lambda:eu-west-2:123456789012:function:classify-ticket:live"
    with LambdaStub({other: classify}) as stub:
        result = run(stub, "--invoke", other, "--json")
    assert '"invoke_from": "--invoke"' in result.output
    assert {call["function"] for call in stub.calls} == {other}


def test_a_missing_function_fails_its_rows_not_the_batch(project: Path) -> None:
    with LambdaStub({}) as stub:
        result = run(stub, "--retries", "0")
    assert result.exit_code == 1
    with open(project / "tickets.results.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["_status"] == "FAILED"
    assert "lambda invoke failed: ResourceNotFoundException: Function not found" in rows[0]["_error"]


def readme_block(name: str) -> dict[str, Any]:
    """docs/batch.md's worked example `# <name>` (a ```yaml block), as YAML."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "batch.md").read_text("utf-8")
    start = text.index(f"```yaml\n# {name}\n") + len("```yaml\n")
    return yaml.safe_load(text[start:text.index("```", start)])


def test_the_readme_tool_example_runs_as_told(project: Path) -> None:
    (project / "batch.yaml").write_text(yaml.safe_dump(readme_block("tickets.yaml"), sort_keys=False), "utf-8")
    with LambdaStub({ARN: classify}) as stub:
        result = run(stub)
    assert result.exit_code == 1  # the ticket that crashes the function
    with open(project / "tickets.results.csv", newline="", encoding="utf-8") as handle:
        first = next(csv.DictReader(handle))
    assert (first["category"], first["confidence"], first["label_count"], first["_status"]) == \
        ("billing", "0.93", "2", "SUCCESS")
    assert stub.calls[0]["payload"].keys() == {"ticket_id", "subject", "body"}


def test_the_readme_agent_example_is_the_tested_config() -> None:
    from tests.batch.test_generic_targets import CONFIG as AGENT_CONFIG

    block = readme_block("broadband.yaml")
    assert block["target"].pop("arn").endswith(":stateMachine:broadband-agent-rust")
    assert block == AGENT_CONFIG


def test_resume_calls_the_same_function_and_maps_the_same_way(project: Path) -> None:
    """The stored batch keeps its target and output_mappings: a resumed run needs neither --config nor flags."""
    import json

    broken = {"down": True}

    def flaky(event: dict[str, Any]) -> dict[str, Any]:
        if broken["down"] and event["ticket_id"] == 102:
            raise TimeoutError("Task timed out after 3.00 seconds")
        return classify({**event, "body": "" if event["body"] == "crash me" else event["body"]})

    with LambdaStub({ARN: flaky}) as stub:
        first = run(stub, "--json")
        assert first.output, first.stderr
        report = json.loads(first.stdout)
        assert report["counts"] == {"SUCCESS": 2, "FAILED": 2}, report
        broken["down"] = False
        resumed = CliRunner().invoke(main, ["batch", "run", "--resume", report["batch_id"], "--store",
                                            "store.sqlite", "--quiet", "--region", "eu-west-2", "--endpoint-url",
                                            stub.endpoint, "--json"])
    assert resumed.output, resumed.stderr
    assert json.loads(resumed.stdout)["invoke_from"] == "the --invoke stored with the batch"
    with open(project / "tickets.results.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["category"], r["_status"]) for r in rows[:3]] == [("billing", "SUCCESS"), ("account", "SUCCESS"),
                                                                 ("other", "SUCCESS")]
    assert rows[3]["_status"] == "FAILED"  # its priority 'x' is still not an integer
