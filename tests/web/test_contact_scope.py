"""A unit member opens only the contacts of their own wards and teams, whichever page or API
call they type the id into: every route about one contact checks, not only the worklist.

The route test walks the served app, so a route added later that takes a contact or referral id
without the check fails it.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning
from starlette.routing import Route

from adapters.api.routes import api_routes
from adapters.api.scope import Caller
from adapters.web.signin_settings import Role
from plugin_core.http import build_app
from plugin_core.service.scope import REFUSED_KIND

from .conftest import (
    IDENTIFIERS,
    SATURDAY_NIGHT,
    Person,
    SessionPages,
    contact_doc,
    sharing_form,
    token_for,
)
from .test_form_pages import PHONE_ONLY_NIGHTS, decision_id_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

TOKEN = "contact-scope-test-token-0123456789abcdef"
OTHER_WARD = "w9-1"
OWN_WARD = "w7-1"
ID_PARAM = re.compile(r"\{(contact_id|referral_id)(:\w+)?\}")


def on_ward(contact_id: str, location: str, **changes: Any) -> dict[str, Any]:
    encounter = {"id": f"e-{contact_id}", "kind": "inpatient", "location": location}
    return contact_doc(contact_id) | {"encounter": encounter} | changes


@dataclass
class Wards:
    pages: SessionPages
    referral_id: str
    ward7: Person

    def snapshot(self) -> tuple[Any, ...]:
        service = self.pages.service
        (referral,) = service.referrals(contact_id=OTHER_WARD)
        return (
            [d.id for d in service.decisions(OTHER_WARD)],
            service.household_answers(OTHER_WARD),
            service.phone_calls(self.referral_id),
            referral.status,
        )

    def refusals(self) -> list[Any]:
        return self.pages.service.audit_entries(kind=REFUSED_KIND)


@pytest.fixture
def wards(
    make_session_pages: Callable[..., SessionPages], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Wards]:
    """A contact on ward 9 with a referral waiting for a phone call, one on ward 7, and a
    member of ward 7 signed in."""
    pages = make_session_pages(authorities=PHONE_ONLY_NIGHTS, now=SATURDAY_NIGHT)
    monkeypatch.setenv(pages.service.config.api_token_env, TOKEN)
    pages.add_contact(on_ward(OTHER_WARD, "ward-9/bay 2/bed 4"))
    pages.add_contact(on_ward(OWN_WARD, "ward-7", household=None))
    lead = pages.person(Role.SAFEGUARDING_LEAD, subject="lead-1")
    form = lead.client.get(f"/form/{OTHER_WARD}").text
    data = sharing_form("", decision_id_in(form), level_of_need="4") | {"csrf": lead.csrf}
    made = lead.client.post(f"/form/{OTHER_WARD}", data=data, follow_redirects=False)
    assert made.status_code == 303, made.text
    (referral,) = pages.service.referrals(contact_id=OTHER_WARD)
    ward7 = pages.person(Role.UNIT_MEMBER, units=("ward-7",), subject="ward-7-nurse")
    yield Wards(pages, referral.referral.id, ward7)


def one_contact_routes(app: Starlette) -> list[tuple[str, str]]:
    """Every (path template, method) the served app answers that names one contact."""
    found = []
    for route in app.routes:
        if isinstance(route, Route) and ID_PARAM.search(route.path):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                found.append((route.path, method))
    return found


def address(template: str, wards: Wards) -> str:
    def filled(match: re.Match[str]) -> str:
        is_contact = match.group(1) == "contact_id"
        return quote(OTHER_WARD if is_contact else wards.referral_id, safe="")

    path = ID_PARAM.sub(filled, template)
    return path if path.startswith("/api/") else f"{path}?referral={wards.referral_id}"


def test_every_route_naming_one_contact_refuses_a_caller_outside_its_ward(wards: Wards) -> None:
    service = wards.pages.service
    routes = one_contact_routes(build_app(service))
    families = {path.split("/")[1] for path, _ in routes}
    assert {"form", "household", "call", "api"} <= families
    # The API's caller here may see ward 7 only: the same routes, built for that caller.
    limited = Caller("ward-7-system", frozenset({"ward-7"}))
    scoped_app = Starlette(routes=api_routes(service, limited))
    scoped = TestClient(scoped_app)
    scoped_routes = set(one_contact_routes(scoped_app))
    before = wards.snapshot()
    for path, method in routes:
        url = address(path, wards)
        if path.startswith("/api/"):
            assert (path, method) in scoped_routes, f"{method} {path} is not an API route"
            answer = scoped.request(
                method, url, headers={"Authorization": f"Bearer {TOKEN}"}, json={}
            )
            assert answer.status_code == 403, (method, path, answer.text[:200])
            issue = answer.json()["issue"][0]
            assert issue["code"] == "forbidden"
            assert issue["diagnostics"] == "you do not have access to this patient's record"
        else:
            data = {"csrf": wards.ward7.csrf, "referral": wards.referral_id}
            body = {"data": data} if method == "POST" else {}
            answer = wards.ward7.client.request(method, url, follow_redirects=False, **body)
            assert answer.status_code == 403, (method, path, answer.text[:200])
            assert "You do not have access to this patient&#39;s record." in answer.text
        for value in IDENTIFIERS:
            assert value not in answer.text
    assert wards.snapshot() == before
    refusals = wards.refusals()
    assert len(refusals) == len(routes)
    assert {(e.actor, e.subject) for e in refusals} == {
        ("ward-7-nurse", OTHER_WARD),
        ("ward-7-system", OTHER_WARD),
    }
    for entry in refusals:
        assert set(json.loads(entry.details)) == {"where", "reason"}
        for value in IDENTIFIERS:
            assert value not in entry.details


def test_a_ward_member_opens_every_page_of_a_contact_on_their_own_ward(wards: Wards) -> None:
    ward9 = wards.pages.person(Role.UNIT_MEMBER, units=("ward-9",), subject="ward-9-nurse")
    assert ward9.client.get(f"/form/{OTHER_WARD}").status_code == 200
    assert ward9.client.get(f"/household/{OTHER_WARD}").status_code == 200
    call = ward9.client.get(f"/call/{OTHER_WARD}?referral={wards.referral_id}")
    assert call.status_code == 200, call.text[:200]
    assert wards.ward7.client.get(f"/household/{OWN_WARD}").status_code == 200
    assert wards.refusals() == []


def test_leads_clinicians_and_the_signed_link_open_a_contact_on_any_ward(wards: Wards) -> None:
    pages = wards.pages
    for person in (
        pages.person(Role.SAFEGUARDING_LEAD, subject="lead-2"),
        pages.person(Role.CLINICIAN, subject="clinician-1"),
    ):
        assert person.client.get(f"/form/{OTHER_WARD}").status_code == 200
    linked = pages.anonymous().get(f"/form/{OTHER_WARD}?t={token_for(OTHER_WARD)}")
    assert linked.status_code == 200
    # The link names its one contact, whoever's browser opens it: another id is refused.
    wrong = wards.ward7.client.get(f"/form/{OWN_WARD}?t={token_for(OTHER_WARD)}")
    assert wrong.status_code == 403
    host = pages.anonymous().get(
        f"/api/contacts/{OTHER_WARD}", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert host.status_code == 200 and host.json()["id"] == OTHER_WARD
    assert wards.refusals() == []


def test_a_ward_member_with_no_ward_named_opens_no_contact(wards: Wards) -> None:
    nobody = wards.pages.person(Role.UNIT_MEMBER, units=(), subject="no-ward")
    assert nobody.client.get(f"/form/{OWN_WARD}").status_code == 403
    assert nobody.client.get(f"/household/{OWN_WARD}").status_code == 403


def test_an_unknown_contact_is_not_found_for_a_ward_member(wards: Wards) -> None:
    assert wards.ward7.client.get("/form/no-such-contact").status_code == 404
    assert wards.refusals() == []
