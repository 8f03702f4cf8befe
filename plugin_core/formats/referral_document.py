"""The referral as a reader sees it: the sections of the dataset, as email text and as a PDF.

Both come from the same sections of one :class:`ReferralContent`, so the email and the
document attached to it cannot say different things. The order is the one a front-door worker
reads in: how urgent and where, the children, the adult, the concern and its risk indicators,
what is shared and on what basis, who referred and how to reach them, the reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from plugin_core.formats.referral_content import (
    LADO_TEXT,
    NOT_GIVEN,
    NOT_RECORDED,
    ReferralContent,
    day,
    london,
)
from plugin_core.model import Consent, ReferralAction

DOCUMENT_TYPE = "application/pdf"


@dataclass(frozen=True, slots=True)
class Section:
    """One part of the referral: label-value rows, a table (headings first), or free text."""

    title: str
    rows: tuple[tuple[str, str], ...] = ()
    table: tuple[tuple[str, ...], ...] = ()
    text: str = ""


def title(content: ReferralContent) -> str:
    """The document's first line: what it is and how urgent."""
    if content.action is ReferralAction.CANCEL:
        return "Safeguarding referral CANCELLED"
    prefix = {"Immediate danger": "IMMEDIATE DANGER: ", "Urgent": "URGENT "}.get(
        content.urgency_text, ""
    )
    kind = "update to a safeguarding referral" if content.amends else "safeguarding referral"
    amended = " (amended)" if content.amended_at else ""
    words = f"{prefix}{kind}{amended}"
    if content.withdrawn:
        return f"WITHDRAWN, never sent: {words}"
    if content.cancelled_at is not None:
        return f"CANCELLED: {words}"
    return words[:1].upper() + words[1:]


def sections(content: ReferralContent) -> list[Section]:
    """The referral in reading order; a cancellation carries no personal data."""
    head = Section(
        content.headline,
        rows=(
            ("Referral", content.referral_id),
            ("Made", f"{london(content.made_at)} (London time)"),
            ("Acknowledge by", f"{london(content.due_by)} (London time)"),
        ),
    )
    found = [head, *_called_off(content)]
    if content.amends:
        verb = "cancels" if content.action is ReferralAction.CANCEL else "updates"
        found.append(
            Section(
                "What has changed",
                rows=(
                    ("This message", f"{verb} referral {content.amends}"),
                    ("Why", content.change_reasons or NOT_GIVEN),
                ),
            )
        )
    if content.amended_at is not None:
        found.append(
            _changed(
                "Amended",
                content.amended_at,
                content.amendment_reasons,
                ("Update reference", content.amendment_reference),
                "This shows the referral as it now stands, with its latest update.",
            )
        )
    if content.action is not ReferralAction.CANCEL:
        found += [
            _children(content),
            _adult(content),
            _concern(content),
            _sharing(content),
        ]
    found += [_referrer(content), *_safeguarding(content), _reference(content)]
    return found


def _called_off(content: ReferralContent) -> list[Section]:
    """First after the headline, so nobody acts on a referral that no longer stands."""
    if content.withdrawn:
        return [_withdrawn(content)]
    if content.cancelled_at is None:
        return []
    return [
        _changed(
            "Cancelled",
            content.cancelled_at,
            content.cancellation_reasons,
            ("Cancellation reference", content.cancellation_reference),
            "The authority was told this referral is cancelled. Do not act on it.",
        )
    ]


def _changed(
    what: str,
    at: datetime,
    why: str,
    reference: tuple[str, str] | None,
    text: str,
    *,
    by: str = "",
) -> Section:
    """When, by whom (when known), why and under what reference a referral was changed since
    it was made."""
    rows = [(what, f"{london(at)} (London time)")]
    rows += [("By", by)] if by else []
    rows += [("Why", why or NOT_GIVEN)]
    rows += [reference] if reference is not None else []
    return Section(what, rows=tuple(rows), text=text)


def _withdrawn(content: ReferralContent) -> Section:
    """When, by whom and why; a referral withdrawn before these were kept points to the audit
    trail, which has them."""
    if content.withdrawn_at is None:
        return Section(
            "Withdrawn",
            text="This referral was withdrawn before it was sent. The authority never"
            " received it. The audit trail records who withdrew it and why.",
        )
    return _changed(
        "Withdrawn",
        content.withdrawn_at,
        _withdrawal_why(content),
        None,
        "This referral was withdrawn before it was sent. The authority never received it."
        " Do not act on it.",
        by=content.withdrawn_by or NOT_RECORDED,
    )


def _withdrawal_why(content: ReferralContent) -> str:
    """The reasons given; for a referral withdrawn by a later decision, that decision too."""
    if content.replaced_by_decision is None:
        return content.withdrawal_reasons
    reasons = content.withdrawal_reasons or NOT_GIVEN
    return f"Replaced by a later decision ({content.replaced_by_decision}): {reasons}"


def _children(content: ReferralContent) -> Section:
    if not content.children:
        return Section("Children concerned", text="No child is named in this referral.")
    table = [("Name", "Date of birth", "Relationship", "Lives", "Address")]
    table += [
        (c.name_text, c.born_text, c.relationship_text, c.lives_text, c.address_text)
        for c in content.children
    ]
    return Section("Children concerned", table=tuple(table))


def _adult(content: ReferralContent) -> Section:
    adult = content.adult
    if adult is None:
        return Section("Adult", text="The adult's details are not available to ThinkFamily.")
    return Section(
        "Adult",
        rows=(
            ("Name", adult.name or NOT_RECORDED),
            ("NHS number", adult.nhs_number or NOT_RECORDED),
            ("Date of birth", day(adult.birth_date) if adult.birth_date else NOT_RECORDED),
            ("Address", adult.postcode or NOT_RECORDED),
        ),
    )


def _concern(content: ReferralContent) -> Section:
    rows = [
        ("Concern", content.concern or NOT_GIVEN),
        ("Level of need", content.level_text),
        ("Urgency", content.urgency_text),
    ]
    indicators = [i.line for i in content.indicators] or ["none recorded"]
    rows += [("Risk indicators" if n == 0 else "", line) for n, line in enumerate(indicators)]
    rows += [
        ("LADO criteria" if n == 0 else "", LADO_TEXT[c])
        for n, c in enumerate(content.lado_criteria)
    ]
    return Section("Concern", rows=tuple(rows))


def _sharing(content: ReferralContent) -> Section:
    rows = [
        ("What is shared", content.what_shared or NOT_GIVEN),
        ("Lawful basis", content.basis_text),
        ("Consent", content.consent_text),
    ]
    if content.consent is Consent.NOT_SOUGHT or content.consent_not_sought_reason:
        rows.append(("Why not sought", content.consent_not_sought_reason or NOT_GIVEN))
    return Section("What is shared and on what basis", rows=tuple(rows))


def _referrer(content: ReferralContent) -> Section:
    who = content.referrer
    if who is None:
        return Section("Referrer", rows=(("Organisation", content.trust_name or NOT_RECORDED),))
    unreachable = (
        "No direct phone or email was given: call the trust's safeguarding team (below)."
        if not who.reachable and content.safeguarding is not None
        else ""
    )
    return Section(
        "Referrer: how to reach them",
        rows=(
            ("Name", who.name or NOT_GIVEN),
            ("Role", who.role or NOT_GIVEN),
            ("Team", who.team or NOT_GIVEN),
            ("Organisation", who.organisation or content.trust_name or NOT_GIVEN),
            ("Direct phone", who.phone or NOT_GIVEN),
            ("Email", who.email or NOT_GIVEN),
            ("Staff id", who.id or NOT_GIVEN),
        ),
        text=unreachable,
    )


def _safeguarding(content: ReferralContent) -> list[Section]:
    """Who answers for the referral when the referrer cannot: off shift when the authority
    calls back, or no phone or email given."""
    lead = content.safeguarding
    if lead is None:
        return []
    rows = [("Name", lead.name), ("Role", lead.role or NOT_GIVEN)]
    rows += [("Phone", lead.phone)] if lead.phone else []
    rows += [("Email", lead.email)] if lead.email else []
    return [
        Section(
            "If the referrer cannot be reached",
            rows=tuple(rows),
            text=f"Contact the safeguarding team at {content.trust_name or 'the trust'}.",
        )
    ]


def _reference(content: ReferralContent) -> Section:
    return Section(
        "ThinkFamily reference",
        rows=(("Reference", content.reference),),
        text="Quote this reference when you acknowledge the referral; a repeat of it is the "
        "same referral.",
    )


# Email text ---------------------------------------------------------------------------------


def referral_text(content: ReferralContent) -> str:
    """The sections as plain text for an email body."""
    lines = [title(content)]
    for section in sections(content):
        lines += ["", section.title]
        lines += [
            f"  {label}: {value}" if label else f"    {value}" for label, value in section.rows
        ]
        if section.table:
            headings, *rows = section.table
            for row in rows:
                lines.append(f"  {row[0]}")
                lines += [f"    {h}: {v}" for h, v in zip(headings[1:], row[1:], strict=True)]
        if section.text:
            lines.append(f"  {section.text}")
    return "\n".join(lines) + "\n"


# PDF ----------------------------------------------------------------------------------------


def referral_pdf(content: ReferralContent) -> bytes:
    """The referral document as a PDF (see :mod:`plugin_core.formats.referral_pdf`)."""
    # fpdf2 and its font library take a second or more to import: only when a document is made.
    from plugin_core.formats.referral_pdf import render

    return render(content, title(content), sections(content))
