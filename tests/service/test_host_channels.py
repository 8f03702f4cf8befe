"""A channel of the host's own (``x-acme-filedrop``) in the directory: claimed by the plugin that
declares it, checked by ``config check``, delivered by that plugin alone and audited under its
true name."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hooks import hookimpl
from plugin_core.cli import main
from plugin_core.contract import HostChannel, PluginError, RouteContact
from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.formats.decision_json import decision_from_dict
from plugin_core.host.engine import ThinkFamily
from plugin_core.model import Channel, Destination, Receipt, Referral, ReferralStatus
from plugin_core.outbox import OutboxWorker
from plugin_core.service import Service
from plugin_core.settings.trust_config import ConfigError, load_trust_config
from plugin_core.store import open_store
from tests.core.installed import install

from .conftest import TEST_AUTHORITIES, FakeClock, contact_doc, decision_doc

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)  # a Tuesday, in office hours: the front door

EMAIL_FRONT_DOOR = """[authorities.testborough.routes.front_door]
channel = "email"
address = "front-door@testborough.example"
"""


def authorities(address: str = "/srv/drop/testborough") -> str:
    assert EMAIL_FRONT_DOOR in TEST_AUTHORITIES
    return TEST_AUTHORITIES.replace(
        EMAIL_FRONT_DOOR,
        f"""[authorities.testborough.routes.front_door]
channel = "x-acme-filedrop"
address = "{address}"
""",
    )


class FileDrop:
    """A host transport that drops referrals into a folder: a channel of its own."""

    def __init__(self) -> None:
        self.dropped: list[tuple[str, str]] = []

    @hookimpl
    def thinkfamily_channels(self) -> list[HostChannel]:
        return [HostChannel("x-acme-filedrop", check=self.check)]

    @staticmethod
    def check(route: RouteContact) -> dict[str, str] | None:
        if not route.address.startswith("/"):
            return {"address": "must be an absolute folder path"}
        return None

    @hookimpl
    def thinkfamily_dispatch(self, referral: Referral, destination: Destination) -> Receipt | None:
        if destination.channel != "x-acme-filedrop":
            return None
        self.dropped.append((referral.id, destination.address))
        return Receipt(destination.channel, delivered=True, reference=f"drop-{referral.id}")


class Greedy:
    """A transport that answers for every channel: never offered another plugin's channel."""

    def __init__(self) -> None:
        self.calls = 0

    @hookimpl
    def thinkfamily_dispatch(self, referral: Referral, destination: Destination) -> Receipt:
        self.calls += 1
        return Receipt(Channel.EMAIL, delivered=True)


def test_host_channel_claimed_by_its_plugin_delivers_and_the_audit_records_its_name(
    tmp_path: Path, make_config: Any
) -> None:
    config = load_trust_config(make_config(2525, authorities=authorities()))
    drop, greedy = FileDrop(), Greedy()
    service = Service(
        config,
        open_store(f"sqlite:///{tmp_path / 'tf.db'}"),
        entry_points=False,
        extra=[("acme-filedrop", drop), ("greedy", greedy)],  # greedy is asked first otherwise
        clock=FakeClock(NOW),
    )
    service.accept_contact(contact_from_dict(contact_doc("c-drop"), config.code_lists))
    recorded = service.record_decision(
        decision_from_dict(decision_doc(level=3), contact_id="c-drop", now=NOW)
    )
    (referral,) = recorded.referrals
    assert OutboxWorker(service).run_once() == 1
    assert drop.dropped == [(referral.id, "/srv/drop/testborough")]
    assert greedy.calls == 0
    stored = service.store.get_referral(referral.id)
    assert stored is not None and stored.status is ReferralStatus.DELIVERED
    (entry,) = [e for e in service.store.audit_entries() if e.kind == "referral.delivered"]
    assert '"channel":"x-acme-filedrop"' in entry.details.replace(" ", "")


def test_unclaimed_host_channel_is_a_config_error_naming_the_plugins_loaded(
    make_config: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_config(2525, authorities=authorities())
    with pytest.raises(ConfigError) as caught:
        ThinkFamily(load_trust_config(path), entry_points=False)
    (issue,) = caught.value.issues
    assert issue.file == str(path.parent / "authorities.toml")
    assert issue.key == "authorities.testborough.routes.front_door.channel"
    assert issue.reason.startswith("'x-acme-filedrop' is a host channel no plugin declares")
    assert "loaded plugins: plugin_core.builtin.contact_facts" in issue.reason

    assert main(["config", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert "authorities.testborough.routes.front_door.channel: 'x-acme-filedrop'" in err
    assert "adapters.email.plugin" in err


def test_config_check_reports_the_claiming_plugins_faults_with_file_and_key(
    make_config: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_config(2525, authorities=authorities(address="drop/testborough"))
    install(monkeypatch, {"acme-filedrop": FileDrop()})
    assert main(["config", "check", str(path)]) == 1
    err = capsys.readouterr().err
    expected = (
        f"error: {path.parent / 'authorities.toml'}: "
        "authorities.testborough.routes.front_door.address: "
        "must be an absolute folder path (acme-filedrop)"
    )
    assert expected in err.splitlines()


def test_a_claimed_host_channel_passes_config_check(
    make_config: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_config(2525, authorities=authorities())
    install(monkeypatch, {"acme-filedrop": FileDrop()})
    assert main(["config", "check", str(path)]) == 0
    assert "valid" in capsys.readouterr().out


class Declares:
    def __init__(self, *names: str) -> None:
        self.names = list(names)

    @hookimpl
    def thinkfamily_channels(self) -> list[str]:
        return self.names


def test_a_channel_declared_by_two_plugins_names_both(make_config: Any) -> None:
    config = load_trust_config(make_config(2525))
    with pytest.raises(PluginError) as caught:
        ThinkFamily(
            config,
            entry_points=False,
            extra=[
                ("first-ehr", Declares("x-acme-filedrop")),
                ("second-ehr", Declares("x-acme-filedrop")),
            ],
        )
    fault = caught.value
    other = ({"first-ehr", "second-ehr"} - {fault.plugin}).pop()
    assert fault.hook == "thinkfamily_channels"
    assert str(fault).endswith(f"declared 'x-acme-filedrop', which {other!r} declares already")


def test_a_channel_name_without_x_is_refused_naming_the_plugin(make_config: Any) -> None:
    config = load_trust_config(make_config(2525))
    with pytest.raises(PluginError) as caught:
        ThinkFamily(config, entry_points=False, extra=[("fax-ehr", Declares("fax"))])
    assert (caught.value.plugin, caught.value.hook) == ("fax-ehr", "thinkfamily_channels")
    assert "x- then lower-case letters" in str(caught.value)
