"""A host plugin installed as a real distribution, for a ``thinkfamily`` subprocess.

The plugin module and its ``.dist-info`` (metadata and a ``thinkfamily`` entry point) are
written into one folder; putting that folder on ``PYTHONPATH`` makes it an installed package
as far as ``importlib.metadata`` (and so pluggy) can tell, without touching the environment.
"""

from __future__ import annotations

import os
from pathlib import Path


def plugin_package(
    directory: Path,
    source: str,
    *,
    name: str = "acme-ehr",
    module: str = "acme_ehr_thinkfamily",
    distribution: str = "acme-ehr-thinkfamily",
    version: str = "1.0.0",
) -> dict[str, str]:
    """Write the package; returns the environment a subprocess needs to load it.

    :param source: the module's code; it must define ``plugin``, the object registered.
    :param name: the entry point's name: the plugin's name in faults, listings and switches.
    """
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{module}.py").write_text(source)
    info = directory / f"{distribution.replace('-', '_')}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n"
    )
    (info / "entry_points.txt").write_text(f"[thinkfamily]\n{name} = {module}:plugin\n")
    paths = [str(directory), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {"PYTHONPATH": os.pathsep.join(paths)}
