"""A plugin installed as a package would be: an entry point in the ``thinkfamily`` group.

pluggy finds entry points through ``importlib.metadata.distributions()``; the test replaces
that with one synthetic distribution whose entry point names a module held in ``sys.modules``.
"""

from __future__ import annotations

import importlib.metadata
import sys
import types
from pathlib import PurePosixPath

import pytest

from hooks import PROJECT_NAME

DISTRIBUTION = "acme-ehr-thinkfamily"
VERSION = "2.3.0"


class _Distribution(importlib.metadata.Distribution):
    def __init__(self, files: dict[str, str]) -> None:
        self._files = files

    def read_text(self, filename: str) -> str | None:
        return self._files.get(filename)

    def locate_file(self, path: str | importlib.metadata.PackagePath) -> PurePosixPath:
        return PurePosixPath(str(path))


def install(
    monkeypatch: pytest.MonkeyPatch,
    plugins: dict[str, object],
    *,
    distribution: str = DISTRIBUTION,
    version: str = VERSION,
) -> None:
    """Make each ``name: plugin`` an installed entry point of one distribution."""
    lines = []
    for n, (name, plugin) in enumerate(plugins.items()):
        module = types.ModuleType(f"_installed_thinkfamily_plugin_{n}")
        module.plugin = plugin  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, module.__name__, module)
        lines.append(f"{name} = {module.__name__}:plugin")
    dist = _Distribution(
        {
            "METADATA": f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n",
            "entry_points.txt": f"[{PROJECT_NAME}]\n" + "\n".join(lines) + "\n",
        }
    )
    monkeypatch.setattr(importlib.metadata, "distributions", lambda **_: iter([dist]))
