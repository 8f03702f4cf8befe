"""The referral email: a plain-text body a duty social worker reads in a minute, and the
referral document (PDF) attached, both laid out from the same referral dataset.

The subject carries only the referral id, so mail logs and inbox lists show no patient data;
so does the attachment's file name. The Message-ID is derived from the idempotency key, so a
receiver can drop a repeat. A cancellation carries no personal data and no document.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime

from plugin_core.contract import ReferralDetails
from plugin_core.formats.referral_content import ReferralContent, referral_content
from plugin_core.formats.referral_document import referral_pdf, referral_text
from plugin_core.model import Destination, Referral, ReferralAction
from plugin_core.rules.escalate import SafeguardingLead


def content_for(
    referral: Referral,
    destination: Destination,
    details: ReferralDetails | None,
    *,
    trust_name: str = "",
    safeguarding: SafeguardingLead | None = None,
) -> ReferralContent:
    """The referral's dataset from what the service holds; parts it lacks are left empty."""
    return referral_content(
        referral,
        contact=details.contact if details else None,
        assessment=details.assessment if details else None,
        decision=details.decision if details else None,
        destination=destination,
        trust_name=trust_name,
        safeguarding=safeguarding,
    )


def build_message(
    referral: Referral,
    destination: Destination,
    details: ReferralDetails | None,
    *,
    sender: str,
    trust_name: str = "",
    safeguarding: SafeguardingLead | None = None,
) -> EmailMessage:
    message = EmailMessage()
    urgency = "URGENT " if referral.urgent else ""
    if referral.amends:
        change = "CANCELLED" if referral.action is ReferralAction.CANCEL else "UPDATED"
        message["Subject"] = f"{urgency}{change}: safeguarding referral {referral.amends}"
        message["In-Reply-To"] = message["References"] = f"<{referral.original_key}@thinkfamily>"
    else:
        message["Subject"] = f"{urgency}Safeguarding referral {referral.id}"
    message["From"] = sender
    message["To"] = destination.address
    message["Date"] = format_datetime(referral.created_at)
    message["Message-ID"] = f"<{referral.idempotency_key}@thinkfamily>"
    message["X-ThinkFamily-Idempotency-Key"] = referral.idempotency_key
    content = content_for(
        referral, destination, details, trust_name=trust_name, safeguarding=safeguarding
    )
    attach = details is not None and referral.action is not ReferralAction.CANCEL
    closing = ["Please acknowledge by replying, quoting the referral number."]
    if attach:
        closing.insert(0, "The referral document (PDF) attached says the same.")
    message.set_content(referral_text(content) + "\n" + "\n".join(closing) + "\n")
    if attach:
        message.add_attachment(
            referral_pdf(content),
            maintype="application",
            subtype="pdf",
            filename=f"referral-{referral.id}.pdf",
        )
    return message
