"""`batch report` on hostile text, big batches and bad sources (issue 29)."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from factory.batch.local_store import LocalResultStore
from factory.cli import main
from factory.report.aggregate import MAX_REASONS
from tests.report.page_tables import body_rows, read_page

HOSTILE = ["<script>alert(1)</script>", "\"quoted\" 'single' & <b>bold</b>", "esc\x1b[2Jclear", "nul\x00byte",
           "bidi\u202etxt.exe", "</table></figure><img src=x onerror=alert(1)>"]


def invoke(*args: str):
    return CliRunner().invoke(main, ["batch", "report", *args])


def write_results(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_hostile_cells_headers_and_errors_are_text_never_markup(tmp_path: Path) -> None:
    header = ["id", *HOSTILE[:3], "_status", "_error", "_execution_time_ms", "_timestamp"]
    rows = [[str(n), HOSTILE[n % 6], "true", HOSTILE[(n + 1) % 6], "FAILED" if n < 12 else "SUCCESS",
             HOSTILE[n % 6] if n < 12 else "", str(n), "2026-01-01T00:00:00.000Z"] for n in range(16)]
    source = write_results(tmp_path / "hostile.results.csv", header, rows)
    result = invoke(str(source), "-o", str(tmp_path / "page.html"))
    assert result.exit_code == 0, result.output
    html = (tmp_path / "page.html").read_text("utf-8")
    page = read_page(html)
    assert "script" not in page.tags and "img" not in page.tags and "b" not in page.tags
    assert not any(ch in html for ch in "\x1b\x00\u202e"), "control characters are shown as escapes"
    text = "".join(page.text)
    for shown in ("<script>alert(1)</script>", "<b>bold</b>", "esc\\x1b[2Jclear", "nul\\x00byte", "bidi\\u202etxt.exe",
                  "</table></figure><img src=x onerror=alert(1)>"):
        assert shown in text
    fields = [r[0] for r in body_rows(page.tables["fields-table"])]
    assert fields == ["id", "<script>alert(1)</script>", "\"quoted\" 'single' & <b>bold</b>", "esc\\x1b[2Jclear"]


def letters(number: int) -> str:
    """A number written in letters: distinct reasons that digit masking does not merge."""
    text = ""
    while True:
        number, digit = divmod(number, 26)
        text += chr(ord("a") + digit)
        if not number:
            return text


def fill_store(store_path: Path, rows: int, distinct_reasons: int) -> str:
    csv_path = write_results(store_path.with_name("in.csv"), ["x"], [[str(n)] for n in range(rows)])
    store = LocalResultStore(store_path)
    batch_id = "big#local-1"
    store.create_batch(batch_id, "some-agent", str(csv_path), {"mapping": {"structured_output_fields": ["kind"]}})
    store.close()
    conn = sqlite3.connect(store_path)
    with conn:
        conn.executemany("INSERT INTO results VALUES (?, ?, ?, ?, ?, ?)", (
            (batch_id, f"{n:08d}", n, "FAILED" if n % 2 else "SUCCESS", "t", json.dumps({
                "row_number": n, "status": "FAILED" if n % 2 else "SUCCESS",
                "error": f"failure kind {letters(n % distinct_reasons)} " + "long text " * 40 if n % 2 else None,
                "execution_time_ms": n % 5000, "output_data": {"kind": f"k{n % 400}"}}))
            for n in range(1, rows + 1)))
    conn.close()
    return batch_id


def test_a_big_batch_gives_a_small_page(tmp_path: Path) -> None:
    """Aggregates, not rows: 100,000 rows with 3,000 distinct failure reasons and 400 values of a field."""
    store = tmp_path / "store.sqlite"
    batch_id = fill_store(store, 100_000, 3_000)
    result = invoke(batch_id, "--store", str(store), "-o", str(tmp_path / "big.html"), "--generated", str(tmp_path))
    assert result.exit_code == 0, result.output
    size = (tmp_path / "big.html").stat().st_size
    assert size < 500_000, size
    page = read_page((tmp_path / "big.html").read_text("utf-8"))
    reasons = body_rows(page.tables["reasons-table"])
    assert len(reasons) == 10
    assert sum(int(r[1]) for r in reasons) < 50_000
    assert f"{MAX_REASONS + 1} distinct reason(s); the top 10 are shown" in "".join(page.text)


def test_bad_sources_are_one_line(tmp_path: Path) -> None:
    missing_store = invoke("no-such-batch", "--store", str(tmp_path / "none.sqlite"))
    assert missing_store.exit_code == 1
    assert missing_store.stderr.splitlines() == [
        f"{tmp_path / 'none.sqlite'}: $: no result store here, so no batch 'no-such-batch' (pass the --store the "
        "batch ran with, a results CSV, or an execution ARN)", "error: 1 problem"]
    assert not (tmp_path / "none.sqlite").exists(), "reading never creates a store"
    store = tmp_path / "store.sqlite"
    fill_store(store, 3, 2)
    unknown = invoke("other-batch", "--store", str(store), "-o", str(tmp_path / "x.html"))
    assert unknown.exit_code == 1 and "Traceback" not in unknown.output
    missing_csv = invoke(str(tmp_path / "gone.results.csv"), "-o", str(tmp_path / "x.html"))
    assert missing_csv.exit_code == 1 and "gone.results.csv" in missing_csv.stderr
    over_store = invoke("big#local-1", "--store", str(store), "-o", str(store))
    assert over_store.exit_code == 1 and "the result store" in over_store.stderr
    assert not (tmp_path / "x.html").exists()
