"""How templates become pages: joined lines, and stylesheets the service serves itself."""

from __future__ import annotations

import re

from adapters.web.form import FormInput
from adapters.web.html import security_headers
from adapters.web.pages import refused_page
from adapters.web.render import JoinLines, environment
from adapters.web.static_files import assets, stylesheet_urls


def test_template_line_breaks_vanish_beside_tags_and_become_one_space_between_words() -> None:
    source = "<p>\n  <strong>Household</strong> Ask who lives here,\n  and record it.\n</p>\n"
    joined = JoinLines(environment()).preprocess(source, "t.html")
    assert joined == "<p><strong>Household</strong> Ask who lives here, and record it.</p>"


def test_text_typed_by_the_nurse_keeps_its_own_line_breaks() -> None:
    template = environment().from_string("<textarea>\n  {{ text }}\n</textarea>")
    assert template.render(text="one\ntwo") == "<textarea>one\ntwo</textarea>"


def test_pages_link_only_stylesheets_the_service_serves_and_allow_no_inline_style() -> None:
    html = refused_page("the link has expired")
    linked = re.findall(r'<link rel="stylesheet" href="([^"]+)">', html)
    assert linked == stylesheet_urls() and len(linked) == 2
    assert all(href.removeprefix("/static/") in assets() for href in linked)
    assert "<style" not in html and " style=" not in html
    csp = security_headers(())["Content-Security-Policy"]
    assert "style-src 'self';" in csp
    assert "script-src 'none'" in csp and "<script" not in html


def test_the_date_input_has_a_labelled_field_for_day_month_and_year() -> None:
    template = environment().from_string(
        '{% import "fields.html" as f with context %}{{ f.date_input("dob", "Date of birth") }}'
    )
    entered = FormInput(values={"dob.year": "2015"})
    html = template.render(problems={"dob": ["enter a real date"]}, form=entered)
    for part, label in (("day", "Day"), ("month", "Month"), ("year", "Year")):
        assert (
            f'<label class="nhsuk-label nhsuk-date-input__label" for="in-dob.{part}">{label}'
            in html
        )
        assert f'id="in-dob.{part}" name="dob.{part}"' in html
    assert 'value="2015"' in html
    assert '<span class="nhsuk-u-visually-hidden">Error: </span>Enter a real date' in html
    assert 'aria-describedby="hint-dob err-dob"' in html
