"""The household, call and form pages opened from the worklist with a sign-in session instead
of a signed link: who may open them, that every post needs the session's CSRF token, and the
header offering sign-out on each page."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from adapters.web.signin_settings import Role
from plugin_core.model import HouseholdOutcome, ReferralStatus
from plugin_core.outbox import OutboxWorker

from .conftest import (
    CHILD_NAME,
    NURSE,
    SATURDAY_NIGHT,
    Person,
    SessionPages,
    contact_doc,
    sharing_form,
)
from .test_form_pages import PHONE_ONLY_NIGHTS, decision_id_in


def field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"the page carries {name}"
    return found.group(1)


@pytest.fixture
def ward(make_session_pages: Callable[..., SessionPages]) -> SessionPages:
    pages = make_session_pages()
    pages.add_contact(contact_doc("s-1") | {"household": None})
    return pages


@pytest.fixture
def nurse(ward: SessionPages) -> Person:
    return ward.person(Role.CLINICIAN, subject=NURSE)


def household_post(person: Person, contact_id: str, **changes: str) -> Any:
    page = person.client.get(f"/household/{contact_id}")
    assert page.status_code == 200, page.text
    data = {
        "csrf": field(page.text, "csrf"),
        "answer_id": field(page.text, "answer_id"),
        "outcome": "no_children",
        "pregnant": "no",
    } | changes
    return person.client.post(f"/household/{contact_id}", data=data, follow_redirects=False)


def test_a_signed_in_nurse_records_the_household_without_a_link(
    ward: SessionPages, nurse: Person
) -> None:
    page = nurse.client.get("/household/s-1")
    assert 'action="/signout"' in page.text and f'value="{nurse.csrf}"' in page.text
    saved = household_post(nurse, "s-1")
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == "../form/s-1"
    (answer,) = ward.service.household_answers("s-1")
    assert answer.outcome is HouseholdOutcome.NO_CHILDREN and answer.recorded_by.id == NURSE
    form = nurse.client.get("/form/s-1")
    assert form.status_code == 200 and 'action="/signout"' in form.text


@pytest.mark.parametrize("csrf", ["", "guessed-token"])
def test_a_household_post_without_the_session_csrf_token_is_refused(
    ward: SessionPages, nurse: Person, csrf: str
) -> None:
    refused = household_post(nurse, "s-1", csrf=csrf)
    assert refused.status_code == 403
    assert ward.service.household_answers("s-1") == []


def test_without_a_session_or_link_the_household_page_goes_to_sign_in(ward: SessionPages) -> None:
    anonymous = ward.anonymous()
    shown = anonymous.get("/household/s-1", follow_redirects=False)
    assert shown.status_code == 303 and shown.headers["location"].startswith("/signin?next=")
    posted = anonymous.post(
        "/household/s-1", data={"outcome": "no_children"}, follow_redirects=False
    )
    assert posted.status_code == 403
    assert ward.service.household_answers("s-1") == []


def test_an_administrator_may_not_record_a_household_or_a_call(ward: SessionPages) -> None:
    admin = ward.person(Role.ADMINISTRATOR)
    assert admin.client.get("/household/s-1").status_code == 403
    assert admin.client.get("/call/s-1?referral=any").status_code == 403


def test_a_decision_post_without_the_session_csrf_token_is_refused(
    ward: SessionPages, nurse: Person
) -> None:
    ward.add_contact(contact_doc("s-2"))
    form = nurse.client.get("/form/s-2").text
    posted = sharing_form("", decision_id_in(form)) | {"csrf": ""}
    assert nurse.client.post("/form/s-2", data=posted, follow_redirects=False).status_code == 403
    assert ward.service.decisions("s-2") == []


def test_sign_out_without_the_session_csrf_token_is_refused(nurse: Person) -> None:
    refused = nurse.client.post("/signout", data={"csrf": ""}, follow_redirects=False)
    assert refused.status_code == 403
    assert nurse.client.get("/").status_code == 200  # still signed in


# The phone call from the worklist ------------------------------------------------------------


@pytest.fixture
def night(make_session_pages: Callable[..., SessionPages]) -> tuple[SessionPages, Person, str]:
    """A level 4 referral made out of hours to an authority reached only by phone at night."""
    pages = make_session_pages(authorities=PHONE_ONLY_NIGHTS, now=SATURDAY_NIGHT)
    pages.add_contact(contact_doc("s-call"))
    nurse = pages.person(Role.CLINICIAN, subject=NURSE)
    form = nurse.client.get("/form/s-call").text
    data = sharing_form("", decision_id_in(form), level_of_need="4") | {"csrf": nurse.csrf}
    made = nurse.client.post("/form/s-call", data=data, follow_redirects=False)
    assert made.status_code == 303, made.text
    assert OutboxWorker(pages.service).run_once() == 1  # the phone route: a call is needed
    (referral,) = pages.service.referrals(contact_id="s-call")
    assert referral.status is ReferralStatus.CALL_REQUIRED
    return pages, nurse, referral.referral.id


def test_the_worklist_links_a_referral_that_needs_a_call_to_its_call_page(
    night: tuple[SessionPages, Person, str],
) -> None:
    pages, _, referral_id = night
    lead = pages.person(Role.SAFEGUARDING_LEAD)
    text = lead.client.get("/worklist").text
    assert f'href="/call/s-call?referral={referral_id}"' in text


def test_a_signed_in_nurse_records_the_call_only_with_the_csrf_token(
    night: tuple[SessionPages, Person, str],
) -> None:
    pages, nurse, referral_id = night
    confirmation = nurse.client.get(
        f"/form/s-call?recorded={pages.service.decisions('s-call')[0].id}"
    )
    assert "../call/s-call?referral=" in confirmation.text
    page = nurse.client.get(f"/call/s-call?referral={referral_id}")
    assert page.status_code == 200 and CHILD_NAME in page.text
    assert 'action="/signout"' in page.text
    data = {
        "referral": referral_id,
        "call_id": field(page.text, "call_id"),
        "number": "020 0000 0102",
        "answered_by": "Jo Duty, emergency duty team",
        "called_at": "2026-03-07T22:55",
        "reference": "EDT-778",
        "advice": "Duty social worker will visit tonight.",
    }
    refused = nurse.client.post("/call/s-call", data=data, follow_redirects=False)
    assert refused.status_code == 403 and pages.service.phone_calls(referral_id) == []
    saved = nurse.client.post(
        "/call/s-call", data=data | {"csrf": nurse.csrf}, follow_redirects=False
    )
    assert saved.status_code == 303, saved.text
    assert "t=" not in saved.headers["location"]
    stored = pages.service.referral(referral_id)
    assert stored is not None and stored.status is ReferralStatus.ACKNOWLEDGED
    assert stored.prompt is None
    (call,) = pages.service.phone_calls(referral_id)
    assert call.recorded_by.id == NURSE
