"""Charts as inline SVG, drawn by pygal (a kept, pure-Python SVG chart library; docs/batch-report.md).

pygal's SVG carries a `<script>` that configures its optional tooltip JavaScript, which would be
loaded from the network; the report uses none, so the script element is removed, along with the
generator comments, and the random chart id becomes a sequence number so the same batch gives the
same page. Labels are text nodes and attributes written by ElementTree, so they are escaped there.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Sequence

import pygal
from pygal.style import Style

from factory.report.text import visible

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)
_CHART_ID = re.compile(r"chart-([0-9a-f-]{36})")

STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#222",
    foreground_strong="#111",
    foreground_subtle="#888",
    font_family="system-ui, sans-serif",
    colors=("#3b6ea5", "#c0504d", "#9bbb59"),
    label_font_size=12,
    major_label_font_size=12,
    value_font_size=12,
    title_font_size=14,
)


def _config(count: int, horizontal: bool) -> dict[str, object]:
    height = max(180, 28 * count + 80) if horizontal else 260
    return dict(
        js=[],
        disable_xml_declaration=True,
        show_legend=False,
        style=STYLE,
        width=720,
        height=height,
        print_values=True,
        print_zeroes=True,
        truncate_label=-1,
        x_label_rotation=0 if horizontal else 30,
        margin=8,
    )


def _clean(svg: str, number: int) -> str:
    """Remove pygal's script and comments; give the chart a stable id."""
    found = _CHART_ID.search(svg)
    if found:
        svg = svg.replace(found.group(1), str(number))
    root = ET.fromstring(svg)  # comments are dropped by the parser
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in (f"{{{SVG_NS}}}script", "script"):
                parent.remove(child)
    return ET.tostring(root, encoding="unicode")


def bar_chart(
    number: int,
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    horizontal: bool = False,
    unit: str = "",
) -> str:
    """One bar per label (bars of 0 are drawn, as an empty bar, so the bar count is the label count)."""
    chart_class = pygal.HorizontalBar if horizontal else pygal.Bar
    chart = chart_class(**_config(len(labels), horizontal))
    chart.title = visible(title)
    if horizontal:  # pygal stacks horizontal bars from the bottom: reversed, they read top-down as the table
        labels, values = list(reversed(labels)), list(reversed(values))
    chart.x_labels = [visible(label) for label in labels]
    chart.value_formatter = (lambda value: f"{value:g}{unit}") if unit else (lambda value: f"{value:g}")
    chart.add(visible(title), list(values))
    return _clean(chart.render(is_unicode=True), number)
