"""Signed form links: who and until when, refused when expired, changed, moved or unsigned."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from plugin_core.host.engine import ThinkFamily
from plugin_core.links import (
    LinkExpired,
    LinkTampered,
    NoSecret,
    WrongContact,
    check,
    check_web_settings,
    make_link,
    make_token,
)
from plugin_core.settings.issues import ConfigError
from plugin_core.settings.load import load_trust_config
from tests.peers.service import write_trust_config

from .conftest import NURSE, PATIENT_NAME, PATIENT_NHS, SECRET, SECRET_ENV

KEY = SECRET.encode()
CONTACT = "fhir:pat-1:enc-9:hook-3"


def test_a_fresh_token_names_the_professional_it_was_made_for() -> None:
    token = make_token(CONTACT, NURSE, secret=KEY)
    assert check(token, CONTACT, secret=KEY) == NURSE


def test_a_token_past_its_expiry_is_refused_as_expired() -> None:
    made = time.time() - 3600
    token = make_token(CONTACT, NURSE, timedelta(minutes=30), secret=KEY, now=made)
    with pytest.raises(LinkExpired, match="expired"):
        check(token, CONTACT, secret=KEY)


def test_a_token_is_good_until_the_second_it_expires() -> None:
    token = make_token(CONTACT, NURSE, timedelta(minutes=1), secret=KEY, now=1_000_000.0)
    assert check(token, CONTACT, secret=KEY, now=1_000_059.0) == NURSE
    with pytest.raises(LinkExpired):
        check(token, CONTACT, secret=KEY, now=1_000_060.0)


def _claims(token: str) -> dict[str, object]:
    """The token's claims as anyone holding the link can read them: no key needed."""
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def _encode(claims: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "part", [0, 1, 2, 3], ids=["professional", "expiry", "header", "signature"]
)
def test_a_token_with_any_part_changed_is_refused_as_tampered(part: int) -> None:
    pieces = make_token(CONTACT, NURSE, secret=KEY).split(".")
    if part == 0:
        pieces[1] = make_token(CONTACT, "Practitioner/someone-else", secret=KEY).split(".")[1]
    elif part == 1:
        claims = _claims(".".join(pieces))
        pieces[1] = _encode(claims | {"exp": int(str(claims["exp"])) + 86_400})
    elif part == 2:
        pieces[0] = _encode({"alg": "none", "typ": "JWT"})
    else:
        pieces[2] = ("A" if pieces[2][0] != "A" else "B") + pieces[2][1:]
    with pytest.raises(LinkTampered, match="changed"):
        check(".".join(pieces), CONTACT, secret=KEY)


def test_a_token_without_a_signature_is_refused_as_tampered() -> None:
    header, payload, _ = make_token(CONTACT, NURSE, secret=KEY).split(".")
    unsigned = _encode({"alg": "none", "typ": "JWT"}) + "." + payload + "."
    for token in (unsigned, f"{header}.{payload}."):
        with pytest.raises(LinkTampered):
            check(token, CONTACT, secret=KEY)


def test_a_token_names_only_the_professional_a_digest_of_the_contact_and_the_expiry() -> None:
    claims = _claims(make_token(CONTACT, NURSE, timedelta(hours=1), secret=KEY, now=1_000_000.0))
    assert claims["sub"] == NURSE and claims["exp"] == 1_003_600
    assert set(claims) == {"sub", "aud", "exp"}
    assert CONTACT not in str(claims["aud"])


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "a.b.c.d", "a.-1.c.d", "x" * 2_000])
def test_malformed_tokens_are_refused_as_tampered(token: str) -> None:
    with pytest.raises(LinkTampered):
        check(token, CONTACT, secret=KEY)


def test_a_token_for_another_contact_says_so() -> None:
    token = make_token("contact-a", NURSE, secret=KEY)
    with pytest.raises(WrongContact, match="another contact"):
        check(token, "contact-b", secret=KEY)


def test_a_token_signed_with_another_secret_is_refused() -> None:
    token = make_token(CONTACT, NURSE, secret=b"another-secret-" * 3)
    with pytest.raises(LinkTampered):
        check(token, CONTACT, secret=KEY)


def test_without_the_secret_in_the_environment_links_cannot_be_made_or_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    with pytest.raises(NoSecret, match=SECRET_ENV):
        make_link("https://tf.example", CONTACT, NURSE, secret_env=SECRET_ENV)
    with pytest.raises(NoSecret, match=SECRET_ENV):
        check("a.1.c.d", CONTACT, secret_env=SECRET_ENV)


def test_a_short_secret_counts_as_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, "too-short")
    with pytest.raises(NoSecret, match="at least 32 characters"):
        make_link("https://tf.example", CONTACT, NURSE, secret_env=SECRET_ENV)


def test_a_link_is_short_carries_no_patient_data_and_checks_against_its_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    link = make_link("https://tf.example/", CONTACT, NURSE, secret_env=SECRET_ENV)
    parts = urlsplit(link)
    assert parts.path == "/form/fhir%3Apat-1%3Aenc-9%3Ahook-3"
    token = parts.query.removeprefix("t=")
    assert len(token) < 250
    assert PATIENT_NAME not in link and PATIENT_NHS not in link
    decoded = json.dumps(_claims(token))
    assert PATIENT_NAME not in decoded and PATIENT_NHS not in decoded
    assert check(token, CONTACT, secret_env=SECRET_ENV) == NURSE


@pytest.mark.parametrize("ttl", [timedelta(0), timedelta(days=8)])
def test_a_link_lasts_more_than_no_time_and_at_most_a_week(ttl: timedelta) -> None:
    with pytest.raises(ValueError, match="seven days"):
        make_token(CONTACT, NURSE, ttl, secret=KEY)


def test_web_section_faults_are_each_named_with_their_key(tmp_path: Path) -> None:
    data = {
        "secret": "written-in-the-file",
        "base_url": "ftp://nope",
        "link_ttl_minutes": 0,
        "frame_ancestors": ["https://ehr.example/path"],
        "colour": "blue",
    }
    _, issues = check_web_settings(data, tmp_path / "trust.toml")
    keys = sorted(i.key for i in issues)
    assert keys == [
        "web.base_url",
        "web.colour",
        "web.frame_ancestors",
        "web.link_ttl_minutes",
        "web.secret",
    ]
    assert all("written-in-the-file" not in str(i) for i in issues)


def test_web_section_settings_are_read(tmp_path: Path) -> None:
    settings, issues = check_web_settings(
        {
            "base_url": "https://tf.example/",
            "secret_env": "MY_SECRET",
            "link_ttl_minutes": 30,
            "frame_ancestors": ["https://ehr.example.nhs.uk"],
        },
        tmp_path / "trust.toml",
    )
    assert issues == []
    assert settings.base_url == "https://tf.example"
    assert settings.secret_env == "MY_SECRET"
    assert settings.link_ttl == timedelta(minutes=30)
    assert settings.frame_ancestors == ("https://ehr.example.nhs.uk",)
    assert settings.configured


def test_a_faulty_web_section_stops_start_up_and_config_check(tmp_path: Path) -> None:
    config = load_trust_config(
        write_trust_config(tmp_path / "config", extra_toml='[web]\nsecret = "in-the-file"\n')
    )
    with pytest.raises(ConfigError) as caught:
        ThinkFamily(config, entry_points=False)
    assert [i.key for i in caught.value.issues] == ["web.secret"]
    assert "in-the-file" not in str(caught.value)


def test_the_longest_professional_id_in_any_script_makes_a_token_that_checks() -> None:
    longest = "𝒩" * 200
    token = make_token(CONTACT, longest, secret=KEY)
    assert check(token, CONTACT, secret=KEY) == longest
