"""The plugins a running service loaded: names in the start-up log, names and versions on
``/healthz``; a plugin switched off in the environment is in neither."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from plugin_core.host.plugins import DISABLED_ENV
from tests.peers.ports import free_port
from tests.peers.service import ServiceProcess

pytestmark = pytest.mark.integration


def test_serve_lists_its_plugins_in_the_start_up_log_and_on_healthz(
    make_config: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DISABLED_ENV, "adapters.email.plugin")
    service = ServiceProcess(
        make_config(free_port()), f"sqlite:///{tmp_path / 'tf.db'}", tmp_path / "logs"
    )
    try:
        health = service.start().api("GET", "/healthz").json()
    finally:
        service.stop()
    plugins = {p["name"]: p["version"] for p in health["plugins"]}
    assert plugins["plugin_core.builtin.directory"] == "0.1.0"
    assert "adapters.hl7.plugin" in plugins and "adapters.email.plugin" not in plugins
    lines = [json.loads(line) for line in service.log_text().splitlines() if line.startswith("{")]
    (loaded,) = [line for line in lines if line["msg"] == "plugins loaded"]
    assert loaded["plugins"] == list(plugins)  # names only, in the same order
