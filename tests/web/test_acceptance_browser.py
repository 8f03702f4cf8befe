"""The clinician's and the lead's day in Debian's Chromium against ``thinkfamily serve``, signed
in at the OpenID provider peer: from the worklist, a household with two children, then "no
children"; a level 3 referral delivered by email to an SMTP server on loopback; a level 4
referral out of hours phoned and recorded, its call prompt cleared; the dashboard and its CSV.

Every page is screenshotted into ``test-artefacts/browser/<test>/`` (the CSV is kept there
too) and checked with axe-core: no serious or critical violation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page

from plugin_core.rules.clock import LONDON
from tests.peers.oidc_provider import needs_oidc_peer
from tests.peers.ports import wait_for
from tests.peers.smtp import SmtpReceiver
from tests.service.conftest import TEST_AUTHORITIES, outbox_toml

from .browser_support import BrowserPages
from .conftest import CHILD_NAME, OTHER_CHILD_NAME, Served, contact_doc

pytestmark = [pytest.mark.integration, needs_oidc_peer]

Browse = Callable[..., BrowserPages]
WARD = "ward-7"
"""A ward of the ``ward`` test user (a unit member of ward-7 and ward-9)."""


def _far_from_now() -> tuple[str, str]:
    """A one-minute window about twelve hours from now, London time, so that the test (a few
    minutes long) never runs while Night Borough's front door is open."""
    opens = (datetime.now(LONDON) + timedelta(hours=12)).time().replace(second=0, microsecond=0)
    if opens >= time(23, 58):
        opens = time(23, 0)
    closes = (datetime.combine(date.min, opens) + timedelta(minutes=1)).time()
    return opens.strftime("%H:%M"), closes.strftime("%H:%M")


def _authorities() -> str:
    """The test authorities and Night Borough, whose front door is open one minute a day far
    from now: its level 4 referrals go out of hours, to its duty team, reached by phone only."""
    opens, closes = _far_from_now()
    return (
        TEST_AUTHORITIES
        + f"""
[authorities.nightborough]
name = "Night Borough"
postcodes = ["ZZ9"]
office_hours = {{ opens = "{opens}", closes = "{closes}" }}

[authorities.nightborough.routes.front_door]
channel = "email"
address = "front-door@nightborough.example"
phone = "020 0000 0101"

[authorities.nightborough.routes.out_of_hours]
channel = "phone"
phone = "020 0000 0102"
"""
    )


REASONS = "Parent admitted after an overdose; children at home with no other carer."


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    with SmtpReceiver() as receiver:
        yield receiver


def add_contact(served: Served, contact_id: str, **changes: Any) -> None:
    doc = contact_doc(contact_id) | changes
    doc["encounter"] = {"id": f"e-{contact_id}", "kind": "inpatient", "location": WARD}
    created = served.service.api("POST", "/api/contacts", json=doc)
    assert created.status_code == 201, created.text


def contact(served: Served, contact_id: str) -> dict[str, Any]:
    found: dict[str, Any] = served.service.api("GET", f"/api/contacts/{contact_id}").json()
    return found


def referral_status(served: Served, contact_id: str) -> str:
    (referral,) = contact(served, contact_id)["referrals"]
    return str(referral["status"])


def awaiting_calls(served: Served) -> set[str]:
    """The contacts whose referrals wait on a phone call (the call prompt)."""
    found = served.service.api("GET", "/api/escalations").json()["escalations"]
    return {str(r["contact_id"]) for r in found}


def share(page: Page, level: str) -> None:
    """Fill the decision form: share at ``level``, public task, consent not sought."""
    page.get_by_label("Yes, share").check()
    page.get_by_label(re.compile(rf"^{level} – ")).check()
    page.get_by_label("Reasons for your decision").fill(REASONS)
    page.get_by_label("What is shared").fill("Reason for admission and the children's ages.")
    page.get_by_label("Your direct phone").fill("020 7946 0123")
    page.get_by_role("radio", name="Public task").check()
    page.get_by_role("radio", name="Not sought").check()
    page.get_by_label("Why consent was not sought").fill("Asking would delay protecting them.")


def fits_the_screen(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_ward_nurse_works_through_the_worklist_and_a_lead_reads_the_dashboard(
    serve_pages: Callable[..., Served], browse: Browse, smtp: SmtpReceiver
) -> None:
    served = serve_pages(outbox_toml(smtp.port), authorities=_authorities())
    add_contact(served, "acc-1", household=None)
    add_contact(served, "acc-2", household=None)
    add_contact(served, "acc-3", patient=contact_doc()["patient"] | {"postcode": "ZZ9 1AA"})

    nurse = browse(served.url)
    page = nurse.page
    nurse.sign_in("ward", "/worklist")
    nurse.checked("worklist")
    assert page.get_by_role("heading", level=1).inner_text() == "Think Family worklist"
    assert page.get_by_role("button", name="Sign out").is_visible()

    # A household with two children, from the worklist; then the decision: level 3, shared.
    page.locator('a[href="/household/acc-1"]').click()
    assert page.get_by_role("heading", level=1).inner_text() == "Who lives with the patient?"
    page.get_by_label("There are children under 18").check()
    first = page.locator("#f-children-0")
    first.get_by_label("Full name").fill(CHILD_NAME)
    first.get_by_label("Day", exact=True).fill("12")
    first.get_by_label("Month", exact=True).fill("4")
    first.get_by_label("Year", exact=True).fill("2015")
    first.get_by_label("Relationship to the patient").select_option("child")
    first.get_by_label("Lives with the patient").check()
    page.get_by_role("button", name="Add another child").click()
    second = page.locator("#f-children-1")
    second.get_by_label("Full name").fill(OTHER_CHILD_NAME)
    second.get_by_label("Estimated age in years").fill("4")
    second.get_by_label("Relationship to the patient").select_option("stepchild")
    second.get_by_label("Lives elsewhere").check()
    page.get_by_role("radio", name="No", exact=True).check()
    nurse.checked("household-two-children")
    page.get_by_role("button", name="Save household").click()

    page.wait_for_url(f"{served.url}/form/acc-1")
    nurse.checked("form-after-household")
    assert page.get_by_role("cell", name=CHILD_NAME).count() == 1
    assert page.get_by_role("cell", name=OTHER_CHILD_NAME).count() == 1
    share(page, "3")
    page.get_by_role("button", name="Record decision").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Decision recorded"
    nurse.checked("confirmation-level-3")
    wait_for(lambda: len(smtp.mailbox.messages) == 1, timeout=20, what="the referral email")
    wait_for(
        lambda: referral_status(served, "acc-1") == "delivered",
        timeout=20,
        what="the referral recorded as delivered",
    )
    nurse.visit("/worklist?waiting=acknowledgement", "worklist-delivered")
    assert "delivered" in page.locator("tr", has_text="Referral not acknowledged").inner_text()

    # "No children" for another contact: one confirmation.
    nurse.visit("/worklist", "worklist-again")
    page.locator('a[href="/household/acc-2"]').click()
    page.get_by_label("No children under 18 in the household").check()
    page.get_by_role("radio", name="No", exact=True).check()
    nurse.checked("household-no-children")
    page.get_by_role("button", name="Save household").click()
    page.wait_for_url(f"{served.url}/form/acc-2")
    assert "No children under 18 recorded." in page.content()
    stored = contact(served, "acc-2")["assessment"]
    assert stored["household_known"] is True and stored["children"] == []

    # Level 4 out of hours: the emergency duty team by phone, the call recorded.
    nurse.visit("/worklist", "worklist-level-4")
    page.locator('a[href="/form/acc-3"]').first.click()
    share(page, "4")
    page.get_by_role("button", name="Record decision").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Decision recorded"
    nurse.checked("confirmation-level-4")
    wait_for(
        lambda: "acc-3" in awaiting_calls(served), timeout=20, what="the call prompt for acc-3"
    )
    page.get_by_role("link", name="What to say, and record the call").first.click()
    assert page.get_by_role("heading", level=1).inner_text() == "Phone the referral"
    assert page.locator("a.number").first.inner_text() == "020 0000 0102"
    nurse.checked("call")
    page.get_by_label("Who answered (name and role)").fill("Jo Duty, emergency duty team")
    page.get_by_label("Reference they gave").fill("EDT-778")
    page.get_by_label("Advice they gave").fill("Duty social worker will visit tonight.")
    page.get_by_role("button", name="Record the call").click()
    assert page.get_by_role("heading", name="Call recorded").count() == 1
    assert "No call is needed for this referral now" in page.content()
    nurse.checked("call-recorded")
    assert referral_status(served, "acc-3") == "acknowledged"
    assert "acc-3" not in awaiting_calls(served)
    nurse.visit("/worklist", "worklist-call-cleared")
    assert page.locator('a[href^="/call/acc-3"]').count() == 0
    assert not nurse.csp_reports()
    nurse.sign_out()

    # The lead: the dashboard, and its figures as CSV with small numbers suppressed.
    lead = browse(served.url)
    lead.sign_in("lead", "/dashboard")
    lead.checked("dashboard")
    assert lead.page.get_by_role("heading", level=1).inner_text() == "Think Family dashboard"
    with lead.page.expect_download() as downloading:
        lead.page.get_by_role("link", name="Download the figures (CSV)").click()
    download = downloading.value
    kept = lead.artefacts / download.suggested_filename
    download.save_as(kept)
    text = kept.read_text(encoding="utf-8")
    assert "Adult first contacts by week" in text and "<5" in text
    assert CHILD_NAME not in text and "Ottoline" not in text
    assert not lead.csp_reports()


def test_the_worklist_household_call_and_dashboard_pages_fit_a_phone(
    serve_pages: Callable[..., Served], browse: Browse
) -> None:
    served = serve_pages()
    add_contact(served, "phone-hh", household=None)
    add_contact(served, "phone-call")
    decision = {
        "id": "d-phone-call",
        "decided_by": {"id": "Practitioner/nurse-42", "role": "staff nurse", "name": "Sam Nurse"},
        "share": True,
        "level_of_need": 4,
        "immediate_danger": True,
        "reasons": "Child at risk of immediate harm at home tonight.",
        "what_shared": "The risk and the children's ages.",
        "lawful_basis": "vital_interests",
        "consent": "not_sought",
        "consent_not_sought_reason": "Asking would put the children at risk.",
        "child_refs": ["k-1"],
    }
    made = served.service.api("POST", "/api/contacts/phone-call/decision", json=decision)
    assert made.status_code == 201, made.text
    (police,) = [r for r in contact(served, "phone-call")["referrals"] if r["route"] == "police"]

    nurse = browse(served.url, phone=True)
    nurse.sign_in("ward", "/worklist")
    nurse.checked("worklist-phone")
    assert fits_the_screen(nurse.page)
    nurse.page.locator('a[href="/household/phone-hh"]').click()
    nurse.page.get_by_role("button", name="Save household").click()
    nurse.checked("household-phone-errors")
    assert nurse.page.get_by_role("heading", name="There is a problem").is_visible()
    assert fits_the_screen(nurse.page)
    nurse.visit(f"/call/phone-call?referral={police['id']}", "call-phone")
    assert nurse.page.locator("a.number").first.inner_text() == "999"
    assert fits_the_screen(nurse.page)

    lead = browse(served.url, phone=True)
    lead.sign_in("lead", "/dashboard")
    lead.checked("dashboard-phone")
    assert fits_the_screen(lead.page)
