"""The household question and the phone call in a real browser (Debian's Chromium through
Playwright) against ``thinkfamily serve``: two children recorded from the link, "no children"
recorded, a level 4 referral with immediate danger phoned and the call prompt cleared.
Screenshots of each page are kept in the test's folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from plugin_core.links import make_link
from tests.peers.service import ServiceProcess

from . import test_form_browser as form_browser
from .conftest import CHILD_NAME, NURSE, OTHER_CHILD_NAME, SECRET_ENV, contact_doc
from .test_form_browser import PNG_SIGNATURE

# The same fixtures as the decision form's browser test: the service, Chromium, SMTP.
service = form_browser.service
browser = form_browser.browser
smtp = form_browser.smtp

pytestmark = pytest.mark.integration


def open_page(browser: Browser) -> Page:
    context = browser.new_context(locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(15_000)
    context.set_default_navigation_timeout(15_000)
    return context.new_page()


def shot(page: Page, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True, timeout=15_000)
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_a_nurse_records_two_children_then_no_children_in_the_browser(
    service: ServiceProcess, browser: Browser, tmp_path: Path
) -> None:
    created = service.api(
        "POST", "/api/contacts", json=contact_doc("browser-hh-1") | {"household": None}
    )
    assert created.status_code == 201, created.text
    page = open_page(browser)
    try:
        page.goto(make_link(service.url, "browser-hh-1", NURSE, secret_env=SECRET_ENV))
        page.get_by_role("link", name="Record who lives with the patient").click()
        assert page.get_by_role("heading", level=1).inner_text() == "Who lives with the patient?"
        page.get_by_label("There are children under 18").check()
        page.get_by_label("Full name").fill(CHILD_NAME)
        page.get_by_label("Day", exact=True).fill("12")
        page.get_by_label("Month", exact=True).fill("4")
        page.get_by_label("Year", exact=True).fill("2015")
        page.get_by_label("Relationship to the patient").select_option("child")
        page.get_by_label("Lives with the patient").check()
        page.get_by_role("button", name="Add another child").click()
        second = page.locator("#f-children-1")
        second.get_by_label("Full name").fill(OTHER_CHILD_NAME)
        second.get_by_label("Estimated age in years").fill("4")
        second.get_by_label("Relationship to the patient").select_option("stepchild")
        second.get_by_label("Lives elsewhere").check()
        page.get_by_role("radio", name="No", exact=True).check()
        shot(page, tmp_path / "household.png")
        page.get_by_role("button", name="Save household").click()

        assert page.get_by_role("heading", level=2, name="Your decision").count() == 1
        assert page.get_by_role("cell", name=CHILD_NAME).count() == 1
        assert page.get_by_role("cell", name="about 1 to 4 (estimated)").count() == 1
        shot(page, tmp_path / "form-after-household.png")
    finally:
        page.context.close()

    created = service.api(
        "POST", "/api/contacts", json=contact_doc("browser-hh-2") | {"household": None}
    )
    assert created.status_code == 201, created.text
    page = open_page(browser)
    try:
        link = make_link(service.url, "browser-hh-2", NURSE, secret_env=SECRET_ENV)
        page.goto(link.replace("/form/", "/household/"))
        page.get_by_label("No children under 18 in the household").check()
        page.get_by_role("radio", name="No", exact=True).check()
        page.get_by_role("button", name="Save household").click()
        assert "No children under 18 recorded." in page.content()
    finally:
        page.context.close()
    stored = service.api("GET", "/api/contacts/browser-hh-2").json()
    assert stored["assessment"]["household_known"] is True
    assert stored["assessment"]["children"] == []


def test_a_nurse_phones_the_police_and_records_the_call_in_the_browser(
    service: ServiceProcess, browser: Browser, tmp_path: Path
) -> None:
    created = service.api("POST", "/api/contacts", json=contact_doc("browser-call-1"))
    assert created.status_code == 201, created.text
    decision = {
        "id": "d-browser-call-1",
        "decided_by": {"id": NURSE, "role": "staff nurse", "name": "Sam Nurse"},
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
    made = service.api("POST", "/api/contacts/browser-call-1/decision", json=decision)
    assert made.status_code == 201, made.text
    page = open_page(browser)
    try:
        link = make_link(service.url, "browser-call-1", NURSE, secret_env=SECRET_ENV)
        page.goto(f"{link}&recorded=d-browser-call-1")
        shot(page, tmp_path / "confirmation.png")
        page.get_by_role("link", name="What to say, and record the call").first.click()
        assert page.get_by_role("heading", level=1).inner_text() == "Phone the referral"
        assert page.locator("a.number").first.inner_text() == "999"
        assert "Sam Nurse" in page.locator("dl.script").inner_text()
        shot(page, tmp_path / "call.png")
        page.get_by_label("Who answered (name and role)").fill("Call handler 4471")
        page.get_by_label("Reference they gave").fill("CAD 1234")
        page.get_by_label("Advice they gave").fill("Officers are on their way.")
        page.get_by_role("button", name="Record the call").click()
        assert page.get_by_role("heading", name="Call recorded").count() == 1
        assert "No call is needed for this referral now" in page.content()
        shot(page, tmp_path / "call-recorded.png")
    finally:
        page.context.close()
    waiting = service.api("GET", "/api/escalations").json()["escalations"]
    assert not [r for r in waiting if r["route"] == "police"]
