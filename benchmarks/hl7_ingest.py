"""HL7 ingest rate over loopback MLLP with durable commits, beside the libraries' parse rates.

In one run, on the same realistic ADT^A01 (about 1.9 KB, 12 segments):

* hl7apy ``parse_message`` (the full library parse) and python-hl7 ``hl7.parse``, per second;
* the adapter's own read of the message plus its ACK, in process, per second;
* the service's ``accept_contact`` alone (assess, then the durable commit), in process: the
  floor the listener cannot beat;
* ``thinkfamily serve`` on a SQLite file (WAL, ``synchronous=FULL``) receiving the messages on
  one MLLP connection from a light client that sends one message and waits for its ACK (the
  way engines send ADT), and again with up to 32 messages in flight. Every message has its own
  MSH-10, so every one is a durable commit. The service's CPU time is read from ``/proc``, so
  "per core" is messages per CPU-second of the service process.

Prints medians of the rounds and the ratios.

    python benchmarks/hl7_ingest.py [--messages 3000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import hl7  # noqa: E402
from hl7apy.consts import VALIDATION_LEVEL  # noqa: E402
from hl7apy.parser import parse_message  # noqa: E402

from adapters.hl7.ack import acks_for  # noqa: E402
from adapters.hl7.ingest import Reader  # noqa: E402
from adapters.hl7.settings import load_settings  # noqa: E402
from plugin_core.rules.clock import utc_now  # noqa: E402
from plugin_core.service import Service  # noqa: E402
from plugin_core.settings.load import load_trust_config  # noqa: E402
from plugin_core.store import open_store  # noqa: E402
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


def drive(port: int, messages: list[bytes], window: int) -> float:
    """Send over one connection with at most ``window`` unacknowledged; returns seconds taken."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    framed = [b"\x0b" + m + b"\x1c\r" for m in messages]
    sent = acked = 0
    buffer = b""
    started = time.perf_counter()
    while acked < len(framed):
        while sent < len(framed) and sent - acked < window:
            sock.sendall(framed[sent])
            sent += 1
        buffer += sock.recv(65536)
        while (end := buffer.find(b"\x1c\r")) >= 0:
            if b"\rMSA|CA|" not in buffer[:end] and b"\rMSA|AA|" not in buffer[:end]:
                raise RuntimeError("a message was not accepted")
            buffer = buffer[end + 2 :]
            acked += 1
    elapsed = time.perf_counter() - started
    sock.close()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=3000)
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

        process = ServiceProcess(config_path, f"sqlite:///{Path(tmp) / 'bench.db'}", Path(tmp))
        process.start()
        try:
            drive(process.mllp_port, [message(f"WARM-{i}") for i in range(200)], 1)
            for window, label in ((1, "serve, 1 in flight"), (32, "serve, 32 in flight")):
                walls, per_core = [], []
                for r in range(args.rounds):
                    batch = [message(f"W{window}R{r}-{i}") for i in range(args.messages)]
                    cpu_before = cpu_seconds(process.process.pid)  # type: ignore[union-attr]
                    elapsed = drive(process.mllp_port, batch, window)
                    cpu = cpu_seconds(process.process.pid) - cpu_before  # type: ignore[union-attr]
                    walls.append(len(batch) / elapsed)
                    per_core.append(len(batch) / cpu if cpu > 0 else float("inf"))
                figures[f"{label} (wall)"] = walls
                figures[f"{label} (per CPU-second)"] = per_core
        finally:
            process.stop()

    medians = {k: statistics.median(v) for k, v in figures.items()}
    print(f"\nmedians of {args.rounds} rounds ({args.messages} messages per serve round):")
    for name, value in medians.items():
        print(f"  {name:<36} {value:>10,.0f} messages/s")
    base = medians["hl7apy"]
    print("\nratios to hl7apy parse_message:")
    for name, value in medians.items():
        if name != "hl7apy":
            print(f"  {name:<36} {value / base:>10,.1f}x")
    commit = medians["accept_contact alone (per CPU-second)"]
    print("\nratios to the service's durable commit alone (per CPU-second):")
    for name in ("serve, 1 in flight (per CPU-second)", "serve, 32 in flight (per CPU-second)"):
        print(f"  {name:<36} {medians[name] / commit:>10,.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
