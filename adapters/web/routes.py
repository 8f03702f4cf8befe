"""The form's HTTP endpoints: show the form, record the decision, confirm what happened.

The signed link is the only credential: the token names the professional and is checked on
every request, before anything about the contact is read. Posts must also come from the
pages' own origin when the browser says where they came from.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from adapters.web import pages
from adapters.web.confirmation import Sent, confirmation_page
from adapters.web.form import (
    MAX_BODY,
    FormInput,
    decision_doc,
    form_problems,
    is_decision_id,
    new_decision_id,
    read_form,
)
from adapters.web.html import page, security_headers
from plugin_core import model
from plugin_core.contract import ThinkFamilyError
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.host.plugins import PluginContext
from plugin_core.links import LinkError, LinkTampered, NoSecret, WebSettings, check
from plugin_core.model import (
    Authority,
    Channel,
    DecisionEscalation,
    ReferralAction,
    ReferralStatus,
)
from plugin_core.rules.decide import DecisionInvalid, FieldProblem
from plugin_core.service import (
    DecisionConflict,
    DuplicateDecision,
    Service,
    StoredContact,
    UnknownContact,
)

log = logging.getLogger("thinkfamily.web")

_SETTLED = (ReferralStatus.ACKNOWLEDGED, ReferralStatus.DELIVERED, ReferralStatus.CANCELLED)
CHANGED_MEANWHILE = (
    "someone else recorded a decision for this contact while this form was open;"
    " check your answers and record again to replace it"
)


@dataclass(frozen=True, slots=True)
class _Refusal(ThinkFamilyError):
    status: int
    html: str


class FormPages:
    """``/form/{contact_id}``: GET shows the form (or, with ``recorded``, the confirmation);
    POST records the decision."""

    def __init__(self, context: PluginContext, settings: WebSettings) -> None:
        self.context = context
        self.settings = settings

    def routes(self) -> list[Route]:
        return [Route("/form/{contact_id:path}", self.endpoint, methods=["GET", "POST"])]

    async def endpoint(self, request: Request) -> Response:
        try:
            if request.method == "POST":
                return await self._submit(request)
            return await self._show(request)
        except _Refusal as refusal:
            return self._page(refusal.html, status=refusal.status)

    # Shared checks -------------------------------------------------------------------------

    def _page(self, html: str, *, status: int = 200) -> Response:
        return page(html, status=status, frame_ancestors=self.settings.frame_ancestors)

    def _service(self) -> Service:
        service = self.context.service
        if not isinstance(service, Service):
            raise _Refusal(503, pages.unavailable_page("The service is not running"))
        return service

    def _professional(self, token: str, contact_id: str) -> str:
        """Who the link was made for; refuses with 503 (no secret) or 403 (bad link)."""
        try:
            secret = self.settings.secret()
        except NoSecret as exc:
            log.warning("form refused: no form secret", extra={"reason": exc.env})
            raise _Refusal(
                503,
                pages.unavailable_page(
                    f"The form is switched off: the {exc.env} environment variable is not set"
                ),
            ) from None
        try:
            if not token:
                raise LinkTampered()
            return check(token, contact_id, secret=secret)
        except LinkError as exc:
            log.info(
                "form link refused",
                extra={"contact_id": contact_id, "reason": type(exc).__name__},
            )
            raise _Refusal(403, pages.refused_page(str(exc))) from None

    async def _contact(self, service: Service, contact_id: str) -> StoredContact:
        stored = await run_in_threadpool(service.contact, contact_id)
        if stored is None:
            raise _Refusal(404, pages.not_found_page())
        return stored

    def _directory(self, service: Service) -> list[Authority]:
        entries = service.config.directory.authorities.values()
        return sorted((Authority(e.id, e.name) for e in entries), key=lambda a: a.name)

    # GET -----------------------------------------------------------------------------------

    async def _show(self, request: Request) -> Response:
        service = self._service()
        contact_id = request.path_params["contact_id"]
        token = request.query_params.get("t", "")
        self._professional(token, contact_id)
        stored = await self._contact(service, contact_id)
        recorded = request.query_params.get("recorded")
        if recorded:
            return await self._confirmation(service, stored, recorded, token)
        earlier = await run_in_threadpool(service.decisions, contact_id)
        current = await run_in_threadpool(service.current_decision, contact_id)
        form = FormInput(token=token, decision_id=new_decision_id(), supersedes=current or "")
        return self._form(service, stored, form, {}, first_view=True, earlier=len(earlier))

    def _form(
        self,
        service: Service,
        stored: StoredContact,
        form: FormInput,
        problems: dict[str, list[str]],
        *,
        first_view: bool,
        earlier: int = 0,
        status: int = 200,
    ) -> Response:
        html = pages.form_page(
            pages.FormPage(
                contact=stored.contact,
                assessment=stored.assessment,
                directory=self._directory(service),
                form=form,
                first_view=first_view,
                problems=problems,
                earlier_decisions=earlier,
                trust_lead=lead.name if (lead := service.config.safeguarding_lead) else "",
                thresholds={
                    e.id: e.threshold for e in service.config.directory.authorities.values()
                },
            )
        )
        return self._page(html, status=status)

    async def _confirmation(
        self, service: Service, stored: StoredContact, decision_id: str, token: str
    ) -> Response:
        def load() -> tuple[Any, list[Sent], list[DecisionEscalation]]:
            decision = next((d for d in service.decisions(stored.id) if d.id == decision_id), None)
            if decision is None:
                return None, [], []
            escalations = [
                e
                for e in service.decision_escalations(contact_id=stored.id)
                if e.decision_id == decision_id
            ]
            escalations.sort(key=lambda e: e.kind.value)
            now = service.clock()
            sent = []
            rows = service.referrals(contact_id=stored.id)
            made_by = {row.referral.id: row.referral.decision_id for row in rows}
            for row in rows:
                referral = row.referral
                if referral.decision_id != decision_id or not _sent_for(referral, made_by):
                    continue
                where = service.engine.destination_for(referral, now)
                needs_call = (
                    where.channel is Channel.PHONE or referral.route is model.Route.POLICE
                ) and row.status not in _SETTLED
                call = service.engine.call_prompt(referral, where) if needs_call else None
                sent.append(Sent(referral, where, call))
            return decision, sent, escalations

        decision, sent, escalations = await run_in_threadpool(load)
        if decision is None:
            raise _Refusal(404, pages.not_found_page())
        names = {e.id: e.name for e in service.config.directory.authorities.values()}
        call_link = f"../call/{quote(stored.id, safe='')}?{urlencode({'t': token})}&referral="
        return self._page(
            confirmation_page(stored.contact, decision, sent, names, escalations, call_link)
        )

    # POST ----------------------------------------------------------------------------------

    async def _submit(self, request: Request) -> Response:
        service = self._service()
        contact_id = request.path_params["contact_id"]
        if not self._same_origin(request):
            log.info("form post from another origin refused", extra={"contact_id": contact_id})
            raise _Refusal(403, pages.refused_page("the form was sent from another site"))
        if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            raise _Refusal(
                415, pages.refused_page("the form was not sent as a form", "Not accepted")
            )
        body = await _read_body(request)
        form = read_form(body)
        professional = self._professional(form.token, contact_id)
        stored = await self._contact(service, contact_id)
        if not is_decision_id(form.decision_id):
            form.decision_id = new_decision_id()
            problems = {"id": ["the form was incomplete; check your answers and record again"]}
            return self._form(service, stored, form, problems, first_view=False, status=422)
        # Only children of this assessment can be concerned, whatever else was posted.
        refs = {c.ref for c in stored.assessment.children}
        form.child_refs = tuple(r for r in form.child_refs if r in refs)
        now = service.clock()
        known = stored.assessment.authority.authority
        early = form_problems(
            form,
            professional,
            now=now,
            known_authority=known.id if known else None,
            directory=list(service.config.directory.authorities),
        )
        if early:
            return self._invalid(service, stored, form, early)
        try:
            decision = decision_from_dict(
                decision_doc(form, professional), contact_id=contact_id, now=now
            )
            recorded = await run_in_threadpool(service.record_decision, decision)
        except DecisionInvalid as exc:
            return self._invalid(service, stored, form, exc.problems)
        except UnknownContact:
            raise _Refusal(404, pages.not_found_page()) from None
        except DecisionConflict as exc:
            # Another decision was recorded while this form was open: show it again, now
            # replacing that one, for the nurse to check and record.
            form.supersedes = exc.current or ""
            problems = {"id": [CHANGED_MEANWHILE]}
            return self._form(service, stored, form, problems, first_view=False, status=409)
        except DuplicateDecision:
            mine = await run_in_threadpool(service.decisions, contact_id)
            if not any(d.id == form.decision_id for d in mine):
                form.decision_id = new_decision_id()
                problems = {"id": ["the form was incomplete; check your answers and record again"]}
                return self._form(service, stored, form, problems, first_view=False, status=422)
            log.info(
                "form decision already recorded",
                extra={"contact_id": contact_id, "decision_id": form.decision_id},
            )
            return self._recorded(contact_id, form.token, form.decision_id)
        log.info(
            "form decision recorded",
            extra={
                "contact_id": contact_id,
                "decision_id": decision.id,
                "referrals": len(recorded.referrals),
            },
        )
        return self._recorded(contact_id, form.token, decision.id)

    def _invalid(
        self,
        service: Service,
        stored: StoredContact,
        form: FormInput,
        problems: list[FieldProblem],
    ) -> Response:
        grouped = pages.group_problems(problems)
        return self._form(service, stored, form, grouped, first_view=False, status=422)

    def _recorded(self, contact_id: str, token: str, decision_id: str) -> Response:
        """See Other to the confirmation, so reloading it never posts the form again."""
        query = urlencode({"t": token, "recorded": decision_id})
        response = RedirectResponse(f"./{quote(contact_id, safe='')}?{query}", status_code=303)
        response.headers.update(security_headers(self.settings.frame_ancestors))
        return response

    def _same_origin(self, request: Request) -> bool:
        """True unless the browser names another origin (Origin, else Referer) for the post."""
        allowed = {_origin(str(request.base_url))}
        if self.settings.base_url:
            allowed.add(_origin(self.settings.base_url))
        origin = request.headers.get("origin")
        if origin is not None:
            return origin.lower() in allowed
        referer = request.headers.get("referer")
        return not referer or _origin(referer) in allowed


def _sent_for(referral: model.Referral, made_by: dict[str, str]) -> bool:
    """True for a referral a decision sent: a new one, or the update of an earlier decision's
    referral that it sent instead when it superseded that decision."""
    if referral.action is ReferralAction.NEW:
        return True
    return (
        referral.action is ReferralAction.UPDATE
        and made_by.get(referral.amends or "") != referral.decision_id
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    too_big = _Refusal(413, pages.refused_page("the form was too long to accept", "Too long"))
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise too_big
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise too_big
    return body
