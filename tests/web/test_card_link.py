"""The CDS Hooks card links to the signed form when ``[web]`` is configured, and keeps the
configured ``clinician_form_url`` otherwise."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from adapters.fhir.cds.cards import build_cards, form_link
from adapters.fhir.settings import FhirSettings
from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.host.engine import ThinkFamily
from plugin_core.links import check
from plugin_core.settings.config import TrustConfig
from plugin_core.settings.load import load_trust_config
from tests.peers.service import write_trust_config
from tests.service.conftest import TEST_AUTHORITIES

from .conftest import NURSE, SECRET, SECRET_ENV, TUESDAY_MORNING, contact_doc, web_toml

SMART_URL = "https://forms.example.test/think-family"
CONTACT = "fhir:pat-1:enc-1:hook-1"


def trust(tmp_path: Path, extra_toml: str) -> TrustConfig:
    return load_trust_config(
        write_trust_config(tmp_path / "config", extra_toml=extra_toml, authorities=TEST_AUTHORITIES)
    )


def cards_for(config: TrustConfig, user_id: object) -> list[dict[str, object]]:
    contact = contact_from_dict(contact_doc(CONTACT), config.code_lists)
    assessment = ThinkFamily(config, entry_points=False).assess(
        contact, now=TUESDAY_MORNING, present=False
    )
    return build_cards(
        assessment,
        FhirSettings(clinician_form_url=SMART_URL),
        hook_instance="hook-1",
        patient_id="pat-1",
        encounter_id="enc-1",
        signed_form_link=form_link(config, CONTACT, user_id),
    )


def test_with_web_configured_every_card_links_to_the_form_signed_for_the_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    config = trust(tmp_path, web_toml(base_url="https://tf.example.nhs.uk"))
    cards = cards_for(config, NURSE)
    assert cards
    for card in cards:
        (link,) = card["links"]  # type: ignore[misc]
        assert link["type"] == "absolute"
        url = urlsplit(link["url"])
        assert f"{url.scheme}://{url.netloc}" == "https://tf.example.nhs.uk"
        contact_id = unquote(url.path.removeprefix("/form/"))
        assert contact_id == CONTACT
        token = parse_qs(url.query)["t"][0]
        assert check(token, contact_id, secret_env=SECRET_ENV) == NURSE


def test_without_web_the_card_keeps_the_smart_link(tmp_path: Path) -> None:
    config = trust(tmp_path, "")
    (link,) = cards_for(config, NURSE)[0]["links"]  # type: ignore[misc]
    assert link["type"] == "smart" and link["url"] == SMART_URL


def test_without_the_secret_or_the_user_the_card_keeps_the_smart_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = trust(tmp_path, web_toml(base_url="https://tf.example.nhs.uk"))
    monkeypatch.delenv(SECRET_ENV, raising=False)
    assert form_link(config, CONTACT, NURSE) is None
    monkeypatch.setenv(SECRET_ENV, SECRET)
    assert form_link(config, CONTACT, None) is None
    (link,) = cards_for(config, None)[0]["links"]  # type: ignore[misc]
    assert link["type"] == "smart"


def test_a_web_section_changed_after_a_link_was_made_is_checked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    config = trust(tmp_path, web_toml(base_url="https://tf.example.nhs.uk"))
    first = form_link(config, CONTACT, NURSE)
    assert first is not None and first.startswith("https://tf.example.nhs.uk/form/")
    config.sections["web"]["base_url"] = "https://other.example.nhs.uk"
    moved = form_link(config, CONTACT, NURSE)
    assert moved is not None and moved.startswith("https://other.example.nhs.uk/form/")
    config.sections["web"]["base_url"] = "not a url"
    assert form_link(config, CONTACT, NURSE) is None
    other = trust(tmp_path / "other", "")
    assert form_link(other, CONTACT, NURSE) is None
