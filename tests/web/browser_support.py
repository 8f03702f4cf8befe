"""The pages in a real browser: Debian's Chromium through Playwright, signing in at the OpenID
provider peer, a screenshot of every page visited and an axe-core check of each.

Screenshots are test artefacts, kept after the run in ``test-artefacts/browser/<test>/``
at the top of the repository (ignored by git), or under ``$THINKFAMILY_TEST_ARTEFACTS`` when
set. axe-core comes from the pinned npm package in ``tests/peers/oidc``; it is added to each
page as a Playwright init script, which the pages' CSP (no script at all) does not govern, so
the pages are checked exactly as served.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page

from tests.peers.oidc_provider import NODE_MODULES, USERS

ROOT = Path(__file__).resolve().parents[2]
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("Chromium is needed for the browser test: install Debian's chromium package")
    return found


def artefact_dir(test_name: str) -> Path:
    """Where one test's screenshots go; emptied first, so a folder shows one run."""
    base = Path(os.environ.get("THINKFAMILY_TEST_ARTEFACTS", ROOT / "test-artefacts"))
    folder = base / "browser" / re.sub(r"[^A-Za-z0-9_.-]+", "-", test_name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class BrowserPages:
    """One browser context (one person) visiting the pages of one running service."""

    context: BrowserContext
    page: Page
    base_url: str
    artefacts: Path
    shots: list[Path] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base_url}{path}"

    def visit(self, path: str, name: str) -> Page:
        """Open ``path``, keep a screenshot and check the page with axe-core."""
        self.page.goto(self.url(path))
        return self.checked(name)

    def checked(self, name: str) -> Page:
        """Screenshot the page as it is now and check it with axe-core."""
        self.screenshot(name)
        assert_accessible(self.page, name)
        return self.page

    def screenshot(self, name: str) -> Path:
        taken = len(list(self.artefacts.glob("*.png")))  # shared by every context of the test
        path = self.artefacts / f"{taken + 1:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True, timeout=15_000)
        self.shots.append(path)
        return path

    def sign_in(self, login: str, target: str = "/") -> Page:
        """Sign in through the provider's own login page, landing on ``target``."""
        self.page.goto(self.url(f"/signin?next={target}"))
        self.page.get_by_label("Username").fill(login)
        self.page.get_by_label("Password").fill(USERS[login])
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(re.compile(re.escape(self.base_url) + ".*"))
        return self.page

    def sign_out(self) -> Page:
        self.page.get_by_role("button", name="Sign out").click()
        self.page.wait_for_url(re.compile(".*/signed-out$"))
        return self.checked("signed-out")

    def csp_reports(self) -> list[str]:
        """What the CSP blocked, but for the frontend's web font: its NHS host is not allowed,
        and the pages are set in Arial."""
        return [
            line
            for line in self.console
            if "Content Security Policy" in line and "Loading the font" not in line
        ]


def open_pages(
    browser: Browser, base_url: str, artefacts: Path, *, phone: bool = False
) -> BrowserPages:
    if not AXE.is_file():
        pytest.fail("run `npm ci` in tests/peers/oidc to install axe-core for the browser tests")
    context = browser.new_context(
        locale="en-GB",
        timezone_id="Europe/London",
        viewport=PHONE if phone else DESKTOP,
        is_mobile=phone,
    )
    context.set_default_timeout(15_000)
    context.set_default_navigation_timeout(15_000)
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    pages = BrowserPages(context, page, base_url.rstrip("/"), artefacts)
    page.on("console", lambda message: pages.console.append(_text(message)))
    return pages


def accessibility_problems(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [v for v in result["violations"] if v.get("impact") in BLOCKING]


def assert_accessible(page: Page, name: str) -> None:
    problems = accessibility_problems(page)
    summary = [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in problems
    ]
    assert not problems, f"{name}: axe-core found {json.dumps(summary)}"


def _text(message: ConsoleMessage) -> str:
    return f"{message.type}: {message.text} (at {message.location.get('url', '')})"
