"""Values from the record and from the nurse are escaped wherever a page shows them."""

from __future__ import annotations

from urllib.parse import quote

from .conftest import Pages, contact_doc, sharing_form, token_for
from .test_form_pages import confirmation_of, decision_id_in, open_form

HOSTILE = "<script>alert(1)</script> \"&<>'"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt; &#34;&amp;&lt;&gt;&#39;"
CONTACT = 'esc-"&<>'


def test_html_special_characters_are_escaped_on_every_page_that_shows_them(
    pages: Pages,
) -> None:
    doc = contact_doc(CONTACT, child_name=HOSTILE)
    doc["patient"]["name"] = HOSTILE
    pages.add_contact(doc)
    token = token_for(CONTACT)
    form = open_form(pages, CONTACT)
    entered = {
        "reasons": f"Worried about the children at home. {HOSTILE}",
        "what_shared": HOSTILE,
        "advice_sought.name": HOSTILE,
        "advice_sought.sought_at": "03/03/2026 09:00",
        "advice_sought.advice": HOSTILE,
    }
    again = pages.post(
        CONTACT, sharing_form(token, decision_id_in(form), **entered, level_of_need="")
    )
    assert again.status_code == 422
    done = pages.post(CONTACT, sharing_form(token, decision_id_in(form), **entered))
    shown = {
        # patient line, household table, children-concerned label
        "form": (form, 3),
        # the same, plus the reasons, what is shared, the adviser and the advice as entered
        "form shown again": (again.text, 7),
        # patient line, reasons, what is shared, and the adviser and advice in one line
        "confirmation": (confirmation_of(pages, done), 5),
    }
    for name, (html, places) in shown.items():
        assert "<script" not in html, name
        assert HOSTILE not in html and CONTACT not in html, name
        assert html.count(ESCAPED) == places, name
    assert f'action="./{quote(CONTACT, safe="")}"' in form
