"""Fixtures for the store, outbox and service tests: synthetic patients and a test directory."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hooks import hookimpl
from plugin_core.model import Assessment, FirstContact
from plugin_core.service import Service
from plugin_core.settings.trust_config import load_trust_config
from plugin_core.store import Store, open_store
from plugin_core.store import base as store_base
from plugin_core.store.schema import MIGRATIONS
from tests.peers.ports import wait_for
from tests.peers.service import write_trust_config
from tests.peers.smtp import SmtpReceiver

# Synthetic identifying values used by these tests; the log privacy scan looks for each.
PATIENT_NAME = "Morwenna Testcase"
PATIENT_NHS = "9990001112"
PATIENT_DOB = "1985-02-17"
PATIENT_POSTCODE = "ZZ1 4QT"
CHILD_NAME = "Peregrin Testcase"
CHILD_DOB = "2017-09-30"
OTHER_CHILD_NAME = "Isolde Testcase"
OTHER_CHILD_DOB = "2021-04-05"
IDENTIFIERS = (
    PATIENT_NAME,
    PATIENT_NHS,
    PATIENT_DOB,
    PATIENT_POSTCODE,
    CHILD_NAME,
    CHILD_DOB,
    OTHER_CHILD_NAME,
    OTHER_CHILD_DOB,
)

TEST_AUTHORITIES = """
[police]
channel = "phone"
phone = "999"
label = "Police"

[authorities.testborough]
name = "Test Borough"
postcodes = ["ZZ1"]

[authorities.testborough.routes.front_door]
channel = "email"
address = "front-door@testborough.example"
phone = "020 0000 0001"

[authorities.testborough.routes.out_of_hours]
channel = "email"
address = "edt@testborough.example"
phone = "020 0000 0002"

[authorities.testborough.routes.early_help]
channel = "email"
address = "early-help@testborough.example"

[authorities.testborough.routes.lado]
channel = "email"
address = "lado@testborough.example"
"""

_ids = itertools.count(1)


def contact_doc(
    contact_id: str | None = None,
    *,
    postcode: str = PATIENT_POSTCODE,
    occurred_at: str = "2026-03-03T10:00:00+00:00",
) -> dict[str, Any]:
    return {
        "id": contact_id or f"c-{next(_ids)}",
        "occurred_at": occurred_at,
        "patient": {
            "id": "p-1",
            "nhs_number": PATIENT_NHS,
            "name": PATIENT_NAME,
            "birth_date": PATIENT_DOB,
            "postcode": postcode,
        },
        "encounter": {"id": "e-1", "kind": "inpatient"},
        "household": [
            {
                "id": "k-1",
                "name": CHILD_NAME,
                "birth_date": CHILD_DOB,
                "relationship": "child",
                "lives_with_patient": True,
            }
        ],
        "indicators": [{"kind": "mental_health"}],
    }


def decision_doc(
    *, level: int = 3, decision_id: str | None = None, phone: str = ""
) -> dict[str, Any]:
    """A sharing decision; ``phone`` gives the referrer's direct phone, as a referral is meant
    to be made (one without is also counted for the safeguarding lead's review)."""
    referrer = {"id": "nurse-17", "role": "staff nurse"} | ({"phone": phone} if phone else {})
    return {
        "id": decision_id or f"d-{next(_ids)}",
        "decided_by": referrer,
        "share": True,
        "level_of_need": level,
        "reasons": "Parent admitted in crisis; child at home with no other carer.",
        "what_shared": "Admission, diagnosis category and the child's age.",
        "lawful_basis": "public_task",
        "consent": "not_sought",
        "consent_not_sought_reason": "Seeking consent would delay urgent care for the child.",
    }


def outbox_toml(smtp_port: int, *, poll: float = 0.1, lease: float = 3.0) -> str:
    return f"""
[email]
smtp_host = "127.0.0.1"
smtp_port = {smtp_port}
sender = "thinkfamily@trust.example"
tls = "none"
timeout_seconds = 5

[outbox]
poll_seconds = {poll}
lease_seconds = {lease}
retry_base_seconds = 0.2
retry_cap_seconds = 1.0
batch = 5
"""


@pytest.fixture
def make_config(tmp_path: Path) -> Any:
    def make(smtp_port: int, *, authorities: str | None = TEST_AUTHORITIES, **kwargs: Any) -> Path:
        return write_trust_config(
            tmp_path / "config",
            extra_toml=outbox_toml(smtp_port, **kwargs),
            authorities=authorities,
        )

    return make


class FakeClock:
    """A clock the test moves by hand, for deadlines and office hours."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def until(check: Callable[[], bool], what: str) -> None:
    """Poll ``check`` briskly (for threads meeting in the store's writer); fail after 10 s."""
    wait_for(check, timeout=10, interval=0.002, what=what)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """The store alone, once on SQLite and once on PostgreSQL."""
    opened = open_store(db_url)
    yield opened
    opened.shutdown()


REFERRAL_NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
"""A Tuesday morning: the front door is open."""


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    with SmtpReceiver() as receiver:
        yield receiver


@pytest.fixture
def referral_service(tmp_path: Path, make_config: Any, smtp: SmtpReceiver) -> Iterator[Service]:
    """A service on SQLite referring by email to ``smtp``, its clock at ``REFERRAL_NOW``."""
    config = load_trust_config(make_config(smtp.port))
    store = open_store(f"sqlite:///{tmp_path / 'tf.db'}")
    made = Service(config, store, entry_points=False, clock=FakeClock(REFERRAL_NOW))
    yield made
    made.close()


@pytest.fixture
def referral_service_on_each(
    db_url: str, make_config: Any, smtp: SmtpReceiver
) -> Iterator[Service]:
    """As ``referral_service``, once on SQLite and once on PostgreSQL."""
    config = load_trust_config(make_config(smtp.port))
    made = Service(config, open_store(db_url), entry_points=False, clock=FakeClock(REFERRAL_NOW))
    yield made
    made.close()


class PresentSpy:
    """A host that records which contacts it was asked to show prompts for."""

    def __init__(self) -> None:
        self.shown: list[str] = []

    @hookimpl
    def thinkfamily_present(self, contact: FirstContact, assessment: Assessment) -> None:
        self.shown.append(contact.id)


@contextmanager
def schema_before(monkeypatch: pytest.MonkeyPatch, marker: str) -> Iterator[None]:
    """Inside the block, stores are opened with the schema as it was before the first migration
    naming ``marker``: a database from before that change, for the tests of its upgrade."""
    upto = next(i for i, m in enumerate(MIGRATIONS) if any(marker in s for s in m))
    monkeypatch.setattr(store_base, "MIGRATIONS", MIGRATIONS[:upto])
    try:
        yield
    finally:
        monkeypatch.setattr(store_base, "MIGRATIONS", MIGRATIONS)
