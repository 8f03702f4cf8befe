"""Referral email goes only over TLS the relay proves with its certificate, unless a trust says
``tls = "none"`` for a relay on the same host; credentials never travel in clear.

A real SMTP server (aiosmtpd) plays the relay, with a CA and certificate made by the test.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.host.engine import ThinkFamily
from plugin_core.model import ReferralStatus
from plugin_core.outbox import OutboxWorker
from plugin_core.service import Service, StoredReferral
from plugin_core.settings.trust_config import ConfigError, load_trust_config
from plugin_core.store import open_store
from tests.peers.pki import Pki, make_pki
from tests.peers.service import write_trust_config
from tests.peers.smtp import SmtpReceiver

from .conftest import TEST_AUTHORITIES, FakeClock, contact_doc, decision_doc

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
USER, PASSWORD = "tf-relay-user", "synthetic-relay-password-5521"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def stranger(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """Another CA: its certificates are not trusted by the trust's ``ca_file``."""
    return make_pki(tmp_path_factory.mktemp("stranger"), "Some other CA")


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TF_TEST_SMTP_USER", USER)
    monkeypatch.setenv("TF_TEST_SMTP_PASSWORD", PASSWORD)


def _email_toml(port: int, tls: str, *, ca: Path | None = None, login: bool = True) -> str:
    lines = [
        "[email]",
        'smtp_host = "127.0.0.1"',
        f"smtp_port = {port}",
        'sender = "thinkfamily@trust.example"',
        tls,
        "timeout_seconds = 5",
    ]
    if ca is not None:
        lines.append(f'ca_file = "{ca}"')
    if login:
        lines += ['username_env = "TF_TEST_SMTP_USER"', 'password_env = "TF_TEST_SMTP_PASSWORD"']
    return "\n".join(lines) + "\n"


def _config_path(folder: Path, email_toml: str) -> Path:
    return write_trust_config(folder, extra_toml=email_toml, authorities=TEST_AUTHORITIES)


@pytest.fixture
def refer(tmp_path: Path) -> Iterator[Any]:
    """Record an urgent sharing decision and attempt its delivery once; yields the referral."""
    opened: list[Service] = []

    def run(email_toml: str) -> tuple[Service, OutboxWorker, FakeClock, StoredReferral]:
        config = load_trust_config(_config_path(tmp_path / f"trust-{len(opened)}", email_toml))
        clock = FakeClock(NOW)
        store = open_store(f"sqlite:///{tmp_path / f'tf-{len(opened)}.db'}")
        service = Service(config, store, entry_points=False, clock=clock)
        opened.append(service)
        service.accept_contact(contact_from_dict(contact_doc("c-mail"), config.code_lists))
        service.record_decision(
            decision_from_dict(decision_doc(level=4), contact_id="c-mail", now=NOW)
        )
        worker = OutboxWorker(service)
        worker.run_once()
        (stored,) = service.store.list_referrals(contact_id="c-mail")
        return service, worker, clock, stored

    yield run
    for service in opened:
        service.store.shutdown()


def test_starttls_relay_gets_the_referral_and_the_login_only_after_the_upgrade(
    pki: Pki, refer: Any, credentials: None
) -> None:
    with SmtpReceiver(tls=pki.server_context()) as relay:
        *_, stored = refer(_email_toml(relay.port, 'tls = "starttls"', ca=pki.ca))
    assert stored.status is ReferralStatus.DELIVERED
    assert relay.mailbox.over_tls == [True]
    assert relay.mailbox.logins == [(USER, True)]


def test_a_relay_without_starttls_gets_nothing_and_never_the_password(
    refer: Any, credentials: None
) -> None:
    # A relay that offers no STARTTLS but would take a login in clear, as a man in the middle
    # who strips STARTTLS from the server's greeting would look.
    with SmtpReceiver(auth_in_clear=True) as relay:
        service, worker, clock, stored = refer(_email_toml(relay.port, 'tls = "starttls"'))
        assert stored.status is ReferralStatus.FAILED
        assert stored.receipt is not None and "STARTTLS" in stored.receipt.detail
        assert stored.next_attempt_at > NOW, "the attempt is retried"
        # Past the urgent deadline, still refused: the referral is escalated to a phone call.
        clock.now = stored.referral.due_by + timedelta(minutes=1)
        worker.run_once()
        (later,) = service.store.list_referrals(contact_id="c-mail")
    assert later.status is ReferralStatus.FAILED and later.attempts == 2
    assert later.escalated_at is not None
    assert relay.mailbox.messages == []
    assert relay.mailbox.logins == []


def test_implicit_tls_relay_gets_the_referral(pki: Pki, refer: Any, credentials: None) -> None:
    with SmtpReceiver(tls=pki.server_context(), implicit=True) as relay:
        *_, stored = refer(_email_toml(relay.port, 'tls = "implicit"', ca=pki.ca))
    assert stored.status is ReferralStatus.DELIVERED
    assert relay.mailbox.over_tls == [True]
    assert relay.mailbox.logins == [(USER, True)]


@pytest.mark.parametrize("mode", ["starttls", "implicit"])
def test_a_relay_whose_certificate_the_trust_does_not_trust_gets_nothing(
    pki: Pki, stranger: Pki, refer: Any, credentials: None, mode: str
) -> None:
    with SmtpReceiver(tls=stranger.server_context(), implicit=mode == "implicit") as relay:
        *_, stored = refer(_email_toml(relay.port, f'tls = "{mode}"', ca=pki.ca))
    assert stored.status is ReferralStatus.FAILED
    assert stored.receipt is not None and "not trusted" in stored.receipt.detail
    assert stored.next_attempt_at > NOW
    assert relay.mailbox.messages == [] and relay.mailbox.logins == []


def test_a_relay_on_this_host_without_tls_gets_the_referral_when_the_trust_says_none(
    refer: Any,
) -> None:
    with SmtpReceiver() as relay:
        *_, stored = refer(_email_toml(relay.port, 'tls = "none"', login=False))
    assert stored.status is ReferralStatus.DELIVERED
    assert relay.mailbox.over_tls == [False]


def test_credentials_without_tls_are_a_configuration_error(tmp_path: Path) -> None:
    path = _config_path(tmp_path, _email_toml(2525, 'tls = "none"'))
    with pytest.raises(ConfigError) as raised:
        ThinkFamily(load_trust_config(path), entry_points=False)
    (issue,) = raised.value.issues
    assert issue.key == "email.username_env" and "never sent without TLS" in issue.reason


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ('tls = "sometimes"', "email.tls"),
        ('tls = "starttls"\nca_file = "missing-ca.pem"', "email.ca_file"),
    ],
)
def test_a_bad_tls_setting_is_named(tmp_path: Path, setting: str, problem: str) -> None:
    path = _config_path(tmp_path, _email_toml(2525, setting, login=False))
    with pytest.raises(ConfigError) as raised:
        ThinkFamily(load_trust_config(path), entry_points=False)
    assert [i.key for i in raised.value.issues] == [problem]


@pytest.mark.parametrize(("old", "mode"), [("true", "starttls"), ("false", "none")])
def test_the_old_starttls_switch_is_still_read_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, old: str, mode: str
) -> None:
    path = _config_path(tmp_path, _email_toml(2525, f"starttls = {old}", login=False))
    with caplog.at_level(logging.WARNING, logger="thinkfamily.email"):
        tf = ThinkFamily(load_trust_config(path), entry_points=False)
    (transport,) = [p for p in tf.pm.get_plugins() if type(p).__name__ == "EmailTransport"]
    assert transport.tls.mode.value == mode
    reasons = [str(getattr(r, "reason", "")) for r in caplog.records]
    assert any(f'write tls = "{mode}"' in reason for reason in reasons)
