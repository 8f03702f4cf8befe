"""The household question and the phone call pages over HTTP, in process, behind the signed
link or a signed-in session, as the form: what the nurse sees, what is recorded, what is
refused (another contact's link, a post without the CSRF token)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from plugin_core.model import HouseholdOutcome, ReferralStatus

from .conftest import (
    CHILD_NAME,
    OTHER_CHILD_NAME,
    SATURDAY_NIGHT,
    Pages,
    contact_doc,
    csrf_for,
    sharing_form,
    token_for,
)
from .test_form_pages import PHONE_ONLY_NIGHTS, decision_id_in, open_form


def unknown(pages: Pages, contact_id: str) -> str:
    return pages.add_contact(contact_doc(contact_id) | {"household": None})


def household_url(contact_id: str) -> str:
    return f"/household/{quote(contact_id, safe='')}"


def open_household(pages: Pages, contact_id: str) -> str:
    response = pages.client.get(f"{household_url(contact_id)}?t={token_for(contact_id)}")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.text


def answer_id_in(html: str) -> str:
    found = re.search(r'name="answer_id" value="(h-[0-9a-f]{32})"', html)
    assert found, "the household form carries an answer id"
    return found.group(1)


def post_household(pages: Pages, contact_id: str, data: dict[str, Any]) -> Any:
    token = token_for(contact_id)
    base = {
        "t": token,
        "csrf": csrf_for(token),
        "answer_id": answer_id_in(open_household(pages, contact_id)),
    }
    return pages.client.post(household_url(contact_id), data=base | data, follow_redirects=False)


CHILD_ROWS = {
    "children.0.name": CHILD_NAME,
    "children.0.birth_date.day": "12",
    "children.0.birth_date.month": "4",
    "children.0.birth_date.year": "2015",
    "children.0.relationship": "child",
    "children.0.lives_with_patient": "yes",
    "children.0.school": "Hill Primary",
    "children.1.name": OTHER_CHILD_NAME,
    "children.1.estimated_age": "4",
    "children.1.relationship": "stepchild",
    "children.1.lives_with_patient": "no",
}


def test_the_form_offers_the_household_question_while_the_household_is_unknown(
    pages: Pages,
) -> None:
    contact_id = unknown(pages, "hh-1")
    form = open_form(pages, contact_id)
    assert f"../household/{contact_id}?t=" in form
    page = open_household(pages, contact_id)
    assert "No children under 18 in the household" in page
    assert "Patient declined or unable to answer" in page
    assert "Is the patient pregnant?" in page


def test_two_children_are_recorded_and_the_form_then_asks_for_the_decision(pages: Pages) -> None:
    contact_id = unknown(pages, "hh-2")
    saved = post_household(
        pages, contact_id, {"outcome": "children", "pregnant": "no"} | CHILD_ROWS
    )
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"].startswith(f"../form/{contact_id}?t=")
    (answer,) = pages.service.household_answers(contact_id)
    assert answer.outcome is HouseholdOutcome.CHILDREN and answer.recorded_by.id.endswith(
        "nurse-42"
    )
    assert [c.estimated_age for c in answer.children] == [None, 4]
    form = open_form(pages, contact_id)
    assert CHILD_NAME in form and OTHER_CHILD_NAME in form
    assert "about 1 to 4 (estimated)" in form
    assert "../household/" not in form  # the household is recorded now


def test_no_children_is_one_confirmation(pages: Pages) -> None:
    contact_id = unknown(pages, "hh-3")
    saved = post_household(pages, contact_id, {"outcome": "no_children", "pregnant": "no"})
    assert saved.status_code == 303
    stored = pages.service.contact(contact_id)
    assert stored is not None and stored.assessment.household_known
    assert stored.assessment.children == ()


def test_declined_is_recorded_and_the_question_stays_open(pages: Pages) -> None:
    contact_id = unknown(pages, "hh-4")
    saved = post_household(pages, contact_id, {"outcome": "declined"})
    assert saved.status_code == 303
    form = open_form(pages, contact_id)
    assert "Ask again at the next contact" in form
    assert "No children under 18 recorded" not in form


def test_add_another_child_keeps_what_was_entered_and_adds_a_row(pages: Pages) -> None:
    contact_id = unknown(pages, "hh-5")
    shown = post_household(pages, contact_id, {"action": "add", "children.0.name": CHILD_NAME})
    assert shown.status_code == 200
    assert f'value="{CHILD_NAME}"' in shown.text and "Child 2" in shown.text
    assert pages.service.household_answers(contact_id) == []


def test_errors_show_in_a_summary_linked_to_each_field(pages: Pages) -> None:
    contact_id = unknown(pages, "hh-6")
    rows = {
        "children.0.name": "",
        "children.0.relationship": "child",
        "children.0.lives_with_patient": "yes",
        "children.0.birth_date.day": "31",
        "children.0.birth_date.month": "2",
        "children.0.birth_date.year": "2019",
    }
    refused = post_household(pages, contact_id, {"outcome": "children"} | rows)
    assert refused.status_code == 422
    html = refused.text
    assert "There is a problem" in html
    assert 'href="#f-children.0.name"' in html and "Child 1: name" in html
    assert 'href="#f-children.0.birth_date"' in html and "Enter a real date" in html
    assert 'href="#f-pregnant"' in html and "Choose yes, no or not known" in html
    assert 'aria-invalid="true"' in html
    assert "Enter a date of birth or an estimated age" not in html  # one message per fault
    order = [html.index(f'href="#f-{name}"') for name in ("children.0.name", "pregnant")]
    assert order == sorted(order), "the summary follows the page's order"
    assert pages.service.household_answers(contact_id) == []


def test_no_answer_chosen_is_an_error_on_the_question(pages: Pages) -> None:
    contact_id = unknown(pages, "hh-7")
    refused = post_household(pages, contact_id, {})
    assert refused.status_code == 422
    assert 'href="#f-outcome"' in refused.text and "Choose one answer" in refused.text


def test_the_household_page_refuses_a_link_for_another_contact(pages: Pages) -> None:
    contact_id = unknown(pages, "hh-8")
    other = token_for("hh-other")
    response = pages.client.get(f"{household_url(contact_id)}?t={other}")
    assert response.status_code == 403 and CHILD_NAME not in response.text
    posted = pages.client.post(
        household_url(contact_id),
        data={"t": other, "csrf": csrf_for(other), "outcome": "no_children"},
        follow_redirects=False,
    )
    assert posted.status_code == 403
    assert pages.service.household_answers(contact_id) == []


def test_a_household_post_through_the_link_without_its_csrf_token_is_refused(
    pages: Pages,
) -> None:
    contact_id = unknown(pages, "hh-9")
    for csrf in ("", csrf_for(token_for("hh-other"))):
        refused = post_household(pages, contact_id, {"csrf": csrf, "outcome": "no_children"})
        assert refused.status_code == 403
    assert pages.service.household_answers(contact_id) == []


# The phone call -----------------------------------------------------------------------------


def level_4_at_night(make_pages: Callable[..., Pages]) -> tuple[Pages, str, str]:
    pages = make_pages(authorities=PHONE_ONLY_NIGHTS, now=SATURDAY_NIGHT)
    contact_id = pages.add_contact(contact_doc("call-1"))
    token = token_for(contact_id)
    form = sharing_form(token, decision_id_in(open_form(pages, contact_id)), level_of_need="4")
    response = pages.post(contact_id, form)
    assert response.status_code == 303
    (referral,) = pages.service.referrals(contact_id=contact_id)
    return pages, contact_id, referral.referral.id


def call_url(contact_id: str) -> str:
    return f"/call/{quote(contact_id, safe='')}"


def test_out_of_hours_level_4_shows_the_number_for_now_and_a_script(
    make_pages: Callable[..., Pages],
) -> None:
    pages, contact_id, referral_id = level_4_at_night(make_pages)
    confirmation = pages.client.get(
        f"/form/{contact_id}?t={token_for(contact_id)}&recorded="
        + pages.service.decisions(contact_id)[0].id
    )
    assert f"../call/{contact_id}?t=" in confirmation.text
    page = pages.client.get(
        f"{call_url(contact_id)}?t={token_for(contact_id)}&referral={referral_id}"
    )
    assert page.status_code == 200, page.text
    html = page.text
    assert 'href="tel:02000000102"' in html
    assert "What to say" in html and "Who you are" in html and "The children" in html
    assert CHILD_NAME in html and "Level 4" in html


def test_recording_the_call_with_a_reference_acknowledges_and_clears_the_prompt(
    make_pages: Callable[..., Pages],
) -> None:
    pages, contact_id, referral_id = level_4_at_night(make_pages)
    page = pages.client.get(
        f"{call_url(contact_id)}?t={token_for(contact_id)}&referral={referral_id}"
    ).text
    call_id = re.search(r'name="call_id" value="(call-[0-9a-f]{32})"', page)
    assert call_id
    data = {
        "t": token_for(contact_id),
        "csrf": csrf_for(token_for(contact_id)),
        "referral": referral_id,
        "call_id": call_id.group(1),
        "number": "020 0000 0102",
        "answered_by": "Jo Duty, emergency duty team",
        "called_at": "2026-03-07T22:55",
        "reference": "EDT-778",
        "advice": "Duty social worker will visit tonight.",
    }
    saved = pages.client.post(call_url(contact_id), data=data, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    stored = pages.service.referral(referral_id)
    assert stored is not None and stored.status is ReferralStatus.ACKNOWLEDGED
    assert stored.prompt is None and pages.service.awaiting_calls() == []
    shown = pages.client.get(saved.headers["location"].replace("./", "/call/", 1)).text
    assert "Call recorded" in shown and "EDT-778" in shown
    assert "No call is needed for this referral now" in shown


def test_a_call_with_no_one_named_shows_the_errors_and_records_nothing(
    make_pages: Callable[..., Pages],
) -> None:
    pages, contact_id, referral_id = level_4_at_night(make_pages)
    data = {
        "t": token_for(contact_id),
        "csrf": csrf_for(token_for(contact_id)),
        "referral": referral_id,
        "call_id": "call-" + "0" * 32,
        "number": "",
        "answered_by": "",
        "called_at": "2026-03-07T22:55",
    }
    refused = pages.client.post(call_url(contact_id), data=data, follow_redirects=False)
    assert refused.status_code == 422
    assert 'href="#f-answered_by"' in refused.text and 'href="#f-number"' in refused.text
    assert pages.service.phone_calls(referral_id) == []


def test_the_call_page_refuses_a_referral_of_another_contact(
    make_pages: Callable[..., Pages],
) -> None:
    pages, _, referral_id = level_4_at_night(make_pages)
    other = pages.add_contact(contact_doc("call-other"))
    response = pages.client.get(f"{call_url(other)}?t={token_for(other)}&referral={referral_id}")
    assert response.status_code == 404


def test_a_call_posted_through_the_link_without_its_csrf_token_is_refused(
    make_pages: Callable[..., Pages],
) -> None:
    pages, contact_id, referral_id = level_4_at_night(make_pages)
    data = {
        "t": token_for(contact_id),
        "referral": referral_id,
        "call_id": "call-" + "1" * 32,
        "number": "020 0000 0102",
        "answered_by": "Jo Duty, emergency duty team",
        "called_at": "2026-03-07T22:55",
        "reference": "EDT-778",
    }
    refused = pages.client.post(call_url(contact_id), data=data, follow_redirects=False)
    assert refused.status_code == 403
    assert pages.service.phone_calls(referral_id) == []
