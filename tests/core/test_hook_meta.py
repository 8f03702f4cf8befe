"""Meta-tests over the hook contract: every hook documented, described and exercised (issue 2).

This file names hooks only through ``hooks.specs``, so the scan for tests that exercise a hook
does not count it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import hooks.specs
from hooks import PROJECT_NAME

from .builders import REPO

TESTS = REPO / "tests"
HOOKS_DOC = REPO / "docs" / "hooks.md"
FIRST_ANSWER = {"parse_contact", "split_messages", "locate_authority", "dispatch"}


def hook_specs() -> list[Callable[..., Any]]:
    marker = f"{PROJECT_NAME}_spec"
    return [
        func
        for name, func in inspect.getmembers(hooks.specs, inspect.isfunction)
        if name.startswith(f"{PROJECT_NAME}_") and hasattr(func, marker)
    ]


SPECS = hook_specs()
SPEC_IDS = [spec.__name__ for spec in SPECS]


# hooks/specs.py -----------------------------------------------------------------


def test_the_contract_declares_the_hooks_the_core_calls() -> None:
    assert len(SPECS) >= 11
    assert {f"{PROJECT_NAME}_{name}" for name in FIRST_ANSWER} <= set(SPEC_IDS)


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_every_hook_has_a_docstring_with_each_param_and_returns(spec: Callable[..., Any]) -> None:
    doc = inspect.getdoc(spec) or ""
    summary = doc.splitlines()[0] if doc else ""
    assert summary.endswith("."), f"{spec.__name__} needs a one-line summary"
    for name in inspect.signature(spec).parameters:
        assert f":param {name}:" in doc, f"{spec.__name__} does not document {name}"
    assert ":returns:" in doc, f"{spec.__name__} does not say what it returns"


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_every_hook_is_documented_in_the_hook_reference(spec: Callable[..., Any]) -> None:
    text = HOOKS_DOC.read_text()
    assert f"### `{spec.__name__}`" in text, f"docs/hooks.md has no section for {spec.__name__}"
    section = text.split(f"### `{spec.__name__}`", 1)[1].split("\n### ", 1)[0]
    for name in inspect.signature(spec).parameters:
        assert f"`{name}`" in section, f"docs/hooks.md does not describe {spec.__name__}({name})"


@pytest.mark.parametrize("spec", SPECS, ids=SPEC_IDS)
def test_every_hook_is_exercised_by_a_test(spec: Callable[..., Any]) -> None:
    this = Path(__file__).resolve()
    found = [
        path
        for path in TESTS.rglob("test_*.py")
        if path.resolve() != this and spec.__name__ in path.read_text()
    ]
    assert found, f"no test outside the meta-tests names {spec.__name__}"


def test_first_answer_hooks_say_so_in_their_docstring() -> None:
    for spec in SPECS:
        says_first = "Stops at the first non-None result" in (spec.__doc__ or "")
        first = spec.__name__.removeprefix(f"{PROJECT_NAME}_") in FIRST_ANSWER
        assert says_first is first, spec.__name__


def test_first_answer_hooks_are_marked_firstresult_for_pluggy() -> None:
    for spec in SPECS:
        opts = getattr(spec, f"{PROJECT_NAME}_spec")
        first = spec.__name__.removeprefix(f"{PROJECT_NAME}_") in FIRST_ANSWER
        assert bool(opts.get("firstresult")) is first, spec.__name__
