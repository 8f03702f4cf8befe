"""The dashboard's charts, drawn on the server as SVG by pygal.

pygal writes a ``<script>`` of its own settings into every chart even with ``js=[]``, and a
tooltip layer styled inline for that script. Both are taken out of the tree before it is
written, so a chart holds no script at all; what remains is shapes, text and one
``<style>``, whose hash the chart's own Content-Security-Policy allows. The page shows each
chart as an image beside a table of the same figures for screen readers.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pygal
from pygal.style import Style

from plugin_core.service.figures import ROUTES, Dashboard

NHS_COLOURS = ("#005eb8", "#ffb81c", "#009639", "#da291c", "#330072", "#425563", "#41b6e6")
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#212b32",
    foreground_strong="#212b32",
    foreground_subtle="#768692",
    colors=NHS_COLOURS,
    font_family="Arial, sans-serif",
    title_font_size=18,
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=14,
)
_SVG = "{http://www.w3.org/2000/svg}"


@dataclass(frozen=True, slots=True)
class Chart:
    svg: str
    style_hash: str
    """The base64 SHA-256 of the chart's ``<style>`` text, for its CSP."""


def _strip(found: list[str]) -> Callable[[Any], Any]:
    """An XML filter that drops scripts and the scripted tooltip layer, and keeps the style's
    text (as the browser will read it) in ``found``."""

    def strip(root: Any) -> Any:
        for parent in list(root.iter()):
            for child in list(parent):
                tag = str(child.tag).removeprefix(_SVG)
                classes = str(child.get("class", "")).split()
                if tag == "script" or "tooltip-overlay" in classes or child.get("style"):
                    parent.remove(child)
                elif tag == "style":
                    found.append(child.text or "")
        return root

    return strip


def render(chart: Any) -> Chart:
    styles: list[str] = []
    chart.add_xml_filter(_strip(styles))
    svg = chart.render(is_unicode=True)
    digest = hashlib.sha256("".join(styles).encode()).digest()
    return Chart(svg, base64.b64encode(digest).decode())


def _base(kind: Any, title: str, labels: Sequence[str], **options: Any) -> Any:
    chart = kind(
        style=STYLE,
        js=[],
        disable_xml_declaration=True,
        no_prefix=True,
        width=720,
        height=360,
        legend_at_bottom=True,
        truncate_legend=-1,
        print_values=False,
        **options,
    )
    chart.title = title
    chart.x_labels = list(labels)
    return chart


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _counts(chart: Any, series: Sequence[Sequence[int]], *, stacked: bool = False) -> None:
    """Whole-number ticks on the count axis (pygal would otherwise mark 0.1, 0.2...)."""
    if stacked:
        top = max((sum(v) for v in zip(*series, strict=True)), default=0) if series else 0
    else:
        top = max((max(s, default=0) for s in series), default=0)
    step = max(1, -(-top // 8))
    chart.y_labels = list(range(0, max(top, 1) + step, step))


def households(board: Dashboard) -> Chart:
    chart = _base(pygal.Bar, "Household recorded (% of adult first contacts)", [], range=(0, 100))
    chart.x_labels = [w.label for w in board.weeks]
    chart.y_labels = list(range(0, 101, 20))
    chart.add("Within 24 hours", [_share(w.recorded_within_24h, w.contacts) for w in board.weeks])
    chart.add("Overall", [_share(w.recorded, w.contacts) for w in board.weeks])
    return render(chart)


def prompts(board: Dashboard) -> Chart:
    chart = _base(pygal.StackedBar, "Prompts by week", [w.label for w in board.weeks])
    series = {
        "Answered": [w.answered for w in board.weeks],
        "Shown, not answered": [w.shown - w.answered for w in board.weeks],
        "Held back (re-check period)": [w.suppressed for w in board.weeks],
    }
    _counts(chart, list(series.values()), stacked=True)
    for title, values in series.items():
        chart.add(title, values)
    return render(chart)


def decisions(board: Dashboard, route_names: dict[str, str]) -> Chart:
    chart = _base(
        pygal.StackedBar, "Decisions by level of need and route", [lv for lv, _ in board.decisions]
    )
    series = [[counts[i] for _, counts in board.decisions] for i in range(len(ROUTES))]
    _counts(chart, series, stacked=True)
    for route, values in zip(ROUTES, series, strict=True):
        chart.add(route_names[route], values)
    return render(chart)


def escalations(board: Dashboard) -> Chart:
    chart = _base(pygal.Bar, "Escalations by week", [e.week for e in board.escalations])
    series = {
        "Not shared at level 3 or 4": [e.not_shared for e in board.escalations],
        "Overrides": [e.overrides for e in board.escalations],
        "Referrals overdue": [e.overdue for e in board.escalations],
    }
    _counts(chart, list(series.values()))
    for title, values in series.items():
        chart.add(title, values)
    return render(chart)


def referrals(board: Dashboard) -> Chart:
    chart = _base(
        pygal.HorizontalBar,
        "Median hours from referral, by local authority",
        [a.authority for a in board.authorities],
    )
    chart.add("To delivery", [a.median_hours_to_delivery for a in board.authorities])
    chart.add("To acknowledgement", [a.median_hours_to_acknowledgement for a in board.authorities])
    return render(chart)
