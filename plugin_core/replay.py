"""Replay a file of traffic: what each adult first contact would prompt, writing nothing.

An integrator's go-live check: run a day of real traffic through the trust's configuration and
see the prompts and their totals before switching the listener on. Each contact is assessed at
its own time, as it would have been that day. Output names messages by position and contact id
(built from the sender's message id), never by a patient's details.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TextIO

from plugin_core.contract import ContactInvalid, ContactSkipped
from plugin_core.host.engine import ThinkFamily
from plugin_core.host.plugins import PluginError


@dataclass(frozen=True, slots=True)
class ReplayLine:
    """One message's result: ``outcome`` is contact, skipped or refused."""

    index: int
    outcome: str
    contact_id: str = ""
    prompts: tuple[tuple[str, str], ...] = ()
    children: int = 0
    reason: str = ""
    unclassified: tuple[tuple[str, str], ...] = ()
    """(system, code) of entries in a coding system the trust's code lists do not declare."""


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
            "contacts_with_prompts": sum(1 for line in self.lines if line.prompts),
        }

    @property
    def prompt_totals(self) -> dict[str, int]:
        return dict(
            sorted(Counter(code for line in self.lines for code, _ in line.prompts).items())
        )

    @property
    def unclassified_totals(self) -> dict[str, int]:
        """Unreadable codes by coding system ("" for none sent): the aliases to add to [systems]."""
        found = Counter(system for line in self.lines for system, _ in line.unclassified)
        return dict(sorted(found.items()))


def replay(data: bytes, tf: ThinkFamily, *, hint: str = "") -> ReplayReport | None:
    """Assess every message in ``data``; None when no plugin reads it as a series of messages."""
    messages = tf.hooks.split_messages(data, hint)
    if messages is None:
        return None
    report = ReplayReport()
    for index, message in enumerate(messages, start=1):
        try:
            contact = tf.hooks.parse_contact(message, hint)
        except ContactSkipped as exc:
            report.lines.append(ReplayLine(index, "skipped", reason=exc.reason))
            continue
        except (ContactInvalid, PluginError) as exc:
            report.lines.append(ReplayLine(index, "refused", reason=str(exc)))
            continue
        if contact is None:
            report.lines.append(
                ReplayLine(index, "refused", reason="not a message any plugin reads")
            )
            continue
        assessment = tf.assess(contact, now=contact.occurred_at, present=False)
        report.lines.append(
            ReplayLine(
                index,
                "contact",
                contact.id,
                tuple((p.code.value, p.severity.value) for p in assessment.prompts),
                sum(1 for c in assessment.children if not c.unborn),
                unclassified=assessment.unclassified,
            )
        )
    return report


def print_report(report: ReplayReport, out: TextIO) -> None:
    """One line per message, then totals, as plain text."""
    for line in report.lines:
        if line.outcome == "contact":
            prompts = ", ".join(f"{code} ({severity})" for code, severity in line.prompts)
            unread = f"; unclassified codes: {len(line.unclassified)}" if line.unclassified else ""
            out.write(
                f"#{line.index} {line.contact_id}: {line.children} child(ren); prompts: {prompts or 'none'}{unread}\n"
            )
        else:
            out.write(f"#{line.index}: {line.outcome} ({line.reason})\n")
    totals = report.totals
    out.write(
        f"\n{totals['messages']} message(s): {totals['contacts']} adult first contact(s), "
        f"{totals['skipped']} skipped, {totals['refused']} refused; "
        f"{totals['contacts_with_prompts']} contact(s) would raise prompts\n"
    )
    for code, count in report.prompt_totals.items():
        out.write(f"  {code}: {count}\n")
    unclassified = report.unclassified_totals
    if unclassified:
        out.write("Codes in a coding system the code lists do not declare (add it to [systems]):\n")
        for system, count in unclassified.items():
            out.write(f"  {system or '(no system)'}: {count}\n")
