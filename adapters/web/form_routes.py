"""The form's HTTP endpoints: show the form, record the decision, confirm what happened.

Who decides comes from the signed link (checked on every request, before anything about the
contact is read) or, without a link, from the sign-in session (see ``form_access``). Posts
must carry the form's CSRF token and, when the browser says where they came from, come from
the pages' own origin.
"""

from __future__ import annotations

import logging
from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from adapters.web import pages
from adapters.web.confirmation import confirmation_page
from adapters.web.form import (
    FormInput,
    decision_doc,
    form_problems,
    is_decision_id,
    new_decision_id,
    read_form,
)
from adapters.web.form_access import (
    Access,
    Refusal,
    read_body,
    require_csrf,
    same_origin,
)
from adapters.web.form_confirm import load_confirmation
from adapters.web.html import security_headers
from adapters.web.signed import SignedPages
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.model import Authority
from plugin_core.rules.decide import DecisionInvalid, FieldProblem
from plugin_core.service import (
    DecisionConflict,
    DuplicateDecision,
    Service,
    StoredContact,
    UnknownContact,
)

log = logging.getLogger("thinkfamily.web")

CHANGED_MEANWHILE = (
    "someone else recorded a decision for this contact while this form was open;"
    " check your answers and record again to replace it"
)


class FormPages(SignedPages):
    """``/form/{contact_id}``: GET shows the form (or, with ``recorded``, the confirmation);
    POST records the decision."""

    name = "form"

    def routes(self) -> list[Route]:
        return [Route("/form/{contact_id:path}", self.endpoint, methods=["GET", "POST"])]

    def _directory(self, service: Service) -> list[Authority]:
        entries = service.config.directory.authorities.values()
        return sorted((Authority(e.id, e.name) for e in entries), key=lambda a: a.name)

    # GET -----------------------------------------------------------------------------------

    async def _show(self, request: Request) -> Response:
        service = self.service()
        contact_id = request.path_params["contact_id"]
        token = request.query_params.get("t", "")
        access = await self.access(request, token, contact_id)
        stored = await self._contact(service, contact_id)
        recorded = request.query_params.get("recorded")
        if recorded:
            return await self._confirmation(service, stored, recorded, token, access)
        earlier = await run_in_threadpool(service.decisions, contact_id)
        current = await run_in_threadpool(service.current_decision, contact_id)
        form = FormInput(
            token=token,
            decision_id=new_decision_id(),
            supersedes=current or "",
            csrf=access.csrf,
        )
        form.user = access.user
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
                user=form.user,
            )
        )
        return self.page(html, status=status)

    async def _confirmation(
        self,
        service: Service,
        stored: StoredContact,
        decision_id: str,
        token: str,
        access: Access,
    ) -> Response:
        decision, sent, escalations = await run_in_threadpool(
            load_confirmation, service, stored.id, decision_id
        )
        if decision is None:
            raise Refusal(404, pages.not_found_page())
        names = {e.id: e.name for e in service.config.directory.authorities.values()}
        query = urlencode({"t": token}) + "&" if token else ""
        call_link = f"../call/{quote(stored.id, safe='')}?{query}referral="
        return self.page(
            confirmation_page(
                stored.contact, decision, sent, names, escalations, call_link, access.user
            )
        )

    # POST ----------------------------------------------------------------------------------

    async def _submit(self, request: Request) -> Response:
        service = self.service()
        contact_id = request.path_params["contact_id"]
        if not same_origin(request, self.settings):
            log.info("form post from another origin refused", extra={"contact_id": contact_id})
            raise Refusal(403, pages.refused_page("the form was sent from another site"))
        if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            raise Refusal(
                415, pages.refused_page("the form was not sent as a form", "Not accepted")
            )
        body = await read_body(request)
        form = read_form(body)
        access = await self.access(request, form.token, contact_id)
        require_csrf(access, form.csrf, contact_id)
        form.user = access.user
        professional = access.professional
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
            raise Refusal(404, pages.not_found_page()) from None
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
        query = urlencode(({"t": token} if token else {}) | {"recorded": decision_id})
        response = RedirectResponse(f"./{quote(contact_id, safe='')}?{query}", status_code=303)
        response.headers.update(security_headers(self.settings.frame_ancestors))
        return response
