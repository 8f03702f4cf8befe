"""``/household/{contact_id}``: the household question, asked before the decision.

Opened like the decision form: its signed link, or a signed-in session (see ``signed``). A saved answer goes to the service, which
assesses the contact again at once; the nurse is then taken to the decision form, which shows
the prompts as they now stand.
"""

from __future__ import annotations

import logging
from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from adapters.web import pages
from adapters.web.household_form import (
    MAX_ROWS,
    OUTCOME_OPTIONS,
    PREGNANT_OPTIONS,
    RELATIONSHIP_OPTIONS,
    HouseholdForm,
    apply_action,
    compact,
    form_faults,
    household_doc,
    new_answer_id,
    read_household_form,
    row_index,
)
from adapters.web.html import security_headers
from adapters.web.render import render
from adapters.web.signed import Refusal, SignedPages
from adapters.web.views import child_rows, prompt_view, who
from plugin_core.formats.household_json import household_from_dict
from plugin_core.model import PromptCode
from plugin_core.rules.children import contact_date
from plugin_core.rules.household_entry import HouseholdInvalid
from plugin_core.service import StoredContact, UnknownContact
from plugin_core.service.household import HouseholdClosed

log = logging.getLogger("thinkfamily.web")

CHILD_FIELDS = {
    "name": "name",
    "birth_date": "date of birth",
    "estimated_age": "estimated age",
    "relationship": "relationship",
    "lives_with_patient": "where they live",
    "school": "school or nursery",
}
LABELS = {
    "outcome": "Children in the household",
    "pregnant": "Pregnancy",
    "children": "Children",
    "id": "Form",
}


def in_page_order(problems: dict[str, list[str]]) -> dict[str, list[str]]:
    """The summary lists faults in the order the page asks the questions."""

    def place(name: str) -> tuple[int, int, int]:
        found = row_index(name)
        if found is not None:
            fields = list(CHILD_FIELDS)
            return (1, found[0], fields.index(found[1]) if found[1] in fields else len(fields))
        return ({"id": -1, "outcome": 0, "children": 1}.get(name, 2), -1, 0)

    return {name: problems[name] for name in sorted(problems, key=place)}


def field_label(name: str) -> str:
    found = row_index(name)
    if found is None:
        return LABELS.get(name, name)
    return f"Child {found[0] + 1}: {CHILD_FIELDS.get(found[1], found[1])}"


class HouseholdPages(SignedPages):
    name = "household"

    def routes(self) -> list[Route]:
        return [Route("/household/{contact_id:path}", self.endpoint, methods=["GET", "POST"])]

    async def _show(self, request: Request) -> Response:
        service = self.service()
        contact_id = request.path_params["contact_id"]
        token = request.query_params.get("t", "")
        access = await self.access(request, token, contact_id)
        stored = await self._contact(service, contact_id)
        form = HouseholdForm(token=token, csrf=access.csrf, answer_id=new_answer_id())
        return self._form(stored, form, {}, user=access.user)

    def _form(
        self,
        stored: StoredContact,
        form: HouseholdForm,
        problems: dict[str, list[str]],
        *,
        status: int = 200,
        user: object = None,
    ) -> Response:
        contact, assessment = stored.contact, stored.assessment
        prompt = assessment.prompt(PromptCode.RECORD_HOUSEHOLD)
        born = [c for c in assessment.children if not c.unborn]
        html = render(
            "household.html",
            who=who(contact),
            problems=in_page_order(problems),
            field_labels={name: field_label(name) for name in problems},
            prompt=prompt_view(prompt) if prompt else None,
            previous=child_rows(contact, born) if assessment.household_known else [],
            action=f"./{quote(contact.id, safe='')}",
            form=form,
            rows=form.rows,
            can_add=len(form.rows) < MAX_ROWS,
            outcome_options=OUTCOME_OPTIONS,
            pregnant_options=PREGNANT_OPTIONS,
            relationship_options=RELATIONSHIP_OPTIONS,
            form_link=self._form_link(contact.id, form.token),
            user=user,
        )
        return self.page(html, status=status)

    def _form_link(self, contact_id: str, token: str) -> str:
        query = f"?{urlencode({'t': token})}" if token else ""
        return f"../form/{quote(contact_id, safe='')}{query}"

    async def _submit(self, request: Request) -> Response:
        service = self.service()
        contact_id = request.path_params["contact_id"]
        form = read_household_form(await self.form_body(request, contact_id))
        access = await self.posted(request, contact_id, form.token, form.csrf)
        professional, user = access.professional, access.user
        stored = await self._contact(service, contact_id)
        if apply_action(form):
            return self._form(stored, form, {}, user=user)
        if not form.answer_id_ok:
            form.answer_id = new_answer_id()
            problems = {"id": ["the form was incomplete; check your answers and save again"]}
            return self._form(stored, form, problems, status=422, user=user)
        compact(form)
        faults = form_faults(form)
        doc = household_doc(form, professional)
        try:
            answer = household_from_dict(
                doc,
                contact_id=contact_id,
                on=contact_date(stored.contact.occurred_at),
                now=service.clock(),
            )
        except HouseholdInvalid as exc:
            return self._form(stored, form, _grouped(faults, exc), status=422, user=user)
        if faults:
            return self._form(stored, form, faults, status=422, user=user)
        try:
            await run_in_threadpool(service.record_household, answer)
        except HouseholdInvalid as exc:
            return self._form(stored, form, _grouped({}, exc), status=422, user=user)
        except UnknownContact:
            raise Refusal(404, pages.not_found_page()) from None
        except HouseholdClosed as exc:
            return self._form(stored, form, {"id": [str(exc)]}, status=409, user=user)
        log.info(
            "form household recorded",
            extra={"contact_id": contact_id, "reason": answer.outcome.value},
        )
        response = RedirectResponse(self._form_link(contact_id, form.token), status_code=303)
        response.headers.update(security_headers(self.settings.frame_ancestors))
        return response


def _grouped(faults: dict[str, list[str]], exc: HouseholdInvalid) -> dict[str, list[str]]:
    found = {name: list(reasons) for name, reasons in faults.items()}
    for problem in exc.problems:
        if problem.field in faults:
            continue  # the form's own words for a question left unanswered
        reasons = found.setdefault(problem.field, [])
        if problem.reason not in reasons:
            reasons.append(problem.reason)
    return found
