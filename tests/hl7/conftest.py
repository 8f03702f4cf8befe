"""Fixtures for the HL7 adapter: a trust with an [hl7] section, a real service on SQLite, and
the MLLP listener running in its own event loop on a loopback port."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import pytest

from adapters.hl7.listener import MllpListener
from plugin_core.contract import ServeOptions
from plugin_core.service import Service
from plugin_core.settings.config import TrustConfig
from plugin_core.settings.load import load_trust_config
from plugin_core.store import open_store
from tests.peers.service import write_trust_config

T = TypeVar("T")
CORPUS = Path(__file__).parent / "corpus"

# The listener tests here prove what comes back in the ACK after processing; acknowledging on
# receipt (journal mode) has its own tests, with JOURNAL_TOML.

# Synthetic identifying values in the corpus; the suite's log privacy scan looks for each.
IDENTIFIERS = (
    "9990000018",
    "9990000026",
    "9990000034",
    "9990000042",
    "9990000050",
    "9990000069",
    "TESTER^ALEX",
    "ALEX TESTER",
    "SAMPLE^RILEY",
    "19880501",
    "19790214",
    "1 Example Road",
    "N7 8AA",
    "SW19 1ZZ",
)

HL7_TOML = """
[hl7]
acknowledge = "after-processing"
max_message_bytes = 1048576
sending_application = "THINKFAMILY"
sending_facility = "TESTTRUST"

[hl7.relationship_codes]
ZSON = "child"

[[hl7.children_in_household]]
segment = "OBX"
observation = "CHILDREN-IN-HOUSEHOLD"

[[hl7.children_in_household]]
segment = "ZTF"
field = 3
"""


def corpus_bytes(name: str) -> bytes:
    return (CORPUS / f"{name}.hl7").read_bytes()


@pytest.fixture
def trust_path(tmp_path: Path) -> Path:
    return write_trust_config(tmp_path / "trust", extra_toml=HL7_TOML)


@pytest.fixture
def config(trust_path: Path) -> TrustConfig:
    return load_trust_config(trust_path)


@pytest.fixture
def service(config: TrustConfig, tmp_path: Path) -> Iterator[Service]:
    """The real service on a SQLite file (WAL, synchronous=FULL): commits are on disk."""
    store = open_store(f"sqlite:///{tmp_path / 'thinkfamily.db'}")
    svc = Service(
        config, store, entry_points=False, serve=ServeOptions(host="127.0.0.1", mllp_port=0)
    )
    yield svc
    store.close()


class LoopThread:
    """An asyncio event loop on its own thread, as ``thinkfamily serve`` runs listeners."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture
def loop_thread() -> Iterator[LoopThread]:
    runner = LoopThread()
    yield runner
    runner.close()


@pytest.fixture
def listener(service: Service, loop_thread: LoopThread) -> Iterator[MllpListener]:
    """The listener the HL7 plugin contributes to the service, started on a free port."""
    found = service.engine.hooks.listeners(service.context)
    assert len(found) == 1 and isinstance(found[0], MllpListener)
    mllp = found[0]
    loop_thread.run(mllp.start())
    yield mllp
    loop_thread.run(mllp.stop())
