"""One typed context for every plugin, built before any is configured and given through
``thinkfamily_configure`` to built-in and installed plugins alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from hooks import hookimpl
from plugin_core.contract import PluginContext
from plugin_core.host.engine import ThinkFamily
from plugin_core.service import Service
from plugin_core.settings.config import TrustConfig
from plugin_core.store import open_store

from .installed import install


class Remembers:
    """An installed plugin that keeps what it was configured with."""

    def __init__(self) -> None:
        self.contexts: list[PluginContext] = []
        self.service_at_configure: list[object] = []

    @hookimpl
    def thinkfamily_configure(self, context: PluginContext) -> None:
        self.contexts.append(context)
        self.service_at_configure.append(context.service)


def test_installed_plugin_gets_the_same_context_as_the_built_ins(
    config: TrustConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed = Remembers()
    install(monkeypatch, {"acme-ehr": installed})
    engine = ThinkFamily(config)
    (context,) = installed.contexts
    assert type(context) is PluginContext and context is engine.context
    assert context.config is config and context.service is None and context.serve is None
    for name in ("adapters.email.plugin", "adapters.fhir.plugin", "adapters.hl7.plugin"):
        assert engine.pm.get_plugin(name).context is context


def test_context_holds_the_running_service_before_any_plugin_is_configured(
    config: TrustConfig, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    installed = Remembers()
    install(monkeypatch, {"acme-ehr": installed})
    store = open_store(f"sqlite:///{tmp_path / 'tf.db'}")
    try:
        service = Service(config, store)
    finally:
        store.close()
    assert installed.service_at_configure == [service]
    assert installed.contexts[0] is service.context


def test_context_cannot_be_changed_by_a_plugin(engine: ThinkFamily) -> None:
    with pytest.raises(AttributeError):
        engine.context.service = None  # type: ignore[misc]
