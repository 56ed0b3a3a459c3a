"""The report in a real browser (issue 29): Debian's headless Chromium, driven by Playwright.

The page must load with no console error, make no request beyond its own file, and draw every chart
(a non-empty SVG with as many bars as its table has rows). A screenshot is kept as a test artifact in
`test-artifacts/batch-report.png`. Where Chromium or Playwright is missing the test skips with one line,
except in CI (`CI=true`), where `.ci/run` installs both and a skip would hide a broken report.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from factory.cli import main
from tests.conftest import REPO
from tests.report.page_tables import body_rows, read_page

ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    reason = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "Playwright is not installed (pip install -e '.[test]')"
    if found is None:
        reason = "no Chromium on PATH (apt-get install chromium)"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: CI must run the browser test (.ci/run installs it)")
        pytest.skip(reason)
    assert found is not None
    return found


@pytest.mark.slow
def test_the_report_renders_offline_in_chromium(finished_batch: tuple[Path, str]) -> None:
    chromium = _chromium()
    from playwright.sync_api import sync_playwright

    project, batch_id = finished_batch
    page_path = project / "report.html"
    result = CliRunner().invoke(main, ["batch", "report", batch_id, "--store", str(project / "store.sqlite"),
                                       "-o", str(page_path)])
    assert result.exit_code == 0, result.output
    html = page_path.read_text("utf-8")
    expected = read_page(html)
    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("request", lambda request: requests.append(request.url))
            page.goto(page_path.as_uri(), wait_until="load")
            bars = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('figure')].map(f => [
                f.id || (f.className + ':' + f.dataset.field),
                {bars: f.querySelectorAll('svg rect.rect').length, width: f.querySelector('svg') ?
                 f.querySelector('svg').getBoundingClientRect().width : 0, declared: Number(f.dataset.bars)}]))""")
            scripts = page.evaluate("() => document.querySelectorAll('script').length")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "batch-report.png"), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert requests == [page_path.as_uri()], "the page requested nothing but itself"
    assert scripts == 0
    assert set(bars) == set(expected.declared_bars)
    for figure, seen in bars.items():
        assert seen["width"] > 100, figure
        assert seen["bars"] == seen["declared"] > 0, figure
    assert bars["status-chart"]["bars"] == len(body_rows(expected.tables["status-table"]))
    assert bars["fields-chart"]["bars"] == len(body_rows(expected.tables["fields-table"]))
    assert (ARTIFACTS / "batch-report.png").stat().st_size > 10_000
