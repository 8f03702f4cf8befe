"""Any id the service issues opens by its address: an HL7 contact's id holds ``|`` and may hold
``/``, and a host's id may hold spaces and ``%``. Every route taking a contact id accepts it
percent-encoded as one segment, and every link the pages and the card make encodes it so."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from adapters.web.signin_settings import Role
from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.links import make_link
from plugin_core.service import Service
from plugin_core.settings.load import load_trust_config
from plugin_core.store import open_store
from tests.peers.service import ServiceProcess, write_trust_config
from tests.service.conftest import TEST_AUTHORITIES, decision_doc

from .conftest import (
    NURSE,
    SATURDAY_NIGHT,
    SECRET,
    SECRET_ENV,
    Person,
    SessionPages,
    contact_doc,
    token_for,
    web_toml,
)
from .test_form_pages import PHONE_ONLY_NIGHTS

TOKEN = "contact-ids-test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
IDS = [
    "hl7:NORTHGEN|MSG/001",
    "hl7:NORTH GEN|A/B//C",
    "ward 7 bed 3",
    "50% sure",
]
SERVED_IDS = ["hl7:NORTHGEN|MSG/001", "50% sure%2F not a slash"]
"""Starlette's test client decodes a path twice (``%252F`` arrives as ``/``); a served
process decodes it once, as a browser's request is decoded."""


def hrefs(html: str) -> set[str]:
    return set(re.findall(r'(?:href|action)="([^"]*)"', html))


@pytest.fixture
def lead_pages(
    make_session_pages: Callable[..., SessionPages], monkeypatch: pytest.MonkeyPatch
) -> tuple[SessionPages, Person]:
    pages = make_session_pages(authorities=PHONE_ONLY_NIGHTS, now=SATURDAY_NIGHT)
    monkeypatch.setenv(pages.service.config.api_token_env, TOKEN)
    return pages, pages.person(Role.SAFEGUARDING_LEAD, subject="lead-1")


@pytest.mark.parametrize("contact_id", IDS)
def test_every_route_opens_a_contact_whose_id_holds_slashes_bars_spaces_or_percent(
    lead_pages: tuple[SessionPages, Person], contact_id: str
) -> None:
    pages, lead = lead_pages
    doc = contact_doc(contact_id) | {"household": None}
    doc["encounter"] = {"id": "e-1", "kind": "inpatient", "location": "ward-7"}
    pages.add_contact(doc)
    one = quote(contact_id, safe="")
    client = lead.client

    form = client.get(f"/form/{one}")
    assert form.status_code == 200, form.text[:200]
    assert {f"./{one}", f"../household/{one}"} <= hrefs(form.text)
    household = client.get(f"/household/{one}")
    assert household.status_code == 200
    assert {f"./{one}", f"../form/{one}"} <= hrefs(household.text)
    worklist = client.get("/worklist")
    assert {f"/form/{one}", f"/household/{one}"} <= hrefs(worklist.text)

    api: Any = pages.anonymous()
    found = api.get(f"/api/contacts/{one}", headers=AUTH)
    assert found.status_code == 200 and found.json()["id"] == contact_id
    answer = {"id": "h-1", "recorded_by": {"id": "nurse-1"}, "outcome": "no_children"}
    answer["pregnant"] = False
    saved = api.post(f"/api/contacts/{one}/household", json=answer, headers=AUTH)
    assert saved.status_code == 201, saved.text
    decided = api.post(f"/api/contacts/{one}/decision", json=decision_doc(level=4), headers=AUTH)
    assert decided.status_code == 201, decided.text
    (referral,) = pages.service.referrals(contact_id=contact_id)
    rid = referral.referral.id

    confirmation = client.get(f"/form/{one}?recorded={referral.referral.decision_id}")
    assert confirmation.status_code == 200
    assert f"../call/{one}?referral={rid}" in hrefs(confirmation.text)
    call = client.get(f"/call/{one}?referral={rid}")
    assert call.status_code == 200, call.text[:200]
    assert {f"./{one}", f"../form/{one}"} <= hrefs(call.text)

    # The link a CDS card or a record carries: the same one segment.
    link = make_link("https://tf.example", contact_id, "nurse-1", secret_env=SECRET_ENV)
    assert link.startswith(f"https://tf.example/form/{one}?t=")
    assert client.get(link.removeprefix("https://tf.example")).status_code == 200


@pytest.mark.parametrize("page", ["form", "household"])
def test_sign_in_comes_back_to_the_encoded_address_of_the_page_asked_for(
    lead_pages: tuple[SessionPages, Person], page: str
) -> None:
    pages, _ = lead_pages
    contact_id = "hl7:NORTHGEN|MSG/001"
    pages.add_contact(contact_doc(contact_id))
    asked = f"/{page}/{quote(contact_id, safe='')}"
    sent = pages.anonymous().get(asked, follow_redirects=False)
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/signin?next={quote(asked, safe='')}"


@pytest.mark.integration
def test_a_served_service_opens_ids_holding_an_encoded_slash_or_percent(tmp_path: Path) -> None:
    config = write_trust_config(
        tmp_path / "config", extra_toml=web_toml(), authorities=TEST_AUTHORITIES
    )
    db = f"sqlite:///{tmp_path / 'tf.db'}"
    service = Service(load_trust_config(config), open_store(db), entry_points=False)
    for contact_id in SERVED_IDS:
        service.accept_contact(
            contact_from_dict(contact_doc(contact_id), service.config.code_lists)
        )
    service.close()
    served = ServiceProcess(config, db, tmp_path / "logs", env={SECRET_ENV: SECRET})
    served.start()
    try:
        for contact_id in SERVED_IDS:
            one = quote(contact_id, safe="")
            found = served.api("GET", f"/api/contacts/{one}")
            assert found.status_code == 200, found.text[:200]
            assert found.json()["id"] == contact_id
            form = served.api("GET", f"/form/{one}?t={token_for(contact_id, NURSE)}")
            assert form.status_code == 200, form.text[:200]
            assert f'action="./{one}"' in form.text
    finally:
        served.stop()
