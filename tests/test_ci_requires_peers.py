"""CI must fail, not pass quietly, when a peer's tests skip because the peer did not install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _run_skipping_test(tmp_path: Path, require: str | None) -> subprocess.CompletedProcess[str]:
    folder = REPO / "tests" / f"_tmp_skip_{os.getpid()}"
    folder.mkdir()
    try:
        (folder / "__init__.py").write_text("")
        (folder / "test_peer.py").write_text(
            "import pytest\n\n\n"
            "@pytest.mark.skipif(True, reason='peer not installed')\n"
            "def test_needs_a_peer() -> None:\n"
            "    assert True\n"
        )
        env = {k: v for k, v in os.environ.items() if k != "THINKFAMILY_REQUIRE_PEERS"}
        if require is not None:
            env["THINKFAMILY_REQUIRE_PEERS"] = require
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()


def test_a_skipped_peer_test_fails_the_run_when_peers_are_required(tmp_path: Path) -> None:
    result = _run_skipping_test(tmp_path, "1")
    assert result.returncode == 1, result.stdout
    assert "every peer is required" in result.stdout


def test_a_skipped_peer_test_only_skips_on_a_developer_machine(tmp_path: Path) -> None:
    result = _run_skipping_test(tmp_path, None)
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
