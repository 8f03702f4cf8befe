"""``/worklist``: what waits on a ward or team, each row linking to the contact's form.

Members of a ward or team see their own units; safeguarding leads and administrators every
unit. Rows carry the adult's name and place only: what a professional needs to find them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from adapters.web.access import Caller, scope
from adapters.web.html import page
from adapters.web.render import render
from adapters.web.wording import SEVERITY
from plugin_core.links import NoSecret, WebSettings
from plugin_core.model import Severity
from plugin_core.rules.clock import LONDON
from plugin_core.service import Service
from plugin_core.service.reports import in_scope
from plugin_core.service.worklist import Waiting, WorkItem, Worklist

MAX_UNIT = 200
WAITING_WORDS = {
    Waiting.HOUSEHOLD: "Household not recorded",
    Waiting.DECISION: "Decision needed",
    Waiting.ACKNOWLEDGEMENT: "Referral not acknowledged",
    Waiting.REVIEW: "Review children",
}
WAITING_TAGS = {
    Waiting.HOUSEHOLD: "nhsuk-tag--orange",
    Waiting.DECISION: "nhsuk-tag--blue",
    Waiting.ACKNOWLEDGEMENT: "nhsuk-tag--yellow",
    Waiting.REVIEW: "nhsuk-tag--grey",
}
STATUS_WORDS = {
    "pending": "not yet sent",
    "delivered": "delivered",
    "failed": "sending failed",
    "escalated": "overdue",
    "call_required": "call needed",
}


def when(at: datetime | None) -> str:
    if at is None:
        return "never"
    local = at.astimezone(LONDON)
    return f"{local.day} {local:%b %Y %H:%M}"


@dataclass(frozen=True, slots=True)
class Row:
    patient: str
    place: str
    waiting: str
    tag: str
    detail: str
    since: str
    link: str


def _link(settings: WebSettings, contact_id: str, caller: Caller) -> str:
    """A fresh signed link to the form for this caller, or the bare form address when no
    secret is set (the form then says what to set)."""
    try:
        return settings.link(contact_id, caller.id)
    except NoSecret:
        return f"/form/{quote(contact_id, safe='')}"


def _detail(item: WorkItem) -> str:
    if item.waiting is Waiting.ACKNOWLEDGEMENT:
        route = (item.route or "").replace("_", " ")
        status = STATUS_WORDS.get(item.status.value if item.status else "", "")
        due = f"overdue since {when(item.due_by)}" if item.overdue else f"due {when(item.due_by)}"
        return f"{route.capitalize()}, {status}; {due}"
    if item.waiting is Waiting.REVIEW:
        return f"Children last considered: {when(item.last_considered)}"
    if item.severity in {s.value for s in Severity}:
        return f"{SEVERITY[Severity(item.severity)]} prompt"
    return ""


def rows(found: Worklist, settings: WebSettings, caller: Caller) -> list[Row]:
    return [
        Row(
            i.patient,
            i.location or i.unit,
            WAITING_WORDS[i.waiting],
            WAITING_TAGS[i.waiting],
            _detail(i),
            when(i.since),
            _link(settings, i.contact_id, caller),
        )
        for i in found.items
    ]


async def worklist_page(
    request: Request, caller: Caller, service: Service, settings: WebSettings
) -> Response:
    unit = request.query_params.get("unit", "").strip()[:MAX_UNIT] or None
    asked = request.query_params.get("waiting", "")
    waiting = Waiting(asked) if asked in {w.value for w in Waiting} else None
    allowed = scope(caller.role, caller.units)
    if unit is not None and not in_scope(unit, allowed):
        return PlainTextResponse("This ward or team is not one of yours.", 403)
    found = await run_in_threadpool(service.worklist, scope=allowed, unit=unit, waiting=waiting)
    html = render(
        "worklist.html",
        rows=rows(found, settings, caller),
        units=found.units,
        unit=unit or "",
        waiting=waiting.value if waiting else "",
        choices=[(w.value, WAITING_WORDS[w]) for w in Waiting],
    )
    return page(html, frame_ancestors=settings.frame_ancestors)
