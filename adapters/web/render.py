"""Jinja2 templates for the pages, escaping every value by default.

The templates live in ``templates/`` beside this module and ship in the wheel. Autoescape is on
for every template, so a value from the record can never become markup. The stylesheets are
files the service serves itself (``static_files``); the CSP allows no inline style and no
script.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from jinja2.ext import Extension

from adapters.web.static_files import stylesheet_urls


def sentence(text: str) -> str:
    """First letter capital: the rules speak in clauses, a page shows them as sentences."""
    return text[:1].upper() + text[1:]


class JoinLines(Extension):
    """Joins each template's lines before it is compiled.

    Indentation and line breaks are for the reader of the template, not the page: a break
    beside a tag or a ``{{ }}``/``{% %}`` delimiter adds nothing, a break between two words
    becomes one space. Values are put in later, so text a nurse typed keeps its own breaks.
    """

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        joined = ""
        for line in source.splitlines():
            line = line.strip()
            if not line:
                continue
            if joined and not (joined.endswith((">", "}")) or line.startswith(("<", "{"))):
                joined += " "
            joined += line
        return joined


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("adapters.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=[JoinLines],
    )
    env.filters["sentence"] = sentence
    env.globals["stylesheets"] = stylesheet_urls()
    return env


def render(template: str, **context: Any) -> str:
    """The page ``template`` filled from ``context``, every value escaped."""
    return environment().get_template(template).render(**context)
