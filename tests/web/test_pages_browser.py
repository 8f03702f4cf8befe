"""Sign-in and the form pages in Debian's Chromium against ``thinkfamily serve``: every page
visited is screenshotted (``test-artefacts/browser/<test>/``) and has no serious or critical
axe-core violation, on a desktop and at phone width."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import pytest

from plugin_core.links import make_link
from tests.peers.oidc_provider import needs_oidc_peer

from .browser_support import BrowserPages
from .conftest import CHILD_NAME, NURSE, SECRET_ENV, Served, contact_doc

pytestmark = [pytest.mark.integration, needs_oidc_peer]

Browse = Callable[..., BrowserPages]
REASONS = "Parent admitted after an overdose; children at home with no other carer."


def _add_contact(served: Served, contact_id: str) -> None:
    created = served.service.api("POST", "/api/contacts", json=contact_doc(contact_id))
    assert created.status_code == 201, created.text


def test_a_nurse_signs_in_from_a_guarded_page_and_records_a_decision(
    serve_pages: Callable[..., Served], browse: Browse
) -> None:
    served = serve_pages()
    _add_contact(served, "signed-in-browser-1")
    pages = browse(served.url)
    page = pages.page

    page.goto(pages.url(f"/form/{quote('signed-in-browser-1')}"))
    assert page.get_by_role("heading", name="Sign in to the test provider").is_visible()
    pages.screenshot("sign-in")
    page.get_by_label("Username").fill("nurse")
    page.get_by_label("Password").fill("nurse-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{served.url}/form/signed-in-browser-1")
    pages.checked("form")
    assert page.get_by_role("cell", name=CHILD_NAME).count() == 1
    assert "Critical" in page.locator(".tf-prompt--critical").first.inner_text()

    page.get_by_role("button", name="Record decision").click()
    assert page.get_by_role("heading", name="There is a problem").is_visible()
    pages.checked("form-errors")

    page.get_by_label("Yes, share").check()
    page.get_by_label("3 – Complex needs").check()
    page.get_by_label("Reasons for your decision").fill(REASONS)
    page.get_by_label("What is shared").fill("Reason for admission and the children's ages.")
    page.get_by_label("Your direct phone").fill("020 7946 0123")
    page.get_by_role("radio", name="Public task").check()
    page.get_by_role("radio", name="Not sought").check()
    page.get_by_label("Why consent was not sought").fill("Asking would delay protecting them.")
    page.get_by_role("button", name="Record decision").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Decision recorded"
    pages.checked("confirmation")

    page.goto(pages.url("/"))
    pages.checked("home")
    pages.sign_out()
    # The service's session is gone; the provider's own sign-in may outlive it.
    assert "thinkfamily" not in {c["name"] for c in pages.context.cookies(served.url)}
    assert not pages.csp_reports()

    stored = served.service.api("GET", "/api/contacts/signed-in-browser-1").json()
    (decision,) = stored["decisions"]
    assert decision["level_of_need"] == 3 and decision["share"] is True


def test_the_link_form_and_its_refusals_fit_a_phone_and_are_accessible(
    serve_pages: Callable[..., Served], browse: Browse
) -> None:
    served = serve_pages()
    _add_contact(served, "phone-1")
    pages = browse(served.url, phone=True)
    page = pages.page

    pages.visit(make_link(served.url, "phone-1", NURSE, secret_env=SECRET_ENV), "form-phone")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_label("No, do not share").check()
    page.get_by_role("button", name="Record decision").click()
    pages.checked("form-phone-errors")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    pages.visit("/form/phone-1?t=not-a-token", "refused")
    assert page.get_by_role("heading", level=1).inner_text() == "This link cannot be used"
    pages.visit(make_link(served.url, "no-such-contact", NURSE, secret_env=SECRET_ENV), "not-found")
    assert page.get_by_role("heading", level=1).inner_text() == "Contact not found"
    assert not pages.csp_reports()


def test_a_lead_opens_the_dashboard_and_a_nurse_is_refused_the_worklist(
    serve_pages: Callable[..., Served], browse: Browse
) -> None:
    served = serve_pages()
    lead = browse(served.url)
    lead.sign_in("lead", "/dashboard")
    lead.checked("dashboard-lead")
    assert lead.page.get_by_role("heading", level=1).inner_text() == "Think Family dashboard"

    nurse = browse(served.url)
    nurse.sign_in("nurse", "/worklist")
    nurse.checked("worklist-refused")
    assert nurse.page.get_by_role("heading", level=1).inner_text() == "No access"
