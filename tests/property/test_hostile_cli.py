"""The CLI against generated hostile inputs (issue 25): one property per input class, run short and long.

Each generated case runs the real CLI in a child process, in a fresh project, under `prlimit` (1 GiB of
address space, 10 s of CPU) and a wall-clock limit, and holds four invariants (tests/property/harness.py):
exit status in {0, 1, 2, 130}; no traceback; nothing written outside the project (a sentinel directory and
a sentinel file, which the generated links point at, stay byte for byte the same); bounded time and memory.

`test_<class>` is the short, deterministic run of the fast suite (a few examples, derandomized). The
`test_<class>_long` functions are the long run, marked slow; `HOSTILE_EXAMPLES=500 pytest -m slow
tests/property` runs longer still.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from tests.property import strategies as s
from tests.property.harness import AGENT, Case, check_cases

LONG = int(os.environ.get("HOSTILE_EXAMPLES", "40"))
RUN = (
    "--agent",
    AGENT,
    "--invoke",
    "hostile_agent:invoke",
    "--retries",
    "0",
    "--quiet",
    "--concurrency",
    "2",
)
GOOD_ROWS = (
    "Building Number,Street,Postcode\n1,High Street,CB1 2AB\n2,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!,CB1 2AB\n"
    f'3,"{s.deep_json(2_000)}",CB1 2AB\n'  # a cell nested 2,000 deep, for a jsonpath transformation
)
GOOD_ANSWER = {
    "kind": "value",
    "value": {
        "structured_output": {
            "success": True,
            "fttp_avail": True,
            "alk": "a" * 30 + "!",
            "exchange_code": "X",
            "sogea_avail": False,
        }
    },
}


def answer_with(case: Case, answers: list[dict[str, Any]]) -> None:
    case.write("answers.json", json.dumps(answers))


# --- schema files -----------------------------------------------------------------------------------------


def schema_files(case: Case, files: list[tuple[str, bytes]]) -> None:
    for name, data in files:
        case.write(f"schemas/{name}", data)
    run = case.cli("validate")
    if run.status == 0:  # every hostile value was accepted: it must also generate, and check clean
        case.cli("generate")
        case.cli("check")


# The issue's own cases run first in the short run: a pattern 600 groups deep, a version ending in a newline.
SCHEMA_CASES = (
    [
        (
            "deep.json",
            s.schema_text(
                ("input_schema", "properties", "postcode", "pattern"), '"' + s.deep_groups(600) + '"', "deep"
            ).encode(),
        ),
        ("hostile_newline.json", s.schema_text(("version",), '"1.0.0\\n"', "hostile_newline").encode()),
    ],
)


def test_schema_files() -> None:
    check_cases(s.schema_files(), schema_files, examples=2, explicit=SCHEMA_CASES)


@pytest.mark.slow
def test_schema_files_long() -> None:
    check_cases(s.schema_files(), schema_files, examples=LONG)


# --- batch configs ----------------------------------------------------------------------------------------


def batch_configs(case: Case, config: str) -> None:
    case.write("in.csv", GOOD_ROWS)
    case.write("cfg.yaml", config)
    answer_with(case, [GOOD_ANSWER])
    case.cli("batch", "run", "in.csv", "--config", "cfg.yaml", "--timeout", "2", *RUN)


CONFIG_CASES = (
    s.config_with({}, "notes:\n  " + s.alias_bomb(9).replace("\n", "\n  ")),
    s.config_with(s.output_expression("$.structured_output.alk | parse('^(a+)+$')")),
    s.config_with(
        {
            "input_mapping": {
                "transformations": [
                    {"field": "street", "type": "jsonpath", "column": "Street", "path": "$[0][0]"}
                ]
            }
        }
    ),
)


def test_batch_configs() -> None:
    check_cases(s.config_edits, batch_configs, examples=2, explicit=CONFIG_CASES)


@pytest.mark.slow
def test_batch_configs_long() -> None:
    check_cases(s.config_edits, batch_configs, examples=LONG)


# --- CSV files --------------------------------------------------------------------------------------------


def csv_files(case: Case, data: bytes) -> None:
    case.write("in.csv", data)
    answer_with(case, [GOOD_ANSWER])
    case.cli("batch", "analyze", "in.csv", "--agent", AGENT)
    case.cli("batch", "run", "in.csv", "--timeout", "2", *RUN)


CSV_CASES = (
    (
        'Building Number,Street,Postcode,\x1b[2J\x1b]0;title\x07\n1,"' + s.deep_json(2_000) + '",CB1 2AB,x\n'
    ).encode(),
)


def test_csv_files() -> None:
    check_cases(s.csv_files(), csv_files, examples=2, explicit=CSV_CASES)


@pytest.mark.slow
def test_csv_files_long() -> None:
    check_cases(s.csv_files(), csv_files, examples=LONG)


# --- agent answers ----------------------------------------------------------------------------------------


def agent_answers(case: Case, answers: list[dict[str, Any]]) -> None:
    rows = "".join(f"{number},Street {number},CB1 2AB\n" for number in range(len(answers)))
    case.write("in.csv", "Building Number,Street,Postcode\n" + rows)
    answer_with(case, answers)
    case.cli("batch", "run", "in.csv", "--timeout", "1", *RUN)


ANSWER_CASES = (
    [
        {"kind": "deep", "depth": 20_000},
        {"kind": "hang"},
        {"kind": "opaque"},
        {"kind": "bignum", "digits": 5_000},
        {"kind": "raise", "text": "\x1b[2Jboom\ud800"},
        {"kind": "exit", "code": 0},
    ],
)


def test_agent_answers() -> None:
    check_cases(s.answer_lists, agent_answers, examples=2, explicit=ANSWER_CASES)


@pytest.mark.slow
def test_agent_answers_long() -> None:
    check_cases(s.answer_lists, agent_answers, examples=LONG)


# --- special files ----------------------------------------------------------------------------------------

PLACES = {
    "schema": "schemas/special.json",
    "config": "cfg.yaml",
    "csv": "in.csv",
    "out": "out.csv",
    "results_tmp": ".out.csv.tmp",
    "store": "store.sqlite",
    "batch_mapping": f"generated/batch_mappings/{AGENT}.yaml",
}


def special_files(case: Case, planted: tuple[str, str]) -> None:
    place, kind = planted
    case.write("in.csv", GOOD_ROWS)
    case.write("cfg.yaml", s.config_with({}))
    answer_with(case, [GOOD_ANSWER])
    s.plant(kind, case.project / PLACES[place], case.outside)
    if place == "schema":
        case.cli("validate")
        return
    case.cli(
        "batch",
        "run",
        "in.csv",
        "--config",
        "cfg.yaml",
        "--out",
        "out.csv",
        "--store",
        "store.sqlite",
        "--timeout",
        "2",
        *RUN,
    )


SPECIAL_CASES = (("results_tmp", "link_outside_file"), ("schema", "link_dev_zero"), ("csv", "fifo"))


def test_special_files() -> None:
    check_cases(s.special_files, special_files, examples=2, explicit=SPECIAL_CASES)


@pytest.mark.slow
def test_special_files_long() -> None:
    check_cases(
        s.special_files, special_files, examples=max(LONG, 2 * len(s.SPECIAL_PLACES) * len(s.SPECIAL_KINDS))
    )
