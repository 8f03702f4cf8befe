"""What to say on a phone referral, built from the referral's own content.

A nurse ringing a front door or the police reads it out in order: who is calling, the adult
and the contact, the children and the concern, the level and urgency, then what is needed
back (a reference and what happens next). Short lines, one thought each, so they can be read
out at speed; nothing is said that the written referral does not carry.
"""

from __future__ import annotations

from dataclasses import dataclass

from plugin_core.formats.referral_content import ReferralContent, day, london
from plugin_core.model import Route


@dataclass(frozen=True, slots=True)
class ScriptLine:
    """One step of the call: a heading the nurse scans for, and the words to say."""

    step: str
    words: str


def _caller(content: ReferralContent) -> str:
    who = content.referrer
    parts = [p for p in (who.name, who.role, who.team) if who and p] if who else []
    trust = content.trust_name or "the hospital"
    named = ", ".join(parts)
    return f"My name is {named}, calling from {trust}." if named else f"I am calling from {trust}."


def _adult(content: ReferralContent) -> str:
    adult = content.adult
    if adult is None:
        return "It is about an adult patient of ours."
    bits = [adult.name or "an adult patient"]
    if adult.birth_date is not None:
        bits.append(f"born {day(adult.birth_date)}")
    if adult.nhs_number:
        bits.append(f"NHS number {adult.nhs_number}")
    if adult.postcode:
        bits.append(f"postcode {adult.postcode}")
    return f"It is about {', '.join(bits)}, seen by us on {london(content.made_at)}."


def _children(content: ReferralContent) -> str:
    if not content.children:
        return "No child is named in the referral."
    named = "; ".join(
        f"{c.name_text}, {c.born_text}, {c.relationship_text.lower()}, lives {c.lives_text}"
        for c in content.children
    )
    return f"The children concerned: {named}."


def _why(content: ReferralContent) -> str:
    if content.route is Route.POLICE:
        return "I am calling about a child in immediate danger."
    urgency = content.urgency_text.lower()
    article = "an" if urgency[:1] in "aeiou" else "a"
    route = content.headline_route
    return (
        f"I am making {article} {urgency} referral to the {route[:1].lower()}{route[1:]}"
        f" for {content.authority_text}."
    )


def _need(content: ReferralContent) -> str:
    if content.route is Route.POLICE or content.immediate_danger:
        return "A child is in immediate danger. I need the police to attend now."
    return (
        "Please confirm you have taken the referral and give me a reference number,"
        " and tell me what happens next."
    )


def _stop(content: ReferralContent) -> list[ScriptLine]:
    if content.withdrawn:
        return [ScriptLine("Do not call", "This referral was withdrawn. Do not make this call.")]
    if content.cancelled_at is not None:
        when = london(content.cancelled_at)
        return [
            ScriptLine(
                "Do not call", f"This referral was cancelled on {when}. Do not make this call."
            )
        ]
    return []


def _reach(content: ReferralContent) -> str:
    """The referrer's own phone or email, then the trust's safeguarding team for when they
    cannot be reached."""
    own = ", ".join(content.referrer_reach)
    lead = content.safeguarding
    team = ""
    if lead is not None and lead.phone:
        team = f"call our safeguarding team on {lead.phone}."
    elif lead is not None and lead.email:
        team = f"email our safeguarding team at {lead.email}."
    if own and team:
        return f"You can reach me on {own}. If I am not there, {team}"
    if own:
        return f"You can reach me on {own}."
    if team:
        return f"To reach us, {team}"
    return ""


def call_script(content: ReferralContent) -> tuple[ScriptLine, ...]:
    """The lines to read out, in order; a referral called off starts by saying not to call."""
    lines = [
        *_stop(content),
        ScriptLine("Who you are", _caller(content)),
        ScriptLine("Why you are calling", _why(content)),
        ScriptLine("The adult", _adult(content)),
        ScriptLine("The children", _children(content)),
        ScriptLine("The concern", content.concern or "Not written down: say it in your words."),
        ScriptLine("The level", f"{content.level_text}. {content.urgency_text}."),
        ScriptLine("What you need", _need(content)),
    ]
    reach = _reach(content)
    if reach:
        lines.append(ScriptLine("How to reach you", reach))
    lines.append(
        ScriptLine("Our reference", f"Our reference for this referral is {content.reference}.")
    )
    return tuple(lines)
