"""``thinkfamily plugins``: each plugin with its distribution, version and hooks."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from hooks import hookimpl
from plugin_core.cli import main
from plugin_core.host.plugins import DEFAULT_PLUGINS, DISABLED_ENV
from plugin_core.model import Destination, Receipt, Referral

from .builders import CONFIG_DIR
from .installed import DISTRIBUTION, VERSION, install

TRUST = str(CONFIG_DIR / "example-trust.toml")


class Mailer:
    @hookimpl
    def thinkfamily_dispatch(self, referral: Referral, destination: Destination) -> Receipt | None:
        return None


def rows(out: str) -> dict[str, list[str]]:
    """Table rows by plugin name: distribution, version, hooks."""
    found = {}
    for line in out.splitlines()[1:-1]:
        name, distribution, version, hooks = line.split(None, 3)
        found[name] = [distribution, version, hooks]
    return found


def test_plugins_command_lists_each_plugin_with_distribution_version_and_hooks(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(DISABLED_ENV, raising=False)
    install(monkeypatch, {"acme-mail": Mailer()})
    assert main(["plugins", "--config", TRUST]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["plugin", "distribution", "version", "hooks"]
    listed = rows(out)
    assert listed["acme-mail"] == [DISTRIBUTION, VERSION, "dispatch"]
    assert listed["plugin_core.builtin.directory"][:2] == ["thinkfamily", "0.1.0"]
    assert listed["plugin_core.builtin.directory"][2] == "configure, locate_authority"
    assert set(listed) == {"acme-mail", *(ref.partition(":")[0] for ref in DEFAULT_PLUGINS)}
    loaded = len(DEFAULT_PLUGINS) + 1  # the built-ins and acme-mail
    assert out.splitlines()[-1] == f"{loaded} plugin(s) loaded; disabled: none"


def test_plugins_command_names_disabled_plugins_and_warns_about_unknown_names(
    thinkfamily_script: Path,
) -> None:
    env = dict(os.environ, **{DISABLED_ENV: "adapters.email.plugin,adapters.emial.plugin"})
    result = subprocess.run(
        [str(thinkfamily_script), "plugins", "--config", TRUST],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "adapters.email.plugin" not in rows(result.stdout)
    loaded = len(DEFAULT_PLUGINS) - 1  # every built-in but email
    assert (
        result.stdout.splitlines()[-1]
        == f"{loaded} plugin(s) loaded; disabled: adapters.email.plugin"
    )
    assert (
        "warning: environment: THINKFAMILY_DISABLED_PLUGINS: 'adapters.emial.plugin' names no "
        "plugin; loaded plugins: plugin_core.builtin.contact_facts" in result.stderr
    )
