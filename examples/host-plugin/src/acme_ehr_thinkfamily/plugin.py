"""The Acme EHR's hooks: what the EHR knows, where it shows prompts, how it sends referrals.

Registered through the entry point ``acme-ehr`` (see pyproject.toml). Without an
``[acme_ehr]`` table in the trust file the plugin stays idle: it answers no hook and declares
no channel.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from acme_ehr_thinkfamily.filedrop import CHANNEL, check_route, drop
from acme_ehr_thinkfamily.records import PatientRecord, load_records
from acme_ehr_thinkfamily.settings import Settings, read_settings
from hooks import hookimpl
from plugin_core.contract import HostChannel, PluginContext
from plugin_core.model import (
    Assessment,
    Authority,
    AuthorityMatch,
    Decision,
    Destination,
    FirstContact,
    HouseholdMember,
    IndicatorKind,
    Prompt,
    Receipt,
    Referral,
    ReferralStatus,
    RiskIndicator,
)
from plugin_core.rules.relationships import read_relationship

log = logging.getLogger(__name__)

SOURCE = "acme-ehr"
"""What the professional sees as the source of the members and indicators this plugin gives."""


class AcmeEhr:
    """One per service; configured once with the trust's settings."""

    def __init__(self) -> None:
        self.context: PluginContext | None = None
        self.settings: Settings | None = None
        self.records: dict[str, PatientRecord] = {}
        self._lock = threading.Lock()  # the service calls hooks from several threads

    # Configuration ----------------------------------------------------------------------------

    @hookimpl
    def thinkfamily_configure(self, context: PluginContext) -> None:
        self.context = context
        self.settings = read_settings(context.config)  # ConfigError names each bad key
        if self.settings is not None:
            self.records = load_records(self.settings.records)

    @hookimpl
    def thinkfamily_channels(self) -> list[HostChannel] | None:
        if self.settings is None:
            return None
        return [HostChannel(CHANNEL, check=check_route)]

    # What the EHR knows -------------------------------------------------------------------------

    @hookimpl
    def thinkfamily_household(self, contact: FirstContact) -> list[HouseholdMember] | None:
        record = self.records.get(contact.patient.id)
        if record is None or record.household is None or self.context is None:
            return None  # not known here; [] would say "asked, and no one else lives there"
        members = []
        for member in record.household:
            relationship, unrecognised = read_relationship(
                member.relationship, self.context.config.code_lists
            )
            members.append(
                HouseholdMember(
                    relationship=relationship,
                    id=member.id,
                    name=member.name,
                    birth_date=member.birth_date,
                    lives_with_patient=member.lives_with_patient,
                    postcode=member.postcode,
                    source=SOURCE,
                    unrecognised_relationship=unrecognised,
                )
            )
        return members

    @hookimpl
    def thinkfamily_risk_indicators(self, contact: FirstContact) -> list[RiskIndicator] | None:
        record = self.records.get(contact.patient.id)
        if record is None:
            return None
        return [
            RiskIndicator(
                # Without a kind the trust's code lists classify the entry by its code.
                IndicatorKind(problem.kind) if problem.kind else IndicatorKind.OTHER,
                system=problem.system,
                code=problem.code,
                display=problem.display,
                source=SOURCE,
            )
            for problem in record.problems
        ]

    @hookimpl
    def thinkfamily_locate_authority(self, contact: FirstContact) -> AuthorityMatch | None:
        record = self.records.get(contact.patient.id)
        if record is None or record.local_authority is None:
            return None  # the trust's directory finds it from the postcodes
        authority = Authority(record.local_authority, record.local_authority)
        return AuthorityMatch(authority, (authority,), "recorded in the Acme EHR")

    # Prompts and decisions ----------------------------------------------------------------------

    @hookimpl
    def thinkfamily_present(self, contact: FirstContact, assessment: Assessment) -> None:
        if self.settings is None:
            return
        encounter = contact.encounter.id if contact.encounter else None
        self._append(
            self.settings.worklist,
            [
                _task(contact.id, prompt, patient_id=contact.patient.id, encounter_id=encounter)
                for prompt in assessment.prompts
            ],
        )
        log.debug("prompts added to the worklist", extra={"contact_id": contact.id})

    @hookimpl
    def thinkfamily_record(self, decision: Decision) -> None:
        if self.settings is None:
            return
        with self._lock:  # called again after a failure: write each decision once
            if decision.id in _written(self.settings.notes, "decision_id"):
                return
            note = {
                "decision_id": decision.id,
                "contact_id": decision.contact_id,
                "decided_at": decision.decided_at.isoformat(),
                "decided_by": decision.decided_by.id,
                "share": decision.share,
                "level_of_need": decision.level_of_need,
                "lawful_basis": decision.lawful_basis,
                "reasons": decision.reasons,
            }
            _append_lines(self.settings.notes, [note])

    @hookimpl
    def thinkfamily_referral_update(
        self, referral: Referral, status: ReferralStatus, prompt: Prompt | None
    ) -> None:
        if self.settings is None or prompt is None:
            return
        task = _task(referral.contact_id, prompt, referral_id=referral.id, status=status)
        self._append(self.settings.worklist, [task])

    # Referrals ------------------------------------------------------------------------------------

    @hookimpl
    def thinkfamily_dispatch(self, referral: Referral, destination: Destination) -> Receipt | None:
        if destination.channel != CHANNEL or self.settings is None or self.context is None:
            return None  # not this plugin's channel
        service = self.context.service
        details = service.referral_details(referral) if service is not None else None
        try:
            path = drop(
                self.settings.drop_folder / destination.address,
                referral,
                destination,
                details,
                self.context.config.trust_name,
            )
        except OSError as exc:
            return Receipt(
                destination.channel,
                delivered=False,
                retryable=True,
                detail=f"drop folder not writable: {type(exc).__name__}",
            )
        log.info("referral dropped", extra={"referral_id": referral.id})
        return Receipt(
            destination.channel,
            delivered=True,
            reference=path.name,
            detail="written to the drop folder",
        )

    def _append(self, path: Path, rows: list[dict[str, Any]]) -> None:
        with self._lock:
            _append_lines(path, rows)


def _task(contact_id: str, prompt: Prompt, **ids: str | None) -> dict[str, Any]:
    """A worklist row: ids, the prompt's code and severity; the EHR shows its own wording."""
    return {
        "at": datetime.now(UTC).isoformat(),
        "contact_id": contact_id,
        **{key: value for key, value in ids.items() if value is not None},
        "code": prompt.code,
        "severity": prompt.severity,
    }


def _append_lines(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("a", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")


def _written(path: Path, key: str) -> set[str]:
    if not path.exists():
        return set()
    with path.open(encoding="utf-8") as handle:
        return {json.loads(line)[key] for line in handle if line.strip()}


plugin = AcmeEhr()
"""The object the entry point registers."""
