"""MLLP over TLS: the listener takes only TLS senders when configured, and referrals go to TLS
receivers whose certificates are checked. Certificates are made by the test."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from adapters.hl7.client import read_ack
from adapters.hl7.framing import Frame, FrameDecoder, frame
from adapters.hl7.settings import Hl7SettingsError, load_settings
from plugin_core.model import ReferralStatus
from plugin_core.outbox import OutboxWorker
from plugin_core.service import Service
from plugin_core.settings.load import load_trust_config
from plugin_core.store import open_store
from tests.hl7.conftest import HL7_TOML, corpus_bytes
from tests.hl7.mllp_peer import MllpReceiver
from tests.hl7.test_referral import authorities, python_hl7_ack, share
from tests.peers.pki import Pki, make_pki
from tests.peers.service import ServiceProcess, write_trust_config

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A test CA and a certificate for 127.0.0.1 signed by it."""
    return make_pki(tmp_path_factory.mktemp("pki"))


def _tls_toml(pki: Pki) -> str:
    return HL7_TOML.replace(
        "[hl7]\n",
        f'[hl7]\ntls_certificate = "{pki.certificate}"\ntls_private_key = "{pki.private_key}"\n',
        1,
    )


@pytest.fixture
def served(tmp_path: Path, pki: Pki) -> Iterator[ServiceProcess]:
    config = write_trust_config(tmp_path / "trust", extra_toml=_tls_toml(pki))
    process = ServiceProcess(
        config, f"sqlite:///{tmp_path / 'tf.db'}", tmp_path / "logs", name="tls"
    )
    process.start()
    yield process
    process.stop()


def _send(port: int, message: bytes, wrap: Callable[[socket.socket], socket.socket]) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, wrap(raw) as sock:
        sock.sendall(frame(message))
        decoder = FrameDecoder(1_000_000)
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                return b""
            if not chunk:
                return b""
            for event in decoder.feed(chunk):
                if isinstance(event, Frame):
                    return event.data


def test_tls_sender_gets_aa_and_a_plain_sender_is_refused(served: ServiceProcess, pki: Pki) -> None:
    trusted = ssl.create_default_context(cafile=str(pki.ca))

    def secure(raw: socket.socket) -> socket.socket:
        return trusted.wrap_socket(raw, server_hostname="127.0.0.1")

    reply = read_ack(_send(served.mllp_port, corpus_bytes("a01_v2_3_basic"), secure))
    assert (reply.code, reply.acked_control_id) == ("AA", "C23-0001")
    # A sender without TLS gets no acknowledgement: the connection is closed.
    assert _send(served.mllp_port, corpus_bytes("a04_v2_3_1_emergency"), lambda raw: raw) == b""
    again = read_ack(_send(served.mllp_port, corpus_bytes("a04_v2_3_1_emergency"), secure))
    assert again.code == "AA"
    assert served.api("GET", "/healthz").json()["counters"]["hl7.tls_refused"] == 1


def test_referral_goes_to_a_tls_receiver_whose_certificate_is_checked(
    tmp_path: Path, pki: Pki
) -> None:
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(pki.certificate, pki.private_key)
    with MllpReceiver(python_hl7_ack("AA"), tls=server) as receiver:
        for trusted, expected in (
            (True, ReferralStatus.ACKNOWLEDGED),
            (False, ReferralStatus.FAILED),
        ):
            folder = tmp_path / ("trusted" if trusted else "untrusted")
            ca_line = f'referral_tls_ca = "{pki.ca}"\n' if trusted else ""
            extra = HL7_TOML.replace(
                "[hl7]\n", f"[hl7]\nreferral_tls = true\n{ca_line}ack_timeout_seconds = 2\n", 1
            )
            path = write_trust_config(
                folder, extra_toml=extra, authorities=authorities(receiver.port)
            )
            service = Service(
                load_trust_config(path),
                open_store(f"sqlite:///{folder / 'tf.db'}"),
                entry_points=False,
            )
            referral_id = share(service)
            OutboxWorker(service).run_once()
            stored = service.store.get_referral(referral_id)
            assert stored is not None and stored.status is expected
            service.store.close()
    # Only the receiver trusted through the configured CA got the referral.
    assert len(receiver.messages) == 1


def test_tls_settings_name_the_missing_half(tmp_path: Path, pki: Pki) -> None:
    extra = HL7_TOML.replace("[hl7]\n", f'[hl7]\ntls_certificate = "{pki.certificate}"\n', 1)
    config = load_trust_config(write_trust_config(tmp_path / "trust", extra_toml=extra))
    with pytest.raises(Hl7SettingsError, match=r"hl7\.tls_private_key: TLS needs both"):
        load_settings(config)
