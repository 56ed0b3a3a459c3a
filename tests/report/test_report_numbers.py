"""`batch report`: every number on the page is what the results CSV gives (issue 29).

The expected numbers are computed here from the results CSV with the csv module, by the rules the page
states: fill rate = rows whose cell is non-empty / all rows; distributions for the schema's enum and
boolean fields; percentiles by nearest rank; failures grouped by their `_error` with digit runs as `#`.
"""

from __future__ import annotations

import json
import math
import shlex
import re
from collections import Counter
from pathlib import Path

from click.testing import CliRunner

from factory.batch.cost import estimate
from factory.cli import main
from tests.report.conftest import AGENT, results_csv
from tests.report.page_tables import body_rows, read_page

OUTPUT_FIELDS = [
    "success",
    "alk",
    "exchange_code",
    "fttp_avail",
    "install_type",
    "sogea_avail",
    "soadsl_dsl_speed",
    "ont_reference",
    "ont_serial_no",
    "port_service_id",
    "screenshot_url",
    "metadata",
]


def report(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["batch", "report", *args])
    return result.exit_code, result.output


def shown(text: str) -> str:
    """Control characters as the page shows them: escapes, never raw."""
    return re.sub("[\x00-\x08\x0b-\x1f\x7f-\x9f]", lambda m: f"\\x{ord(m.group()):02x}", text)


def expected_from(rows: list[dict[str, str]]) -> dict[str, object]:
    times = sorted(int(r["_execution_time_ms"]) for r in rows if r["_execution_time_ms"])

    def rank(share: float) -> int:
        return times[max(1, math.ceil(share * len(times))) - 1]

    reasons: dict[str, list[int]] = {}
    for number, row in enumerate(rows, 1):
        if row["_status"] == "FAILED":
            key = re.sub(r"\d+", "#", row["_error"].splitlines()[0])[:160]
            reasons.setdefault(shown(key), []).append(number)
    return {
        "statuses": Counter(r["_status"] for r in rows),
        "filled": {name: sum(1 for r in rows if r[name] != "") for name in OUTPUT_FIELDS},
        "values": {
            name: Counter(r[name] for r in rows if r[name] != "")
            for name in ("success", "fttp_avail", "install_type", "sogea_avail")
        },
        "p50": rank(0.5),
        "p95": rank(0.95),
        "max": times[-1],
        "timed": len(times),
        "reasons": reasons,
    }


def check_page(html: str, rows: list[dict[str, str]]) -> None:
    page, want = read_page(html), expected_from(rows)
    statuses = {r[0]: int(r[1]) for r in body_rows(page.tables["status-table"])}
    assert {k: v for k, v in statuses.items() if v} == dict(want["statuses"])
    assert sum(statuses.values()) == len(rows)
    fields = {r[0]: (int(r[2]), float(r[3].rstrip("%"))) for r in body_rows(page.tables["fields-table"])}
    assert list(fields) == OUTPUT_FIELDS
    for name, filled in want["filled"].items():  # type: ignore[attr-defined]
        assert fields[name] == (filled, round(100 * filled / len(rows), 1)), name
    for name, counts in want["values"].items():  # type: ignore[attr-defined]
        if not counts:
            assert f"distribution-table:{name}" not in page.tables
            continue
        shown = {r[0]: int(r[1]) for r in body_rows(page.tables[f"distribution-table:{name}"])}
        assert shown == dict(counts), name
    times = [v[0] for v in page.tables["times-table"].values]
    assert [int(t) for t in times] == [want["timed"], want["p50"], want["p95"], want["max"]]
    bins = [int(r[1]) for r in body_rows(page.tables["bins-table"])]
    assert sum(bins) == want["timed"]
    reasons = {
        r[0]: (int(r[1]), [int(n) for n in r[2].split(", ")]) for r in body_rows(page.tables["reasons-table"])
    }
    assert {k: v[0] for k, v in reasons.items()} == {k: len(v) for k, v in want["reasons"].items()}  # type: ignore
    for key, (_, examples) in reasons.items():
        assert examples == want["reasons"][key][:5]  # type: ignore[index]
    for figure, declared in page.declared_bars.items():
        assert page.bars[figure] == declared, figure


def test_a_local_batch_report_matches_its_results_csv(finished_batch: tuple[Path, str]) -> None:
    project, batch_id = finished_batch
    out = project / "report.html"
    code, output = report(batch_id, "--store", str(project / "store.sqlite"), "-o", str(out))
    assert code == 0, output
    assert output.startswith(f"wrote {out.as_posix()}: 60 rows (")
    rows = results_csv(project)
    check_page(out.read_text("utf-8"), rows)
    page = read_page(out.read_text("utf-8"))
    costs = {row[0]: row[1] for row in page.tables["cost-table"].rows}
    expected = estimate(60, "agent")
    assert costs["state transitions, batch machine"] == f"{expected.batch_transitions:,}"
    assert costs["Lambda invocations"] == f"{expected.lambda_invocations:,}"
    assert costs["estimated price (USD)"] == f"{expected.total_usd:.4f}"
    assert {r[0] for r in body_rows(page.tables["reasons-table"])} == {
        "agent call failed after # attempt(s): RuntimeError: browser session lost after # s",
        'agent call failed after # attempt(s): ValueError: <script>alert("x")</script> it\'s \\x1b[#mred\\x1b[#m & '
        "\\x00nul",
    }


def test_a_results_csv_report_with_the_agent_matches_the_csv(finished_batch: tuple[Path, str]) -> None:
    project, _ = finished_batch
    code, output = report(str(project / "in.results.csv"), "--agent", AGENT)
    assert code == 0, output
    assert (project / "in.report.html").is_file(), "a results CSV's report goes beside it"
    check_page((project / "in.report.html").read_text("utf-8"), results_csv(project))


def test_a_results_csv_without_an_agent_reports_every_column(finished_batch: tuple[Path, str]) -> None:
    project, _ = finished_batch
    code, _ = report(str(project / "in.results.csv"), "-o", str(project / "all.html"))
    assert code == 0
    page = read_page((project / "all.html").read_text("utf-8"))
    names = [r[0] for r in body_rows(page.tables["fields-table"])]
    assert names[:4] == ["Building Number", "Street", "Postcode", "Full Address"]
    assert names[4:] == OUTPUT_FIELDS
    # With no schema at hand, a column of nothing but true/false still gets its distribution.
    assert "distribution-table:fttp_avail" in page.tables


def test_run_and_status_name_the_report_command(report_project: Path) -> None:
    """When a batch ends, `batch run` and `batch status` say how to see it; the line they print works."""
    store = str(report_project / "store.sqlite")
    run = CliRunner().invoke(main, ["batch", "run", str(report_project / "in.csv"), "--agent", AGENT, "--invoke",
                                    "report_agent:invoke", "--store", store, "--retries", "0", "--quiet"])
    line = next(text for text in run.stderr.splitlines() if text.startswith("see it at a glance: "))
    argv = shlex.split(line.removeprefix("see it at a glance: "))
    assert argv[:3] == ["schema-factory", "batch", "report"] and argv[4:] == ["--store", store]
    status = CliRunner().invoke(main, ["batch", "status", argv[3], "--store", store])
    assert status.stderr.strip() == line
    drawn = CliRunner().invoke(main, [*argv[1:], "-o", str(report_project / "p.html")])
    assert drawn.exit_code == 0 and (report_project / "p.html").is_file()


def test_retries_are_the_calls_the_local_engine_made_per_row(report_project: Path) -> None:
    """The local engine records each row's calls; the page counts rows by calls made."""
    (report_project / "flaky_agent.py").write_text(
        "SEEN = {}\n\n"
        "def invoke(payload):\n"
        "    number = int(payload['input']['building_number'])\n"
        "    SEEN[number] = SEEN.get(number, 0) + 1\n"
        "    if SEEN[number] <= number % 3:\n"
        "        raise RuntimeError('flaky')\n"
        "    return {'structured_output': {'success': True, 'fttp_avail': True}}\n", "utf-8")
    store = str(report_project / "store.sqlite")
    run = CliRunner().invoke(main, ["batch", "run", str(report_project / "in.csv"), "--agent", AGENT, "--invoke",
                                    "flaky_agent:invoke", "--store", store, "--retries", "2", "--quiet", "--json"])
    assert run.exit_code == 0, run.output
    batch_id = json.loads(run.stdout)["batch_id"]
    out = report_project / "r.html"
    assert CliRunner().invoke(main, ["batch", "report", batch_id, "--store", store, "-o", str(out)]).exit_code == 0
    page = read_page(out.read_text("utf-8"))
    calls = {int(r[0]): int(r[1]) for r in body_rows(page.tables["attempts-table"])}
    want = Counter(number % 3 + 1 for number in range(1, 61))
    assert calls == dict(want)
    assert "".join(page.text).count(f"{want[2] + want[3]} row(s) needed more than one call") == 1
