"""The report page: one HTML file with its CSS and charts inline, rendered by jinja2.

Every text from the batch (error messages, values, column names) is passed through `visible` and then
autoescaped by jinja2, so it shows as text, never as markup. The page loads nothing: a
Content-Security-Policy of `default-src 'none'` says so to the browser too.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import jinja2

from factory import __version__
from factory.report.charts import bar_chart
from factory.report.summary import Distribution, ReasonLine, Summary
from factory.report.text import visible


def _clean_summary(s: Summary) -> Summary:
    reasons = tuple(ReasonLine(visible(r.reason), visible(r.example), r.count, r.rows) for r in s.reasons)
    fields = tuple(dataclasses.replace(f, name=visible(f.name, 200)) for f in s.fields)
    distributions = tuple(
        Distribution(visible(d.name, 200), d.kind, tuple((visible(v, 200), n) for v, n in d.values))
        for d in s.distributions
    )
    statuses = tuple((visible(name, 100), n) for name, n in s.statuses)
    return dataclasses.replace(
        s, reasons=reasons, fields=fields, distributions=distributions, statuses=statuses
    )


def _charts(s: Summary) -> dict[str, Any]:
    number = iter(range(1, 1000))
    charts: dict[str, Any] = {
        "status": bar_chart(
            next(number), "Rows by status", [n for n, _ in s.statuses], [c for _, c in s.statuses]
        ),
        "reasons": (
            bar_chart(
                next(number),
                "Failed rows by reason",
                [r.reason[:60] for r in s.reasons],
                [r.count for r in s.reasons],
                horizontal=True,
            )
            if s.reasons
            else ""
        ),
        "fields": (
            bar_chart(
                next(number),
                "Fill rate per field",
                [f.name for f in s.fields],
                [f.rate for f in s.fields],
                horizontal=True,
                unit="%",
            )
            if s.fields
            else ""
        ),
        "times": (
            bar_chart(
                next(number), "Rows by execution time", [b.label for b in s.bins], [b.count for b in s.bins]
            )
            if s.bins
            else ""
        ),
        "attempts": (
            bar_chart(
                next(number),
                "Rows by calls made",
                [str(a) for a, _ in s.attempts],
                [n for _, n in s.attempts],
            )
            if s.attempts
            else ""
        ),
    }
    charts["distributions"] = [
        bar_chart(
            next(number),
            f"{d.name} values",
            [v for v, _ in d.values],
            [n for _, n in d.values],
            horizontal=True,
        )
        for d in s.distributions
    ]
    return charts


def render_page(
    summary: Summary,
    *,
    title: str,
    source: str,
    meta: Sequence[tuple[str, str]],
    cost: Sequence[tuple[str, str]] = (),
) -> str:
    """The whole page as text."""
    clean = _clean_summary(summary)
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("factory", "report"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    template = environment.get_template("page.html.jinja")

    def pct(count: int) -> str:
        return f"{100.0 * count / clean.rows:.1f}%" if clean.rows else "0.0%"

    return template.render(
        s=clean,
        charts=_charts(clean),
        title=visible(title, 200),
        source=visible(source, 300),
        meta=[(visible(k, 100), visible(v, 1000)) for k, v in meta],
        cost=[(visible(k, 100), visible(v, 200)) for k, v in cost],
        pct=pct,
        version=__version__,
    )
