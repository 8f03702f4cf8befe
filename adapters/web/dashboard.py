"""``/dashboard`` for safeguarding leads: charts with a table of the same figures beside each,
filters by period and by ward or team, the charts at ``/dashboard/charts/NAME.svg`` and the
figures as CSV with small numbers suppressed at ``/dashboard.csv``.

The page itself keeps the pages' policy (no script; images from this origin only). Each chart
is an SVG served with a policy of its own that allows no script and only its own style.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from adapters.web import charts
from adapters.web.access import scope
from adapters.web.dashboard_csv import CONTACT_COLUMNS, ROUTE_NAMES, dashboard_csv
from adapters.web.html import page
from adapters.web.render import render
from adapters.web.signin import SignedIn
from plugin_core.links import WebSettings
from plugin_core.service import Service
from plugin_core.service.figures import ContactFigures, Dashboard
from plugin_core.service.reports import MAX_WEEKS

DEFAULT_WEEKS = 12
FRESH_SECONDS = 30.0
"""How long counted figures are reused for the same filters (aggregates only, no patient data)."""
MAX_KEPT = 64
MAX_UNIT = 200
CHARTS: dict[str, tuple[str, Callable[[Dashboard], charts.Chart]]] = {
    "households": ("Household recorded, share of adult first contacts by week", charts.households),
    "prompts": ("Prompts answered, not answered and held back, by week", charts.prompts),
    "decisions": (
        "Decisions by level of need and route",
        lambda board: charts.decisions(board, ROUTE_NAMES),
    ),
    "escalations": ("Escalations by week", charts.escalations),
    "referrals": (
        "Median hours to delivery and acknowledgement by local authority",
        charts.referrals,
    ),
}


@dataclass(frozen=True, slots=True)
class Filters:
    weeks: int
    unit: str | None

    @classmethod
    def of(cls, request: Request) -> Filters:
        try:
            weeks = int(request.query_params.get("weeks", DEFAULT_WEEKS))
        except ValueError:
            weeks = DEFAULT_WEEKS
        unit = request.query_params.get("unit", "").strip()[:MAX_UNIT] or None
        return cls(max(1, min(weeks, MAX_WEEKS)), unit)

    def query(self) -> str:
        return urlencode({"weeks": self.weeks, **({"unit": self.unit} if self.unit else {})})


@dataclass(frozen=True, slots=True)
class TableView:
    caption: str
    header: list[str]
    rows: list[list[str]]


@dataclass(frozen=True, slots=True)
class ChartView:
    name: str
    alt: str
    src: str
    table: TableView


def _percent(part: int, whole: int) -> str:
    return f"{part} ({round(100 * part / whole)}%)" if whole else str(part)


def _household_rows(figures: list[ContactFigures]) -> list[list[str]]:
    return [
        [
            f.label,
            str(f.contacts),
            _percent(f.recorded_within_24h, f.contacts),
            _percent(f.recorded, f.contacts),
        ]
        for f in figures
    ]


def _prompt_rows(figures: list[ContactFigures]) -> list[list[str]]:
    return [
        [f.label, str(f.shown), str(f.answered), str(f.shown - f.answered), str(f.suppressed)]
        for f in figures
    ]


def _unit_rows(figures: list[ContactFigures]) -> list[list[str]]:
    return [
        [
            *_household_rows([f])[0],
            str(f.shown),
            str(f.answered),
            str(f.suppressed),
        ]
        for f in figures
    ]


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def tables(board: Dashboard) -> dict[str, TableView]:
    routes = list(ROUTE_NAMES.values())
    weeks = [*board.weeks, board.total]
    return {
        "households": TableView(
            "Adult first contacts and households recorded, by week",
            ["Week beginning", *CONTACT_COLUMNS[:3]],
            _household_rows(weeks),
        ),
        "prompts": TableView(
            "Prompts by week",
            ["Week beginning", "Shown", "Answered", "Shown, not answered", CONTACT_COLUMNS[5]],
            _prompt_rows(weeks),
        ),
        "units": TableView(
            "Adult first contacts by ward or team",
            ["Ward or team", *CONTACT_COLUMNS],
            _unit_rows(list(board.units)),
        ),
        "decisions": TableView(
            "Decisions by level of need and route",
            ["Level of need", *routes, "Total"],
            [[lv, *map(str, counts), str(sum(counts))] for lv, counts in board.decisions],
        ),
        "escalations": TableView(
            "Escalations by week",
            ["Week beginning", "Not shared at level 3 or 4", "Overrides", "Referrals overdue"],
            [
                [e.week, str(e.not_shared), str(e.overrides), str(e.overdue)]
                for e in board.escalations
            ],
        ),
        "referrals": TableView(
            "Referrals by local authority",
            [
                "Local authority",
                "Referrals",
                "Delivered",
                "Acknowledged",
                "Escalated",
                "Median hours to delivery",
                "Median hours to acknowledgement",
            ],
            [
                [
                    a.authority,
                    str(a.referrals),
                    str(a.delivered),
                    str(a.acknowledged),
                    str(a.escalated),
                    _hours(a.median_hours_to_delivery),
                    _hours(a.median_hours_to_acknowledgement),
                ]
                for a in board.authorities
            ],
        ),
    }


_RECENT: weakref.WeakKeyDictionary[Service, dict[Hashable, tuple[float, Dashboard]]] = (
    weakref.WeakKeyDictionary()
)
_RECENT_LOCK = threading.Lock()


async def _board(service: Service, user: SignedIn, filters: Filters) -> Dashboard:
    """The figures, counted at most once every ``FRESH_SECONDS`` for the same filters and
    scope: the page and its five charts ask for them together."""
    allowed = scope(user)
    key: Hashable = (filters.weeks, filters.unit, allowed)
    now = time.monotonic()
    with _RECENT_LOCK:
        kept = _RECENT.setdefault(service, {})
        hit = kept.get(key)
    if hit is not None and now - hit[0] < FRESH_SECONDS:
        return hit[1]
    board = await run_in_threadpool(
        service.dashboard, weeks=filters.weeks, unit=filters.unit, scope=allowed
    )
    with _RECENT_LOCK:
        if len(kept) >= MAX_KEPT:
            kept.clear()
        kept[key] = (now, board)
    return board


async def dashboard_page(
    request: Request, user: SignedIn, service: Service, settings: WebSettings
) -> Response:
    filters = Filters.of(request)
    board = await _board(service, user, filters)
    units = await run_in_threadpool(service.units, scope=scope(user))
    views = tables(board)
    query = filters.query()
    html = render(
        "dashboard.html",
        charts=[
            ChartView(name, alt, f"/dashboard/charts/{name}.svg?{query}", views[name])
            for name, (alt, _) in CHARTS.items()
        ],
        by_unit=views["units"],
        units=units,
        unit=filters.unit or "",
        weeks=filters.weeks,
        week_choices=(4, 12, 26, 52),
        csv=f"/dashboard.csv?{query}",
        start=board.first_day.isoformat(),
        end=board.last_day.isoformat(),
        user=user,
    )
    return page(html, frame_ancestors=settings.frame_ancestors)


async def chart_image(
    request: Request, user: SignedIn, service: Service, settings: WebSettings
) -> Response:
    name = request.path_params["name"]
    if name not in CHARTS:
        return Response("No such chart.", 404, media_type="text/plain")
    board = await _board(service, user, Filters.of(request))
    chart = CHARTS[name][1](board)
    return Response(
        chart.svg,
        media_type="image/svg+xml",
        headers={
            "Content-Security-Policy": (
                f"default-src 'none'; style-src 'sha256-{chart.style_hash}'; frame-ancestors 'self'"
            ),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


async def dashboard_file(
    request: Request, user: SignedIn, service: Service, settings: WebSettings
) -> Response:
    filters = Filters.of(request)
    board = await _board(service, user, filters)
    stamp = board.last_day.isoformat()
    return Response(
        dashboard_csv(board),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="thinkfamily-dashboard-{stamp}.csv"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
