"""The form asks how children's services reach the professional and records it with the
decision; children the host sent without ids are named, not numbered."""

from __future__ import annotations

import re

from plugin_core.model import Professional

from .conftest import (
    CHILD_NAME,
    NURSE,
    OTHER_CHILD_NAME,
    Pages,
    contact_doc,
    sharing_form,
    token_for,
)

REFERRER = {
    "decided_by.name": "Jo Referrer",
    "decided_by.role": "Staff nurse",
    "decided_by.team": "Emergency department",
    "decided_by.phone": "020 7946 0042",
    "decided_by.email": "jo.referrer@trust.example",
}


def _decision_id(html: str) -> str:
    found = re.search(r'name="decision_id" value="(d-[0-9a-f]{32})"', html)
    assert found
    return found.group(1)


def _without_ids(contact_id: str) -> dict[str, object]:
    doc = contact_doc(contact_id)
    for member in doc["household"]:
        del member["id"]
    return doc


def test_the_referrers_contact_is_recorded_and_who_decided_still_comes_from_the_link(
    pages: Pages,
) -> None:
    contact_id = pages.add_contact(contact_doc("referrer-1"))
    html = pages.client.get(pages.form_url(contact_id)).text
    for name, kind in (("decided_by.phone", "tel"), ("decided_by.email", "email")):
        assert f'type="{kind}" id="in-{name}" name="{name}"' in html
    form = sharing_form(token_for(contact_id), _decision_id(html), **REFERRER)
    form["decided_by.id"] = "someone-else"
    assert pages.post(contact_id, form).status_code == 303
    (decision,) = pages.service.store.get_decisions(contact_id)
    assert decision.decided_by == Professional(
        id=NURSE,
        name="Jo Referrer",
        role="Staff nurse",
        team="Emergency department",
        phone="020 7946 0042",
        email="jo.referrer@trust.example",
    )


def test_a_referral_without_a_phone_or_email_to_call_back_is_asked_for_one(pages: Pages) -> None:
    contact_id = pages.add_contact(contact_doc("referrer-2"))
    html = pages.client.get(pages.form_url(contact_id)).text
    form = sharing_form(token_for(contact_id), _decision_id(html), **{"decided_by.phone": " "})
    again = pages.post(contact_id, form)
    assert again.status_code == 422
    assert "give your direct phone or email" in again.text
    assert 'id="err-decided_by.phone"' in again.text
    assert pages.service.store.get_decisions(contact_id) == []

    form["decided_by.email"] = "jo.referrer@trust.example"
    assert pages.post(contact_id, form).status_code == 303
    (decision,) = pages.service.store.get_decisions(contact_id)
    assert decision.decided_by == Professional(id=NURSE, email="jo.referrer@trust.example")


def test_a_decision_not_to_share_is_recorded_without_a_phone_or_email(pages: Pages) -> None:
    contact_id = pages.add_contact(contact_doc("referrer-3"))
    html = pages.client.get(pages.form_url(contact_id)).text
    form = sharing_form(
        token_for(contact_id),
        _decision_id(html),
        share="no",
        level_of_need="2",
        **{"decided_by.phone": ""},
    )
    assert pages.post(contact_id, form).status_code == 303
    (decision,) = pages.service.store.get_decisions(contact_id)
    assert decision.share is False and decision.decided_by == Professional(id=NURSE)


def test_children_sent_without_host_ids_are_named_on_the_form_not_numbered(pages: Pages) -> None:
    contact_id = pages.add_contact(_without_ids("no-ids-1"))
    html = pages.client.get(pages.form_url(contact_id)).text
    assert CHILD_NAME in html and OTHER_CHILD_NAME in html
    assert "Child 1" not in html and "Child 2" not in html
    form = sharing_form(token_for(contact_id), _decision_id(html), child_refs=["member-2"])
    assert pages.post(contact_id, form).status_code == 303
    (decision,) = pages.service.store.get_decisions(contact_id)
    assert decision.child_refs == ("member-2",)
