"""The form in a real browser (Debian's Chromium through Playwright) against ``thinkfamily
serve``: open the signed link, see the prompts, get a field message, record, confirm.

The referral goes by email to a real SMTP server on loopback.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, sync_playwright

from plugin_core.links import make_link
from plugin_core.rules.clock import LONDON
from tests.peers.ports import wait_for
from tests.peers.service import ServiceProcess, write_trust_config
from tests.peers.smtp import SmtpReceiver
from tests.service.conftest import TEST_AUTHORITIES, outbox_toml

from .browser_support import CHROMIUM_ARGS, chromium_path
from .conftest import CHILD_NAME, NURSE, SECRET, SECRET_ENV, contact_doc, web_toml

pytestmark = pytest.mark.integration

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    with SmtpReceiver() as receiver:
        yield receiver


@pytest.fixture
def service(
    tmp_path: Path, smtp: SmtpReceiver, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ServiceProcess]:
    # The service process inherits this environment, so it signs and checks with the same secret.
    monkeypatch.setenv(SECRET_ENV, SECRET)
    config = write_trust_config(
        tmp_path / "config",
        extra_toml=outbox_toml(smtp.port) + web_toml(),
        authorities=TEST_AUTHORITIES,
    )
    process = ServiceProcess(
        config, f"sqlite:///{tmp_path / 'tf.db'}", tmp_path / "logs", name="web"
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS, timeout=30_000
        )
        try:
            yield launched
        finally:
            launched.close()


def test_a_nurse_records_a_decision_in_the_browser_and_it_is_recorded_once(
    service: ServiceProcess, browser: Browser, smtp: SmtpReceiver, tmp_path: Path
) -> None:
    contact_id = "browser-1"
    created = service.api("POST", "/api/contacts", json=contact_doc(contact_id))
    assert created.status_code == 201, created.text
    link = make_link(service.url, contact_id, NURSE, secret_env=SECRET_ENV)

    context = browser.new_context(locale="en-GB")
    context.set_default_timeout(15_000)
    context.set_default_navigation_timeout(15_000)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(_text(message)))
    try:
        page.goto(link)
        assert page.locator(".tf-prompt--critical .tf-sev").inner_text() == "Critical"
        assert "Consider their welfare" in page.locator(".tf-prompt").first.inner_text()
        assert page.get_by_role("cell", name=CHILD_NAME).count() == 1
        # The stylesheets are served and allowed: the NHS.UK red tag is really applied.
        colour = page.locator(".tf-prompt--critical .tf-sev").evaluate(
            "element => getComputedStyle(element).backgroundColor"
        )
        assert colour == "rgb(247, 212, 209)"

        page.get_by_label("Yes, share").check()
        page.get_by_label("3 – Complex needs").check()
        page.get_by_role("button", name="Record decision").click()
        assert page.locator("#err-reasons").inner_text().startswith("Error: \nRecord the reasons")
        assert page.get_by_label("3 – Complex needs").is_checked()
        # A referral goes nowhere without a way to call the nurse back.
        reach = page.locator("[id='err-decided_by.phone']").inner_text()
        assert "Give your direct phone or email" in reach

        page.get_by_label("Reasons for your decision").fill(
            "Parent admitted after an overdose; children at home with no other carer."
        )
        page.get_by_label("What is shared").fill("Reason for admission and the children's ages.")
        page.get_by_label("Your direct phone").fill("020 7946 0123")
        page.get_by_role("radio", name="Public task").check()
        page.get_by_role("radio", name="Not sought").check()
        page.get_by_label("Why consent was not sought").fill(
            "Asking would delay protecting the children."
        )
        page.get_by_role("button", name="Record decision").click()

        assert page.get_by_role("heading", level=1).inner_text() == "Decision recorded"
        route, authority, priority, how = page.locator("tbody tr td").all_inner_texts()
        # The front door in office hours, its emergency duty team otherwise: real time decides.
        assert route in ("Children's services front door", "Emergency duty team (out of hours)")
        assert (authority, priority, how) == ("Test Borough", "Routine", "Sent by secure email")
        shot = tmp_path / "confirmation.png"
        page.screenshot(path=str(shot), full_page=True, timeout=15_000)
    finally:
        context.close()

    data = shot.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 1_000
    # Nothing blocked but the frontend's web font, whose host the CSP does not allow.
    blocked = [line for line in console if "Content Security Policy" in line]
    assert not [line for line in blocked if "Loading the font" not in line]

    stored = service.api("GET", f"/api/contacts/{contact_id}").json()
    assert len(stored["decisions"]) == 1
    assert stored["decisions"][0]["level_of_need"] == 3
    (referral,) = stored["referrals"]
    assert referral["route"] == "front_door" and referral["authority"] == "testborough"
    wait_for(lambda: len(smtp.mailbox.messages) == 1, timeout=15, what="the referral email")


def _text(message: ConsoleMessage) -> str:
    return f"{message.type}: {message.text}"


def test_a_nurse_not_sharing_at_level_3_names_the_lead_and_the_advice_in_the_browser(
    service: ServiceProcess, browser: Browser
) -> None:
    contact_id = "browser-2"
    created = service.api("POST", "/api/contacts", json=contact_doc(contact_id))
    assert created.status_code == 201, created.text
    link = make_link(service.url, contact_id, NURSE, secret_env=SECRET_ENV)

    context = browser.new_context(locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(15_000)
    context.set_default_navigation_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(link)
        page.get_by_label("No, do not share").check()
        page.get_by_label("3 – Complex needs").check()
        page.get_by_label("Reasons for your decision").fill("Fine.")
        page.get_by_role("button", name="Record decision").click()
        assert "at least 10 words" in page.locator("#err-reasons").inner_text()
        assert page.locator("#err-escalated_to").inner_text().startswith("Error: \nAt level 3")

        page.get_by_label("Reasons for your decision").fill(
            "Children are staying with their grandmother, who cares for them every week."
        )
        page.get_by_label("Lead's name").fill("Jo Example")
        page.get_by_label("Lead's role").fill("Ward safeguarding lead")
        page.get_by_label("Adviser's name").fill("Sam Adviser")
        # The browser's own date-and-time field: what it posts is what the service must read.
        asked = (datetime.now(LONDON) - timedelta(days=1)).replace(hour=8, minute=15)
        page.get_by_label("When you asked").fill(asked.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("What they advised").fill("Not sharing is reasonable for now.")
        page.get_by_role("button", name="Record decision").click()

        assert page.get_by_role("heading", level=1).inner_text() == "Decision recorded"
        details = page.locator("dl").inner_text()
        assert "Jo Example, Ward safeguarding lead" in details
        when = asked.strftime("%d %b %Y %H:%M")
        assert f"Sam Adviser ({when}): Not sharing is reasonable for now." in details
    finally:
        context.close()

    listed = service.api("GET", f"/api/decision-escalations?contact_id={contact_id}").json()
    (escalation,) = listed["decision_escalations"]
    assert escalation["kind"] == "not_shared" and escalation["lead"]["name"] == "Jo Example"
