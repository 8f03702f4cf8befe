"""The referral document as a PDF, built with fpdf2 from the same sections as the email text.

Imported only when a document is made: fpdf2 and its font library are slow to import.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from plugin_core.formats.referral_content import ReferralContent

if TYPE_CHECKING:
    from plugin_core.formats.referral_document import Section

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


def render(content: ReferralContent, heading: str, parts: Sequence[Section]) -> bytes:
    """The referral document: A4, the facts in reading order, about a minute to read.

    Helvetica prints Latin-1 text and costs little; a name in any other script needs a Unicode
    font from the system (DejaVu, Liberation or Noto Sans), which is slower to embed. Without
    one, such letters print as "?" and the email text still has them exactly. The heading and
    sections come from :mod:`plugin_core.formats.referral_document`, which the email text shares.
    """
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
