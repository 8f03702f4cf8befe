"""Switches: block any plugin by name from the trust file or the environment; trace hook calls.

Names only ever reach the log: never a hook's arguments or answers.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest

from hooks import hookimpl
from plugin_core.host.engine import ThinkFamily
from plugin_core.host.plugins import DISABLED_ENV, TRACE_ENV
from plugin_core.logs import JsonFormatter
from plugin_core.model import (
    Channel,
    Destination,
    FirstContact,
    HouseholdMember,
    Receipt,
    Referral,
    Route,
)
from plugin_core.settings.config import TrustConfig
from plugin_core.settings.load import check_trust_config, load_trust_config
from tests.peers.service import write_trust_config

from .builders import (
    PATIENT_NAME,
    PATIENT_NHS_NUMBER,
    PATIENT_POSTCODE,
    make_contact,
    make_referral,
    member,
)
from .installed import install

EMAIL = "adapters.email.plugin"
DIRECTORY = "plugin_core.builtin.directory"


def trust_with(tmp_path: Path, plugins_toml: str) -> Path:
    return write_trust_config(tmp_path / "trust", extra_toml=plugins_toml)


def test_built_in_blocked_through_the_environment_is_left_out(
    config: TrustConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DISABLED_ENV, f" {DIRECTORY} ,")
    engine = ThinkFamily(config, entry_points=False)
    assert engine.pm.get_plugin(DIRECTORY) is None and engine.pm.is_blocked(DIRECTORY)
    contact = make_contact(household=[member(date(2016, 6, 1))])
    result = engine.assess(contact, now=contact.occurred_at, present=False)
    assert result.authority.reason == "no plugin could locate the authority"
    assert engine.plugin_issues == []


def test_built_in_blocked_through_the_trust_file_is_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DISABLED_ENV, raising=False)
    config = load_trust_config(trust_with(tmp_path, f'[plugins]\ndisabled = ["{EMAIL}"]\n'))
    engine = ThinkFamily(config, entry_points=False)
    assert engine.pm.get_plugin(EMAIL) is None and engine.pm.is_blocked(EMAIL)
    where = Destination(None, Route.FRONT_DOOR, Channel.EMAIL, "duty@council.example", True)
    assert engine.hooks.dispatch(make_referral(), where) is None  # no transport left for email
    assert engine.plugin_issues == []


def test_installed_plugin_is_blocked_by_its_entry_point_name(
    config: TrustConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Mailer:
        @hookimpl
        def thinkfamily_dispatch(self, referral: Referral, destination: Destination) -> Receipt:
            raise AssertionError("a blocked plugin was called")

    install(monkeypatch, {"acme-mail": Mailer()})
    monkeypatch.setenv(DISABLED_ENV, "acme-mail")
    engine = ThinkFamily(config)
    assert engine.pm.get_plugin("acme-mail") is None
    assert engine.plugin_issues == []  # installed, so the name is known


def test_disabled_name_matching_no_plugin_is_a_warning_naming_the_loaded_plugins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trust = trust_with(tmp_path, '[plugins]\ndisabled = ["adapters.emial.plugin"]\n')
    monkeypatch.setenv(DISABLED_ENV, "phone")
    engine = ThinkFamily(load_trust_config(trust), entry_points=False)
    by_key = {issue.key: issue for issue in engine.plugin_issues}
    assert set(by_key) == {"plugins.disabled", DISABLED_ENV}
    assert all(issue.severity == "warning" for issue in by_key.values())
    in_file = by_key["plugins.disabled"]
    assert in_file.file == str(trust)
    assert in_file.reason.startswith("'adapters.emial.plugin' names no plugin; loaded plugins: ")
    assert EMAIL in in_file.reason and "plugin_core.builtin.phone" in in_file.reason
    assert by_key[DISABLED_ENV].file == "environment"
    assert engine.pm.get_plugin(EMAIL) is not None  # the misspelt name blocked nothing


def test_unknown_key_in_the_plugins_table_is_a_config_error(tmp_path: Path) -> None:
    trust = trust_with(tmp_path, '[plugins]\nenabled = ["acme-ehr"]\ndisabled = ["x", 3]\n')
    errors = {
        (issue.file, issue.key, issue.reason)
        for issue in check_trust_config(trust)
        if issue.severity == "error"
    }
    assert errors == {
        (str(trust), "plugins.enabled", "is not a known key; the only key is 'disabled'"),
        (str(trust), "plugins.disabled[1]", "must be text"),
    }


# Tracing ------------------------------------------------------------------------------------------


class HostHousehold:
    @hookimpl
    def thinkfamily_household(self, contact: FirstContact) -> list[HouseholdMember]:
        return [member(date(2019, 1, 1), ref="host-child")]


def test_tracing_logs_hook_and_plugin_names_and_no_argument_values(
    config: TrustConfig, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(TRACE_ENV, "1")
    engine = ThinkFamily(config, extra=[("host-ehr", HostHousehold())], entry_points=False)
    contact = make_contact(household=[member(date(2016, 6, 1))])
    with caplog.at_level(logging.INFO, logger="thinkfamily.plugins"):
        engine.assess(contact, now=contact.occurred_at, present=False)
    traced = [r for r in caplog.records if r.getMessage() == "hook called"]
    calls = {r.__dict__["hook"]: r.__dict__["plugins"] for r in traced}
    assert calls["thinkfamily_household"] == ["host-ehr", "plugin_core.builtin.contact_facts"]
    assert calls["thinkfamily_locate_authority"] == ["plugin_core.builtin.directory"]
    lines = "\n".join(JsonFormatter().format(r) for r in traced)
    assert '"hook": "thinkfamily_household"' in lines and '"status": "ok"' in lines
    everything = lines + "\n".join(repr(vars(r)) for r in traced)
    for value in (PATIENT_NAME, PATIENT_NHS_NUMBER, PATIENT_POSTCODE, "host-child"):
        assert value not in everything


def test_hook_calls_are_not_logged_without_the_trace_switch(
    config: TrustConfig, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv(TRACE_ENV, raising=False)
    engine = ThinkFamily(config, entry_points=False)
    with caplog.at_level(logging.INFO, logger="thinkfamily.plugins"):
        engine.assess(make_contact(), present=False)
    assert not [r for r in caplog.records if r.getMessage() == "hook called"]


def test_pluggy_trace_sees_every_hook_the_facade_calls(engine: ThinkFamily) -> None:
    written: list[str] = []
    engine.pm.trace.root.setwriter(written.append)
    undo = engine.pm.enable_tracing()
    try:
        engine.assess(make_contact(), present=False)
    finally:
        undo()
    text = "".join(written)
    for hook in ("household", "risk_indicators", "locate_authority"):
        assert f"thinkfamily_{hook}" in text


def test_config_check_warns_about_a_disabled_name_matching_no_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from plugin_core.cli import main

    monkeypatch.delenv(DISABLED_ENV, raising=False)
    trust = trust_with(tmp_path, '[plugins]\ndisabled = ["adapters.emial.plugin"]\n')
    assert main(["config", "check", str(trust)]) == 0
    out = capsys.readouterr().out
    assert (
        f"warning: {trust}: plugins.disabled: 'adapters.emial.plugin' names no plugin; "
        "loaded plugins: plugin_core.builtin.contact_facts" in out
    )
