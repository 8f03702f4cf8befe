"""Random and mutated input on the ingest path: no unhandled exception, every input answered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.hl7.ack import acks_for
from adapters.hl7.er7 import Er7Message
from adapters.hl7.framing import FrameDecoder, frame
from adapters.hl7.ingest import Reader
from adapters.hl7.listener import MllpListener
from adapters.hl7.settings import load_settings
from plugin_core.rules.clock import utc_now
from plugin_core.settings.config import TrustConfig
from tests.hl7.conftest import CORPUS, corpus_bytes
from tests.hl7.mllp_peer import RawPeer

SEEDS = [p.read_bytes() for p in sorted(CORPUS.glob("*.hl7"))]
_NOISE = st.sampled_from([*b"|^~\\&\r\n\x0b\x1c#$@*!%0123456789AZaz ", 0, 0xFF, 0xC3])


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A corpus message with a few random cuts, insertions, duplications and byte flips."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["cut", "insert", "flip", "duplicate"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "cut" and data:
            del data[at : at + draw(st.integers(1, 40))]
        elif op == "insert":
            data[at:at] = bytes(draw(st.lists(_NOISE, min_size=1, max_size=8)))
        elif op == "flip" and data:
            data[at] = draw(_NOISE)
        elif op == "duplicate" and data:
            data[at:at] = data[at : at + draw(st.integers(1, 80))]
    return bytes(data)


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reader]:
    from plugin_core.settings.load import load_trust_config
    from tests.hl7.conftest import HL7_TOML
    from tests.peers.service import write_trust_config

    config: TrustConfig = load_trust_config(
        write_trust_config(tmp_path_factory.mktemp("trust"), extra_toml=HL7_TOML)
    )
    yield Reader(load_settings(config), config.code_lists)


def _answers(reader: Reader, data: bytes) -> list[str]:
    outcome = reader.read(data)
    acks = acks_for(outcome.header, outcome.ack_code, at=utc_now(), error=outcome.error)
    for ack in acks:
        msa = Er7Message.parse(ack).first("MSA")
        assert msa is not None and msa.value(1) in {"AA", "AE", "AR", "CA", "CE", "CR"}
    if not outcome.header.enhanced:
        assert len(acks) == 1
    return acks


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=2000))
def test_random_bytes_always_get_an_answer(reader: Reader, data: bytes) -> None:
    _answers(reader, data)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated())
def test_mutated_messages_always_get_an_answer(reader: Reader, data: bytes) -> None:
    _answers(reader, data)


@settings(max_examples=300)
@given(chunks=st.lists(st.binary(max_size=300), max_size=10), sizes=st.integers(1, 64))
def test_frame_decoder_never_holds_more_than_the_limit(chunks: list[bytes], sizes: int) -> None:
    decoder = FrameDecoder(1024)
    for chunk in chunks:
        for i in range(0, len(chunk), sizes):
            decoder.feed(chunk[i : i + sizes])
            assert len(decoder._buffer) <= 1024 + sizes + 2


@pytest.mark.integration
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.one_of(mutated(), st.binary(max_size=500)))
def test_listener_answers_mutated_input_and_keeps_serving(
    listener: MllpListener, data: bytes
) -> None:
    sentinel = corpus_bytes("a01_v2_3_basic").replace(b"C23-0001", b"SENTINEL")
    peer = RawPeer(listener.port)
    try:
        peer.send(frame(data))
        peer.send_message(sentinel)
        while not any(r.acked_control_id == "SENTINEL" for r in peer.received):
            peer.acks(1)
    finally:
        peer.close()
    assert peer.received[-1].acked_control_id == "SENTINEL"
    assert peer.received[-1].code == "AA"
