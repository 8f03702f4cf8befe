"""How templates become pages: joined lines, and a stylesheet the CSP allows by its hash."""

from __future__ import annotations

import base64
import hashlib
import re

from adapters.web.html import security_headers
from adapters.web.pages import refused_page
from adapters.web.render import JoinLines, environment


def test_template_line_breaks_vanish_beside_tags_and_become_one_space_between_words() -> None:
    source = "<p>\n  <strong>Household</strong> Ask who lives here,\n  and record it.\n</p>\n"
    joined = JoinLines(environment()).preprocess(source, "t.html")
    assert joined == "<p><strong>Household</strong> Ask who lives here, and record it.</p>"


def test_text_typed_by_the_nurse_keeps_its_own_line_breaks() -> None:
    template = environment().from_string("<textarea>\n  {{ text }}\n</textarea>")
    assert template.render(text="one\ntwo") == "<textarea>one\ntwo</textarea>"


def test_the_inline_stylesheet_is_the_one_the_content_security_policy_allows() -> None:
    html = refused_page("the link has expired")
    (style,) = re.findall(r"<style>(.*?)</style>", html, re.S)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    csp = security_headers(())["Content-Security-Policy"]
    assert f"style-src 'sha256-{digest}'" in csp
    assert "script-src 'none'" in csp and "<script" not in html
