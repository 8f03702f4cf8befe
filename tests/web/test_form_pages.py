"""The form pages over HTTP, in process: what the nurse sees, what is recorded, what is refused."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from plugin_core.links import make_token
from plugin_core.model import Route

from .conftest import (
    CHILD_NAME,
    NURSE,
    OTHER_CHILD_NAME,
    SATURDAY_NIGHT,
    SECRET,
    SECRET_ENV,
    Pages,
    contact_doc,
    sharing_form,
    token_for,
)

OUT_OF_AREA = "ZZ9 9ZZ"
PHONE_ONLY_NIGHTS = """
[police]
channel = "phone"
phone = "999"
label = "Police"

[authorities.nightborough]
name = "Night Borough"
postcodes = ["ZZ1"]

[authorities.nightborough.routes.front_door]
channel = "email"
address = "front-door@nightborough.example"
phone = "020 0000 0101"

[authorities.nightborough.routes.out_of_hours]
channel = "phone"
phone = "020 0000 0102"
"""


def decision_id_in(html: str) -> str:
    found = re.search(r'name="decision_id" value="(d-[0-9a-f]{32})"', html)
    assert found, "the form carries a decision id"
    return found.group(1)


def open_form(pages: Pages, contact_id: str) -> str:
    response = pages.client.get(pages.form_url(contact_id))
    assert response.status_code == 200, response.text
    return response.text


def record(pages: Pages, contact_id: str, **changes: object) -> str:
    """Post a valid decision and follow the redirect; returns the confirmation page."""
    token = token_for(contact_id)
    response = pages.post(
        contact_id, sharing_form(token, decision_id_in(open_form(pages, contact_id)), **changes)
    )
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("./")
    confirmation = pages.client.get(f"/form/{location.removeprefix('./')}")
    assert confirmation.status_code == 200
    return confirmation.text


# What the form shows -----------------------------------------------------------------------


def test_form_shows_prompts_with_severity_word_household_indicators_and_authority(
    pages: Pages,
) -> None:
    html = open_form(pages, pages.add_contact(contact_doc("show-1")))
    assert "tf-prompt tf-prompt--critical" in html
    assert '<strong class="nhsuk-tag nhsuk-tag--red tf-sev">Critical</strong>' in html
    assert "Consider their welfare" in html
    assert f"<td>{CHILD_NAME}</td><td>10</td><td>Child</td><td>lives with the patient</td>" in bare(
        html
    )
    assert (
        f"<td>{OTHER_CHILD_NAME}</td><td>4</td><td>Stepchild</td><td>lives elsewhere</td>"
        in bare(html)
    )
    assert "<li>Substance misuse</li><li>Domestic abuse</li>" in html
    assert "<strong>Local authority:</strong> Test Borough" in html
    for level, meaning in [("1", "Universal"), ("2", "early help"), ("3", "s17"), ("4", "s47")]:
        assert f'name="level_of_need" value="{level}"' in html and meaning in html
    for basis in ("public_task", "legal_obligation", "consent", "vital_interests"):
        assert f'name="lawful_basis" value="{basis}"' in html
    for consent in ("given", "refused", "not_sought"):
        assert f'name="consent" value="{consent}"' in html
    assert 'name="decided_by"' not in html


def test_every_field_has_a_label_or_legend(pages: Pages) -> None:
    html = open_form(pages, pages.add_contact(contact_doc("labels-1")))
    for textarea_id in re.findall(r'<textarea id="([^"]+)"', html):
        assert f'<label class="nhsuk-label" for="{textarea_id}">' in html
    assert html.count("<fieldset") == html.count("<legend")
    assert '<html lang="en-GB">' in html


def test_unknown_household_and_the_unborn_child_are_shown(pages: Pages) -> None:
    doc = contact_doc("unborn-1", pregnant=True) | {"household": None}
    html = open_form(pages, pages.add_contact(doc))
    assert "Household not recorded." in html
    assert "<td>Unborn child</td><td>not yet born</td>" in bare(html)


def test_an_unknown_authority_is_chosen_from_the_directory(pages: Pages) -> None:
    contact_id = pages.add_contact(contact_doc("where-1", postcode=OUT_OF_AREA))
    html = open_form(pages, contact_id)
    assert '<select class="nhsuk-select" id="in-authority_id" name="authority_id"' in html
    assert '<option value="testborough">Test Borough</option>' in html
    token = token_for(contact_id)
    missing = pages.post(contact_id, sharing_form(token, decision_id_in(html)))
    assert missing.status_code == 422
    assert "Confirm which local authority to refer to" in missing.text
    chosen = pages.post(
        contact_id, sharing_form(token, decision_id_in(html), authority_id="testborough")
    )
    assert chosen.status_code == 303
    (row,) = pages.service.store.list_referrals(contact_id=contact_id)
    assert row.referral.authority_id == "testborough"


def test_values_from_the_record_are_escaped(pages: Pages) -> None:
    hostile = '<script>alert("x")</script>'
    html = open_form(pages, pages.add_contact(contact_doc("esc-1", child_name=hostile)))
    assert hostile not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


def test_pages_forbid_caching_framing_and_inline_script(pages: Pages) -> None:
    response = pages.client.get(pages.form_url(pages.add_contact(contact_doc("hdr-1"))))
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert "<script" not in response.text


def test_a_configured_ehr_may_frame_the_form(make_pages: Callable[..., Pages]) -> None:
    pages = make_pages(frame_ancestors=("https://ehr.example.nhs.uk",))
    response = pages.client.get(pages.form_url(pages.add_contact(contact_doc("frame-1"))))
    assert (
        "frame-ancestors https://ehr.example.nhs.uk" in response.headers["content-security-policy"]
    )
    assert "x-frame-options" not in response.headers


# Refusals ----------------------------------------------------------------------------------


def test_a_missing_token_gets_403_telling_the_nurse_to_reopen_the_link(pages: Pages) -> None:
    contact_id = pages.add_contact(contact_doc("tok-1"))
    response = pages.client.get(f"/form/{contact_id}")
    assert response.status_code == 403
    assert "Open the Think Family link again from the patient" in response.text
    assert response.headers["cache-control"] == "no-store"


def test_a_tampered_token_gets_403_and_shows_nothing_of_the_patient(pages: Pages) -> None:
    contact_id = pages.add_contact(contact_doc("tok-2"))
    token = token_for(contact_id)
    response = pages.client.get(pages.form_url(contact_id, token[:-2] + "AA"))
    assert response.status_code == 403
    assert "changed" in response.text
    assert CHILD_NAME not in response.text


def test_an_expired_token_gets_403_saying_it_expired(pages: Pages) -> None:
    contact_id = pages.add_contact(contact_doc("tok-3"))
    old = make_token(
        contact_id, NURSE, timedelta(minutes=5), secret=SECRET.encode(), now=time.time() - 600
    )
    response = pages.client.get(pages.form_url(contact_id, old))
    assert response.status_code == 403
    assert "expired" in response.text


def test_a_token_for_another_contact_gets_403_saying_so(pages: Pages) -> None:
    mine = pages.add_contact(contact_doc("tok-4"))
    other = pages.add_contact(contact_doc("tok-5"))
    response = pages.client.get(pages.form_url(mine, token_for(other)))
    assert response.status_code == 403
    assert "another contact" in response.text


def test_an_unknown_contact_gets_404(pages: Pages) -> None:
    response = pages.client.get(pages.form_url("never-seen"))
    assert response.status_code == 404
    assert "Contact not found" in response.text


def test_without_the_secret_the_form_answers_503_naming_the_variable(
    pages: Pages, monkeypatch: pytest.MonkeyPatch
) -> None:
    contact_id = pages.add_contact(contact_doc("nosecret-1"))
    monkeypatch.delenv(SECRET_ENV)
    response = pages.client.get(pages.form_url(contact_id, "a.1.b.c"))
    assert response.status_code == 503
    assert SECRET_ENV in response.text


def test_a_post_from_another_site_is_refused_and_records_nothing(pages: Pages) -> None:
    contact_id = pages.add_contact(contact_doc("csrf-1"))
    form = sharing_form(token_for(contact_id), decision_id_in(open_form(pages, contact_id)))
    response = pages.post(contact_id, form, origin="https://evil.example")
    assert response.status_code == 403
    by_referer = pages.post(contact_id, form, referer="https://evil.example/page")
    assert by_referer.status_code == 403
    assert pages.service.store.get_decisions(contact_id) == []


def test_a_post_from_the_pages_own_origin_is_accepted(pages: Pages) -> None:
    contact_id = pages.add_contact(contact_doc("csrf-2"))
    form = sharing_form(token_for(contact_id), decision_id_in(open_form(pages, contact_id)))
    response = pages.post(contact_id, form, origin="http://testserver")
    assert response.status_code == 303


def test_a_post_with_a_bad_token_is_refused(pages: Pages) -> None:
    contact_id = pages.add_contact(contact_doc("csrf-3"))
    form = sharing_form("forged.1.x.y", decision_id_in(open_form(pages, contact_id)))
    assert pages.post(contact_id, form).status_code == 403
    assert pages.service.store.get_decisions(contact_id) == []


# Recording ---------------------------------------------------------------------------------


def test_missing_reasons_reshow_the_form_with_the_message_beside_the_field_and_input_kept(
    pages: Pages,
) -> None:
    contact_id = pages.add_contact(contact_doc("invalid-1"))
    form = sharing_form(
        token_for(contact_id), decision_id_in(open_form(pages, contact_id)), reasons=""
    )
    response = pages.post(contact_id, form)
    assert response.status_code == 422
    html = response.text
    assert re.search(
        r'id="f-reasons">.*?<span class="nhsuk-error-message" id="err-reasons"><span class="nhsuk-u-visually-hidden">Error: </span>Record the reasons',
        html,
    )
    assert 'aria-invalid="true"' in html
    assert "Reason for admission and the children&#39;s ages.</textarea>" in html
    assert 'name="level_of_need" value="3" checked' in html
    assert pages.service.store.get_decisions(contact_id) == []


def test_an_unanswered_share_question_is_reported_with_the_other_faults(pages: Pages) -> None:
    contact_id = pages.add_contact(contact_doc("invalid-2"))
    form = sharing_form(
        token_for(contact_id), decision_id_in(open_form(pages, contact_id)), reasons=""
    )
    del form["share"]
    html = pages.post(contact_id, form).text
    assert "Choose yes or no" in html
    assert "Record the reasons" in html


def test_not_sharing_at_level_four_needs_an_override_reason(pages: Pages) -> None:
    contact_id = pages.add_contact(contact_doc("override-1"))
    form = sharing_form(
        token_for(contact_id),
        decision_id_in(open_form(pages, contact_id)),
        share="no",
        level_of_need="4",
    )
    response = pages.post(contact_id, form)
    assert response.status_code == 422
    assert "give an explicit reason to override" in response.text
    form["no_action_override_reason"] = "Safeguarding lead already referred this morning."
    form["escalated_to.name"] = "Jo Example"
    form["escalated_to.role"] = "Ward safeguarding lead"
    assert pages.post(contact_id, form).status_code == 303
    (decision,) = pages.service.store.get_decisions(contact_id)
    assert decision.share is False
    assert pages.service.store.list_referrals(contact_id=contact_id) == []


def test_a_valid_decision_is_recorded_once_even_when_submitted_twice(pages: Pages) -> None:
    contact_id = pages.add_contact(contact_doc("once-1"))
    form = sharing_form(token_for(contact_id), decision_id_in(open_form(pages, contact_id)))
    first = pages.post(contact_id, form)
    again = pages.post(contact_id, form)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert len(pages.service.store.get_decisions(contact_id)) == 1
    assert len(pages.service.store.list_referrals(contact_id=contact_id)) == 1


def test_the_decision_is_made_by_the_professional_in_the_link_not_the_form(
    pages: Pages,
) -> None:
    contact_id = pages.add_contact(contact_doc("who-1"))
    form = sharing_form(
        token_for(contact_id, "Practitioner/nurse-7"),
        decision_id_in(open_form(pages, contact_id)),
        decided_by="Practitioner/someone-else",
    )
    assert pages.post(contact_id, form).status_code == 303
    (decision,) = pages.service.store.get_decisions(contact_id)
    assert decision.decided_by.id == "Practitioner/nurse-7"
    assert decision.child_refs == ("k-1", "k-2")


def test_only_children_of_the_assessment_are_recorded_as_concerned(pages: Pages) -> None:
    contact_id = pages.add_contact(contact_doc("refs-1"))
    form = sharing_form(
        token_for(contact_id),
        decision_id_in(open_form(pages, contact_id)),
        child_refs=["k-2", "someone-else"],
    )
    assert pages.post(contact_id, form).status_code == 303
    (decision,) = pages.service.store.get_decisions(contact_id)
    assert decision.child_refs == ("k-2",)


@pytest.mark.parametrize("contact_id", ["hl7:EPR|0001", "fhir:p-1:e-1:h/1", "a b?c#d"])
def test_contact_ids_with_reserved_characters_round_trip_through_the_pages(
    pages: Pages, contact_id: str
) -> None:
    pages.add_contact(contact_doc(contact_id))
    html = record(pages, contact_id)
    assert "<h1>Decision recorded</h1>" in bare(html)
    assert len(pages.service.store.get_decisions(contact_id)) == 1


def test_the_confirmation_lists_the_decision_and_the_referral_made(pages: Pages) -> None:
    html = record(pages, pages.add_contact(contact_doc("confirm-1")))
    assert "<h1>Decision recorded</h1>" in bare(html)
    assert "3 – Complex needs" in html
    assert (
        "<td>Children&#39;s services front door</td><td>Test Borough</td><td>Routine</td>"
        in bare(html)
    )
    assert "tf-call" not in html


def test_immediate_danger_shows_the_police_number_to_ring_in_large_type(pages: Pages) -> None:
    contact_id = pages.add_contact(contact_doc("danger-1"))
    html = record(pages, contact_id, level_of_need="4", immediate_danger="yes")
    assert "<h2>Phone now: Police</h2>" in bare(html)
    assert '<a class="tf-number" href="tel:999">999</a>' in html
    routes = {r.referral.route for r in pages.service.store.list_referrals(contact_id=contact_id)}
    assert routes == {Route.POLICE, Route.FRONT_DOOR}


def test_out_of_hours_with_no_electronic_route_shows_the_duty_team_number(
    make_pages: Callable[..., Pages],
) -> None:
    pages = make_pages(authorities=PHONE_ONLY_NIGHTS, now=SATURDAY_NIGHT)
    # Level 4 is urgent: out of hours it is the duty team's, reached here by phone only.
    html = record(pages, pages.add_contact(contact_doc("night-1")), level_of_need="4")
    assert "<h2>Phone now: Emergency duty team (out of hours)</h2>" in bare(html)
    assert '<a class="tf-number" href="tel:02000000102">020 0000 0102</a>' in html
    assert "Phone Night Borough now" in html


def test_level_3_on_a_saturday_night_is_sent_to_the_front_door_with_no_call_to_make(
    make_pages: Callable[..., Pages],
) -> None:
    pages = make_pages(authorities=PHONE_ONLY_NIGHTS, now=SATURDAY_NIGHT)
    html = record(pages, pages.add_contact(contact_doc("night-3")))
    assert "Phone now" not in html and "020 0000 0102" not in html
    (stored,) = pages.service.store.list_referrals(contact_id="night-3")
    where = pages.service.engine.destination_for(stored.referral, SATURDAY_NIGHT)
    assert where.address == "front-door@nightborough.example"


def test_a_second_visit_says_a_decision_is_already_recorded(pages: Pages) -> None:
    contact_id = pages.add_contact(contact_doc("again-1"))
    record(pages, contact_id)
    assert "A decision has already been recorded for this contact" in open_form(pages, contact_id)


# Safeguards: not sharing at level 3 or 4, consent as the basis, advice, the LADO ------------------

LEAD_FIELDS = {"escalated_to.name": "Jo Example", "escalated_to.role": "Ward safeguarding lead"}
NOT_SHARING_REASONS = "Children are staying with their grandmother, who cares for them every week."


def post_form(pages: Pages, contact_id: str, **changes: object) -> Any:
    token = token_for(contact_id)
    form = sharing_form(token, decision_id_in(open_form(pages, contact_id)), **changes)
    return pages.post(contact_id, form)


def bare(html: str) -> str:
    """The page with attributes dropped and the responsive tables' repeated headings left out,
    to compare what is shown."""
    html = re.sub(r'<span class="nhsuk-table-responsive__heading"[^>]*>[^<]*</span>', "", html)
    return re.sub(r"<(\w+)\s[^>]*>", r"<\1>", html)


def confirmation_of(pages: Pages, response: Any) -> str:
    assert response.status_code == 303, response.text
    page = pages.client.get(f"/form/{response.headers['location'].removeprefix('./')}")
    assert page.status_code == 200
    return str(page.text)


def test_every_new_field_has_a_label_and_the_consent_warning_is_shown(pages: Pages) -> None:
    html = open_form(pages, pages.add_contact(contact_doc("new-fields-1")))
    inputs = re.findall(
        r'<input class="nhsuk-input[^"]*" type="(?:text|datetime-local|tel|email)" id="([^"]+)"',
        html,
    )
    assert set(inputs) == {
        "in-escalated_to.name",
        "in-escalated_to.role",
        "in-escalated_to.contact",
        "in-advice_sought.name",
        "in-advice_sought.role",
        "in-advice_sought.sought_at",
        "in-decided_by.name",
        "in-decided_by.role",
        "in-decided_by.team",
        "in-decided_by.phone",
        "in-decided_by.email",
    }
    for input_id in inputs:
        assert f'<label class="nhsuk-label" for="{input_id}">' in html
    assert (
        '<textarea class="nhsuk-textarea" id="in-advice_sought.advice" name="advice_sought.advice"'
        in html
    )
    assert "Consent is rarely the right basis for sharing to protect a child" in html
    assert 'name="consent_basis_confirmed" value="yes"' in html
    for criterion in ("harmed_child", "criminal_offence", "risk_of_harm", "not_suitable"):
        assert f'name="lado_criteria" value="{criterion}"' in html
    assert "The trust&#39;s safeguarding lead, Example Named Nurse, will be alerted." in html


def test_consent_as_the_basis_needs_the_box_ticked_and_is_recorded_with_it(pages: Pages) -> None:
    contact_id = pages.add_contact(contact_doc("consent-basis-1"))
    refused = post_form(pages, contact_id, lawful_basis="consent", consent="given")
    assert refused.status_code == 422
    assert re.search(
        r'id="f-consent_basis_confirmed">.*?<span class="nhsuk-error-message" id="err-consent_basis_confirmed"><span class="nhsuk-u-visually-hidden">Error: </span>'
        r"Consent is rarely the right basis for safeguarding",
        refused.text,
    )
    assert pages.service.store.get_decisions(contact_id) == []
    html = confirmation_of(
        pages,
        post_form(
            pages,
            contact_id,
            lawful_basis="consent",
            consent="given",
            consent_basis_confirmed="yes",
        ),
    )
    assert "<dt>Consent as the basis</dt>" in bare(html)
    (decision,) = pages.service.store.get_decisions(contact_id)
    assert decision.consent_basis_confirmed is True


def test_a_one_word_reason_not_to_share_at_level_3_asks_for_ten_words_and_a_lead(
    pages: Pages,
) -> None:
    contact_id = pages.add_contact(contact_doc("thin-1"))
    response = post_form(pages, contact_id, share="no", level_of_need="3", reasons="Fine.")
    assert response.status_code == 422
    html = response.text
    assert "At level 3, say in at least 10 words why not sharing is right for the child" in html
    assert re.search(
        r'id="f-escalated_to">.*?<span class="nhsuk-error-message" id="err-escalated_to"><span class="nhsuk-u-visually-hidden">Error: </span>',
        html,
    )
    assert '<a href="#f-escalated_to">Safeguarding lead you told: at level 3' in html
    assert pages.service.store.get_decisions(contact_id) == []


def test_a_lead_without_a_name_is_reported_beside_the_name_field(pages: Pages) -> None:
    contact_id = pages.add_contact(contact_doc("lead-name-1"))
    response = post_form(
        pages,
        contact_id,
        share="no",
        level_of_need="3",
        reasons=NOT_SHARING_REASONS,
        **{"escalated_to.role": "Ward safeguarding lead"},
    )
    assert response.status_code == 422
    assert re.search(
        r'id="f-escalated_to.name">.*?<span class="nhsuk-error-message" id="err-escalated_to.name"><span class="nhsuk-u-visually-hidden">Error: </span>'
        r"Give the safeguarding lead&#39;s name",
        response.text,
    )
    assert 'value="Ward safeguarding lead"' in response.text


def test_not_sharing_at_level_3_with_a_lead_is_recorded_and_the_confirmation_names_them(
    pages: Pages,
) -> None:
    contact_id = pages.add_contact(contact_doc("escalate-3"))
    html = confirmation_of(
        pages,
        post_form(
            pages,
            contact_id,
            share="no",
            level_of_need="3",
            reasons=NOT_SHARING_REASONS,
            **LEAD_FIELDS,
        ),
    )
    assert "<dt>Escalated to</dt><dd>Jo Example, Ward safeguarding lead</dd>" in bare(html)
    assert "Trust safeguarding lead alerted" not in html
    (escalation,) = pages.service.store.list_decision_escalations(contact_id=contact_id)
    assert escalation.lead.name == "Jo Example"


def test_a_level_4_override_alerts_the_trust_lead_and_the_confirmation_says_so(
    pages: Pages,
) -> None:
    contact_id = pages.add_contact(contact_doc("override-2"))
    html = confirmation_of(
        pages,
        post_form(
            pages,
            contact_id,
            share="no",
            level_of_need="4",
            reasons=NOT_SHARING_REASONS,
            no_action_override_reason="Social worker already with the family on the ward.",
            **LEAD_FIELDS,
        ),
    )
    assert (
        "<dt>Trust safeguarding lead alerted</dt><dd>Example Named Nurse, Named nurse for "
        "safeguarding children, 020 7000 0000; safeguarding@example-trust.nhs.uk</dd>"
    ) in bare(html)
    assert "<dt>Escalated to</dt><dd>Jo Example, Ward safeguarding lead</dd>" in bare(html)
    kinds = {e.kind.value for e in pages.service.store.list_decision_escalations()}
    assert kinds == {"not_shared", "override"}


@pytest.mark.parametrize("typed", ["2026-06-02T10:30", "02/06/2026 10:30"])
def test_advice_sought_is_recorded_in_london_time_and_shown_on_the_confirmation(
    make_pages: Callable[..., Pages], typed: str
) -> None:
    # 10:30 in London in June is 09:30 UTC: before the decision at 10:00 UTC, so accepted.
    pages = make_pages(now=datetime(2026, 6, 2, 10, 0, tzinfo=UTC))
    contact_id = pages.add_contact(contact_doc("advice-1"))
    html = confirmation_of(
        pages,
        post_form(
            pages,
            contact_id,
            **{
                "advice_sought.name": "Sam Adviser",
                "advice_sought.role": "Named nurse",
                "advice_sought.sought_at": typed,
                "advice_sought.advice": "Share today; consent need not be sought.",
            },
        ),
    )
    (decision,) = pages.service.store.get_decisions(contact_id)
    assert decision.advice_sought is not None
    assert decision.advice_sought.sought_at == datetime(2026, 6, 2, 9, 30, tzinfo=UTC)
    assert (
        "<dt>Advice sought</dt><dd>Sam Adviser, Named nurse (02 Jun 2026 10:30): "
        "Share today; consent need not be sought.</dd>"
    ) in bare(html)


def test_half_filled_advice_names_each_missing_part_and_an_unreadable_time(
    pages: Pages,
) -> None:
    contact_id = pages.add_contact(contact_doc("advice-2"))
    missing = post_form(pages, contact_id, **{"advice_sought.name": "Sam Adviser"})
    assert missing.status_code == 422
    assert "Say when the advice was sought" in missing.text
    assert "Record what they advised" in missing.text
    unreadable = post_form(
        pages,
        contact_id,
        **{
            "advice_sought.name": "Sam Adviser",
            "advice_sought.sought_at": "this morning",
            "advice_sought.advice": "Share.",
        },
    )
    assert unreadable.status_code == 422
    assert re.search(
        r'id="err-advice_sought.sought_at"><span class="nhsuk-u-visually-hidden">Error: </span>'
        r"Enter the date and time, like 03/03/2026 09:45",
        unreadable.text,
    )
    assert 'value="this morning"' in unreadable.text
    assert pages.service.store.get_decisions(contact_id) == []


def test_a_lado_concern_needs_its_criteria_and_then_goes_to_the_lado(pages: Pages) -> None:
    contact_id = pages.add_contact(contact_doc("lado-1"))
    refused = post_form(pages, contact_id, concerns_person_working_with_children="yes")
    assert refused.status_code == 422
    assert "Choose which of the LADO criteria the concern meets" in refused.text
    html = confirmation_of(
        pages,
        post_form(
            pages,
            contact_id,
            concerns_person_working_with_children="yes",
            lado_criteria=["not_suitable", "made-up"],
        ),
    )
    assert "<dt>LADO criteria</dt><dd>Has behaved, or may have, in a way that suggests" in bare(
        html
    )
    (decision,) = pages.service.store.get_decisions(contact_id)
    assert [c.value for c in decision.lado_criteria] == ["not_suitable"]
    routes = {r.referral.route for r in pages.service.store.list_referrals(contact_id=contact_id)}
    assert Route.LADO in routes


def test_lado_criteria_ticked_without_the_lado_box_are_questioned(pages: Pages) -> None:
    contact_id = pages.add_contact(contact_doc("lado-2"))
    response = post_form(pages, contact_id, lado_criteria=["harmed_child"])
    assert response.status_code == 422
    assert "LADO criteria are chosen: confirm the concern is about someone" in response.text
    assert 'name="lado_criteria" value="harmed_child" checked' in response.text


def test_an_unanswered_share_question_does_not_ask_for_the_fuller_reason_of_not_sharing(
    pages: Pages,
) -> None:
    contact_id = pages.add_contact(contact_doc("unanswered-3"))
    form = sharing_form(
        token_for(contact_id), decision_id_in(open_form(pages, contact_id)), reasons="Worried."
    )
    del form["share"]
    response = pages.post(contact_id, form)
    assert response.status_code == 422
    assert "Choose yes or no" in response.text
    assert "at least 10 words" not in response.text
    assert 'id="err-escalated_to"' not in response.text


OWN_WORDING = PHONE_ONLY_NIGHTS.replace(
    'postcodes = ["ZZ1"]\n\n[authorities.nightborough.routes.front_door]',
    'postcodes = ["ZZ1"]\nfront_door_name = "Children and Families Hub"\n'
    'threshold_url = "https://nightborough.example/thresholds"\n\n'
    "[authorities.nightborough.levels.3]\n"
    'title = "children in need of targeted support"\n'
    'descriptor = "Night Borough\'s own words for level 3"\n\n'
    "[authorities.nightborough.routes.front_door]",
)


def test_the_form_shows_the_authoritys_own_level_titles_and_threshold_document(
    make_pages: Callable[..., Pages],
) -> None:
    pages = make_pages(authorities=OWN_WORDING)
    html = open_form(pages, pages.add_contact(contact_doc("wording-1")))
    assert "3 – Children in need of targeted support" in html
    assert "Night Borough&#39;s own words for level 3" in html
    assert "4 – Acute needs" in html  # a level the authority does not reword keeps ours
    assert 'href="https://nightborough.example/thresholds"' in html
    assert "3 – Complex needs" not in html


def test_the_referral_carries_the_authoritys_level_title_and_front_door_name(
    make_pages: Callable[..., Pages],
) -> None:
    pages = make_pages(authorities=OWN_WORDING)
    record(pages, pages.add_contact(contact_doc("wording-2")))
    (stored,) = pages.service.store.list_referrals(contact_id="wording-2")
    content = pages.service.referral_content(stored.referral.id)
    assert content is not None
    assert content.level_text == "Level 3: children in need of targeted support"
    assert "Children and Families Hub (Children's services front door)" in content.headline
    assert "Level 3: children in need of targeted support" in content.headline
