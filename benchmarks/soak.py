"""Soak: ADT^A01/A04 over MLLP to a ``thinkfamily serve`` that is SIGKILLed and restarted at
random moments, while the referral receivers (FHIR and SMTP) go down and come back; then
every count is reconciled.

What runs, all on loopback:

* synthetic admissions and emergency registrations, each with its own MSH-10: households with
  children (some without a birth date, stepchildren, a grandchild elsewhere), adult children,
  partners, pregnancies, households never asked about, alcohol, drugs, mental ill health,
  domestic abuse and child protection plans; postcodes from the example directory, shared
  districts included. Some adults come back for a second contact;
* a few senders on their own MLLP connections (python-hl7's asyncio client), one message in
  flight each, the way integration engines send ADT. A message whose ACK does not come (the
  service was killed, the connection dropped) is sent again until it gets AA. Some messages
  are sent twice on purpose, byte for byte: at once on another connection, or later;
* sharing decisions posted through the JSON API (bearer token) for a sample of the contacts
  with children, so referrals flow to a FHIR ``$process-message`` endpoint and an SMTP mailbox
  chosen by the trust's directory (each authority's routes alternate between the two);
* ``thinkfamily serve`` on one database (SQLite by default, or PostgreSQL) killed with SIGKILL
  and restarted ``--kills`` times, and each receiver stopped and started now and then.

At the end, with the receivers up, it waits for every referral to be delivered, stops the
service and checks: every message that got AA is stored exactly once and nothing unsent is
stored; every decision posted is recorded; every referral was delivered, is at its receiver
(counted once by the idempotency key the receiver sees) and is recorded as delivered exactly
once; ``thinkfamily audit verify`` passes; no service log line carries a synthetic patient's
name, NHS number or postcode. Copies a receiver had to de-duplicate are counted, not failed:
delivery is at least once.

    python benchmarks/soak.py [--messages 10000] [--kills 8] [--seed 1] [--db sqlite|postgresql|URL]

Exits 1 when any check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import re
import subprocess
import sys
import tempfile
import time
import tomllib
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import hl7  # noqa: E402
import hl7.mllp  # noqa: E402
import requests  # noqa: E402

from plugin_core.store import open_store  # noqa: E402
from tests.peers.receivers import FhirMessageReceiver, SwitchableSmtp  # noqa: E402
from tests.peers.service import ServiceProcess, write_trust_config  # noqa: E402
from tests.peers.smtp import Mailbox  # noqa: E402

FACILITY = "SOAKPAS"
ROUTES = ("front_door", "out_of_hours", "early_help", "lado")

GIVEN = (
    "Albin", "Briony", "Caspian", "Delphine", "Emrys", "Fenella", "Gethin", "Honor", "Ivo",
    "Jessamy", "Kit", "Linnea", "Merrick", "Nerys", "Orrin", "Perpetua", "Quill", "Rosalind",
    "Soren", "Tamsin", "Ulric", "Verity", "Wystan", "Xanthe", "Yestin", "Zinnia",
)  # fmt: skip
FAMILY = (
    "Abernethy-Quist", "Blenkinsop", "Cadwallader", "Dunstanville", "Etheridge-Vane",
    "Fothergill", "Gwynllyw", "Hetherwick", "Illingworth-Pryce", "Jessop-Marr", "Kilbride-Oake",
    "Lanyon-Tredwell", "Mowbray-Fisk", "Nettleship", "Ormerod-Blythe", "Pendarves",
    "Quarrington", "Rattenbury", "Sheepshanks", "Trevithick-Hale", "Uttley-Barnes",
    "Vavasour", "Wolstenholme", "Yelverton", "Zouche-Harker",
)  # fmt: skip
STREETS = ("Soak Lane", "Testbed Road", "Fixture Street", "Harness Close", "Sample Gardens")
RISKS = (
    ("F10.2", "Alcohol dependence", "I10"),
    ("F11.2", "Opioid dependence", "I10"),
    ("F32.1", "Moderate depressive episode", "I10"),
    ("F20.0", "Paranoid schizophrenia", "I10"),
    ("DA", "Domestic abuse", "L"),
    ("CPP", "Child protection plan", "L"),
)


# Synthetic messages ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Adt:
    """One generated message and what the soak needs to know about it."""

    control_id: str
    text: str
    children: int
    candidates: tuple[str, ...]
    confirm: bool  # the postcodes do not settle the authority: the decision names one

    @property
    def message_key(self) -> str:
        return f"{FACILITY}|{self.control_id}"

    @property
    def contact_id(self) -> str:
        return f"hl7:{self.message_key}"


@dataclass(frozen=True, slots=True)
class Adult:
    mrn: str
    nhs: str
    given: str
    family: str
    birth: date
    sex: str
    address: str
    postcode: str
    members: tuple[tuple[str, ...], ...]  # NK1 segments without the set id
    risks: tuple[tuple[str, str, str], ...]
    children: int
    family_elsewhere: bool


def nhs_number(rng: random.Random) -> str:
    """A valid NHS number (modulus 11) in the 999 range kept for test data."""
    while True:
        digits = "999" + "".join(str(rng.randrange(10)) for _ in range(6))
        check = 11 - sum(int(d) * (10 - i) for i, d in enumerate(digits)) % 11
        if check == 11:
            check = 0
        if check != 10:
            return digits + str(check)


def directory_districts() -> dict[str, tuple[str, ...]]:
    """Postcode district -> authorities of the example directory that cover it."""
    data = tomllib.loads((ROOT / "config" / "authorities.toml").read_text())
    found: dict[str, list[str]] = {}
    for authority, entry in data["authorities"].items():
        for district in entry.get("postcodes", []):
            found.setdefault(district, []).append(authority)
    return {d: tuple(a) for d, a in sorted(found.items())}


def _hl7_date(day: date) -> str:
    return day.strftime("%Y%m%d")


def _born(rng: random.Random, on: date, low: int, high: int) -> date:
    """A birth date giving an age from ``low`` to ``high`` (inclusive) on ``on``."""
    return on - timedelta(days=rng.randint(low * 366, high * 365 + 300))


def make_adult(
    rng: random.Random, run: str, number: int, on: date, districts: dict[str, tuple[str, ...]]
) -> Adult:
    family, given = rng.choice(FAMILY), rng.choice(GIVEN)
    sex = rng.choice("FM")
    district = rng.choice(list(districts))
    inward = f"{rng.randrange(10)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
    postcode = f"{district} {inward}"
    address = f"{rng.randint(1, 240)} {rng.choice(STREETS)}^^London^^{postcode}^GBR^H"
    elsewhere = f"{rng.randint(1, 99)} Other Row^^London^^E8 {rng.randrange(10)}AB^GBR^H"
    members: list[tuple[str, ...]] = []
    children = 0
    shape = rng.random()
    if shape < 0.62:  # children at home
        for _ in range(rng.choice((1, 1, 2, 2, 3, 4))):
            code = rng.choice(("CHD^Child", "CHD^Child", "SCH^Stepchild", "FCH^Foster child"))
            dob = "" if rng.random() < 0.08 else _hl7_date(_born(rng, on, 0, 17))
            members.append(
                (f"{family}^{rng.choice(GIVEN)}", f"{code}^HL70063", address, rng.choice("FM"), dob)
            )
            children += 1
        if rng.random() < 0.5:
            members.append(
                (
                    f"{family}^{rng.choice(GIVEN)}",
                    "SPO^Spouse^HL70063",
                    address,
                    rng.choice("FM"),
                    _hl7_date(_born(rng, on, 20, 60)),
                )
            )
        if rng.random() < 0.1:
            members.append(
                (
                    f"{family}^{rng.choice(GIVEN)}",
                    "GCH^Grandchild^HL70063",
                    elsewhere,
                    rng.choice("FM"),
                    _hl7_date(_born(rng, on, 0, 10)),
                )
            )
        if rng.random() < 0.05:
            members.append((f"{family}^{rng.choice(GIVEN)}", "ZZZ^Lodger", address, "", ""))
    elif shape < 0.75:  # adult children only
        for _ in range(rng.randint(1, 2)):
            members.append(
                (
                    f"{family}^{rng.choice(GIVEN)}",
                    "CHD^Child^HL70063",
                    address,
                    rng.choice("FM"),
                    _hl7_date(_born(rng, on, 19, 30)),
                )
            )
    elif shape < 0.85:  # partner only
        members.append(
            (
                f"{family}^{rng.choice(GIVEN)}",
                "DOM^Life partner^HL70063",
                address,
                rng.choice("FM"),
                _hl7_date(_born(rng, on, 20, 60)),
            )
        )
    # else: nobody recorded, so the household was never asked about
    risks = [r for r in RISKS if rng.random() < 0.07]
    if sex == "F" and rng.random() < 0.08:
        risks.append(("Z33.1", "Pregnant state", "I10"))
    return Adult(
        mrn=f"{run}P{number:06d}",
        nhs=nhs_number(rng),
        given=given,
        family=family,
        birth=_born(rng, on, 19, 70),
        sex=sex,
        address=address,
        postcode=postcode,
        members=tuple(members),
        risks=tuple(risks),
        children=children,
        family_elsewhere=any(m[2] == elsewhere for m in members),
    )


def _segment(name: str, fields: dict[int, str]) -> str:
    last = max(fields)
    return "|".join([name, *(fields.get(n, "") for n in range(1, last + 1))])


def adt_text(adult: Adult, control_id: str, at: datetime, rng: random.Random) -> str:
    event, patient_class = rng.choice((("A01", "I"), ("A01", "I"), ("A04", "E"), ("A04", "O")))
    version = rng.choice(("2.3", "2.4", "2.5", "2.5.1"))
    stamp = at.strftime("%Y%m%d%H%M%S")
    msh = f"MSH|^~\\&|PAS|{FACILITY}|THINKFAMILY|TRUST|{stamp}||ADT^{event}^ADT_A01|{control_id}|P|{version}"
    segments = [
        msh,
        f"EVN|{event}|{stamp}",
        _segment(
            "PID",
            {
                1: "1",
                3: f"{adult.mrn}^^^{FACILITY}^MR~{adult.nhs}^^^NHS^NH",
                5: f"{adult.family}^{adult.given}^^^^^L",
                7: _hl7_date(adult.birth),
                8: adult.sex,
                11: adult.address,
            },
        ),
        _segment(
            "PV1",
            {
                1: "1",
                2: patient_class,
                3: f"{'WARD' if patient_class == 'I' else 'ED'}^B{rng.randint(1, 9)}^{rng.randint(1, 30)}^{FACILITY}",
                19: f"V{control_id}",
            },
        ),
    ]
    for n, (name, relationship, address, sex, dob) in enumerate(adult.members, start=1):
        segments.append(
            _segment("NK1", {1: str(n), 2: name, 3: relationship, 4: address, 15: sex, 16: dob})
        )
    for n, (code, text, system) in enumerate(adult.risks, start=1):
        segments.append(f"DG1|{n}||{code}^{text}^{system}||{stamp[:8]}|A")
    return "\r".join(segments) + "\r"


def generate(count: int, seed: int, run: str) -> tuple[list[Adt], list[Adult]]:
    """``count`` messages with distinct control ids; about one in seven is a returning adult."""
    rng = random.Random(seed)
    districts = directory_districts()
    now = datetime.now(UTC).replace(microsecond=0)
    adults: list[Adult] = []
    messages: list[Adt] = []
    for i in range(count):
        at = now - timedelta(minutes=rng.randint(1, 600))
        if adults and rng.random() < 0.15:
            adult = rng.choice(adults)
        else:
            adult = make_adult(rng, run, len(adults), at.date(), districts)
            adults.append(adult)
        control_id = f"{run}-{i:06d}"
        district = adult.postcode.split()[0]
        messages.append(
            Adt(
                control_id,
                adt_text(adult, control_id, at, rng),
                adult.children,
                districts[district],
                len(districts[district]) > 1 or adult.family_elsewhere,
            )
        )
    return messages, adults


def identifiers(adults: list[Adult]) -> tuple[set[str], set[str], set[str]]:
    """(NHS numbers, postcodes, family names) of the synthetic adults, for the log scan."""
    return (
        {a.nhs for a in adults},
        {a.postcode for a in adults},
        {a.family for a in adults},
    )


# Configuration --------------------------------------------------------------------------------


def soak_directory(fhir_endpoint: str) -> str:
    """The example directory's authorities and postcodes, every route reachable by FHIR or
    email (alternating, so both channels carry every kind of route)."""
    data = tomllib.loads((ROOT / "config" / "authorities.toml").read_text())
    lines = ["[police]", 'channel = "phone"', 'phone = "999"', 'label = "Police"', ""]
    for i, (authority, entry) in enumerate(sorted(data["authorities"].items())):
        lines += [
            f"[authorities.{authority}]",
            f"name = {json.dumps(entry['name'])}",
            f"postcodes = {json.dumps(entry['postcodes'])}",
        ]
        hours = entry.get("office_hours")
        if hours:
            lines.append(
                f'office_hours = {{ opens = "{hours["opens"]}", closes = "{hours["closes"]}" }}'
            )
        for j, route in enumerate(ROUTES):
            fhir = (i + j) % 2 == 0
            address = fhir_endpoint if fhir else f"{route.replace('_', '-')}@{authority}.example"
            lines += [
                "",
                f"[authorities.{authority}.routes.{route}]",
                f'channel = "{"fhir" if fhir else "email"}"',
                f'address = "{address}"',
                f'phone = "020 0000 {i:02d}{j:02d}"',
            ]
        lines.append("")
    return "\n".join(lines)


def soak_toml(smtp_port: int) -> str:
    return f"""
[email]
smtp_host = "127.0.0.1"
smtp_port = {smtp_port}
sender = "thinkfamily@soak.example"
tls = "none"
timeout_seconds = 5

[fhir]
auth = "none"
connect_timeout = 2
read_timeout = 5
retries = 0
clinician_form_url = "https://forms.example.test/think-family"

[outbox]
poll_seconds = 0.2
lease_seconds = 5.0
retry_base_seconds = 0.2
retry_cap_seconds = 2.0
batch = 10

[urgency]
urgent_levels = [4]
urgent_ack_minutes = 1440
routine_ack_hours = 72
"""


# The run ---------------------------------------------------------------------------------------


@dataclass
class SoakOptions:
    messages: int = 10_000
    kills: int = 8
    seed: int = 1
    db: str = "sqlite"
    connections: int = 4
    decision_rate: float = 0.1
    resend_rate: float = 0.02
    receiver_delay: float = 0.05  # receivers answer this long after storing a referral
    ack_timeout: float = 15.0
    drain_timeout: float = 180.0
    deadline: float = 3600.0
    flap: bool = True


@dataclass
class Ledger:
    """What the senders, the API client and the chaos did, as they saw it."""

    transmissions: int = 0
    resends: int = 0
    deliberate: int = 0
    aa: set[str] = field(default_factory=set)
    aa_count: int = 0
    other_acks: Counter[str] = field(default_factory=Counter)
    mismatched_acks: int = 0
    sent: set[str] = field(default_factory=set)
    decisions: dict[str, str] = field(default_factory=dict)  # decision id -> contact id
    decision_conflicts: int = 0
    decision_faults: list[str] = field(default_factory=list)
    kills: int = 0
    log_paths: list[Path] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Outcome:
    acknowledged: bool  # every message got AA before the deadline
    drained: bool  # every referral was delivered before the drain timeout
    sending: float
    draining: float


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class SoakReport:
    counts: dict[str, int | float | str]
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def render(self) -> str:
        width = max(len(k) for k in self.counts)
        lines = [
            f"  {k:<{width}}  {v:,}" if isinstance(v, int) else f"  {k:<{width}}  {v}"
            for k, v in self.counts.items()
        ]
        lines.append("")
        lines += [
            f"  {'PASS' if c.ok else 'FAIL'}  {c.name}" + (f": {c.detail}" if c.detail else "")
            for c in self.checks
        ]
        return "\n".join(lines)


class Soak:
    def __init__(self, options: SoakOptions, workdir: Path, db_url: str) -> None:
        self.options = options
        self.workdir = workdir
        self.db_url = db_url
        self.tag = f"S{uuid.uuid4().hex[:6]}"
        self.rng = random.Random(options.seed + 1)
        self.messages, self.adults = generate(options.messages, options.seed, self.tag)
        self.ledger = Ledger()
        self.fhir = FhirMessageReceiver(delay=options.receiver_delay)
        self.smtp = SwitchableSmtp(Mailbox(delay=options.receiver_delay))
        config = write_trust_config(
            workdir / "trust",
            extra_toml=soak_toml(self.smtp.port),
            authorities=soak_directory(self.fhir.endpoint),
        )
        self.service = ServiceProcess(config, db_url, workdir / "logs", name="soak")
        self.sending_done = asyncio.Event()
        self.outcome = Outcome(False, False, 0.0, 0.0)
        self.backlog = 0  # referrals not yet delivered when the sending ended

    # Senders ----------------------------------------------------------------------------------

    def jobs(self) -> list[tuple[int, bool]]:
        """(message index, deliberate resend); some resends follow their original at once."""
        out: list[tuple[int, bool]] = []
        for i in range(len(self.messages)):
            out.append((i, False))
            if self.rng.random() < self.options.resend_rate / 2:
                out.append((i, True))
        return out

    async def sender(
        self, queue: asyncio.Queue[tuple[int, bool]], decisions: asyncio.Queue[int]
    ) -> None:
        reader: hl7.mllp.HL7StreamReader | None = None
        writer: hl7.mllp.HL7StreamWriter | None = None
        pause = 0.05
        while True:
            index, deliberate = await queue.get()
            adt = self.messages[index]
            written = 0
            while True:
                try:
                    if writer is None or reader is None:
                        reader, writer = await asyncio.wait_for(
                            hl7.mllp.open_hl7_connection("127.0.0.1", self.service.mllp_port), 5
                        )
                    self.ledger.sent.add(adt.control_id)
                    self.ledger.transmissions += 1
                    if written:
                        self.ledger.resends += 1  # no ACK, or not AA: send it again, unchanged
                    written += 1
                    writer.writemessage(adt.text)
                    await writer.drain()
                    ack = await asyncio.wait_for(reader.readmessage(), self.options.ack_timeout)
                except (OSError, EOFError, TimeoutError, ValueError, hl7.mllp.InvalidBlockError):
                    if writer is not None:
                        writer.close()
                        with contextlib.suppress(Exception):
                            await writer.wait_closed()
                    reader = writer = None
                    await asyncio.sleep(pause)
                    pause = min(0.5, pause * 2)
                    continue
                pause = 0.05
                msa = ack.segment("MSA")
                code, acked = str(msa[1]), str(msa[2])
                if acked != adt.control_id:
                    self.ledger.mismatched_acks += 1
                if code != "AA":
                    self.ledger.other_acks[code] += 1
                    await asyncio.sleep(0.2)
                    continue
                self.ledger.aa_count += 1
                if deliberate:
                    self.ledger.deliberate += 1
                elif adt.control_id not in self.ledger.aa:
                    self.ledger.aa.add(adt.control_id)
                    if adt.children and self.rng.random() < self.options.decision_rate:
                        decisions.put_nowait(index)
                    if self.rng.random() < self.options.resend_rate / 2:
                        queue.put_nowait((index, True))  # later, byte for byte
                break
            queue.task_done()

    # Decisions through the API ----------------------------------------------------------------

    def decision_body(self, index: int) -> dict[str, Any]:
        adt = self.messages[index]
        rng = random.Random(index)
        level = rng.choice((2, 3, 3, 3, 4))
        body: dict[str, Any] = {
            "id": f"{self.tag}-d-{index:06d}",
            "decided_by": {
                "id": f"nurse-{rng.randint(1, 40)}",
                "role": "staff nurse",
                "phone": f"020 7946 0{rng.randint(0, 999):03d}",
            },
            "share": True,
            "level_of_need": level,
            "reasons": "Parent admitted; children at home need a check on who is caring for them.",
            "what_shared": "Admission, diagnosis category and the children's ages.",
            "lawful_basis": "public_task",
            "consent": "not_sought",
            "consent_not_sought_reason": "Seeking consent would delay making the children safe.",
        }
        if level == 3 and rng.random() < 0.25:
            body["lado_criteria"] = ["risk_of_harm"]
        if adt.confirm:
            body["authority_id"] = rng.choice(adt.candidates)
        return body

    def post_decision(self, index: int) -> None:
        adt = self.messages[index]
        body = self.decision_body(index)
        path = f"/api/contacts/{quote(adt.contact_id, safe='')}/decision"
        for _ in range(600):
            try:
                response = self.service.api("POST", path, json=body)
            except requests.RequestException:
                time.sleep(0.2)  # the service is down: post again once it is back
                continue
            if response.status_code in (201, 409):
                # 409: recorded by an earlier try whose answer was lost in a kill.
                self.ledger.decision_conflicts += response.status_code == 409
                self.ledger.decisions[body["id"]] = adt.contact_id
                return
            if response.status_code >= 500 or response.status_code == 404:
                # 404: the message is acknowledged on receipt and not yet read from the journal.
                time.sleep(0.2)
                continue
            self.ledger.decision_faults.append(f"{body['id']}: HTTP {response.status_code}")
            return
        self.ledger.decision_faults.append(f"{body['id']}: no answer")

    async def decider(self, decisions: asyncio.Queue[int]) -> None:
        while True:
            index = await decisions.get()
            await asyncio.to_thread(self.post_decision, index)
            decisions.task_done()

    # Chaos ------------------------------------------------------------------------------------

    def start_service(self) -> None:
        self.service.start(timeout=60)
        self.ledger.log_paths.append(self.service.log_path)

    async def killer(self) -> None:
        """SIGKILL at random points of the sending, then restart on the same database."""
        total = len(self.messages)
        marks = sorted(self.rng.uniform(0.03, 0.9) * total for _ in range(self.options.kills))
        for mark in marks:
            while len(self.ledger.aa) < mark and not self.sending_done.is_set():
                await asyncio.sleep(0.01)
            await asyncio.sleep(self.rng.uniform(0, 0.3))
            self.service.kill()
            self.ledger.kills += 1
            await asyncio.sleep(self.rng.uniform(0, 1.0))
            await asyncio.to_thread(self.start_service)

    async def flapper(self, receiver: FhirMessageReceiver | SwitchableSmtp) -> None:
        while not self.sending_done.is_set():
            await asyncio.sleep(self.rng.uniform(0.3, 3.0))
            if self.sending_done.is_set():
                break
            await asyncio.to_thread(receiver.down)
            await asyncio.sleep(self.rng.uniform(0.2, 2.5))
            await asyncio.to_thread(receiver.up)

    # Draining and reading back ----------------------------------------------------------------

    def read(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        store = open_store(self.db_url, migrate=False)
        try:
            with store.transaction() as tx:
                return tx.all(sql, params)
        finally:
            store.close()

    def undelivered(self) -> int:
        rows = self.read(
            "SELECT COUNT(*) FROM referrals WHERE decision_id LIKE ? AND delivered_at IS NULL",
            (f"{self.tag}-d-%",),
        )
        return int(rows[0][0])

    async def drain(self) -> bool:
        deadline = time.monotonic() + self.options.drain_timeout
        self.backlog = await asyncio.to_thread(self.undelivered)
        while time.monotonic() < deadline:
            if await asyncio.to_thread(self.undelivered) == 0:
                await asyncio.sleep(1.0)  # room for a stray duplicate to arrive, if any
                return True
            await asyncio.sleep(0.5)
        return False

    async def drive(self) -> Outcome:
        """Send everything through the chaos, then wait for the referrals to be delivered."""
        queue: asyncio.Queue[tuple[int, bool]] = asyncio.Queue()
        for job in self.jobs():
            queue.put_nowait(job)
        decisions: asyncio.Queue[int] = asyncio.Queue()
        started = time.monotonic()
        workers = [
            asyncio.create_task(self.sender(queue, decisions))
            for _ in range(self.options.connections)
        ]
        workers += [asyncio.create_task(self.decider(decisions)) for _ in range(2)]
        killer = asyncio.create_task(self.killer())
        flappers = (
            [asyncio.create_task(self.flapper(r)) for r in (self.fhir, self.smtp)]
            if self.options.flap
            else []
        )
        acknowledged = True
        try:
            await asyncio.wait_for(queue.join(), self.options.deadline)
            await asyncio.wait_for(decisions.join(), self.options.deadline)
        except TimeoutError:
            acknowledged = False
        self.sending_done.set()
        await killer
        await asyncio.gather(*flappers)
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        sent_at = time.monotonic()
        self.fhir.up()
        self.smtp.up()
        drained = acknowledged and await self.drain()
        return Outcome(acknowledged, drained, sent_at - started, time.monotonic() - sent_at)

    def run(self) -> SoakReport:
        """Start the receivers and the service, drive, stop the service, reconcile."""
        with self.fhir, self.smtp:
            self.start_service()
            try:
                self.outcome = asyncio.run(self.drive())
            finally:
                self.service.stop()
        return self.reconcile()

    # Reconciliation ---------------------------------------------------------------------------

    def reconcile(self) -> SoakReport:
        """Read the database and the receivers back and check them against the ledger."""
        ledger, run = self.ledger, self.tag
        acknowledged, drained = self.outcome.acknowledged, self.outcome.drained
        checks: list[Check] = []
        generated = {m.control_id for m in self.messages}
        prefix = f"{FACILITY}|"
        stored = Counter(
            {
                str(key).removeprefix(prefix): int(n)
                for key, n in self.read(
                    "SELECT message_key, COUNT(*) FROM contacts WHERE message_key LIKE ? GROUP BY message_key",
                    (f"{prefix}{run}-%",),
                )
            }
        )
        never_acked = generated - ledger.aa
        checks.append(
            Check("every message got AA", acknowledged and not never_acked, _few(never_acked))
        )
        not_once = {k for k in ledger.aa if stored[k] != 1}
        checks.append(
            Check("every message that got AA is stored exactly once", not not_once, _few(not_once))
        )
        unsent = set(stored) - ledger.sent
        checks.append(Check("nothing stored that was never sent", not unsent, _few(unsent)))
        unacked = set(stored) - ledger.aa
        checks.append(Check("nothing stored without its AA", not unacked, _few(unacked)))
        checks.append(
            Check(
                "every ACK names its message",
                ledger.mismatched_acks == 0,
                str(ledger.mismatched_acks or ""),
            )
        )

        decided = {
            str(r[0])
            for r in self.read("SELECT id FROM decisions WHERE id LIKE ?", (f"{run}-d-%",))
        }
        missing_decisions = set(ledger.decisions) - decided
        checks.append(
            Check(
                "every decision posted is recorded",
                not missing_decisions and not ledger.decision_faults,
                _few(missing_decisions) + "; ".join(ledger.decision_faults[:5]),
            )
        )
        referrals = {
            str(r[0]): (str(r[1]), r[2] is not None)
            for r in self.read(
                "SELECT id, idempotency_key, delivered_at FROM referrals WHERE decision_id LIKE ?",
                (f"{run}-d-%",),
            )
        }
        recorded_deliveries = Counter(
            {
                str(r[0]): int(r[1])
                for r in self.read(
                    "SELECT a.referral_id, COUNT(*) FROM delivery_attempts a JOIN referrals r ON r.id = a.referral_id"
                    " WHERE r.decision_id LIKE ? AND a.outcome IN ('delivered', 'acknowledged') GROUP BY a.referral_id",
                    (f"{run}-d-%",),
                )
            }
        )
        undelivered = {rid for rid, (_, done) in referrals.items() if not done}
        checks.append(
            Check("every referral delivered", drained and not undelivered, _few(undelivered))
        )
        twice = {rid for rid, n in recorded_deliveries.items() if n > 1}
        checks.append(
            Check("no referral recorded as delivered more than once", not twice, _few(twice))
        )
        not_recorded = {rid for rid in referrals if recorded_deliveries[rid] != 1}
        checks.append(
            Check("every referral has one delivery recorded", not not_recorded, _few(not_recorded))
        )
        fhir_keys, smtp_keys = self.fhir.keys(), self.smtp.keys()
        at_receivers = fhir_keys + smtp_keys
        keys = {key for key, _ in referrals.values()}
        absent = {key for key in keys if at_receivers[key] == 0}
        checks.append(Check("every referral is at its receiver", not absent, _few(absent)))
        stray = set(at_receivers) - keys
        checks.append(
            Check("receivers got nothing that is not a recorded referral", not stray, _few(stray))
        )
        both = set(fhir_keys) & set(smtp_keys)
        checks.append(Check("no referral reached both receivers", not both, _few(both)))

        audit = subprocess.run(
            [
                str(Path(sys.executable).with_name("thinkfamily")),
                "audit",
                "verify",
                "--db",
                self.db_url,
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        checks.append(
            Check(
                "thinkfamily audit verify",
                audit.returncode == 0,
                (audit.stdout.strip() or audit.stderr.strip())[:200],
            )
        )
        leaks = self.leaks()
        checks.append(
            Check("no synthetic identifier in the service's logs", not leaks, _few(leaks))
        )

        counts: dict[str, int | float | str] = {
            "database": self.db_url.split(":", 1)[0],
            "seconds sending (kills and outages included)": round(self.outcome.sending, 1),
            "seconds until every referral was delivered": round(self.outcome.draining, 1),
            "messages generated": len(self.messages),
            "transmissions": ledger.transmissions,
            "AA": ledger.aa_count,
            "messages with AA": len(ledger.aa),
            "resends after a missing ACK": ledger.resends,
            "deliberate identical resends": ledger.deliberate,
            "other ACK codes": sum(ledger.other_acks.values()),
            "kills (SIGKILL)": ledger.kills,
            "FHIR receiver outages": self.fhir.outages,
            "SMTP receiver outages": self.smtp.outages,
            "contacts stored": sum(stored.values()),
            "decisions posted": len(ledger.decisions),
            "decisions answered 409 on a retry": ledger.decision_conflicts,
            "referrals recorded": len(referrals),
            "referrals not yet delivered when the sending ended": self.backlog,
            "referrals delivered": sum(1 for _, done in referrals.values() if done),
            "referrals at receivers (distinct keys)": len(set(at_receivers) & keys),
            "  by FHIR / by email": f"{len(fhir_keys)} / {len(smtp_keys)}",
            "duplicates receivers de-duplicated": sum(
                n - 1 for n in at_receivers.values() if n > 1
            ),
            "referrals recorded delivered more than once": len(twice),
        }
        return SoakReport(counts, checks)

    def leaks(self) -> set[str]:
        """Synthetic NHS numbers, postcodes and family names found in the service's logs."""
        numbers, postcodes, families = identifiers(self.adults)
        found: set[str] = set()
        for path in ledger_paths(self.ledger):
            text = path.read_text(errors="replace")
            found |= set(re.findall(r"\d{10}", text)) & numbers
            found |= {p for p in postcodes if p in text}
            found |= {f for f in families if f in text or f.upper() in text}
        return {value[:3] + "…" for value in found}


def ledger_paths(ledger: Ledger) -> Iterator[Path]:
    for path in ledger.log_paths:
        if path.exists():
            yield path


def _few(items: set[str]) -> str:
    if not items:
        return ""
    shown = ", ".join(sorted(items)[:5])
    return f"{len(items)}: {shown}" + (" …" if len(items) > 5 else "")


def run_soak(options: SoakOptions, workdir: Path) -> SoakReport:
    """The whole soak in ``workdir``; starts PostgreSQL when ``options.db`` is ``postgresql``."""
    with _database(options.db, workdir) as db_url:
        return Soak(options, workdir, db_url).run()


@contextlib.contextmanager
def _database(db: str, workdir: Path) -> Iterator[str]:
    if db == "sqlite":
        yield f"sqlite:///{workdir / 'soak.db'}"
    elif db == "postgresql":
        from tests.peers.postgres import create_database, postgres_server

        with postgres_server() as admin:
            yield create_database(admin, "soak")
    else:
        yield db


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--kills", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--db",
        default="sqlite",
        help="sqlite (a new file), postgresql (a new local server) or a database URL",
    )
    parser.add_argument("--connections", type=int, default=4, help="MLLP senders at once")
    args = parser.parse_args()
    options = SoakOptions(
        messages=args.messages,
        kills=args.kills,
        seed=args.seed,
        db=args.db,
        connections=args.connections,
    )
    with tempfile.TemporaryDirectory(prefix="tf-soak-") as tmp:
        report = run_soak(options, Path(tmp))
    print(f"soak {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, seed {options.seed}")
    print(report.render())
    print("\nreconciled" if report.ok else "\nRECONCILIATION FAILED")
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
