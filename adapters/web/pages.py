"""The form and the refusals, rendered from their templates.

The form is built from the stored contact and assessment and what the nurse entered; the
templates escape every value. Wording is short: a nurse between patients should take in the page
in seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from adapters.web.form import FormInput
from adapters.web.render import render
from adapters.web.views import child_age, child_name, child_rows, indicator_words, prompt_view, who
from adapters.web.wording import (
    CONSENT,
    CONSENT_BASIS_WARNING,
    FIELD_LABELS,
    LADO_CRITERIA,
    LAWFUL_BASIS,
    LEVELS,
)
from plugin_core.model import Assessment, Authority, FirstContact
from plugin_core.rules.decide import FieldProblem
from plugin_core.rules.household_entry import needs_household
from plugin_core.rules.levels import DEFAULT_THRESHOLD, Threshold, capitalised

Problems = Mapping[str, Sequence[str]]

SHARE_OPTIONS = (("yes", "Yes, share", ""), ("no", "No, do not share", ""))
LEVEL_OPTIONS = tuple((str(n), f"{n} – {name}", meaning) for n, name, meaning in LEVELS)
BASIS_OPTIONS = tuple((b.value, label, "") for b, label in LAWFUL_BASIS)
CONSENT_OPTIONS = tuple((c.value, label, "") for c, label in CONSENT)
LADO_OPTIONS = tuple((c.value, label) for c, label in LADO_CRITERIA)


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
    thresholds: Mapping[str, Threshold] = field(default_factory=dict)
    """Each authority's own level-of-need wording, by authority id."""
    user: object = None
    """The signed-in person, when there is one: the header offers sign-out."""


def level_options(threshold: Threshold) -> tuple[tuple[str, str, str], ...]:
    """The level-of-need choices in the authority's words (ours where it gives none)."""
    return tuple(
        (str(n), f"{n} – {capitalised(w.title)}", w.descriptor)
        for n, w in enumerate(threshold.levels, start=1)
    )


def _threshold(page: FormPage) -> Threshold:
    """The wording of the authority the contact is matched to, or the one the nurse chose."""
    known = page.assessment.authority.authority
    chosen = known.id if known is not None else page.form.values.get("authority_id", "")
    return page.thresholds.get(chosen, DEFAULT_THRESHOLD)


def _override_hint(trust_lead: str) -> str:
    named = f", {trust_lead}," if trust_lead else ""
    return (
        "Only when not sharing despite level 4, immediate danger or a LADO concern. "
        f"The trust's safeguarding lead{named} will be alerted."
    )


def household_url(page: FormPage) -> str:
    """The household question, offered while the ``record-household`` prompt stands."""
    if not needs_household(page.assessment):
        return ""
    query = f"?{urlencode({'t': page.form.token})}" if page.form.token else ""
    return f"../household/{quote(page.contact.id, safe='')}{query}"


def form_page(page: FormPage) -> str:
    contact, assessment, match = page.contact, page.assessment, page.assessment.authority
    threshold = _threshold(page)
    concerned = [
        (
            c.ref,
            f"{child_name(c, contact, i)} ({child_age(c)})",
            page.first_view or c.ref in page.form.child_refs,
        )
        for i, c in enumerate(assessment.children, start=1)
    ]
    return render(
        "form.html",
        who=who(contact),
        problems=page.problems,
        field_labels=FIELD_LABELS,
        earlier_decisions=page.earlier_decisions,
        prompts=[prompt_view(p) for p in assessment.prompts],
        household_known=assessment.household_known,
        household_url=household_url(page),
        children=child_rows(contact, assessment.children),
        indicators=indicator_words(assessment),
        action=form_action(contact.id),
        form=page.form,
        share_options=SHARE_OPTIONS,
        level_options=level_options(threshold),
        threshold_url=threshold.threshold_url,
        basis_options=BASIS_OPTIONS,
        consent_options=CONSENT_OPTIONS,
        lado_options=LADO_OPTIONS,
        concerned=concerned,
        authority=match.authority.name if match.authority is not None else "",
        candidates=[(a.id, a.name, "") for a in match.candidates],
        directory=[(a.id, a.name) for a in page.directory],
        consent_basis_warning=CONSENT_BASIS_WARNING,
        override_hint=_override_hint(page.trust_lead),
        user=page.user,
    )


# Refusals ------------------------------------------------------------------------------------


def refused_page(
    reason: str, title: str = "Link not valid", *, about_link: bool = True, user: object = None
) -> str:
    """A refusal; ``about_link`` says to open the link again from the record. With ``user``
    (signed in), the header offers sign-out, to try another account."""
    return render("refused.html", title=title, reason=reason, about_link=about_link, user=user)


def not_found_page() -> str:
    return render("not_found.html")


def unavailable_page(reason: str) -> str:
    return render("unavailable.html", reason=reason)
