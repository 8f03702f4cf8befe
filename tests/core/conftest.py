"""Fixtures for the core tests: the example trust, a contact builder and a plugin host."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from plugin_core.host.engine import ThinkFamily
from plugin_core.settings.config import TrustConfig
from plugin_core.settings.load import load_trust_config

from .builders import CONFIG_DIR, MakeContact
from .builders import make_contact as _make_contact


@pytest.fixture(scope="session")
def config() -> TrustConfig:
    return load_trust_config(CONFIG_DIR / "example-trust.toml")


@pytest.fixture
def engine(config: TrustConfig) -> ThinkFamily:
    """ThinkFamily on the example trust with the built-in plugins only."""
    return ThinkFamily(config, entry_points=False)


@pytest.fixture
def make_contact() -> MakeContact:
    return _make_contact


@pytest.fixture(scope="session")
def thinkfamily_script() -> Path:
    """The installed console script, next to the interpreter running the tests."""
    script = Path(sys.executable).parent / "thinkfamily"
    if not script.exists():
        pytest.fail("the thinkfamily console script is not installed beside the interpreter")
    return script
