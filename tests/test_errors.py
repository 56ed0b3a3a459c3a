"""One error value, one renderer: a validation problem and a check finding print the same way."""

from __future__ import annotations

from factory.check.findings import EDITED, INVALID, finding, finding_json
from factory.errors import DIFF_LINES_SHOWN, Problem
from factory.rules import VERSION_FORMAT


def test_a_validation_problem_names_file_path_message_and_hint_on_one_line() -> None:
    problem = Problem("schemas/a.json", "$.version", VERSION_FORMAT, "version 'x'\nis bad", "e.g. '1.0.0'")
    assert problem.render() == "schemas/a.json: $.version: version 'x' is bad (e.g. '1.0.0')"
    assert problem.to_json() == {
        "file": "schemas/a.json",
        "json_path": "$.version",
        "rule": VERSION_FORMAT,
        "message": "version 'x'\nis bad",
        "hint": "e.g. '1.0.0'",
    }


def test_a_finding_is_a_problem_with_a_kind_and_its_hint_is_the_fix() -> None:
    diff = "\n".join(f"+line {n}" for n in range(DIFF_LINES_SHOWN + 5))
    item = finding("generated/x.py", EDITED, "edited by hand", "run generate", diff=diff)
    assert isinstance(item, Problem) and item.rule == EDITED and item.json_path == ""
    head, *shown = item.render().splitlines()
    assert head == "generated/x.py: edited: edited by hand (fix: run generate)"
    assert shown[:2] == ["    +line 0", "    +line 1"] and shown[-1] == "    ... 5 more diff lines"
    assert len(shown) == DIFF_LINES_SHOWN + 1


def test_an_invalid_schema_finding_keeps_its_rule_and_json_path() -> None:
    problem = Problem("schemas/a.json", "$.version", VERSION_FORMAT, "bad", "fix it", kind=INVALID)
    assert problem.render() == "schemas/a.json: invalid: $.version: bad (fix: fix it)"
    assert finding_json(problem) == {
        "path": "schemas/a.json",
        "kind": INVALID,
        "detail": "$.version: bad",
        "fix": "fix it",
    }
