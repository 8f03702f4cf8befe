"""Replay of a file of HL7 traffic: prompts per adult first contact and totals, nothing written."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.hl7.framing import frame
from adapters.hl7.traffic import split_messages
from plugin_core.host.engine import ThinkFamily
from plugin_core.replay import ReplayReport, print_report, replay
from plugin_core.settings.config import TrustConfig
from tests.hl7.conftest import CORPUS, corpus_bytes

DAY = [
    "a01_v2_3_basic",
    "a04_v2_3_1_emergency",
    "a03_v2_5_discharge",
    "a01_v2_5_child_patient",
    "a04_v2_7_1",
]


@pytest.fixture
def tf(config: TrustConfig) -> ThinkFamily:
    return ThinkFamily(config, entry_points=False)


def _segments_per_line(message: bytes) -> bytes:
    return message.replace(b"\r\n", b"\r").replace(b"\r", b"\n")


@pytest.mark.parametrize("layout", ["framed", "one-per-line", "segment-per-line", "batch"])
def test_every_file_layout_splits_into_the_same_messages(layout: str) -> None:
    messages = [corpus_bytes(name) for name in DAY]
    if layout == "framed":
        data = b"".join(frame(m) for m in messages)
    elif layout == "one-per-line":
        data = b"\n".join(m.rstrip(b"\r") for m in messages) + b"\n"
    elif layout == "segment-per-line":
        data = b"".join(_segments_per_line(m) for m in messages)
    else:
        data = (
            b"FHS|^~\\&|PAS\rBHS|^~\\&|PAS\r"
            + b"".join(messages)
            + f"BTS|{len(messages)}\rFTS|1\r".encode()
        )
    found = split_messages(data)
    assert [m.split(b"\r")[0] for m in found] == [m.split(b"\r")[0] for m in messages]


def _replay(data: bytes, tf: ThinkFamily) -> ReplayReport:
    report = replay(data, tf)
    assert report is not None
    return report


def _day() -> bytes:
    data = b"".join(frame(corpus_bytes(name)) for name in DAY)
    return data + frame(b"MSH|^~\\&|PAS|X|TF|T|20260301||ADT^A01|BAD-1|P|2.2\rPID|1")


def test_replay_reports_prompts_per_contact_and_totals_without_writing(
    tf: ThinkFamily, tmp_path: Path
) -> None:
    before = sorted(p.name for p in tmp_path.iterdir())
    report = _replay(_day(), tf)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    outcomes = [(line.contact_id, line.outcome) for line in report.lines]
    assert outcomes == [
        ("hl7:NORTHGEN|C23-0001", "contact"),
        ("hl7:SOUTHED|C231-0002", "contact"),
        ("", "skipped"),
        ("", "skipped"),
        ("hl7:SOUTHED|C271-0008", "contact"),
        ("", "refused"),
    ]
    assert report.totals == {
        "messages": 6,
        "contacts": 3,
        "skipped": 2,
        "refused": 1,
        "contacts_with_prompts": 3,
    }
    assert report.prompt_totals["consider-children"] == 2
    assert report.prompt_totals["record-household"] == 1
    assert report.lines[2].reason == "ADT^A03 is not a first contact"
    assert "MSH-12" in report.lines[5].reason

    out = io.StringIO()
    print_report(report, out)
    text = out.getvalue()
    assert "#1 hl7:NORTHGEN|C23-0001: 1 child(ren); prompts: consider-children" in text
    assert "6 message(s): 3 adult first contact(s), 2 skipped, 1 refused" in text
    for secret in ("TESTER", "SAMPLE", "9990000018", "N7 8AA", "19880501"):
        assert secret not in text


def test_replay_command_prints_each_message_and_totals(tmp_path: Path) -> None:
    day = tmp_path / "day.hl7"
    day.write_bytes(_day())
    script = Path(sys.executable).with_name("thinkfamily")
    result = subprocess.run(
        [str(script), "replay", str(day)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "#3: skipped (ADT^A03 is not a first contact)" in result.stdout
    assert "6 message(s): 3 adult first contact(s), 2 skipped, 1 refused" in result.stdout
    assert "TESTER" not in result.stdout


def test_hl7_plugin_answers_thinkfamily_split_messages_only_for_hl7(tf: ThinkFamily) -> None:
    assert tf.hooks.split_messages(_day(), "day.hl7") == split_messages(_day())
    assert tf.hooks.split_messages(b'{"id": "x"}', "contact.json") is None


def test_replay_command_refuses_a_file_no_plugin_splits(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("nothing to see")
    script = Path(sys.executable).with_name("thinkfamily")
    result = subprocess.run(
        [str(script), "replay", str(junk)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "no plugin reads this file as a series of messages" in result.stderr


def test_replay_reports_a_frame_cut_short_as_refused(tf: ThinkFamily) -> None:
    good = corpus_bytes("a01_v2_3_basic")
    data = b"\x0b" + good[:100] + frame(good.replace(b"C23-0001", b"AFTER"))
    data += b"\x0b" + good[:50]
    report = _replay(data, tf)
    assert [line.outcome for line in report.lines] == ["refused", "contact", "refused"]
    assert "cut short" in report.lines[0].reason
    assert "cut short" in report.lines[2].reason


def test_whole_corpus_replays_without_a_fault(tf: ThinkFamily) -> None:
    data = b"".join(frame(p.read_bytes()) for p in sorted(CORPUS.glob("*.hl7")))
    report = _replay(data, tf)
    assert report.totals["messages"] == len(list(CORPUS.glob("*.hl7")))
    assert report.totals["refused"] == 0
