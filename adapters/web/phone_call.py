"""``/call/{contact_id}?referral=ID``: the number to ring now, a script built from the referral,
and the call recorded (who answered, when, the reference, the advice).

Opened like the decision form: the signed link for the referral's contact, or a signed-in
session (see ``signed``). Recording the call delivers the referral
(acknowledges it when a reference was given) and clears its call prompt.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qs, quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from adapters.web import pages
from adapters.web.form import london_time
from adapters.web.html import security_headers
from adapters.web.render import render
from adapters.web.signed import Refusal, SignedPages
from adapters.web.views import who
from plugin_core.formats.household_json import call_from_dict, new_id
from plugin_core.formats.referral_content import ReferralContent, london
from plugin_core.rules.clock import LONDON
from plugin_core.rules.phone_call import CallInvalid
from plugin_core.service import ReferralConflict, Service, UnknownReferral
from plugin_core.service.calls import CallSheet

log = logging.getLogger("thinkfamily.web")

TEXT_FIELDS = ("number", "answered_by", "called_at", "reference", "advice")
LABELS = {
    "number": "Number you rang",
    "answered_by": "Who answered",
    "called_at": "When you spoke to them",
    "reference": "Reference",
    "advice": "Advice",
    "id": "Form",
}
STATUS_WORDS = {
    "pending": "waiting to be sent",
    "failed": "not sent yet: trying again",
    "delivered": "sent, not yet confirmed",
    "call_required": "phone call needed",
    "acknowledged": "confirmed by the authority",
    "cancelled": "cancelled",
}


@dataclass
class CallForm:
    values: dict[str, str] = field(default_factory=dict)
    token: str = ""
    call_id: str = ""
    csrf: str = ""
    user: object = None
    """The signed-in person the page is shown to (never read from the post)."""


@dataclass(frozen=True, slots=True)
class Number:
    number: str
    dial: str
    label: str
    when: str


def read_call_form(body: bytes) -> tuple[CallForm, str]:
    data = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)

    def one(name: str) -> str:
        return data.get(name, [""])[0]

    values = {name: one(name) for name in TEXT_FIELDS}
    return CallForm(values, one("t"), one("call_id"), one("csrf")), one("referral")


class PhoneCallPages(SignedPages):
    name = "call"

    def routes(self) -> list[Route]:
        return [Route("/call/{contact_id:path}", self.endpoint, methods=["GET", "POST"])]

    async def _sheet(self, service: Service, contact_id: str, referral_id: str) -> CallSheet:
        try:
            sheet = await run_in_threadpool(service.call_sheet, referral_id)
        except UnknownReferral:
            raise Refusal(404, pages.not_found_page()) from None
        if sheet.stored.referral.contact_id != contact_id:
            raise Refusal(404, pages.not_found_page())  # the link names another contact
        return sheet

    async def _show(self, request: Request) -> Response:
        service = self.service()
        contact_id = request.path_params["contact_id"]
        token = request.query_params.get("t", "")
        access = await self.access(request, token, contact_id)
        sheet = await self._sheet(service, contact_id, request.query_params.get("referral", ""))
        numbers = [c.number for c in sheet.calls if c.available_now]
        now = service.clock().astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")
        form = CallForm(
            {"number": numbers[0] if numbers else "", "called_at": now},
            token,
            new_id("call"),
            access.csrf,
            access.user,
        )
        recorded = request.query_params.get("recorded")
        return await self._form(service, sheet, form, {}, recorded=recorded)

    async def _form(
        self,
        service: Service,
        sheet: CallSheet,
        form: CallForm,
        problems: dict[str, list[str]],
        *,
        status: int = 200,
        recorded: str | None = None,
    ) -> Response:
        referral = sheet.stored.referral
        stored = await run_in_threadpool(service.contact, referral.contact_id)
        if stored is None:
            raise Refusal(404, pages.not_found_page())
        content = await run_in_threadpool(service.referral_content, referral.id)
        html = render(
            "phone_call.html",
            who=who(stored.contact),
            problems=problems,
            field_labels=LABELS,
            recorded=_recorded_words(sheet, recorded),
            headline=_headline(content),
            status=STATUS_WORDS.get(sheet.stored.status.value, sheet.stored.status.value),
            prompt=sheet.prompt,
            now_calls=[_number(c.number, c.label, None) for c in sheet.calls if c.available_now],
            later_calls=[
                _number(c.number, c.label, c.available_from)
                for c in sheet.calls
                if not c.available_now
            ],
            script=sheet.script,
            made=[
                {
                    "when": london(c.called_at),
                    "answered_by": c.answered_by,
                    "reference": c.reference or "none given",
                    "advice": c.advice,
                }
                for c in sheet.made
            ],
            action=f"./{quote(referral.contact_id, safe='')}",
            referral_id=referral.id,
            form=form,
            form_link=_form_link(referral.contact_id, form.token),
            user=form.user,
        )
        return self.page(html, status=status)

    async def _submit(self, request: Request) -> Response:
        service = self.service()
        contact_id = request.path_params["contact_id"]
        form, referral_id = read_call_form(await self.form_body(request, contact_id))
        access = await self.posted(request, contact_id, form.token, form.csrf)
        professional, form.user = access.professional, access.user
        sheet = await self._sheet(service, contact_id, referral_id)
        if not form.call_id.startswith("call-") or len(form.call_id) > 64:
            form.call_id = new_id("call")
            incomplete = {"id": ["the form was incomplete; check your answers and record again"]}
            return await self._form(service, sheet, form, incomplete, status=422)
        when = london_time(form.values.get("called_at", ""))
        doc = {
            "id": form.call_id,
            "recorded_by": {"id": professional},
            "number": form.values.get("number", "").strip(),
            "answered_by": form.values.get("answered_by", "").strip(),
            "called_at": when.isoformat() if when else (form.values.get("called_at") or None),
            "reference": form.values.get("reference", ""),
            "advice": form.values.get("advice", ""),
        }
        try:
            call = call_from_dict(doc, referral_id=referral_id, now=service.clock())
            await run_in_threadpool(service.record_call, call)
        except CallInvalid as exc:
            problems: dict[str, list[str]] = {}
            for p in exc.problems:
                problems.setdefault(p.field, []).append(p.reason)
            return await self._form(service, sheet, form, problems, status=422)
        except ReferralConflict as exc:
            return await self._form(service, sheet, form, {"id": [str(exc)]}, status=409)
        log.info("form call recorded", extra={"referral_id": referral_id})
        query = urlencode(
            ({"t": form.token} if form.token else {})
            | {"referral": referral_id, "recorded": call.id}
        )
        response = RedirectResponse(f"./{quote(contact_id, safe='')}?{query}", status_code=303)
        response.headers.update(security_headers(self.settings.frame_ancestors))
        return response


def _form_link(contact_id: str, token: str) -> str:
    query = f"?{urlencode({'t': token})}" if token else ""
    return f"../form/{quote(contact_id, safe='')}{query}"


def _number(number: str, label: str, when: datetime | None) -> Number:
    return Number(number, number.replace(" ", ""), label, london(when) if when else "")


def _headline(content: ReferralContent | None) -> str:
    return content.headline if content is not None else "Referral"


def _recorded_words(sheet: CallSheet, call_id: str | None) -> str:
    if not call_id:
        return ""
    call = next((c for c in sheet.made if c.id == call_id), None)
    if call is None:
        return ""
    if call.acknowledged:
        return f"The referral is confirmed by the authority (reference {call.reference})."
    return (
        "The referral is recorded as passed on by phone, but not confirmed: no reference was"
        " given. It still waits for the authority to confirm it."
    )
