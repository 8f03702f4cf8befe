"""The pages themselves: the form, the confirmation and the refusals, as HTML text.

Built from the stored contact and assessment; every value is escaped. Wording is short: a
nurse between patients should take in the page in seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote
from zoneinfo import ZoneInfo

from adapters.web.form import FormInput
from adapters.web.html import esc, join
from adapters.web.wording import (
    CONSENT,
    CONSENT_BASIS_WARNING,
    ESCALATION_KINDS,
    FIELD_LABELS,
    INDICATORS,
    LADO_CRITERIA,
    LAWFUL_BASIS,
    LEVELS,
    RELATIONSHIPS,
    ROUTES,
    SEVERITY,
    lives_with,
)
from plugin_core.model import (
    Assessment,
    Authority,
    Channel,
    Child,
    Decision,
    DecisionEscalation,
    Destination,
    FirstContact,
    Prompt,
    Referral,
)
from plugin_core.rules.children import member_for
from plugin_core.rules.decide import FieldProblem

Problems = Mapping[str, Sequence[str]]
_LONDON = ZoneInfo("Europe/London")


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def group_problems(problems: Iterable[FieldProblem]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for problem in problems:
        reasons = grouped.setdefault(problem.field, [])
        if problem.reason not in reasons:
            reasons.append(problem.reason)
    return grouped


def form_action(contact_id: str) -> str:
    """Relative, so the form also works behind a proxy that adds a path prefix."""
    return f"./{quote(contact_id, safe='')}"


# Parts shown on both pages ---------------------------------------------------------------------


def patient_line(contact: FirstContact) -> str:
    p = contact.patient
    parts = [p.name or f"Patient {p.id}"]
    if p.nhs_number:
        parts.append(f"NHS number {p.nhs_number}")
    if p.birth_date:
        parts.append(f"born {p.birth_date.strftime('%d %b %Y')}")
    return f'<p class="who">{esc(" · ".join(parts))}</p>'


def prompt_box(prompt: Prompt) -> str:
    word = SEVERITY[prompt.severity]
    detail = f"<p>{esc(prompt.detail)}</p>" if prompt.detail else ""
    return (
        f'<div class="prompt sev-{esc(prompt.severity.value)}">'
        f'<p><span class="sev">{esc(word)}</span><strong>{esc(prompt.summary)}</strong></p>'
        f"{detail}</div>"
    )


def _child_name(child: Child, contact: FirstContact, index: int) -> str:
    if child.unborn:
        return "Unborn child"
    member = member_for(child.ref, contact.household)
    return child.name or (member.name if member else None) or f"Child {index}"


def _child_age(child: Child) -> str:
    if child.unborn:
        return "not yet born"
    if child.age is None:
        return "age not known"
    return "under 1" if child.age == 0 else f"{child.age}"


def household_section(contact: FirstContact, assessment: Assessment) -> str:
    if not assessment.household_known:
        body = (
            "<p><strong>Household not recorded.</strong> Ask who lives with the patient, "
            "including any children, and record it.</p>"
        )
        if assessment.children:
            body += _children_table(contact, assessment.children)
        return f"<h2>Household</h2>{body}"
    if not assessment.children:
        return "<h2>Household</h2><p>No children under 18 recorded.</p>"
    return f"<h2>Household: children under 18</h2>{_children_table(contact, assessment.children)}"


def _children_table(contact: FirstContact, children: Sequence[Child]) -> str:
    rows = join(
        f"<tr><td>{esc(_child_name(c, contact, i))}</td><td>{esc(_child_age(c))}</td>"
        f"<td>{esc(RELATIONSHIPS[c.relationship])}</td>"
        f"<td>{esc('—' if c.unborn else lives_with(c.lives_with_patient))}</td></tr>"
        for i, c in enumerate(children, start=1)
    )
    return (
        '<table><thead><tr><th scope="col">'
        'Child</th><th scope="col">Age</th><th scope="col">Relationship</th>'
        f'<th scope="col">Home</th></tr></thead><tbody>{rows}</tbody></table>'
    )


def indicators_section(assessment: Assessment) -> str:
    kinds = list(dict.fromkeys(i.kind for i in assessment.indicators))
    if not kinds:
        return "<h2>In the patient's record</h2><p>No risk indicators recorded.</p>"
    items = join(f"<li>{esc(INDICATORS[k])}</li>" for k in kinds)
    return f"<h2>In the patient's record</h2><ul>{items}</ul>"


# The decision form ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FormPage:
    contact: FirstContact
    assessment: Assessment
    directory: Sequence[Authority]
    form: FormInput
    first_view: bool
    problems: Problems
    earlier_decisions: int
    trust_lead: str = ""
    """The trust's safeguarding lead as the form names them: alerted when a referral is overridden."""


def _error(name: str, problems: Problems) -> str:
    return join(
        f'<span class="error" id="err-{esc(name)}">{esc(sentence(reason))}</span>'
        for reason in problems.get(name, ())
    )


def _described(name: str, problems: Problems, hint: bool = False) -> str:
    ids = ([f"hint-{name}"] if hint else []) + ([f"err-{name}"] if name in problems else [])
    invalid = ' aria-invalid="true"' if name in problems else ""
    return (f' aria-describedby="{esc(" ".join(ids))}"' if ids else "") + invalid


def _hint(name: str, text: str) -> str:
    return f'<span class="hint" id="hint-{esc(name)}">{esc(text)}</span>' if text else ""


def _radios(
    name: str,
    legend: str,
    options: Sequence[tuple[str, str, str]],
    selected: str,
    problems: Problems,
    hint: str = "",
) -> str:
    items = join(
        f'<label class="option"><input type="radio" name="{esc(name)}" value="{esc(value)}"'
        f"{' checked' if value == selected else ''}{_described(name, problems, bool(hint))}>"
        f"{esc(label)}{_more(more)}</label>"
        for value, label, more in options
    )
    css = "group invalid" if name in problems else "group"
    return (
        f'<fieldset class="{css}" id="f-{esc(name)}"><legend>{esc(legend)}</legend>'
        f"{_hint(name, hint)}{_error(name, problems)}{items}</fieldset>"
    )


def _more(text: str) -> str:
    return f' <span class="hint">{esc(text)}</span>' if text else ""


def _textarea(name: str, label: str, value: str, problems: Problems, hint: str = "") -> str:
    css = "group invalid" if name in problems else "group"
    return (
        f'<div class="{css}" id="f-{esc(name)}"><label class="field" for="in-{esc(name)}">'
        f"{esc(label)}</label>{_hint(name, hint)}{_error(name, problems)}"
        f'<textarea id="in-{esc(name)}" name="{esc(name)}" rows="3"'
        f"{_described(name, problems, bool(hint))}>{esc(value)}</textarea></div>"
    )


def _input(
    name: str, label: str, value: str, problems: Problems, *, kind: str = "text", hint: str = ""
) -> str:
    css = "group invalid" if name in problems else "group"
    return (
        f'<div class="{css}" id="f-{esc(name)}"><label class="field" for="in-{esc(name)}">'
        f"{esc(label)}</label>{_hint(name, hint)}{_error(name, problems)}"
        f'<input type="{esc(kind)}" id="in-{esc(name)}" name="{esc(name)}" value="{esc(value)}"'
        f"{_described(name, problems, bool(hint))}></div>"
    )


def _checkbox(name: str, label: str, checked: bool, problems: Problems, value: str = "yes") -> str:
    return (
        f'<label class="option"><input type="checkbox" name="{esc(name)}" value="{esc(value)}"'
        f"{' checked' if checked else ''}{_described(name, problems)}>{esc(label)}</label>"
    )


def _authority_field(page: FormPage) -> str:
    match = page.assessment.authority
    if match.authority is not None:
        return (
            '<div class="group"><span class="field"><strong>Local authority:</strong> '
            f"{esc(match.authority.name)}</span></div>"
        )
    selected = page.form.values.get("authority_id", "")
    hint = "The address does not tell us which council is responsible. Choose one."
    if match.candidates:
        options = [(a.id, a.name, "") for a in match.candidates]
        return _radios(
            "authority_id", "Local authority", options, selected, page.problems, hint=hint
        )
    css = "group invalid" if "authority_id" in page.problems else "group"
    choices = join(
        f'<option value="{esc(a.id)}"{" selected" if a.id == selected else ""}>{esc(a.name)}</option>'
        for a in page.directory
    )
    return (
        f'<div class="{css}" id="f-authority_id"><label class="field" for="in-authority_id">'
        f"Local authority</label>{_hint('authority_id', hint)}"
        f"{_error('authority_id', page.problems)}"
        f'<select id="in-authority_id" name="authority_id"'
        f"{_described('authority_id', page.problems, True)}>"
        f'<option value="">Choose a local authority</option>{choices}</select></div>'
    )


def _children_field(page: FormPage) -> str:
    children = page.assessment.children
    if not children:
        return ""
    boxes = join(
        _checkbox(
            "child_refs",
            f"{_child_name(c, page.contact, i)} ({_child_age(c)})",
            page.first_view or c.ref in page.form.child_refs,
            page.problems,
            value=c.ref,
        )
        for i, c in enumerate(children, start=1)
    )
    css = "group invalid" if "child_refs" in page.problems else "group"
    return (
        f'<fieldset class="{css}" id="f-child_refs"><legend>Children concerned</legend>'
        f"{_error('child_refs', page.problems)}{boxes}</fieldset>"
    )


def _consent_basis_field(page: FormPage) -> str:
    name = "consent_basis_confirmed"
    css = "group invalid" if name in page.problems else "group"
    return (
        f'<div class="{css}" id="f-{name}">{_hint(name, CONSENT_BASIS_WARNING)}'
        f"{_error(name, page.problems)}"
        + _checkbox(
            name,
            "I chose consent as the basis and have read why it is rarely right",
            page.form.flag(name),
            page.problems,
        )
        + "</div>"
    )


def _lado_field(page: FormPage) -> str:
    name = "lado_criteria"
    boxes = join(
        _checkbox(name, label, c.value in page.form.lado_criteria, page.problems, value=c.value)
        for c, label in LADO_CRITERIA
    )
    css = "group invalid" if name in page.problems else "group"
    return (
        f'<fieldset class="{css}" id="f-{name}"><legend>LADO: what the person who works with '
        f"children has done</legend>{_hint(name, 'Only for a LADO concern. Tick all that apply.')}"
        f"{_error(name, page.problems)}{boxes}</fieldset>"
    )


def _escalation_field(page: FormPage) -> str:
    v, p = page.form.values, page.problems
    css = "group invalid" if "escalated_to" in p else "group"
    return (
        f'<fieldset class="{css}" id="f-escalated_to"><legend>Safeguarding lead you told</legend>'
        + _hint(
            "escalated_to",
            "Needed when you do not share at level 3 or 4: the lead you escalated this to.",
        )
        + _error("escalated_to", p)
        + _input("escalated_to.name", "Lead's name", v.get("escalated_to.name", ""), p)
        + _input("escalated_to.role", "Lead's role", v.get("escalated_to.role", ""), p)
        + _input(
            "escalated_to.contact", "Lead's phone or email", v.get("escalated_to.contact", ""), p
        )
        + "</fieldset>"
    )


def _advice_field(page: FormPage) -> str:
    v, p = page.form.values, page.problems
    return (
        '<fieldset class="group" id="f-advice_sought"><legend>Advice you sought (optional)</legend>'
        + _hint("advice_sought", "If you asked someone before deciding: who, when, what they said.")
        + _input("advice_sought.name", "Adviser's name", v.get("advice_sought.name", ""), p)
        + _input("advice_sought.role", "Adviser's role", v.get("advice_sought.role", ""), p)
        + _input(
            "advice_sought.sought_at",
            "When you asked",
            v.get("advice_sought.sought_at", ""),
            p,
            kind="datetime-local",
        )
        + _textarea(
            "advice_sought.advice", "What they advised", v.get("advice_sought.advice", ""), p
        )
        + "</fieldset>"
    )


def _referrer_field(page: FormPage) -> str:
    v, p = page.form.values, page.problems
    fields = (
        ("decided_by.name", "text"),
        ("decided_by.role", "text"),
        ("decided_by.team", "text"),
        ("decided_by.phone", "tel"),
        ("decided_by.email", "email"),
    )
    return (
        '<fieldset class="group" id="f-decided_by"><legend>How children\'s services reach you'
        "</legend>"
        + _hint("decided_by", "Sent with a referral, so the duty worker can call you back.")
        + join(
            _input(name, FIELD_LABELS[name], v.get(name, ""), p, kind=kind) for name, kind in fields
        )
        + "</fieldset>"
    )


def _override_hint(page: FormPage) -> str:
    named = f", {page.trust_lead}," if page.trust_lead else ""
    return (
        "Only when not sharing despite level 4, immediate danger or a LADO concern. "
        f"The trust's safeguarding lead{named} will be alerted."
    )


def _summary(problems: Problems) -> str:
    if not problems:
        return ""
    items = join(
        f'<li><a href="#f-{esc(name)}">{esc(FIELD_LABELS.get(name, name))}: {esc(reason)}</a></li>'
        for name, reasons in problems.items()
        for reason in reasons
    )
    return (
        '<div class="summary" role="alert" aria-labelledby="summary-title">'
        f'<h2 id="summary-title">Check the form</h2><ul>{items}</ul></div>'
    )


def form_page(page: FormPage) -> str:
    v = page.form.values
    p = page.problems
    earlier = (
        f'<p class="note">A decision has already been recorded for this contact '
        f"({page.earlier_decisions}). Record another only if something has changed.</p>"
        if page.earlier_decisions
        else ""
    )
    prompts = join(prompt_box(pr) for pr in page.assessment.prompts) or (
        "<p>No prompts for this contact.</p>"
    )
    fields = join(
        [
            _radios(
                "share",
                "Share information with children's services?",
                [("yes", "Yes, share", ""), ("no", "No, do not share", "")],
                v.get("share", ""),
                p,
                hint="Record your decision and reasons either way.",
            ),
            _radios(
                "level_of_need",
                "Level of need",
                [(str(n), f"{n} – {name}", meaning) for n, name, meaning in LEVELS],
                v.get("level_of_need", ""),
                p,
            ),
            _textarea("reasons", "Reasons for your decision", v.get("reasons", ""), p),
            _children_field(page),
            _authority_field(page),
            _textarea(
                "what_shared",
                "What is shared",
                v.get("what_shared", ""),
                p,
                hint="Only what is needed, for example the reason for admission and the children's ages.",
            ),
            _radios(
                "lawful_basis",
                "Lawful basis for sharing",
                [(b.value, label, "") for b, label in LAWFUL_BASIS],
                v.get("lawful_basis", ""),
                p,
            ),
            _consent_basis_field(page),
            _radios(
                "consent",
                "Consent to share",
                [(c.value, label, "") for c, label in CONSENT],
                v.get("consent", ""),
                p,
            ),
            _textarea(
                "consent_not_sought_reason",
                "Why consent was not sought",
                v.get("consent_not_sought_reason", ""),
                p,
                hint="For example, asking would put a child at risk of significant harm.",
            ),
            '<fieldset class="group" id="f-immediate_danger"><legend>Urgent concerns</legend>'
            + _error("immediate_danger", p)
            + _checkbox(
                "immediate_danger",
                "A child is in immediate danger (the police are called now)",
                page.form.flag("immediate_danger"),
                p,
            )
            + _error("concerns_person_working_with_children", p)
            + _checkbox(
                "concerns_person_working_with_children",
                "The concern is about someone who works with children (LADO)",
                page.form.flag("concerns_person_working_with_children"),
                p,
            )
            + "</fieldset>",
            _lado_field(page),
            _textarea(
                "no_action_override_reason",
                "Reason for not referring",
                v.get("no_action_override_reason", ""),
                p,
                hint=_override_hint(page),
            ),
            _escalation_field(page),
            _advice_field(page),
            _referrer_field(page),
        ]
    )
    return (
        "<h1>Think Family</h1>"
        f"{patient_line(page.contact)}{_summary(p)}{earlier}"
        f"<h2>Prompts</h2>{prompts}"
        f"{household_section(page.contact, page.assessment)}{indicators_section(page.assessment)}"
        f'<h2>Your decision</h2><form method="post" action="{esc(form_action(page.contact.id))}"'
        " novalidate>"
        f'<input type="hidden" name="t" value="{esc(page.form.token)}">'
        f'<input type="hidden" name="decision_id" value="{esc(page.form.decision_id)}">'
        f'{fields}<button type="submit">Record decision</button></form>'
    )


# The confirmation ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sent:
    """One referral with where it goes now and, when a call is needed, what to say."""

    referral: Referral
    destination: Destination
    call_now: Prompt | None


def confirmation_page(
    contact: FirstContact,
    decision: Decision,
    sent: Sequence[Sent],
    authority_names: Mapping[str, str],
    escalations: Sequence[DecisionEscalation] = (),
) -> str:
    calls = join(_call_box(s) for s in sent if s.call_now is not None)
    shared = "Yes" if decision.share else "No"
    rows = [
        ("Share information", shared),
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
        who = ", ".join(part for part in (advice.name, advice.role) if part)
        when = (
            advice.sought_at.astimezone(_LONDON).strftime("%d %b %Y %H:%M")
            if advice.sought_at
            else ""
        )
        rows.append(
            (
                "Advice sought",
                f"{who} ({when}): {advice.advice}" if when else f"{who}: {advice.advice}",
            )
        )
    rows.append(("Recorded", decision.decided_at.astimezone(_LONDON).strftime("%d %b %Y %H:%M")))
    details = join(f"<dt>{esc(k)}</dt><dd>{esc(val)}</dd>" for k, val in rows)
    if sent:
        referral_rows = join(
            f"<tr><td>{esc(ROUTES[s.destination.route])}</td>"
            f"<td>{esc(_authority_name(s, authority_names))}</td>"
            f"<td>{'Urgent' if s.referral.urgent else 'Routine'}</td>"
            f"<td>{esc(_how(s))}</td></tr>"
            for s in sent
        )
        referrals = (
            '<h2>Referrals made</h2><table><thead><tr><th scope="col">Route</th>'
            '<th scope="col">Authority</th><th scope="col">Priority</th>'
            f'<th scope="col">How</th></tr></thead><tbody>{referral_rows}</tbody></table>'
        )
    else:
        referrals = "<h2>Referrals made</h2><p>None: no information is shared.</p>"
    return (
        "<h1>Decision recorded</h1>"
        f"{patient_line(contact)}{calls}<dl>{details}</dl>{referrals}"
        "<p>You can close this page.</p>"
    )


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


def _how(sent: Sent) -> str:
    if sent.call_now is not None:
        return "Phone now"
    return _CHANNELS[sent.destination.channel]


_CHANNELS = {
    Channel.FHIR: "Sent electronically",
    Channel.HL7: "Sent electronically",
    Channel.EMAIL: "Sent by secure email",
    Channel.PHONE: "Phone now",
}


def _call_box(sent: Sent) -> str:
    prompt = sent.call_now
    assert prompt is not None
    numbers = (
        join(
            f'<a class="number" href="tel:{esc(phone.replace(" ", ""))}">{esc(phone)}</a>'
            for phone in sent.destination.phones
        )
        or '<span class="number">Use the number in your safeguarding policy</span>'
    )
    who = ROUTES[sent.destination.route]
    return (
        f'<div class="call" role="alert"><h2>Phone now: {esc(who)}</h2>{numbers}'
        f"<p>{esc(prompt.summary)}</p><p>{esc(prompt.detail)}</p></div>"
    )


# Refusals ------------------------------------------------------------------------------------


def refused_page(reason: str) -> str:
    return (
        "<h1>This link cannot be used</h1>"
        f"<p>{esc(sentence(reason))}.</p>"
        "<p>Open the Think Family link again from the patient's record.</p>"
    )


def not_found_page() -> str:
    return (
        "<h1>Contact not found</h1><p>There is no Think Family record for this contact. "
        "Open the link again from the patient's record.</p>"
    )


def unavailable_page(reason: str) -> str:
    return (
        "<h1>The Think Family form is not available</h1>"
        f"<p>{esc(reason)}.</p><p>Tell your IT service desk. Meanwhile follow your "
        "safeguarding policy and record your decision in the patient's record.</p>"
    )
