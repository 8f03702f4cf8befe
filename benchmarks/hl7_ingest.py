"""HL7 ingest rate over loopback MLLP with durable commits, beside a server that only ACKs.

In one run, on the same realistic ADT^A01 (about 1.9 KB, 12 segments, enhanced mode: a commit
ACK is asked for):

* hl7apy ``parse_message`` (the full library parse) and python-hl7 ``hl7.parse``, per second;
* the adapter's own read of the message plus its ACK, in process, per second;
* the service's ``accept_contact`` alone (assess, then the durable commit), in process;
* with python-hl7's asyncio MLLP client, one connection, 1 and then 32 messages in flight:
  - a no-parse server (a process of its own that only frames and answers each frame with a
    fixed ACK): the floor any listener is measured against;
  - ``thinkfamily serve`` on a SQLite file (WAL, ``synchronous=FULL``) acknowledging on
    receipt (the default: journal, ACK, then the worker process reads the message), and
    again acknowledging after processing. Every message has its own MSH-10, so every one is
    a durable commit.
  Rounds alternate between the servers so that noise falls on both alike.
* how long the journal worker took, after each round acknowledging on receipt, to read what
  was left (it reads while the listener is quiet, so most of a round's messages wait for the
  round to end); the next round starts only then, so its reading never slows another;
* the peak resident memory (VmHWM) of the serve process and of its journal worker.

Prints medians of the rounds and the ratios to the no-parse server.

    python benchmarks/hl7_ingest.py [--messages 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import hl7  # noqa: E402
import hl7.mllp  # noqa: E402
from hl7apy.consts import VALIDATION_LEVEL  # noqa: E402
from hl7apy.parser import parse_message  # noqa: E402

from adapters.hl7.ack import acks_for  # noqa: E402
from adapters.hl7.ingest import Reader  # noqa: E402
from adapters.hl7.settings import load_settings  # noqa: E402
from plugin_core.rules.clock import utc_now  # noqa: E402
from plugin_core.service import Service  # noqa: E402
from plugin_core.settings.load import load_trust_config  # noqa: E402
from plugin_core.store import open_store  # noqa: E402
from plugin_core.store.journal_records import read_segments  # noqa: E402
from tests.peers.service import ServiceProcess, write_trust_config  # noqa: E402

SEGMENTS = [
    "MSH|^~\\&|PAS|NORTHGEN^1.2.826.0.1.98765^ISO|THINKFAMILY|TRUST|20260301100000||ADT^A01^ADT_A01|{id}|P|2.5|||AL|NE||8859/1|EN",
    "EVN|A01|20260301095500|||OPER123^NURSE^CHARGE^^^^^^NORTHGEN|20260301095000",
    "PID|1||RF10001^^^NORTHGEN^MR~9990000018^^^NHS^NH||TESTER^ALEX^JORDAN^^MX^^L||19880501|F|||1 Example Road^Flat 2^London^^N7 8AA^GBR^H~PO Box 1^^London^^N7 9ZZ^GBR^M||020 7946 0000^PRN^PH~^NET^Internet^alex@example.invalid|020 7946 0001^WPN^PH|EN^English^ISO639|M^Married^HL70002|C^Christian^HL70006|V10001^^^NORTHGEN^VN|||A^White British^HL70189||N|1",
    "PD1|||NORTH SURGERY^^M85001|G1234567^DOCTOR^GENERAL^^^DR^^^GMC||||||||N^No^HL70136",
    "NK1|1|TESTER^SAM^^^^^L|CHD^Child^HL70063|1 Example Road^Flat 2^London^^N7 8AA^GBR^H|020 7946 0000^PRN^PH||||||||||F|20160601|C||||F",
    "NK1|2|TESTER^JO^^^^^L|SPO^Spouse^HL70063|1 Example Road^Flat 2^London^^N7 8AA^GBR^H|020 7946 0002^PRN^PH||||||||||M|19860202|||||F",
    "NK1|3|TESTER^ROBIN^^^^^L|SCH^Stepchild^HL70063|1 Example Road^Flat 2^London^^N7 8AA^GBR^H|||||||||||M|20190909|C||||F",
    "PV1|1|I|WARD1^B2^3^NORTHGEN^^^^^Ward One|E|||C1234567^CONSULTANT^CLARE^^^DR^^^GMC|||GEN|||||||C1234567^CONSULTANT^CLARE^^^DR|IP|V10001^^^NORTHGEN^VN|||||||||||||||||||||||||20260301095000",
    "PV2|||^Chest pain and breathlessness||||||20260305|||||||||||||N",
    "OBX|1|TX|NOTE^Admission note^L||Brought in by ambulance after a fall at home; alert and"
    " orientated, reports two days of chest pain and breathlessness on exertion. Lives with"
    " partner and two children; partner at home with the children today. Takes no regular"
    " medication; drinks most days. Seen by the acute medical team, observations stable, for"
    " chest X-ray, bloods and ECG; review by the consultant on the morning ward round. Next of kin told."
    "||||||F",
    "AL1|1|DA|^Penicillin^L|MO|Rash and facial swelling within an hour of the first dose|20150101",
    "DG1|1||F10.2^Alcohol dependence syndrome^I10||20260301|A",
]


def message(control_id: str) -> bytes:
    return ("\r".join(SEGMENTS).replace("{id}", control_id) + "\r").encode("latin-1")


def parsed(prefix: str, count: int) -> list[hl7.Message]:
    """Messages as python-hl7 objects, made before the clock starts."""
    return [hl7.parse(message(f"{prefix}-{i}").decode("latin-1")) for i in range(count)]


def rate(func: Callable[[], object], seconds: float = 1.0) -> float:
    """Calls per second of ``func`` over about ``seconds``."""
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        func()
        count += 1
    return count / elapsed


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


ACK = (
    b"\x0bMSH|^~\\&|THINKFAMILY|TRUST|PAS|NORTHGEN|20260301100000||ACK^A01^ACK|1|P|2.5|||NE|NE"
    b"\rMSA|CA|1\r\x1c\r"
)


def ack_server(ready: Any) -> None:
    """The floor: frame the bytes, answer each frame with a fixed commit ACK, nothing else."""
    server = socket.create_server(("127.0.0.1", 0))
    ready.put(server.getsockname()[1])
    while True:
        conn, _ = server.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = b""
        while data := conn.recv(65536):
            buffer += data
            frames = buffer.count(b"\x1c\r")
            if frames:
                buffer = buffer[buffer.rfind(b"\x1c\r") + 2 :]
                conn.sendall(ACK * frames)
        conn.close()


async def _drive(port: int, messages: list[hl7.Message], window: int) -> float:
    reader, writer = await hl7.mllp.open_hl7_connection("127.0.0.1", port, encoding="latin-1")
    sent = 0
    started = time.perf_counter()
    while sent < min(window, len(messages)):
        writer.writemessage(messages[sent])
        sent += 1
    await writer.drain()
    for _ in range(len(messages)):
        ack = await asyncio.wait_for(reader.readmessage(), 120)
        if str(ack.segment("MSA")[1]) not in ("CA", "AA"):
            raise RuntimeError("a message was not accepted")
        if sent < len(messages):
            writer.writemessage(messages[sent])
            sent += 1
            await writer.drain()
    elapsed = time.perf_counter() - started
    writer.close()
    await writer.wait_closed()
    return elapsed


def drive(port: int, messages: list[hl7.Message], window: int) -> float:
    """Send over one connection with at most ``window`` unacknowledged; returns seconds."""
    return asyncio.run(_drive(port, messages, window))


def wait_for_journal(db: Path, timeout: float = 120.0) -> float:
    """Seconds until no message waits to be read (the worker has caught up): none in the
    listener's journal files that is not yet in the table, and no row waiting there."""
    started = time.perf_counter()
    with sqlite3.connect(db, timeout=30) as conn:
        while time.perf_counter() - started < timeout:
            (waiting,) = conn.execute(
                "SELECT COUNT(*) FROM journal WHERE state = 'waiting'"
            ).fetchone()
            moved = conn.execute("SELECT MAX(last_id) FROM journal_moved").fetchone()[0] or 0
            if not waiting and all(r.id <= moved for r in read_segments(str(db))):
                break
            time.sleep(0.1)
    conn.close()
    return time.perf_counter() - started


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(p) for p in text]
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    sample = message("BENCH-0")
    text = sample.decode("latin-1")
    print(f"message: ADT^A01, {len(sample)} bytes, {len(SEGMENTS)} segments")

    with tempfile.TemporaryDirectory(prefix="tf-bench-") as tmp:
        config_path = write_trust_config(Path(tmp) / "trust", extra_toml="[hl7]\n")
        config = load_trust_config(config_path)
        reader = Reader(load_settings(config), config.code_lists)

        def ours() -> None:
            outcome = reader.read(sample)
            acks_for(outcome.header, outcome.ack_code, at=utc_now(), error=outcome.error)

        def apy() -> None:
            parse_message(text, validation_level=VALIDATION_LEVEL.TOLERANT, find_groups=False)

        def python_hl7() -> None:
            hl7.parse(text)

        figures: dict[str, list[float]] = {k: [] for k in ("hl7apy", "python-hl7", "read+ack")}
        for _ in range(args.rounds):
            figures["hl7apy"].append(rate(apy, 2.0))
            figures["python-hl7"].append(rate(python_hl7))
            figures["read+ack"].append(rate(ours))

        # Baseline: the service's durable commit alone, in process, same database settings.
        service = Service(config, open_store(f"sqlite:///{Path(tmp) / 'baseline.db'}"))
        commits, commits_cpu = [], []
        for r in range(args.rounds):
            contacts = [reader.read(message(f"B{r}-{i}")) for i in range(args.messages // 3)]
            wall, cpu = time.perf_counter(), time.process_time()
            for outcome in contacts:
                assert outcome.contact is not None
                service.accept_contact(outcome.contact, message_key=outcome.header.message_key)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            commits.append(len(contacts) / wall)
            commits_cpu.append(len(contacts) / cpu)
        service.store.close()
        figures["accept_contact alone (wall)"] = commits
        figures["accept_contact alone (per CPU-second)"] = commits_cpu

        context = multiprocessing.get_context("spawn")
        ready = context.Queue()
        floor = context.Process(target=ack_server, args=(ready,), daemon=True)
        floor.start()
        floor_port = int(ready.get(timeout=30))
        after_path = write_trust_config(
            Path(tmp) / "after", extra_toml='[hl7]\nacknowledge = "after-processing"\n'
        )
        servers = {"on receipt": config_path, "after processing": after_path}
        processes = {
            name: ServiceProcess(path, f"sqlite:///{Path(tmp) / (name[:5] + '.db')}", Path(tmp))
            for name, path in servers.items()
        }
        rss: dict[str, float] = {}
        catch_up: dict[int, list[float]] = {1: [], 32: []}
        try:
            for process in processes.values():
                process.start()
                drive(process.mllp_port, parsed("WARM", 300), 1)
            for window in (1, 32):
                for r in range(args.rounds):
                    batch = parsed(f"W{window}R{r}", args.messages)
                    figures.setdefault(f"no-parse ACK server, {window} in flight", []).append(
                        len(batch) / drive(floor_port, batch, window)
                    )
                    for name, process in processes.items():
                        again = parsed(f"{name[:2]}{window}R{r}", args.messages)
                        pid = process.process.pid  # type: ignore[union-attr]
                        cpu = cpu_seconds(pid)
                        elapsed = drive(process.mllp_port, again, window)
                        cpu = cpu_seconds(pid) - cpu
                        label = f"serve {name}, {window} in flight"
                        figures.setdefault(label, []).append(len(again) / elapsed)
                        figures.setdefault(f"{label} (per CPU-second)", []).append(
                            len(again) / cpu if cpu > 0 else float("inf")
                        )
                        if name == "on receipt":  # its worker's reading never lands on another
                            catch_up[window].append(wait_for_journal(Path(tmp) / "on re.db"))
            time.sleep(1)  # the worker has caught up; its memory is read after its work
            for name, process in processes.items():
                pid = process.process.pid  # type: ignore[union-attr]
                rss[f"serve {name}"] = peak_rss_mb(pid)
                for child in children(pid):
                    rss[f"serve {name}: worker process {child}"] = peak_rss_mb(child)
        finally:
            for process in processes.values():
                process.stop()
            floor.kill()

    medians = {k: statistics.median(v) for k, v in figures.items()}
    print(f"\nmedians of {args.rounds} rounds ({args.messages} messages per serve round):")
    for name, value in medians.items():
        print(f"  {name:<36} {value:>10,.0f} messages/s")
    base = medians["hl7apy"]
    print("\nratios to hl7apy parse_message:")
    for name, value in medians.items():
        if name != "hl7apy":
            print(f"  {name:<36} {value / base:>10,.1f}x")
    print("\nratios to the no-parse ACK server with the same client (target: 0.6 and 0.9):")
    for window in (1, 32):
        floor_rate = medians[f"no-parse ACK server, {window} in flight"]
        for name in ("on receipt", "after processing"):
            label = f"serve {name}, {window} in flight"
            print(f"  {label:<36} {medians[label] / floor_rate:>10,.2f}")
    print("\njournal worker, after a round acknowledging on receipt, caught up in (median):")
    for window, seconds in catch_up.items():
        print(f"  {window} in flight{'':<25} {statistics.median(seconds):>10,.1f} s")
    print("\npeak resident memory (target: under 150 MB):")
    for name, value in rss.items():
        print(f"  {name:<36} {value:>10,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
