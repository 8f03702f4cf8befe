"""Replay a file of HL7 traffic: what each adult first contact would prompt, writing nothing.

An integrator's go-live check: run a day of real ADT traffic through the trust's configuration
and see the prompts and their totals before switching the listener on. Output names messages
by their control ids and counts; it never prints a patient's details.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from adapters.hl7.framing import Frame, FrameDecoder
from adapters.hl7.ingest import Reader
from adapters.hl7.settings import load_settings
from plugin_core.engine import ThinkFamily

_WRAPPERS = (b"FHS", b"BHS", b"BTS", b"FTS")


@dataclass(frozen=True, slots=True)
class ReplayLine:
    """One message's result: ``outcome`` is contact, skipped or refused."""

    index: int
    control_id: str
    event: str
    outcome: str
    prompts: tuple[tuple[str, str], ...] = ()
    children: int = 0
    reason: str = ""


@dataclass
class ReplayReport:
    lines: list[ReplayLine] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        counts = Counter(line.outcome for line in self.lines)
        return {
            "messages": len(self.lines),
            "contacts": counts["contact"],
            "skipped": counts["skipped"],
            "refused": counts["refused"],
            "contacts_with_prompts": sum(
                1 for line in self.lines if line.outcome == "contact" and line.prompts
            ),
        }

    @property
    def prompt_totals(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for line in self.lines:
            for code, _severity in line.prompts:
                counts[code] += 1
        return dict(sorted(counts.items()))


def split_messages(data: bytes) -> list[bytes]:
    """Messages in a file: MLLP-framed, one per line, one segment per line, or FHS/BHS batches."""
    return [message for message, _fault in _split(data)]


def _split(data: bytes) -> list[tuple[bytes, str | None]]:
    """Messages with the framing fault of each (a frame cut short is kept, to be reported)."""
    if b"\x0b" in data:
        decoder = FrameDecoder(max(len(data), 1))
        out: list[tuple[bytes, str | None]] = []
        for event in decoder.feed(data):
            if isinstance(event, Frame):
                out.append((event.data, None))
            else:
                out.append((event.data, event.reason))
        if decoder.pending:
            tail = data[data.rfind(b"\x0b") + 1 :]
            out.append((tail, "MLLP: the file ends inside a frame"))
        return [(m, fault) for m, fault in out if m.strip() or fault]
    text = data.replace(b"\r\n", b"\r").replace(b"\n", b"\r")
    messages: list[list[bytes]] = []
    for segment in text.split(b"\r"):
        segment = segment.strip(b" \t\x1c\x0c")
        if not segment or segment[:3] in _WRAPPERS:
            continue
        if segment.startswith(b"MSH") or not messages:
            messages.append([])
        messages[-1].append(segment)
    return [(b"\r".join(segments) + b"\r", None) for segments in messages]


def replay(
    data: bytes, tf: ThinkFamily, *, now: Callable[[datetime], datetime] | None = None
) -> ReplayReport:
    """Assess every adult first contact in ``data`` as if live, writing and presenting nothing.

    :param now: the assessment time for a contact's event time; by default the event time
        itself, so a day's traffic is judged as it would have been that day.
    """
    reader = Reader(load_settings(tf.config), tf.config.code_lists, source="hl7-replay")
    report = ReplayReport()
    for index, (message, fault) in enumerate(_split(data), start=1):
        outcome = reader.framing_fault(fault, message) if fault else reader.read(message)
        header = outcome.header
        event = f"{header.message_type}^{header.trigger}" if header.message_type else "?"
        control_id = header.control_id[:40]
        if outcome.contact is not None:
            contact = outcome.contact
            at = now(contact.occurred_at) if now else contact.occurred_at
            assessment = tf.assess(contact, now=at, present=False)
            report.lines.append(
                ReplayLine(
                    index,
                    control_id,
                    event,
                    "contact",
                    tuple((p.code.value, p.severity.value) for p in assessment.prompts),
                    sum(1 for c in assessment.children if not c.unborn),
                )
            )
        elif outcome.skipped is not None:
            report.lines.append(
                ReplayLine(index, control_id, event, "skipped", reason=outcome.skipped)
            )
        else:
            reason = outcome.error.reason if outcome.error else "refused"
            report.lines.append(
                ReplayLine(
                    index, control_id, event, "refused", reason=f"{outcome.ack_code}: {reason}"
                )
            )
    return report


def print_report(report: ReplayReport, out: TextIO) -> None:
    """One line per message, then totals, as plain text."""
    for line in report.lines:
        head = f"#{line.index} {line.control_id or '-'} {line.event}"
        if line.outcome == "contact":
            prompts = ", ".join(f"{code} ({severity})" for code, severity in line.prompts)
            out.write(
                f"{head}: contact, {line.children} child(ren); prompts: {prompts or 'none'}\n"
            )
        else:
            out.write(f"{head}: {line.outcome} ({line.reason})\n")
    totals = report.totals
    out.write(
        f"\n{totals['messages']} message(s): {totals['contacts']} adult first contact(s), "
        f"{totals['skipped']} skipped, {totals['refused']} refused; "
        f"{totals['contacts_with_prompts']} contact(s) would raise prompts\n"
    )
    for code, count in report.prompt_totals.items():
        out.write(f"  {code}: {count}\n")
