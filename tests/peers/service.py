"""``thinkfamily serve`` as a real process for tests, with its log kept for the privacy scan."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import requests

from tests.peers.ports import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]

TEST_AUDIT_KEY = "synthetic-audit-key-for-tests-only-0123456789"
"""Seals the audit trail of every service and store the tests and benchmarks start, as a
deployment's key would; set here so the commands they run can verify it too."""
os.environ.setdefault("THINKFAMILY_AUDIT_KEY", TEST_AUDIT_KEY)


def write_trust_config(
    directory: Path, *, extra_toml: str = "", authorities: str | None = None
) -> Path:
    """A copy of the example trust configuration with extra sections appended."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("authorities.toml", "codes.toml", "relationships.toml"):
        shutil.copy(ROOT / "config" / name, directory / name)
    if authorities is not None:
        (directory / "authorities.toml").write_text(authorities)
    text = _without_tables((ROOT / "config" / "example-trust.toml").read_text(), extra_toml)
    path = directory / "trust.toml"
    path.write_text(text + "\n" + extra_toml)
    return path


def _without_tables(text: str, extra_toml: str) -> str:
    """The example without the top-level tables that ``extra_toml`` declares again."""
    replaced = {
        line.strip().strip("[]").split(".")[0]
        for line in extra_toml.splitlines()
        if line.startswith("[")
    }
    kept: list[str] = []
    skipping = False
    for line in text.splitlines():
        if line.startswith("["):
            skipping = line.strip().strip("[]").split(".")[0] in replaced
        if not skipping:
            kept.append(line)
    return "\n".join(kept)


class ServiceProcess:
    """Start, kill and restart one service instance on loopback ports."""

    def __init__(
        self,
        config: Path,
        db_url: str,
        log_dir: Path,
        *,
        token: str = "service-process-test-token-0123456789",
        name: str = "service",
        env: Mapping[str, str] | None = None,
        executable: Path | None = None,
    ) -> None:
        """:param env: variables added to the service's environment (say ``PYTHONPATH`` for a
        plugin package from :mod:`tests.peers.plugin_package`).
        :param executable: the ``thinkfamily`` command to run; by default the one beside the
            tests' interpreter."""
        self.executable = executable or Path(sys.executable).with_name("thinkfamily")
        self.config = config
        self.extra_env = dict(env or {})
        self.db_url = db_url
        self.token = token
        self.http_port = free_port()
        self.mllp_port = free_port()
        self.log_dir = Path(os.environ.get("THINKFAMILY_TEST_LOG_DIR", log_dir))
        self.name = name
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def start(self, timeout: float = 30.0) -> ServiceProcess:
        self.starts += 1
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = (
            self.log_dir / f"{self.name}-{os.getpid()}-{self.http_port}-{self.starts}.log"
        )
        self._log = open(self.log_path, "wb")  # noqa: SIM115
        env = dict(os.environ, THINKFAMILY_API_TOKEN=self.token) | self.extra_env
        self.process = subprocess.Popen(
            [
                str(self.executable),
                "serve",
                "--config",
                str(self.config),
                "--db",
                self.db_url,
                "--http-port",
                str(self.http_port),
                "--mllp-port",
                str(self.mllp_port),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        wait_for(self._healthy, timeout=timeout, what=f"{self.name} /healthz")
        return self

    def _healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(
                f"{self.name} exited with {self.process.returncode}; see {self.log_dir}"
            )
        try:
            return requests.get(self.url + "/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush; what was committed must be all that counts."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self._close_log()

    def stop(self, timeout: float = 30.0) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._close_log()
        return self.process.returncode

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    # API helpers -----------------------------------------------------------------------------

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"} | kwargs.pop("headers", {})
        return requests.request(method, self.url + path, headers=headers, timeout=10, **kwargs)
