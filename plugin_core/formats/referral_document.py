"""The referral as a reader sees it: the sections of the dataset, as email text and as a PDF.

Both come from the same sections of one :class:`ReferralContent`, so the email and the
document attached to it cannot say different things. The order is the one a front-door worker
reads in: how urgent and where, the children, the adult, the concern and its risk indicators,
what is shared and on what basis, who referred and how to reach them, the reference.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

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

_FONTS = (
    (
        "LiberationSans-Regular.ttf",
        "LiberationSans-Bold.ttf",
        "/usr/share/fonts/truetype/liberation",
    ),
    ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu"),
    ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf", "/usr/share/fonts/truetype/noto"),
)
"""Unicode fonts looked for, quickest to embed first, for names Helvetica cannot print."""


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
    words = f"{prefix}{kind}"
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
    found = [head]
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
    if content.action is not ReferralAction.CANCEL:
        found += [
            _children(content),
            _adult(content),
            _concern(content),
            _sharing(content),
        ]
    found += [_referrer(content), _reference(content)]
    return found


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
    )


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

_LABEL_WIDTH = 40
_LINE = 5


class _Pdf(FPDF):
    note = "Contains personal data about children and an adult: keep it secure."

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(size=8)
        self.cell(0, 5, f"{self.note}  Page {self.page_no()} of {{nb}}", align="C")


def _font_files() -> tuple[Path, Path] | None:
    for regular, bold, folder in _FONTS:
        paths = Path(folder) / regular, Path(folder) / bold
        if all(p.is_file() for p in paths):
            return paths
    return None


_PUNCTUATION = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def _is_latin1(text: str) -> bool:
    try:
        text.translate(_PUNCTUATION).encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _latin1(text: str) -> str:
    """Text Helvetica can print: accents kept where Latin-1 has them, others plainly marked."""
    if _is_latin1(text):
        return text.translate(_PUNCTUATION)
    out = []
    for char in text.translate(_PUNCTUATION):
        if _is_latin1(char):
            out.append(char)
        else:
            base = unicodedata.normalize("NFKD", char)[:1]
            out.append(base if base.isascii() and base.isprintable() else "?")
    return "".join(out)


def _rows(section: Section) -> list[tuple[str, str]]:
    """A section as label-value rows; a table's rows are named by their first column."""
    rows = list(section.rows)
    if section.table:
        headings, *table = section.table
        rows += [
            (row[0], " · ".join(f"{h}: {v}" for h, v in zip(headings[1:], row[1:], strict=True)))
            for row in table
        ]
    return rows


def referral_pdf(content: ReferralContent) -> bytes:
    """The referral document: A4, the facts in reading order, about a minute to read.

    Helvetica prints Latin-1 text and costs little; a name in any other script needs a Unicode
    font from the system (DejaVu, Liberation or Noto Sans), which is slower to embed. Without
    one, such letters print as "?" and the email text still has them exactly.
    """
    parts = sections(content)
    heading = title(content)
    texts = [heading, *(s.title for s in parts), *(s.text for s in parts)]
    texts += [t for s in parts for row in _rows(s) for t in row]
    pdf = _Pdf(format="A4")
    family = "Helvetica"
    clean: Callable[[str], str] = _latin1
    fonts = None if all(_is_latin1(t) for t in texts) else _font_files()
    if fonts is not None:
        pdf.add_font("Body", "", str(fonts[0]))
        pdf.add_font("Body", "B", str(fonts[1]))
        family, clean = "Body", str
    pdf.set_title(f"Safeguarding referral {content.referral_id}")
    pdf.set_author(clean(content.trust_name or "ThinkFamily"))
    pdf.set_creator("ThinkFamily")
    pdf.set_creation_date(content.made_at)
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    pdf.set_font(family, "B", 16)
    _line(pdf, pdf.epw, 8, clean(heading))
    for number, section in enumerate(parts):
        pdf.ln(2)
        pdf.set_font(family, "B", 12 if number == 0 else 11)
        _line(pdf, pdf.epw, 6, clean(section.title))
        for label, value in _rows(section):
            pdf.set_font(style="B", size=10)
            if pdf.get_string_width(clean(label)) + 2 * pdf.c_margin <= _LABEL_WIDTH:
                pdf.cell(_LABEL_WIDTH, _LINE, clean(label))
            else:  # a long name has a line of its own, its facts below it
                _line(pdf, pdf.epw, _LINE, clean(label))
                pdf.set_x(pdf.l_margin + _LABEL_WIDTH)
            pdf.set_font(style="")
            _line(pdf, pdf.epw - _LABEL_WIDTH, _LINE, clean(value))
        if section.text:
            pdf.set_font(style="", size=10)
            _line(pdf, pdf.epw, _LINE, clean(section.text))
    return bytes(pdf.output())


def _line(pdf: FPDF, width: float, height: float, text: str) -> None:
    """Text on its own line, wrapped only when too long: fpdf2's wrapping costs several times
    a plain cell, and most lines fit."""
    if pdf.get_string_width(text) + 2 * pdf.c_margin <= width:
        pdf.cell(width, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    else:
        pdf.multi_cell(width, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
