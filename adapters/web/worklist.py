"""``/worklist``: what waits on a ward or team, each row linking to the contact's form, to the
household question when that waits and to the phone call when a referral needs one.

Members of a ward or team see their own units; safeguarding leads and administrators every
unit. Rows carry the adult's name and place only: what a professional needs to find them.
The links carry no signed token: the signed-in session opens those pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from adapters.web import pages
from adapters.web.access import scope
from adapters.web.html import page
from adapters.web.render import render
from adapters.web.signin import SignedIn
from adapters.web.wording import SEVERITY
from plugin_core.links import WebSettings
from plugin_core.model import ReferralStatus, Severity
from plugin_core.rules.clock import LONDON
from plugin_core.service import Service
from plugin_core.service.reports import in_scope
from plugin_core.service.worklist import Waiting, WorkItem, Worklist

MAX_UNIT = 200
CALL_STATUSES = frozenset({ReferralStatus.CALL_REQUIRED, ReferralStatus.ESCALATED})
"""A referral that waits for a phone call: the route needs one, or it is overdue."""
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
    action: str = ""
    """The page that does what the row waits for, when it is not the form: the household
    question, or the phone call."""
    action_words: str = ""


def _action(item: WorkItem) -> tuple[str, str]:
    contact = quote(item.contact_id, safe="")
    if item.waiting is Waiting.HOUSEHOLD:
        return f"/household/{contact}", "Record the household"
    if item.status in CALL_STATUSES and item.referral_id:
        return f"/call/{contact}?referral={quote(item.referral_id, safe='')}", "Phone the referral"
    return "", ""


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


def rows(found: Worklist) -> list[Row]:
    return [
        Row(
            i.patient,
            i.location or i.unit,
            WAITING_WORDS[i.waiting],
            WAITING_TAGS[i.waiting],
            _detail(i),
            when(i.since),
            f"/form/{quote(i.contact_id, safe='')}",
            *_action(i),
        )
        for i in found.items
    ]


async def worklist_page(
    request: Request, user: SignedIn, service: Service, settings: WebSettings
) -> Response:
    unit = request.query_params.get("unit", "").strip()[:MAX_UNIT] or None
    asked = request.query_params.get("waiting", "")
    waiting = Waiting(asked) if asked in {w.value for w in Waiting} else None
    allowed = scope(user)
    if unit is not None and not in_scope(unit, allowed):
        html = pages.refused_page(
            "this ward or team is not one of yours", "No access", about_link=False, user=user
        )
        return page(html, status=403, frame_ancestors=settings.frame_ancestors)
    found = await run_in_threadpool(service.worklist, scope=allowed, unit=unit, waiting=waiting)
    html = render(
        "worklist.html",
        rows=rows(found),
        user=user,
        units=found.units,
        unit=unit or "",
        waiting=waiting.value if waiting else "",
        choices=[(w.value, WAITING_WORDS[w]) for w in Waiting],
    )
    return page(html, frame_ancestors=settings.frame_ancestors)
