"""What the outbox worker asks of the service: claims, attempts, write-back retries and
escalations, each recorded with its audit entry before plugins hear of it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from plugin_core import metrics
from plugin_core.contract import PluginError
from plugin_core.host.faults import fault_fields
from plugin_core.model import Call, Prompt, Receipt, Referral, ReferralStatus
from plugin_core.service.base import ServiceBase
from plugin_core.store.audit import AuditEntry
from plugin_core.store.records import Claim, HostTask, StoredReferral

log = logging.getLogger("thinkfamily.service")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one delivery attempt came to."""

    status: ReferralStatus
    receipt: Receipt | None = None
    prompt: Prompt | None = None
    fault: dict[str, str] = field(default_factory=dict)
    """When a transport raised: the plugin, the hook and the error's class, for the audit."""


@dataclass(frozen=True, slots=True)
class AwaitedCall:
    """A referral waiting on a phone call, with who to ring and when, worked out now."""

    stored: StoredReferral
    calls: tuple[Call, ...]
    """Numbers answered now first, then the route's own from when it next opens."""
    prompt: Prompt
    """What to tell the professional now (the stored prompt is as of when it was raised)."""


class Delivery(ServiceBase):
    # Referrals -------------------------------------------------------------------------------

    def claim_referrals(self, worker: str, *, lease_seconds: float, limit: int) -> list[Claim]:
        """Referrals due for an attempt, held by ``worker`` for ``lease_seconds``."""
        return self.store.claim_referrals(
            worker, self.clock(), lease_seconds=lease_seconds, limit=limit
        )

    def attempt_delivery(self, referral: Referral) -> Outcome:
        """One attempt through the transports; a transport's fault is a failed attempt."""
        try:
            attempt = self.engine.attempt(referral)
        except Exception as exc:
            fault = fault_fields(exc)  # plugin, hook, error class: audited with the attempt
            log.warning("delivery raised", extra={"referral_id": referral.id, **fault})
            if isinstance(exc, PluginError):
                self.count(f"hooks.{exc.hook.removeprefix('thinkfamily_')}.failed")
            return Outcome(ReferralStatus.FAILED, fault=fault)
        return Outcome(attempt.status, attempt.receipt, attempt.prompt)

    def record_attempt(
        self,
        claim: Claim,
        worker: str,
        outcome: Outcome,
        *,
        retry_at: datetime | None,
    ) -> bool:
        """Record an attempt's outcome, then tell plugins; False when the claim was lost or the
        referral was already delivered (nothing is recorded then)."""
        referral, status, receipt = claim.referral, outcome.status, outcome.receipt
        details: dict[str, Any] = {
            "status": status.value,
            "attempt": claim.attempts + 1,
            **outcome.fault,
        }
        if receipt is not None:
            details.update(
                {
                    "channel": receipt.channel.value,
                    "reference": receipt.reference,
                    "detail": receipt.detail[:200],
                }
            )
            if receipt.opens_at is not None:
                details["opens_at"] = receipt.opens_at.isoformat()
        with metrics.commit_timed("delivery"):
            recorded = self.store.finish_attempt(
                referral,
                worker,
                status=status,
                receipt=receipt,
                prompt=outcome.prompt,
                next_attempt_at=retry_at,
                audit=[AuditEntry(f"referral.{status.value}", worker, referral.id, details)],
                at=self.clock(),
            )
        if not recorded:
            log.info(
                "attempt outcome not recorded: claim lost or already delivered",
                extra={"referral_id": referral.id},
            )
            return False
        metrics.delivered(status.value)
        log.info("referral attempt", extra={"referral_id": referral.id, "status": status.value})
        self.notify(
            "referral_update",
            referral.id,
            self.engine.hooks.referral_update,
            referral,
            status,
            receipt,
            outcome.prompt,
        )
        return True

    def escalate_overdue(self, worker: str) -> int:
        """Raise a call prompt, once, for each referral past its deadline, urgent or routine;
        returns how many this worker escalated."""
        now = self.clock()
        escalated = 0
        for referral in self.store.due_escalations(now):
            prompt = self.engine.call_prompt(referral, at=now)
            where = self.engine.destination_for(referral, now)
            entry = AuditEntry(
                "referral.escalated",
                worker,
                referral.id,
                {
                    "phones": list(where.phones),
                    "in_hours": where.in_hours,
                    "route": where.route.value,
                    "urgent": referral.urgent,
                    "opens_at": where.opens_at.isoformat() if where.opens_at else None,
                },
            )
            if not self.store.mark_escalated(referral, prompt, audit=[entry], at=now):
                continue
            escalated += 1
            log.warning("referral escalated", extra={"referral_id": referral.id})
            self.notify_escalated(referral, prompt)
        return escalated

    def calls_awaited(self) -> list[AwaitedCall]:
        """Referrals waiting on a phone call, each with the numbers to ring as things stand
        now: those answered now, and, when the route is closed, its numbers from when it opens."""
        now = self.clock()
        return [
            AwaitedCall(
                stored,
                self.engine.calls_for(stored.referral, now),
                self.engine.call_prompt(stored.referral, at=now),
            )
            for stored in self.awaiting_calls()
        ]

    # Write-backs to the host -----------------------------------------------------------------

    def claim_write_backs(self, worker: str, *, lease_seconds: float, limit: int) -> list[HostTask]:
        """Write-backs due for another try, held by ``worker`` for ``lease_seconds``."""
        return self.store.claim_host_tasks(
            worker, self.clock(), lease_seconds=lease_seconds, limit=limit
        )

    def retry_write_back(self, task: HostTask) -> bool:
        """Call the one plugin's ``thinkfamily_record`` (or ``thinkfamily_record_household``)
        again; True when it succeeded."""
        if task.hook == "record_household":
            retry = getattr(self, "retry_household_write_back")  # noqa: B009 - the Household part
            return bool(retry(task.subject, task.plugin))
        decision = self.store.get_decision(task.subject)
        if decision is None:
            return True  # nothing to write back any more
        stored = self.store.get_contact(decision.contact_id)
        assessment = stored.assessment if stored else None
        failures = self.engine.hooks.record(decision, assessment, only=task.plugin)
        for failure in failures:
            log.warning(
                "write-back failed again",
                extra={"decision_id": decision.id, **fault_fields(failure)},
            )
        return not failures

    def finish_write_back(self, task: HostTask, *, ok: bool, retry_at: datetime) -> None:
        """Record a retried write-back as done, or due again at ``retry_at``."""
        kind = "writeback.done" if ok else "writeback.failed"
        entry = AuditEntry(kind, task.plugin, task.subject, {"attempt": task.attempts + 1})
        self.store.finish_host_task(
            task,
            ok=ok,
            error="" if ok else "retry failed",
            retry_at=retry_at,
            at=self.clock(),
            audit=[entry],
        )
