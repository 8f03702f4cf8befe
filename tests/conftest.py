"""Suite-wide fixtures: every log line kept for the privacy scan, and the database backends."""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from plugin_core.logs import JsonFormatter
from tests.peers.service import TEST_AUDIT_KEY

# Every store and service the tests open seals its audit trail, as a deployment's would.
os.environ.setdefault("THINKFAMILY_AUDIT_KEY", TEST_AUDIT_KEY)

_LOG_DIR = Path(
    os.environ.get("THINKFAMILY_TEST_LOG_DIR") or tempfile.mkdtemp(prefix="tf-test-logs-")
)
os.environ["THINKFAMILY_TEST_LOG_DIR"] = str(_LOG_DIR)


class _PlainAndJson(logging.Formatter):
    """Both the structured line and the raw message with any traceback, so the scan sees all."""

    def __init__(self) -> None:
        super().__init__()
        self.json = JsonFormatter()

    def format(self, record: logging.LogRecord) -> str:
        raw = record.getMessage()
        if record.exc_info:
            raw += "\n" + self.formatException(record.exc_info)
        return self.json.format(record) + "\n" + raw


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Iterator[pytest.TestReport]:
    """Under ``THINKFAMILY_REQUIRE_PEERS=1`` (set by CI) a skipped test fails: a peer that did not
    install must stop the run, not pass it quietly."""
    report = yield
    if report.skipped and os.environ.get("THINKFAMILY_REQUIRE_PEERS") == "1":
        report.outcome = "failed"
        report.longrepr = f"skipped, but every peer is required here: {report.longrepr}"
    return report


def pytest_configure(config: pytest.Config) -> None:
    _LOG_DIR.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(_LOG_DIR / f"in-process-{os.getpid()}.log", encoding="utf-8")
    handler.setFormatter(_PlainAndJson())
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)


def log_dir() -> Path:
    return _LOG_DIR


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """A real PostgreSQL server for the whole session, on a loopback port."""
    from tests.peers.postgres import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture
def pg_url(pg_admin_url: str) -> str:
    from tests.peers.postgres import create_database

    return create_database(pg_admin_url, f"tf_{uuid.uuid4().hex[:12]}")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'thinkfamily.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url
