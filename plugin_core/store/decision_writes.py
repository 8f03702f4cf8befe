"""A decision's writes, once its checks passed: the decision, its referrals or the updates
of those it supersedes, its re-check basis, escalations, the contact's state, audit entries.

Sent together (on PostgreSQL as one statement, see ``Tx.batch``); what can be serialised
before the writer is taken comes in ready.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from plugin_core.formats import serialise
from plugin_core.model import ContactState, Decision, DecisionEscalation, Referral, ReferralStatus
from plugin_core.rules import referral_states as states
from plugin_core.rules.recheck import Basis
from plugin_core.store.audit import AuditEntry
from plugin_core.store.base import Tx, ts
from plugin_core.store.referrals import insert_referral, withdraw_unsent
from plugin_core.store.trail import append
from plugin_core.store.withdrawals import withdrawal_of


@dataclass(frozen=True, slots=True)
class Succession:
    """What recording a decision does to one live referral of the decision it supersedes."""

    referral_id: str
    """The earlier decision's referral."""
    update: Referral
    """Queued when that referral went, or may have: it carries the new decision."""
    replaces: str | None
    """The new decision's own referral the update stands for (same route and authority),
    written instead of it; None when the new decision makes none there."""
    withdrawn: AuditEntry
    updated: AuditEntry


@dataclass(frozen=True, slots=True)
class SavedDecision:
    """What the store did with a decision: recorded, or why not."""

    saved: bool
    duplicate: bool = False
    """A decision with this id is already recorded: nothing was written."""
    current: str | None = None
    """When refused: the contact's current decision (None when it has none)."""
    referrals: tuple[Referral, ...] = ()
    """What was queued: the new decision's referrals, and updates of referrals already sent."""
    withdrawn: tuple[str, ...] = ()
    """Referrals of the superseded decision withdrawn before they were sent."""


def _insert_escalation(tx: Tx, escalation: DecisionEscalation) -> None:
    tx.execute(
        "INSERT INTO decision_escalations (id, decision_id, contact_id, kind, created_at,"
        " escalation) VALUES (?, ?, ?, ?, ?, ?)",
        (
            escalation.id,
            escalation.decision_id,
            escalation.contact_id,
            escalation.kind.value,
            ts(escalation.created_at),
            serialise.dumps(escalation),
        ),
    )


def write_decision(
    tx: Tx,
    decision: Decision,
    referrals: Sequence[Referral],
    audit: Sequence[AuditEntry],
    at: datetime,
    basis: tuple[str, Basis] | None,
    escalations: Sequence[DecisionEscalation],
    succession: Sequence[Succession],
    *,
    texts: dict[str, str],
    facts: str,
) -> SavedDecision:
    """The writes of a decision once its checks passed; ``texts`` holds the decision (under
    "") and its referrals serialised, ``facts`` the re-check basis's."""
    tx.execute(
        "INSERT INTO decisions (id, contact_id, decided_at, share, decision, supersedes)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            decision.id,
            decision.contact_id,
            ts(decision.decided_at),
            int(decision.share),
            texts[""],
            decision.supersedes,
        ),
    )
    queued: list[Referral] = []
    withdrawn: list[str] = []
    replaced: set[str] = set()
    later: list[AuditEntry] = []
    for step in succession:
        row = tx.one(
            f"SELECT status FROM referrals WHERE id = ?{tx.backend.for_update}",
            (step.referral_id,),
        )
        if row is None:
            continue
        status = ReferralStatus(row[0])
        if withdraw_unsent(tx, step.referral_id, at, withdrawal_of(step.withdrawn, at)):
            withdrawn.append(step.referral_id)
            later.append(step.withdrawn)
        elif states.allows(states.Change.UPDATE, status):
            insert_referral(tx, step.update)
            queued.append(step.update)
            later.append(step.updated)
            if step.replaces is not None:
                replaced.add(step.replaces)
    own = [r for r in referrals if r.id not in replaced]
    for referral in own:
        insert_referral(tx, referral, texts.get(referral.id))
    if basis is not None:
        patient, found = basis
        tx.execute(
            "INSERT INTO decision_facts (decision_id, patient_key, since, facts)"
            " VALUES (?, ?, ?, ?)",
            (decision.id, patient, ts(found.since), facts),
        )
    for escalation in escalations:
        _insert_escalation(tx, escalation)
    state = ContactState.REFERRED if referrals else ContactState.DECIDED
    tx.execute("UPDATE contacts SET state = ? WHERE id = ?", (state.value, decision.contact_id))
    entries = [e for e in audit if not (e.kind == "referral.created" and e.subject in replaced)]
    append(tx, [*entries, *later], at)
    return SavedDecision(True, referrals=(*own, *queued), withdrawn=tuple(withdrawn))
