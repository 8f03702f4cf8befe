"""The referral email: a plain-text body a duty social worker reads in a minute.

The subject carries only the referral id, so mail logs and inbox lists show no patient data.
The Message-ID is derived from the idempotency key, so a receiver can drop a repeat.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime

from plugin_core.contract import ReferralDetails
from plugin_core.model import Destination, Referral
from plugin_core.rules.clock import LONDON

_ROUTE_WORDS = {
    "front_door": "Children's services referral",
    "out_of_hours": "Out-of-hours referral (emergency duty team)",
    "early_help": "Early help request",
    "lado": "LADO referral (concern about someone who works with children)",
    "police": "Police notification",
}


def build_message(
    referral: Referral, destination: Destination, details: ReferralDetails | None, *, sender: str
) -> EmailMessage:
    message = EmailMessage()
    urgency = "URGENT " if referral.urgent else ""
    if referral.amends:
        change = "CANCELLED" if referral.action.value == "cancel" else "UPDATED"
        message["Subject"] = f"{urgency}{change}: safeguarding referral {referral.amends}"
        message["In-Reply-To"] = message["References"] = f"<{referral.original_key}@thinkfamily>"
    else:
        message["Subject"] = f"{urgency}Safeguarding referral {referral.id}"
    message["From"] = sender
    message["To"] = destination.address
    message["Date"] = format_datetime(referral.created_at)
    message["Message-ID"] = f"<{referral.idempotency_key}@thinkfamily>"
    message["X-ThinkFamily-Idempotency-Key"] = referral.idempotency_key
    lines = []
    if referral.amends:
        verb = "is cancelled" if referral.action.value == "cancel" else "is updated"
        lines += [f"Referral {referral.amends} {verb}.", f"Why: {referral.reasons}", ""]
    lines += [
        _ROUTE_WORDS.get(referral.route.value, "Referral"),
        f"Referral: {referral.id}",
        f"Level of need: {referral.level_of_need or 'not given'}",
        f"Urgent: {'yes' if referral.urgent else 'no'}",
        f"Made: {referral.created_at.astimezone(LONDON):%d %B %Y %H:%M} (London time)",
        "",
    ]
    if details is not None:
        patient = details.contact.patient
        decision = details.decision
        lines += [
            "Adult",
            f"  Name: {patient.name or 'not recorded'}",
            f"  NHS number: {patient.nhs_number or 'not recorded'}",
            f"  Date of birth: {patient.birth_date.isoformat() if patient.birth_date else 'not recorded'}",
            f"  Postcode: {patient.postcode or 'not recorded'}",
            "",
            "Children",
        ]
        for child in details.assessment.children:
            age = (
                "unborn"
                if child.unborn
                else (f"age {child.age}" if child.age is not None else "age not recorded")
            )
            lives = {
                True: "lives with the adult",
                False: "does not live with the adult",
                None: "living arrangement not known",
            }[child.lives_with_patient]
            lines.append(f"  {child.ref}: {child.relationship.value}, {age}, {lives}")
        lines += [
            "",
            "Decision",
            f"  Made by: {decision.decided_by.id} {decision.decided_by.role}".rstrip(),
            f"  Reasons: {decision.reasons}",
            f"  What is shared: {decision.what_shared}",
            f"  Lawful basis: {decision.lawful_basis.value.replace('_', ' ') if decision.lawful_basis else 'not given'}",
            f"  Consent: {decision.consent.value.replace('_', ' ') if decision.consent else 'not recorded'}",
        ]
        if decision.consent_not_sought_reason:
            lines.append(f"  Why consent was not sought: {decision.consent_not_sought_reason}")
    lines += ["", "Please acknowledge by replying, quoting the referral number."]
    message.set_content("\n".join(lines))
    return message
