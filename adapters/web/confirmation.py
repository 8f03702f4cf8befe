"""The confirmation: what was recorded, the referrals made and, first, any call to make now."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from adapters.web.render import render
from adapters.web.views import who
from adapters.web.wording import (
    CONSENT,
    ESCALATION_KINDS,
    LADO_CRITERIA,
    LAWFUL_BASIS,
    LEVELS,
    ROUTES,
)
from plugin_core.model import (
    Channel,
    Decision,
    DecisionEscalation,
    Destination,
    FirstContact,
    Prompt,
    Referral,
)

_LONDON = ZoneInfo("Europe/London")
_CHANNELS = {
    Channel.FHIR: "Sent electronically",
    Channel.HL7: "Sent electronically",
    Channel.EMAIL: "Sent by secure email",
    Channel.PHONE: "Phone now",
}


@dataclass(frozen=True, slots=True)
class Sent:
    """One referral with where it goes now and, when a call is needed, what to say."""

    referral: Referral
    destination: Destination
    call_now: Prompt | None


@dataclass(frozen=True, slots=True)
class CallView:
    who: str
    phones: list[tuple[str, str]]
    """Each number as dialled (no spaces) and as shown."""
    summary: str
    detail: str
    link: str = ""
    """The page to record the call on, when the caller can give one."""


@dataclass(frozen=True, slots=True)
class ReferralRow:
    route: str
    authority: str
    priority: str
    how: str


def confirmation_page(
    contact: FirstContact,
    decision: Decision,
    sent: Sequence[Sent],
    authority_names: Mapping[str, str],
    escalations: Sequence[DecisionEscalation] = (),
    call_link: str = "",
    user: object = None,
) -> str:
    """``call_link`` is the call page's address without the referral id, which is added;
    ``user`` the signed-in person, when there is one."""
    return render(
        "confirmation.html",
        who=who(contact),
        calls=[_call(s, call_link) for s in sent if s.call_now is not None],
        details=details(decision, escalations),
        referrals=[
            ReferralRow(
                ROUTES[s.destination.route],
                _authority_name(s, authority_names),
                "Urgent" if s.referral.urgent else "Routine",
                "Phone now"
                if s.call_now is not None
                else _CHANNELS.get(s.destination.channel, "Sent electronically"),
            )
            for s in sent
        ],
        user=user,
    )


def details(decision: Decision, escalations: Sequence[DecisionEscalation]) -> list[tuple[str, str]]:
    """The decision as term and description, in the order the form asked."""
    rows = [
        ("Share information", "Yes" if decision.share else "No"),
        ("Level of need", _level_text(decision.level_of_need)),
        ("Reasons", decision.reasons),
    ]
    if decision.share:
        rows += [
            ("What is shared", decision.what_shared),
            ("Lawful basis", _label(LAWFUL_BASIS, decision.lawful_basis)),
            ("Consent", _label(CONSENT, decision.consent)),
        ]
        if decision.consent_not_sought_reason:
            rows.append(("Why consent was not sought", decision.consent_not_sought_reason))
        if decision.consent_basis_confirmed:
            rows.append(("Consent as the basis", "Confirmed after reading why it is rarely right"))
    if decision.lado_criteria:
        chosen = [label for c, label in LADO_CRITERIA if c in decision.lado_criteria]
        rows.append(("LADO criteria", "; ".join(chosen)))
    if decision.no_action_override_reason:
        rows.append(("Reason for not referring", decision.no_action_override_reason))
    rows += [(ESCALATION_KINDS[e.kind], _lead_text(e)) for e in escalations]
    advice = decision.advice_sought
    if advice is not None:
        adviser = ", ".join(part for part in (advice.name, advice.role) if part)
        when = _london(advice.sought_at) if advice.sought_at else ""
        said = f"{adviser} ({when}): {advice.advice}" if when else f"{adviser}: {advice.advice}"
        rows.append(("Advice sought", said))
    rows.append(("Recorded", _london(decision.decided_at)))
    return rows


def _london(when: datetime) -> str:
    return when.astimezone(_LONDON).strftime("%d %b %Y %H:%M")


def _lead_text(escalation: DecisionEscalation) -> str:
    lead = escalation.lead
    return ", ".join(part for part in (lead.name, lead.role, lead.contact) if part)


def _label(options: Sequence[tuple[object, str]], value: object) -> str:
    return next((label for key, label in options if key == value), "—")


def _level_text(level: int | None) -> str:
    for n, name, meaning in LEVELS:
        if n == level:
            return f"{n} – {name}: {meaning}"
    return "—"


def _authority_name(sent: Sent, names: Mapping[str, str]) -> str:
    if sent.destination.authority is not None:
        return sent.destination.authority.name
    if sent.referral.authority_id:
        return names.get(sent.referral.authority_id, sent.referral.authority_id)
    return sent.destination.label or "—"


def _call(sent: Sent, call_link: str = "") -> CallView:
    prompt = sent.call_now
    assert prompt is not None
    return CallView(
        who=ROUTES[sent.destination.route],
        phones=[(phone.replace(" ", ""), phone) for phone in sent.destination.phones],
        summary=prompt.summary,
        detail=prompt.detail,
        link=f"{call_link}{sent.referral.id}" if call_link else "",
    )
