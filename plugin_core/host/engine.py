"""The plugin host facade: assess a contact, decide, route and deliver, through the hooks.

This is the composition root for the rules. It owns no storage; the service layer wraps it
with the store and the outbox so that a decision and its referrals commit together.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from plugin_core.contract import PluginContext, PluginError, ServeOptions, ServicePort
from plugin_core.host.channels import channel_issues
from plugin_core.host.facade import Hooks
from plugin_core.host.manager import plugin_manager
from plugin_core.host.switches import switch_issues
from plugin_core.model import (
    Assessment,
    Authority,
    AuthorityMatch,
    Call,
    Channel,
    Child,
    Decision,
    Destination,
    FirstContact,
    Prompt,
    PromptCode,
    Receipt,
    Referral,
    ReferralAction,
    ReferralStatus,
    Route,
    Severity,
)
from plugin_core.rules.clock import london_text, utc_now
from plugin_core.rules.decide import make_referrals, validate
from plugin_core.rules.prompts import assess, classify, derive_children
from plugin_core.rules.routing import calls_for, destination
from plugin_core.settings.trust_config import ConfigError, ConfigIssue, TrustConfig

log = logging.getLogger("thinkfamily.engine")

_WHAT = {
    ReferralAction.NEW: "referral",
    ReferralAction.UPDATE: "update to the referral",
    ReferralAction.CANCEL: "cancellation of the referral",
}
"""What a call prompt says was not acknowledged."""

NOT_IN_DIRECTORY = (
    "The authority found for this address is not in this trust's directory. "
    "Choose the authority to refer to."
)


@dataclass(frozen=True, slots=True)
class DecisionOutcome:
    decision: Decision
    referrals: tuple[Referral, ...]


@dataclass(frozen=True, slots=True)
class Attempt:
    """The outcome of one delivery attempt."""

    status: ReferralStatus
    receipt: Receipt | None
    destination: Destination
    prompt: Prompt | None = None


class ThinkFamily:
    """One trust's ThinkFamily: configuration, plugins and the rules between them."""

    def __init__(
        self,
        config: TrustConfig,
        *,
        blocked: Iterable[str] = (),
        extra: Sequence[tuple[str, object]] = (),
        entry_points: bool = True,
        service: ServicePort | None = None,
        serve: ServeOptions | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.config = config
        self.clock = clock
        self.context = PluginContext(config=config, service=service, serve=serve)
        self.pm = plugin_manager(
            self.context, blocked=blocked, extra=extra, entry_points=entry_points
        )
        self.hooks = Hooks(self.pm)
        # Warnings about the switches: shown by `config check`, `plugins` and the start-up log.
        self.plugin_issues: list[ConfigIssue] = switch_issues(
            self.pm, config, extra=[name for name, _ in extra]
        )
        # A route naming a host channel nobody delivers: refused, as the file's other faults.
        errors = channel_issues(self.hooks, config)
        if errors:
            raise ConfigError(errors)

    # Assessment -----------------------------------------------------------------------------

    def assess(
        self, contact: FirstContact, *, now: datetime | None = None, present: bool = True
    ) -> Assessment:
        """Gather the household and indicators through the hooks and apply the rules."""
        now = now or self.clock()
        household = self.hooks.household(contact)
        indicators = classify(self.hooks.risk_indicators(contact), self.config.rules)
        children = derive_children(contact, household, indicators)
        authority = self._in_directory(
            self.hooks.locate_authority(contact, children), contact, children
        )
        assessment = assess(
            contact,
            household=household,
            indicators=indicators,
            authority=authority,
            children=children,
            rules=self.config.rules,
            now=now,
        )
        if present and assessment.prompts:
            self.hooks.present(contact, assessment)
        return assessment

    def _in_directory(
        self, match: AuthorityMatch, contact: FirstContact, children: Sequence[Child]
    ) -> AuthorityMatch:
        """The match with every authority checked against the trust's directory.

        Only the directory knows how to reach an authority, so an authority a plugin names
        that is not in it is not taken: the professional is asked to confirm the authority
        (``confirm-authority``) instead of a referral later needing a call with no number.
        Names are the directory's.
        """
        directory = self.config.directory.authorities

        def listed(found: Authority | None) -> Authority | None:
            entry = directory.get(found.id) if found is not None else None
            return Authority(entry.id, entry.name) if entry is not None else None

        authority = listed(match.authority)
        candidates = tuple(c for c in map(listed, match.candidates) if c is not None)
        if authority is not None or match.authority is None:
            if candidates == match.candidates and authority == match.authority:
                return match
            return AuthorityMatch(authority, candidates, match.reason)
        log.warning(
            "authority not in the directory",
            extra={
                "plugin": self.hooks.answered_by(
                    "thinkfamily_locate_authority", contact=contact, children=list(children)
                ),
                "hook": "thinkfamily_locate_authority",
                "contact_id": contact.id,
            },
        )
        return AuthorityMatch(None, candidates, NOT_IN_DIRECTORY)

    # Decision -------------------------------------------------------------------------------

    def decide(
        self,
        decision: Decision,
        assessment: Assessment | None = None,
        *,
        now: datetime | None = None,
    ) -> DecisionOutcome:
        """Check a decision and make its referrals; the caller records both together."""
        known = (
            assessment.authority.authority.id
            if assessment and assessment.authority.authority
            else None
        )
        validate(
            decision, known_authority=known, directory=self.config.directory.authorities.keys()
        )
        referrals = make_referrals(
            decision, authority_id=known, rules=self.config.rules, now=now or self.clock()
        )
        return DecisionOutcome(decision, referrals)

    def recorded(
        self, outcome: DecisionOutcome, assessment: Assessment | None
    ) -> list[PluginError]:
        """Tell the host a decision is recorded, so it can write it back into its record.

        Returns the plugins that failed, for the service to retry.
        """
        return self.hooks.record(outcome.decision, assessment)

    # Delivery -------------------------------------------------------------------------------

    def destination_for(self, referral: Referral, at: datetime) -> Destination:
        """Where ``referral`` goes at ``at``: by its route, the hour and its urgency."""
        return destination(
            self.config.directory, referral.authority_id, referral.route, at, urgent=referral.urgent
        )

    def calls_for(self, referral: Referral, at: datetime) -> tuple[Call, ...]:
        """The numbers to ring about ``referral`` at ``at``, and from when each is answered."""
        return calls_for(
            self.config.directory, referral.authority_id, referral.route, at, urgent=referral.urgent
        )

    def attempt(self, referral: Referral, *, now: datetime | None = None) -> Attempt:
        """One delivery attempt through ``thinkfamily_dispatch``; raises nothing for a plugin's fault.

        A referral sent to a route that is closed keeps, on its receipt, when the route opens.
        """
        at = now or self.clock()
        where = self.destination_for(referral, at)
        receipt = self.hooks.dispatch(referral, where)
        if receipt is None:
            receipt = Receipt(
                channel=where.channel,
                delivered=False,
                retryable=True,
                detail=f"no plugin delivers by {where.channel.value}",
            )
        if where.opens_at is not None:
            receipt = replace(receipt, opens_at=where.opens_at)
        if receipt.acknowledged:
            status = ReferralStatus.ACKNOWLEDGED
        elif receipt.delivered:
            status = ReferralStatus.DELIVERED
        elif receipt.channel is Channel.PHONE or not receipt.retryable:
            return Attempt(
                ReferralStatus.CALL_REQUIRED, receipt, where, self.call_prompt(referral, where)
            )
        else:
            status = ReferralStatus.FAILED
        return Attempt(status, receipt, where)

    def call_prompt(
        self, referral: Referral, where: Destination | None = None, *, at: datetime | None = None
    ) -> Prompt:
        """What to tell the professional when a referral needs a phone call: now, or, for a
        route that is closed and not urgent, from when it opens."""
        where = where or self.destination_for(referral, at or self.clock())
        severity = Severity.CRITICAL if referral.urgent else Severity.WARNING
        unanswered = f"The {_WHAT[referral.action]} has not been acknowledged."
        if where.route is Route.POLICE:
            detail = f"{unanswered} Call, then record who you spoke to."
            return Prompt(PromptCode.CALL_NOW, severity, "Phone the police now: 999.", detail)
        name = where.authority.name if where.authority else "children's services"
        if where.opens_at is not None:
            when = f"from {london_text(where.opens_at)}"
            detail = (
                f"{name} is closed now. Call when it opens, then record who you spoke to. "
                "If a child is in danger now, phone 999."
            )
        else:
            when = "now"
            detail = f"{unanswered} Call, then record who you spoke to."
        if not where.phones:
            # Never invent a number: say none is set up and where to turn instead.
            summary = f"No number is set up for {name} at this time. Ask switchboard for the duty team; 999 if a child is in danger now."
            return Prompt(PromptCode.CALL_NOW, severity, summary[:140], detail)
        summary = f"Phone {name} {when}: {', '.join(where.phones)}."
        if len(summary) > 140:
            summary = summary[:137] + "..."
        return Prompt(PromptCode.CALL_NOW, severity, summary, detail)
