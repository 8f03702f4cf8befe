"""Households recorded by a professional, written with the contact's new assessment in one
transaction, so the stored prompts never disagree with the household they were made from."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from plugin_core.formats import serialise
from plugin_core.model import Assessment, ContactState, FirstContact, HouseholdAnswer
from plugin_core.store.audit import AuditEntry
from plugin_core.store.base import StoreBase, placeholders, ts
from plugin_core.store.trail import append

ANSWERABLE = (ContactState.OPEN, ContactState.NO_ACTION_NEEDED, ContactState.SUPPRESSED)
"""States in which a contact's household may still be recorded: no decision made on it yet."""


class HouseholdSaved(StrEnum):
    DONE = "done"
    REPEAT = "repeat"
    """An answer with this id is recorded already: nothing new is written."""
    DECIDED = "has-decision"
    """A decision is recorded for the contact: its assessment is what that decision answered."""
    MISSING = "missing"


class HouseholdAnswers(StoreBase):
    def save_household_answer(
        self,
        answer: HouseholdAnswer,
        *,
        patient_key: str,
        contact: FirstContact,
        assessment: Assessment,
        audit: Sequence[AuditEntry],
        at: datetime,
    ) -> HouseholdSaved:
        """Record the answer and replace the contact's assessment, or nothing at all."""
        prompts = assessment.prompts
        top = max(prompts, key=lambda p: p.severity.rank, default=None)
        state = ContactState.OPEN if prompts else ContactState.NO_ACTION_NEEDED
        allowed = tuple(s.value for s in ANSWERABLE)
        with self.transaction() as tx:
            row = tx.one(
                f"SELECT state FROM contacts WHERE id = ?{self.backend.for_update}",
                (answer.contact_id,),
            )
            if row is None:
                return HouseholdSaved.MISSING
            if tx.one("SELECT 1 FROM household_answers WHERE id = ?", (answer.id,)):
                return HouseholdSaved.REPEAT
            moved = tx.one(
                "UPDATE contacts SET state = ?, top_severity = ?, prompt_codes = ?, contact = ?,"
                " assessment = ?, relies_on = NULL, reuse_key = NULL"
                f" WHERE id = ? AND state IN ({placeholders(allowed)}) RETURNING id",
                (
                    state.value,
                    top.severity.value if top else None,
                    ",".join(p.code.value for p in prompts),
                    serialise.dumps(contact),
                    serialise.dumps(assessment),
                    answer.contact_id,
                    *allowed,
                ),
            )
            if moved is None:
                return HouseholdSaved.DECIDED
            tx.execute(
                "INSERT INTO household_answers (id, contact_id, patient_key, outcome,"
                " recorded_at, answer) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    answer.id,
                    answer.contact_id,
                    patient_key,
                    answer.outcome.value,
                    ts(answer.recorded_at),
                    serialise.dumps(answer),
                ),
            )
            append(tx, audit, at)
        return HouseholdSaved.DONE

    def get_household_answer(self, answer_id: str) -> HouseholdAnswer | None:
        with self.transaction() as tx:
            row = tx.one("SELECT answer FROM household_answers WHERE id = ?", (answer_id,))
        return serialise.loads(HouseholdAnswer, row[0]) if row else None

    def household_answers(self, contact_id: str) -> list[HouseholdAnswer]:
        """The contact's recorded answers, oldest first."""
        with self.transaction() as tx:
            rows = tx.all(
                "SELECT answer FROM household_answers WHERE contact_id = ?"
                " ORDER BY recorded_at, id",
                (contact_id,),
            )
        return [serialise.loads(HouseholdAnswer, r[0]) for r in rows]

    def latest_household_answers(self, patients: Sequence[str]) -> dict[str, HouseholdAnswer]:
        """Each adult's latest recorded answer, declined or not, in one query."""
        keys = list(dict.fromkeys(patients))
        if not keys:
            return {}
        found: dict[str, HouseholdAnswer] = {}
        with self.transaction() as tx:
            rows = tx.all(
                "SELECT patient_key, answer FROM household_answers"
                f" WHERE patient_key IN ({placeholders(keys)}) ORDER BY recorded_at, id",
                keys,
            )
        for key, text in rows:
            found[key] = serialise.loads(HouseholdAnswer, text)  # later rows replace earlier
        return found

    def latest_household_answer(self, patient_key: str) -> HouseholdAnswer | None:
        """The adult's latest recorded answer, declined or not."""
        with self.transaction() as tx:
            row = tx.one(
                "SELECT answer FROM household_answers WHERE patient_key = ?"
                " ORDER BY recorded_at DESC, id DESC LIMIT 1",
                (patient_key,),
            )
        return serialise.loads(HouseholdAnswer, row[0]) if row else None
