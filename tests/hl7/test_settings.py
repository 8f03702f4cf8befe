"""The [hl7] section: defaults, local codes, and faults reported by ``config check`` by key."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from adapters.hl7.connections import ConnectionPolicy, policy_of
from adapters.hl7.settings import ChildrenField, load_settings
from plugin_core.cli import main
from plugin_core.model import Relationship
from plugin_core.settings.config import TrustConfig
from plugin_core.settings.load import load_trust_config
from tests.peers.service import write_trust_config


def test_section_is_read_with_local_codes_and_children_places(config: TrustConfig) -> None:
    settings = load_settings(config)
    assert settings.relationship_codes == {"ZSON": Relationship.CHILD}
    assert settings.children_in_household == (
        ChildrenField("OBX", "CHILDREN-IN-HOUSEHOLD", 5, 1),
        ChildrenField("ZTF", "", 3, 1),
    )
    assert (settings.sending_application, settings.sending_facility) == ("THINKFAMILY", "TESTTRUST")


def test_a_trust_without_the_section_gets_working_defaults(tmp_path: Path) -> None:
    settings = load_settings(load_trust_config(write_trust_config(tmp_path)))
    assert (settings.listen_host, settings.max_message_bytes) == ("127.0.0.1", 1_048_576)
    assert settings.children_in_household == ()
    assert (settings.acknowledge, settings.journal_keep_days) == ("on-receipt", 7)


def test_connection_settings_become_the_listener_policy(tmp_path: Path) -> None:
    toml = """
[hl7]
max_connections = 32
allowed_networks = ["10.20.0.0/16", "192.0.2.7", "2001:db8::/32"]
max_connections_per_peer = 4
frame_deadline_seconds = 5
"""
    settings = load_settings(load_trust_config(write_trust_config(tmp_path, extra_toml=toml)))
    policy = policy_of(settings)
    assert policy == ConnectionPolicy(
        max_connections=32,
        max_per_peer=4,
        frame_deadline=5.0,
        allowed=(
            ipaddress.ip_network("10.20.0.0/16"),
            ipaddress.ip_network("192.0.2.7/32"),
            ipaddress.ip_network("2001:db8::/32"),
        ),
    )
    assert policy.allows("10.20.3.4") and policy.allows("2001:db8::1")
    assert not policy.allows("10.21.0.1")


def test_without_connection_settings_every_sender_is_let_in_with_a_cap_each(
    tmp_path: Path,
) -> None:
    policy = policy_of(load_settings(load_trust_config(write_trust_config(tmp_path))))
    assert policy.allowed == () and policy.allows("203.0.113.9")
    assert (policy.max_connections, policy.max_per_peer, policy.frame_deadline) == (64, 16, 30.0)


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("[hl7]\nmax_message_bytes = 10\n", "hl7.max_message_bytes"),
        ("[hl7]\nmax_mesage_bytes = 2048\n", "hl7.max_mesage_bytes"),
        ('[hl7.relationship_codes]\nZSON = "offspring"\n', "hl7.relationship_codes.ZSON"),
        (
            '[[hl7.children_in_household]]\nsegment = "OBX"\n',
            "hl7.children_in_household[0].observation",
        ),
        (
            '[[hl7.children_in_household]]\nsegment = "PID"\n',
            "hl7.children_in_household[0].segment",
        ),
        ('[hl7]\nreferral_version = "2.1"\n', "hl7.referral_version"),
        ('[hl7]\nallowed_networks = ["10.0.0.1/8"]\n', "hl7.allowed_networks[0]"),
        ("[hl7]\nallowed_networks = []\n", "hl7.allowed_networks"),
        ("[hl7]\nmax_connections_per_peer = -1\n", "hl7.max_connections_per_peer"),
        ("[hl7]\nframe_deadline_seconds = 0\n", "hl7.frame_deadline_seconds"),
        ('[hl7]\nacknowledge = "later"\n', "hl7.acknowledge"),
        ("[hl7]\njournal_keep_days = 0\n", "hl7.journal_keep_days"),
    ],
)
def test_config_check_names_the_faulty_hl7_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], toml: str, key: str
) -> None:
    path = write_trust_config(tmp_path, extra_toml=toml)
    assert main(["config", "check", str(path)]) == 1
    assert f": {key}: " in capsys.readouterr().err
