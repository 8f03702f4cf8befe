"""The dashboard's CSV file: small counts as <5, the cells that would give them away as *,
true totals, medians of few referrals withheld, and no formula a spreadsheet would run."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from adapters.web.dashboard_csv import dashboard_csv
from plugin_core.service.figures import (
    LEVELS,
    ROUTES,
    AuthorityFigures,
    ContactFigures,
    Dashboard,
    EscalationFigures,
)


def board(**changes: object) -> Dashboard:
    counts = {lv: [0] * len(ROUTES) for lv in LEVELS}
    counts["3"][ROUTES.index("not shared")] = 3
    counts["3"][ROUTES.index("front_door")] = 10
    counts["3"][ROUTES.index("out_of_hours")] = 12
    counts["4"][ROUTES.index("front_door")] = 20
    counts["4"][ROUTES.index("out_of_hours")] = 30
    counts["4"][ROUTES.index("police")] = 40
    week = ContactFigures("2026-03-02", 40, 30, 36, 20, 18, 2)
    values: dict[str, object] = {
        "start": datetime(2026, 3, 2, tzinfo=UTC),
        "end": datetime(2026, 3, 9, tzinfo=UTC),
        "unit": None,
        "weeks": (week,),
        "units": (ContactFigures("=HYPERLINK(1)", 40, 30, 36, 20, 18, 2),),
        "total": week,
        "decisions": tuple((lv, tuple(counts[lv])) for lv in LEVELS),
        "escalations": (EscalationFigures("2026-03-02", 3, 0, 7),),
        "authorities": (
            AuthorityFigures("Test Borough", 9, 8, 6, 1, 2.0, 30.5),
            AuthorityFigures("Small Borough", 3, 3, 2, 0, 1.0, 4.0),
        ),
    }
    values.update(changes)
    return Dashboard(**values)  # type: ignore[arg-type]


def section(text: str, title: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text)))
    start = rows.index([title]) + 1
    end = rows.index([], start) if [] in rows[start:] else len(rows)
    return rows[start:end]


def test_decisions_table_hides_small_counts_and_the_cells_that_would_give_them_away() -> None:
    table = section(dashboard_csv(board()), "Decisions by level of need and route")
    header, rows = table[0], {r[0]: r[1:] for r in table[1:]}
    col = {name: header.index(name) - 1 for name in header[1:]}
    three, four, total = rows["3"], rows["4"], rows["Total"]
    assert three[col["Not shared"]] == "<5"
    # 3 alone in its row: the next smallest (10) goes too. Its column total is 3 as well,
    # alone in the totals row, which hides the smallest total there (front door's 30), so
    # the front-door column has two hidden entries and 20 can stay.
    assert three[col["Front door"]] == "*"
    assert total[col["Not shared"]] == "<5"
    assert total[col["Front door"]] == "*"
    assert four[col["Front door"]] == "20"
    # Totals are of the true counts.
    assert three[col["Total"]] == "25" and four[col["Total"]] == "90"
    assert total[col["Total"]] == "115"


def test_escalations_row_total_cannot_reveal_a_small_count() -> None:
    _, week, total = section(dashboard_csv(board()), "Escalations by week")
    # Not shared 3, overdue 7, total 10: the 7 is hidden too, or 10 - 7 would give the 3.
    assert week == ["2026-03-02", "<5", "0", "*", "10"]
    assert total == ["Total", "<5", "0", "*", "10"]


def test_medians_of_fewer_than_five_referrals_are_withheld() -> None:
    rows = section(dashboard_csv(board()), "Referral times by local authority (median hours)")
    assert rows[1:] == [["Test Borough", "2.0", "30.5"], ["Small Borough", "*", "*"]]


def test_a_label_that_looks_like_a_formula_is_written_as_text() -> None:
    rows = section(dashboard_csv(board()), "Adult first contacts by ward or team")
    assert rows[1][0] == "'=HYPERLINK(1)"


def test_the_file_says_its_period_and_what_the_marks_mean() -> None:
    text = dashboard_csv(board())
    first = list(csv.reader(io.StringIO(text)))[:4]
    assert first[1] == ["From", "2026-03-02", "To", date(2026, 3, 8).isoformat()]
    assert "<5" in first[3][0] and "*" in first[3][0]
