"""Who gets a connection to the MLLP listener: allow-list, per-sender cap, frame deadline, and
the longest-idle connection giving way to a new one, against real sockets on loopback.

Loopback answers on all of 127.0.0.0/8, so a test speaks as several senders by binding its
sockets to 127.0.0.2, 127.0.0.3 and so on.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hl7.client import MLLPClient

from adapters.hl7.client import read_ack
from adapters.hl7.connections import ConnectionPolicy
from adapters.hl7.framing import frame
from adapters.hl7.ingest import Reader
from adapters.hl7.listener import MllpListener
from adapters.hl7.settings import load_settings
from plugin_core.service import Service
from tests.hl7.conftest import HL7_TOML, LoopThread, corpus_bytes
from tests.hl7.mllp_peer import RawPeer
from tests.peers.ports import wait_for
from tests.peers.service import ServiceProcess, write_trust_config

pytestmark = pytest.mark.integration

MESSAGE = corpus_bytes("a01_v2_3_basic")


def message(control_id: str) -> bytes:
    return MESSAGE.replace(b"C23-0001", control_id.encode())


def connect(port: int, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def closed_by_listener(sock: socket.socket, within: float = 3.0) -> bool:
    """True when the listener closes ``sock`` within ``within`` seconds."""
    sock.settimeout(within)
    try:
        return sock.recv(100) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def ack_code(sock: socket.socket, control_id: str) -> str:
    """Send one message on ``sock`` and return the code of the ACK that answers it."""
    sock.sendall(frame(message(control_id)))
    reply = RawPeer.over(sock).acks(1)[0]
    assert reply.acked_control_id == control_id
    return reply.code


Start = Callable[[ConnectionPolicy], MllpListener]


@pytest.fixture
def start(service: Service, loop_thread: LoopThread) -> Iterator[Start]:
    started: list[MllpListener] = []

    def run(policy: ConnectionPolicy) -> MllpListener:
        reader = Reader(load_settings(service.config), service.config.code_lists)
        listener = MllpListener(reader, lambda: service, port=0, policy=policy)
        loop_thread.run(listener.start())
        started.append(listener)
        return listener

    yield run
    for listener in started:
        loop_thread.run(listener.stop())


def open_count(listener: MllpListener, n: int) -> None:
    wait_for(lambda: listener.health()["connections"] == n, timeout=10, what=f"{n} connections")


def counter(service: Service, name: str) -> int:
    return service.store.counters().get(name, 0)


def test_sender_outside_the_allowed_networks_is_closed_at_once_and_counted(
    start: Start, service: Service
) -> None:
    policy = ConnectionPolicy(allowed=(ipaddress.ip_network("127.0.0.1/32"),))
    listener = start(policy)
    with connect(listener.port, "127.0.0.2") as outsider:
        assert closed_by_listener(outsider, within=2.0)
    with connect(listener.port, "127.0.0.1") as insider:
        assert ack_code(insider, "ALLOWED-1") == "AA"
    assert listener.health()["refused"]["network"] == 1
    wait_for(lambda: counter(service, "hl7.refused_network") == 1, timeout=5, what="count")


def test_sender_at_its_cap_gives_up_its_own_longest_idle_connection_and_others_keep_theirs(
    start: Start, service: Service
) -> None:
    listener = start(ConnectionPolicy(max_connections=10, max_per_peer=2))
    first = connect(listener.port, "127.0.0.2")
    quiet = connect(listener.port, "127.0.0.2")
    other = connect(listener.port, "127.0.0.3")
    try:
        open_count(listener, 3)
        assert ack_code(first, "CAP-1") == "AA"  # first has now spoken since quiet opened
        third = connect(listener.port, "127.0.0.2")
        with third:
            assert closed_by_listener(quiet)
            assert ack_code(first, "CAP-2") == "AA"
            assert ack_code(third, "CAP-3") == "AA"
            assert ack_code(other, "CAP-4") == "AA"
    finally:
        for sock in (first, quiet, other):
            sock.close()
    wait_for(
        lambda: (counter(service, "hl7.peer_capped"), counter(service, "hl7.evicted")) == (1, 1),
        timeout=5,
        what="counts",
    )


def test_full_listener_closes_the_longest_idle_connection_for_each_new_one(
    start: Start,
) -> None:
    listener = start(ConnectionPolicy(max_connections=3, max_per_peer=0))
    socks = {}
    try:
        for name in ("a", "b", "c"):
            socks[name] = connect(listener.port)
            open_count(listener, len(socks))
        assert ack_code(socks["a"], "ORDER-A") == "AA"  # a is now the most recently heard
        socks["d"] = connect(listener.port)
        assert closed_by_listener(socks["b"])
        socks["e"] = connect(listener.port)
        assert closed_by_listener(socks["c"])
        assert [ack_code(socks[n], f"ORDER-{n}") for n in ("a", "d", "e")] == ["AA"] * 3
        health = listener.health()
        assert (health["connections"], health["evicted"], health["saturated"]) == (3, 2, 2)
    finally:
        for sock in socks.values():
            sock.close()


def test_trickling_a_frame_does_not_count_as_being_heard_from(start: Start) -> None:
    listener = start(ConnectionPolicy(max_connections=2, max_per_peer=0, frame_deadline=30))
    stalled = connect(listener.port)
    open_count(listener, 1)
    stalled.sendall(b"\x0bMSH|^~\\&|")
    feed = connect(listener.port)
    try:
        open_count(listener, 2)
        stalled.sendall(b"P")  # a byte more, after the feed opened
        assert ack_code(feed, "FEED-1") == "AA"
        with connect(listener.port) as newcomer:
            assert closed_by_listener(stalled)
            assert ack_code(feed, "FEED-2") == "AA"
            assert ack_code(newcomer, "NEW-1") == "AA"
    finally:
        stalled.close()
        feed.close()


def test_frame_begun_and_trickled_is_closed_when_its_deadline_passes(
    start: Start, service: Service
) -> None:
    listener = start(ConnectionPolicy(frame_deadline=1.0))
    sock = connect(listener.port)
    began = time.monotonic()
    sock.sendall(b"\x0bMSH|^~\\&|")
    closed_after = None
    try:
        while time.monotonic() - began < 5:
            try:
                sock.sendall(b"X")
            except OSError:
                closed_after = time.monotonic() - began
                break
            if closed_by_listener(sock, within=0.25):
                closed_after = time.monotonic() - began
                break
    finally:
        sock.close()
    assert closed_after is not None and 0.9 <= closed_after < 3.0
    assert listener.health()["frame_deadline"] == 1
    wait_for(lambda: counter(service, "hl7.frame_deadline") == 1, timeout=5, what="count")


def test_frame_deadline_starts_again_with_each_frame(start: Start) -> None:
    listener = start(ConnectionPolicy(frame_deadline=1.0))
    parts = []
    for i in range(4):
        body = frame(message(f"HALVES-{i}"))
        parts += [body[: len(body) // 2], body[len(body) // 2 :]]
    # Each frame takes about 0.6 s; the four together take far longer than the deadline.
    # The end of one frame and the start of the next arrive together, as pipelined senders do.
    chunks = [parts[0]] + [parts[i] + parts[i + 1] for i in range(1, 7, 2)] + [parts[7]]
    peer = RawPeer(listener.port)
    try:
        for chunk in chunks:
            peer.send(chunk)
            time.sleep(0.6)
        replies = peer.acks(4)
    finally:
        peer.close()
    assert [(r.code, r.acked_control_id) for r in replies] == [
        ("AA", f"HALVES-{i}") for i in range(4)
    ]
    assert listener.health()["frame_deadline"] == 0


def test_idle_feed_sending_every_few_seconds_keeps_its_connection(start: Start) -> None:
    listener = start(ConnectionPolicy(frame_deadline=0.5))
    with connect(listener.port) as feed:
        codes = []
        for i in range(3):
            codes.append(ack_code(feed, f"IDLE-{i}"))
            time.sleep(2.0)  # idle for four frame deadlines
        codes.append(ack_code(feed, "IDLE-3"))
    assert codes == ["AA"] * 4
    assert listener.health()["frame_deadline"] == 0


def test_health_is_degraded_while_the_listener_was_full_recently_then_ok_again(
    start: Start,
) -> None:
    listener = start(ConnectionPolicy(max_connections=1, max_per_peer=0, saturation_window=1.0))
    assert listener.health()["status"] == "ok"
    with connect(listener.port) as first:
        open_count(listener, 1)
        with connect(listener.port):
            assert closed_by_listener(first)
            health = listener.health()
    assert health["status"] == "degraded"
    assert health["last_saturated_at"] is not None
    assert (health["saturated"], health["evicted"]) == (1, 1)
    time.sleep(1.2)
    assert listener.health()["status"] == "ok"


# The acceptance test: a listener that cannot be locked out --------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServiceProcess]:
    toml = HL7_TOML.replace("[hl7]\n", "[hl7]\nmax_connections_per_peer = 8\n", 1)
    config = write_trust_config(tmp_path / "trust", extra_toml=toml)
    process = ServiceProcess(config, f"sqlite:///{tmp_path / 'tf.db'}", tmp_path / "logs")
    process.start()
    yield process
    process.stop()


def test_sender_gets_its_ack_within_two_seconds_while_200_idle_and_20_stalled_connections_are_held(
    served: ServiceProcess,
) -> None:
    port = served.mllp_port
    held: list[socket.socket] = []
    stalled: list[socket.socket] = []
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(0.5):
            for sock in stalled:
                with contextlib.suppress(OSError):  # closed by the listener for a new one
                    sock.send(b"X")

    trickler = threading.Thread(target=trickle, daemon=True)
    try:
        for i in range(200):  # 50 senders, 4 idle connections each
            held.append(connect(port, f"127.0.0.{10 + i % 50}"))
        for i in range(20):
            sock = connect(port, f"127.0.0.{100 + i}")
            sock.sendall(b"\x0bMSH|^~\\&|PAS|STALL|")
            stalled.append(sock)
        trickler.start()
        time.sleep(0.5)

        began = time.monotonic()
        with MLLPClient("127.0.0.1", port) as client:
            client.socket.settimeout(5)
            reply = read_ack(client.send_message(message("REAL-1")).strip(b"\x0b\x1c\r"))
        took = time.monotonic() - began

        assert (reply.code, reply.acked_control_id) == ("AA", "REAL-1")
        assert took < 2.0
        health = served.api("GET", "/healthz").json()
        assert health["status"] == "degraded"
        mllp = health["listeners"]["MllpListener"]
        assert mllp["saturated"] > 0 and mllp["evicted"] > 0
        assert mllp["connections"] <= mllp["max_connections"] == 64
        wait_for(
            lambda: served.api("GET", "/healthz").json()["counters"].get("hl7.saturated", 0) > 0,
            timeout=5,
            what="saturation counted",
        )
    finally:
        stop.set()
        if trickler.is_alive():
            trickler.join(timeout=5)
        for sock in held + stalled:
            sock.close()
    stored = served.api("GET", "/api/contacts/hl7:NORTHGEN%7CREAL-1")
    assert stored.status_code == 200
