"""Checking the audit trail as a whole: the sealed chain, a checkpoint kept elsewhere, and
every decision and referral row against the audit entries written with it.

The chain proves the entries were not changed; the rows are what the pages, the API and the
outbox act on. A decision edited in its table, or a referral put in the outbox with no entry,
is caught here. Mismatches name the row, the entry and the fields, never their values (free
text may name a patient).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from plugin_core.formats import serialise
from plugin_core.model import Decision, Referral, ReferralAction
from plugin_core.service.audit import decision_audit, record_digest, referral_audit
from plugin_core.store.audit import Break, ChainCheck, StoredEntry, canonical_details
from plugin_core.store.base import ts
from plugin_core.store.trail import DecisionRow, ReferralRow

DECISION_KIND = "decision.recorded"
REFERRAL_KINDS = {
    "referral.created": ReferralAction.NEW,
    f"referral.{ReferralAction.UPDATE.value}": ReferralAction.UPDATE,
    f"referral.{ReferralAction.CANCEL.value}": ReferralAction.CANCEL,
}
"""The entries that put a referral in the outbox, by the kind of referral each makes."""

DERIVED = frozenset({"routes", "with_whom", "record_sha256"})
"""Decision entry fields not compared one by one: derived by rules that may change between
releases, compared with the referral rows, or compared as a digest."""


@dataclass(frozen=True, slots=True)
class RowMismatch:
    """A decision or referral row that does not match the audit trail."""

    table: str
    id: str
    reason: str
    seq: int | None = None

    def __str__(self) -> str:
        entry = f" (audit entry {self.seq})" if self.seq is not None else ""
        return f"{self.table} {self.id}{entry}: {self.reason}"


@dataclass(frozen=True, slots=True)
class AuditVerdict:
    """What ``audit verify`` found."""

    chain: ChainCheck
    rows: tuple[RowMismatch, ...] = ()
    checkpoint: Break | None = None
    decisions: int = 0
    referrals: int = 0

    @property
    def intact(self) -> bool:
        chain = self.chain
        return not (chain.broken or chain.unknown_key or self.rows or self.checkpoint)


def row_mismatches(
    entries: Sequence[StoredEntry],
    decisions: Sequence[DecisionRow],
    referrals: Sequence[ReferralRow],
) -> list[RowMismatch]:
    """Each row without its entry or differing from it, and each entry whose row is gone."""
    first: dict[tuple[str, str], StoredEntry] = {}
    for entry in entries:
        first.setdefault((entry.kind, entry.subject), entry)
    found: list[RowMismatch] = []
    parsed: dict[str, Decision] = {}
    by_decision: dict[str, list[Referral]] = {}
    referral_ids = {r.id for r in referrals}
    for queued in referrals:
        referral = _load(Referral, queued.referral)
        if referral is not None and referral.action is ReferralAction.NEW:
            by_decision.setdefault(queued.decision_id, []).append(referral)
    for row in decisions:
        decision = _load(Decision, row.decision)
        if decision is not None:
            parsed[row.id] = decision
        found += _check_decision(row, decision, first, by_decision.get(row.id, []))
    for queued in referrals:
        found += _check_referral(queued, parsed, first)
    decision_ids = {d.id for d in decisions}
    for (kind, subject), entry in first.items():
        if kind == DECISION_KIND and subject not in decision_ids:
            found.append(_gone("decision", subject, entry))
        elif kind in REFERRAL_KINDS and subject not in referral_ids:
            found.append(_gone("referral", subject, entry))
    return found


def _gone(table: str, subject: str, entry: StoredEntry) -> RowMismatch:
    return RowMismatch(
        table, subject, "is in the audit trail but not in its table: deleted", entry.seq
    )


def _load(cls: type[Any], text: str) -> Any:
    try:
        return serialise.loads(cls, text)
    except Exception:  # any edit that leaves the record unreadable is reported by the caller
        return None


def _check_decision(
    row: DecisionRow,
    decision: Decision | None,
    first: dict[tuple[str, str], StoredEntry],
    referrals: list[Referral],
) -> list[RowMismatch]:
    entry = first.get((DECISION_KIND, row.id))
    if entry is None:
        return [RowMismatch("decision", row.id, "has no audit entry: it was not recorded here")]

    def mismatch(reason: str) -> list[RowMismatch]:
        return [RowMismatch("decision", row.id, reason, entry.seq)]

    if decision is None:
        return mismatch("its record cannot be read: the row was edited")
    columns = [
        name
        for name, same in (
            ("id", decision.id == row.id),
            ("contact_id", decision.contact_id == row.contact_id),
            ("decided_at", ts(decision.decided_at) == row.decided_at),
            ("share", int(decision.share) == row.share),
        )
        if not same
    ]
    if columns:
        return mismatch(f"its {', '.join(columns)} disagree with its record: the row was edited")
    recorded = json.loads(entry.details)
    if not isinstance(recorded, dict):
        return mismatch("its audit entry holds no details")
    digest = recorded.get("record_sha256")
    if digest is not None and digest != record_digest(row.decision):
        return mismatch("differs from the record its audit entry sealed: the row was edited")
    expected = json.loads(canonical_details(decision_audit(decision, referrals).details))
    fields = sorted(
        k for k in recorded if k not in DERIVED and k in expected and recorded[k] != expected[k]
    )
    if entry.actor != decision.decided_by.id:
        fields.insert(0, "decided_by")
    if "with_whom" in recorded and sorted(recorded["with_whom"]) != sorted(expected["with_whom"]):
        fields.append("referrals")
    if fields:
        return mismatch(f"differs from its audit entry in {', '.join(fields)}")
    return []


def _check_referral(
    row: ReferralRow, decisions: dict[str, Decision], first: dict[tuple[str, str], StoredEntry]
) -> list[RowMismatch]:
    made = [first[(kind, row.id)] for kind in REFERRAL_KINDS if (kind, row.id) in first]
    if not made:
        return [
            RowMismatch(
                "referral",
                row.id,
                "has no audit entry: no recorded decision or amendment made it",
            )
        ]
    entry = made[0]

    def mismatch(reason: str) -> list[RowMismatch]:
        return [RowMismatch("referral", row.id, reason, entry.seq)]

    referral = _load(Referral, row.referral)
    if referral is None:
        return mismatch("its record cannot be read: the row was edited")
    columns = [
        name
        for name, same in (
            ("id", referral.id == row.id),
            ("decision_id", referral.decision_id == row.decision_id),
            ("contact_id", referral.contact_id == row.contact_id),
            ("idempotency_key", referral.idempotency_key == row.idempotency_key),
            ("urgent", int(referral.urgent) == row.urgent),
            ("due_by", ts(referral.due_by) == row.due_by),
        )
        if not same
    ]
    if columns:
        return mismatch(f"its {', '.join(columns)} disagree with its record: the row was edited")
    if REFERRAL_KINDS[entry.kind] is not referral.action:
        return mismatch(f"its audit entry is a {entry.kind}, not a referral of this kind")
    recorded = json.loads(entry.details)
    if not isinstance(recorded, dict):
        return mismatch("its audit entry holds no details")
    digest = recorded.get("record_sha256")
    if digest is not None and digest != record_digest(row.referral):
        return mismatch("differs from the record its audit entry sealed: the row was edited")
    if referral.action is ReferralAction.NEW:
        decision = decisions.get(referral.decision_id)
        if decision is not None:
            expected = json.loads(canonical_details(referral_audit(decision, referral).details))
        else:  # the decision row is reported on its own
            expected = {"route": referral.route.value, "urgent": referral.urgent}
        fields = sorted(
            k for k in recorded if k in expected and k not in DERIVED and recorded[k] != expected[k]
        )
        if decision is not None and entry.actor != decision.decided_by.id:
            fields.insert(0, "made_by")
    else:
        fields = [] if recorded.get("amends") == referral.amends else ["amends"]
    if fields:
        return mismatch(f"differs from its audit entry in {', '.join(fields)}")
    return []
