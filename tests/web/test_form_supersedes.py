"""The form on a contact that already has a decision: it replaces that decision, and when
someone else records one while the form is open, it asks again rather than recording both."""

from __future__ import annotations

import re

from plugin_core.model import ReferralStatus

from .conftest import Pages, contact_doc, sharing_form, token_for


def form_fields(html: str) -> tuple[str, str]:
    decision = re.search(r'name="decision_id" value="(d-[0-9a-f]{32})"', html)
    supersedes = re.search(r'name="supersedes" value="([^"]*)"', html)
    assert decision and supersedes, "the form carries its decision id and what it replaces"
    return decision.group(1), supersedes.group(1)


def open_form(pages: Pages, contact_id: str) -> str:
    response = pages.client.get(pages.form_url(contact_id))
    assert response.status_code == 200, response.text
    return str(response.text)


def test_a_form_left_open_while_another_decision_is_recorded_asks_again_then_replaces_it(
    pages: Pages,
) -> None:
    contact_id = pages.add_contact(contact_doc("both-open-1"))
    token = token_for(contact_id)
    mine, nothing = form_fields(open_form(pages, contact_id))
    theirs, _ = form_fields(open_form(pages, contact_id))
    assert nothing == ""
    first = pages.post(contact_id, sharing_form(token, theirs, supersedes=""))
    assert first.status_code == 303

    stale = pages.post(contact_id, sharing_form(token, mine, supersedes="", level_of_need="2"))
    assert stale.status_code == 409
    assert "someone else recorded a decision for this contact" in stale.text
    again, replaces = form_fields(stale.text)
    assert (again, replaces) == (mine, theirs)
    assert [d.id for d in pages.service.decisions(contact_id)] == [theirs]

    replaced = pages.post(
        contact_id, sharing_form(token, mine, supersedes=replaces, level_of_need="2")
    )
    assert replaced.status_code == 303
    assert pages.service.current_decision(contact_id) == mine
    statuses = {
        r.referral.decision_id: r.status for r in pages.service.referrals(contact_id=contact_id)
    }
    assert statuses == {theirs: ReferralStatus.CANCELLED, mine: ReferralStatus.PENDING}


def test_a_form_opened_after_a_decision_replaces_that_decision(pages: Pages) -> None:
    contact_id = pages.add_contact(contact_doc("after-1"))
    token = token_for(contact_id)
    first, _ = form_fields(open_form(pages, contact_id))
    assert pages.post(contact_id, sharing_form(token, first)).status_code == 303
    second, replaces = form_fields(open_form(pages, contact_id))
    assert replaces == first
    assert (
        pages.post(contact_id, sharing_form(token, second, supersedes=replaces)).status_code == 303
    )
    # Both decisions may carry the same time: read the line by who replaces whom, not by order.
    lines = {d.id: d.supersedes for d in pages.service.decisions(contact_id)}
    assert lines == {first: None, second: first}
