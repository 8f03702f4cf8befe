"""The plugin host facade: assess a contact, decide, route and deliver, through the hooks.

This is the composition root for the rules. It owns no storage; the service layer wraps it
with the store and the outbox so that a decision and its referrals commit together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from plugin_core.contract import PluginContext, PluginError, ServeOptions, ServicePort
from plugin_core.host.plugins import Hooks, plugin_manager, switch_issues
from plugin_core.model import (
    Assessment,
    Channel,
    Decision,
    Destination,
    FirstContact,
    Prompt,
    PromptCode,
    Receipt,
    Referral,
    ReferralStatus,
    Route,
    Severity,
)
from plugin_core.rules.clock import utc_now
from plugin_core.rules.decide import make_referrals, validate
from plugin_core.rules.prompts import assess, classify, derive_children
from plugin_core.rules.routing import destination
from plugin_core.settings.config import TrustConfig
from plugin_core.settings.issues import ConfigIssue


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

    # Assessment -----------------------------------------------------------------------------

    def assess(
        self, contact: FirstContact, *, now: datetime | None = None, present: bool = True
    ) -> Assessment:
        """Gather the household and indicators through the hooks and apply the rules."""
        now = now or self.clock()
        household = self.hooks.household(contact)
        indicators = classify(self.hooks.risk_indicators(contact), self.config)
        children = derive_children(contact, household, indicators)
        authority = self.hooks.locate_authority(contact, children)
        assessment = assess(
            contact,
            household=household,
            indicators=indicators,
            authority=authority,
            children=children,
            config=self.config,
            now=now,
        )
        if present and assessment.prompts:
            self.hooks.present(contact, assessment)
        return assessment

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
            decision, authority_id=known, config=self.config, now=now or self.clock()
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
        return destination(self.config.directory, referral.authority_id, referral.route, at)

    def attempt(self, referral: Referral, *, now: datetime | None = None) -> Attempt:
        """One delivery attempt through ``thinkfamily_dispatch``; raises nothing for a plugin's fault."""
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
        """What to tell the professional when a referral needs a phone call now."""
        where = where or self.destination_for(referral, at or self.clock())
        severity = Severity.CRITICAL if referral.urgent else Severity.WARNING
        detail = "The referral has not been acknowledged. Call, then record who you spoke to."
        if where.route is Route.POLICE:
            return Prompt(PromptCode.CALL_NOW, severity, "Phone the police now: 999.", detail)
        name = where.authority.name if where.authority else "children's services"
        if not where.phones:
            # Never invent a number: say none is set up and where to turn instead.
            summary = f"No number is set up for {name} at this time. Ask switchboard for the duty team; 999 if a child is in danger now."
            return Prompt(PromptCode.CALL_NOW, severity, summary[:140], detail)
        summary = f"Phone {name} now: {', '.join(where.phones)}."
        if len(summary) > 140:
            summary = summary[:137] + "..."
        return Prompt(PromptCode.CALL_NOW, severity, summary, detail)
