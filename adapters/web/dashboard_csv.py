"""The leads' dashboard as a CSV file, with NHS small-number suppression.

One file of several tables, each under a heading line, then a blank line: what a lead opens in
a spreadsheet. Counts from 1 to 4 are ``<5``; counts hidden so that a small count cannot be
worked out from a total are ``*`` (``plugin_core.rules.small_numbers``). A median over fewer
than five referrals is ``*`` too. Labels that a spreadsheet would read as a formula are
written with a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from plugin_core.rules.small_numbers import HIDDEN, SMALLEST_SHOWN, shown, suppress, with_totals
from plugin_core.service.figures import ROUTES, ContactFigures, Dashboard

CONTACT_COLUMNS = (
    "Adult first contacts",
    "Household recorded within 24 hours",
    "Household recorded",
    "Prompts shown",
    "Prompts answered",
    "Prompts held back (re-check period)",
)
ROUTE_NAMES = {
    "not shared": "Not shared",
    "early_help": "Early help",
    "front_door": "Front door",
    "out_of_hours": "Out of hours",
    "police": "Police",
    "lado": "LADO",
}
LEGEND = (
    "<5 is a count from 1 to 4; * is withheld so that a count below 5 cannot be worked out"
    " from the totals, or a median of fewer than 5 referrals. Totals are of the true counts."
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class CountTable:
    """A table of counts as published: labels, counts, and which totals it shows."""

    title: str
    corner: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]
    row_totals: bool
    column_totals: bool

    def published(self) -> list[list[str]]:
        """Header, rows and totals, with small counts suppressed."""
        header = [self.corner, *self.columns] + (["Total"] if self.row_totals else [])
        if not self.rows:
            return [header]
        grid = with_totals(
            self.counts, row_totals=self.row_totals, column_totals=self.column_totals
        )
        body = shown(grid, suppress(grid))
        labels = [*self.rows] + (["Total"] if self.column_totals else [])
        return [header, *([label, *cells] for label, cells in zip(labels, body, strict=True))]


def _contacts(figures: Sequence[ContactFigures]) -> tuple[tuple[int, ...], ...]:
    return tuple(
        (
            f.contacts,
            f.recorded_within_24h,
            f.recorded,
            f.shown,
            f.answered,
            f.suppressed,
        )
        for f in figures
    )


def tables(board: Dashboard) -> list[CountTable]:
    """The dashboard's counts as the tables the file publishes."""
    return [
        CountTable(
            "Adult first contacts by week",
            "Week beginning",
            tuple(w.label for w in board.weeks),
            CONTACT_COLUMNS,
            _contacts(board.weeks),
            row_totals=False,
            column_totals=True,
        ),
        # The same contacts by ward or team: the totals are the table above's, not repeated,
        # so neither table's hidden counts can be worked out from the other's.
        CountTable(
            "Adult first contacts by ward or team",
            "Ward or team",
            tuple(u.label for u in board.units),
            CONTACT_COLUMNS,
            _contacts(board.units),
            row_totals=False,
            column_totals=False,
        ),
        CountTable(
            "Decisions by level of need and route",
            "Level of need",
            tuple(level for level, _ in board.decisions),
            tuple(ROUTE_NAMES[r] for r in ROUTES),
            tuple(counts for _, counts in board.decisions),
            row_totals=True,
            column_totals=True,
        ),
        CountTable(
            "Escalations by week",
            "Week beginning",
            tuple(e.week for e in board.escalations),
            ("Not shared at level 3 or 4", "Overrides", "Referrals overdue"),
            tuple((e.not_shared, e.overrides, e.overdue) for e in board.escalations),
            row_totals=True,
            column_totals=True,
        ),
        CountTable(
            "Referrals by local authority",
            "Local authority",
            tuple(a.authority for a in board.authorities),
            ("Referrals", "Delivered", "Acknowledged", "Escalated"),
            tuple(
                (a.referrals, a.delivered, a.acknowledged, a.escalated) for a in board.authorities
            ),
            row_totals=False,
            column_totals=True,
        ),
    ]


def _median(value: float | None, count: int) -> str:
    if value is None:
        return ""
    return HIDDEN if count < SMALLEST_SHOWN else f"{value:.1f}"


def _safe(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA) else text


def dashboard_csv(board: Dashboard) -> str:
    """The whole file."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    unit = board.unit or "every ward and team"
    writer.writerow(["Think Family dashboard"])
    writer.writerow(["From", board.first_day.isoformat(), "To", board.last_day.isoformat()])
    writer.writerow(["Ward or team", _safe(unit)])
    writer.writerow([LEGEND])
    for table in tables(board):
        writer.writerow([])
        writer.writerow([table.title])
        for row in table.published():
            writer.writerow([_safe(row[0]), *row[1:]])
    writer.writerow([])
    writer.writerow(["Referral times by local authority (median hours)"])
    writer.writerow(["Local authority", "To delivery", "To acknowledgement"])
    for a in board.authorities:
        writer.writerow(
            [
                _safe(a.authority),
                _median(a.median_hours_to_delivery, a.delivered),
                _median(a.median_hours_to_acknowledgement, a.acknowledged),
            ]
        )
    return out.getvalue()
