"""The typed facade: the only place core code reaches the hooks.

pluggy does the calling; this class passes arguments by keyword, checks each answer's type
and merges lists. pluggy does not say which plugin gave an answer, so when one has the wrong
type a hook that only reads is asked again, one plugin at a time, to name it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pluggy
from pydantic import BaseModel

from plugin_core.contract import HostChannel, Listener, PluginContext, PluginError
from plugin_core.host.answers import CHANNELS, declared, instance, list_of, section_models
from plugin_core.model import (
    Assessment,
    AuthorityMatch,
    Child,
    Decision,
    DecisionEscalation,
    Destination,
    FirstContact,
    HouseholdAnswer,
    HouseholdMember,
    Prompt,
    Receipt,
    Referral,
    ReferralStatus,
    RiskIndicator,
)
from plugin_core.settings.issues import ERROR, ConfigError, ConfigIssue, has_errors
from plugin_core.settings.reader import check_sections

__all__ = ["Hooks"]

T = TypeVar("T")

SENDS = frozenset({"thinkfamily_dispatch"})
"""First-answer hooks with effects outside ThinkFamily: never asked twice to find a fault."""


class Hooks:
    """The typed facade: the only place core code reaches the hooks.

    pluggy does the calling; this class passes arguments by keyword, checks each answer's type
    and merges lists. pluggy does not say which plugin gave an answer, so when one has the
    wrong type a hook that only reads is asked again, one plugin at a time, to name it.
    """

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self._claims: dict[str, tuple[str, HostChannel]] | None = None

    def _impls(self, hook: str) -> list[pluggy.HookImpl]:
        """The hook's implementations in calling order, the guard left out."""
        return [i for i in reversed(getattr(self.pm.hook, hook).get_hookimpls()) if not i.wrapper]

    def _alone(self, hook: str, impl: pluggy.HookImpl) -> Any:
        """A caller of ``hook`` that reaches one implementation (and the guard) only."""
        others = [i.plugin for i in self._impls(hook) if i is not impl]
        return self.pm.subset_hook_caller(hook, others)

    def _first(self, hook: str, check: Callable[[Any], T], **kwargs: Any) -> T | None:
        answer = getattr(self.pm.hook, hook)(**kwargs)
        if answer is None:
            return None
        try:
            return check(answer)
        except TypeError as exc:
            raise self._wrong(hook, str(exc), check, kwargs, first=True) from None

    def _merged(self, hook: str, check: Callable[[Any], list[T]], **kwargs: Any) -> list[T] | None:
        """The answers' items in calling order, or None when every answer was None."""
        answers = getattr(self.pm.hook, hook)(**kwargs)
        if not answers:
            return None
        items: list[T] = []
        for answer in answers:
            try:
                items.extend(check(answer))
            except TypeError as exc:
                raise self._wrong(hook, str(exc), check, kwargs, first=False) from None
        return items

    def _wrong(
        self,
        hook: str,
        reason: str,
        check: Callable[[Any], object],
        kwargs: dict[str, Any],
        *,
        first: bool,
    ) -> PluginError:
        impls = self._impls(hook)
        if len(impls) > 1 and hook not in SENDS:
            for impl in impls:
                try:
                    answer = self._alone(hook, impl)(**kwargs)
                    for one in [answer] if first else answer:
                        if one is not None:
                            check(one)
                except (TypeError, PluginError):
                    return PluginError(impl.plugin_name, hook, reason)
        if len(impls) == 1:
            return PluginError(impls[0].plugin_name, hook, reason)
        names = ", ".join(repr(i.plugin_name) for i in impls)
        return PluginError("unknown", hook, f"{reason}; the answer came from one of {names}")

    def answered_by(self, hook: str, **kwargs: Any) -> str:
        """The plugin whose answer a first-answer hook that only reads would take.

        Asks each plugin alone, in calling order; never use it for a hook that sends.
        """
        assert hook not in SENDS, hook
        for impl in self._impls(hook):
            if self._alone(hook, impl)(**kwargs) is not None:
                return impl.plugin_name
        return "unknown"

    # Initialisation -----------------------------------------------------------------------

    def config_sections(self) -> dict[str, tuple[type[BaseModel], ...]]:
        """Every section model the plugins contribute, by section name."""
        pairs = self._merged("thinkfamily_config_sections", section_models) or []
        found: dict[str, tuple[type[BaseModel], ...]] = {}
        for name, model in pairs:
            if model not in found.get(name, ()):
                found[name] = (*found.get(name, ()), model)
        return found

    def configure(self, context: PluginContext) -> None:
        """Check the plugins' sections, then configure each plugin on its own, so one plugin's
        faults do not hide another's; raises one ConfigError listing them all (a plugin that
        raised anything else is listed by name, as ``(plugin NAME)``)."""
        config = context.config
        issues = check_sections(self.config_sections(), config.sections, config.path)
        if has_errors(issues):
            raise ConfigError([i for i in issues if i.severity == ERROR])
        hook = "thinkfamily_configure"
        impls = [i for i in reversed(getattr(self.pm.hook, hook).get_hookimpls()) if not i.wrapper]
        faults: list[ConfigIssue] = []
        for impl in impls:
            others = [i.plugin for i in impls if i is not impl]
            try:
                self.pm.subset_hook_caller(hook, others)(context=context)
            except ConfigError as exc:
                faults += exc.issues
            except PluginError as exc:  # a crash on its settings is reported like a fault
                reason = f"raised {exc.error}" if exc.error != "PluginError" else exc.reason
                faults.append(ConfigIssue(str(config.path), f"(plugin {exc.plugin})", reason))
        if faults:
            raise ConfigError(faults)

    def parse_contact(self, data: bytes, hint: str = "") -> FirstContact | None:
        return self._first(
            "thinkfamily_parse_contact", instance(FirstContact), data=data, hint=hint
        )

    def split_messages(self, data: bytes, hint: str = "") -> list[bytes] | None:
        return self._first("thinkfamily_split_messages", list_of(bytes), data=data, hint=hint)

    def channels(self) -> dict[str, tuple[str, HostChannel]]:
        """Each host channel declared, by name, with the plugin that declares it.

        Each plugin is asked alone, so a fault or a channel declared twice names the plugin.
        """
        if self._claims is not None:
            return self._claims
        claims: dict[str, tuple[str, HostChannel]] = {}
        for impl in self._impls(CHANNELS):
            answers = self._alone(CHANNELS, impl)()  # one answer, None left out by pluggy
            for channel in (c for a in answers for c in declared(impl.plugin_name, a)):
                if channel.name in claims:
                    first = claims[channel.name][0]
                    raise PluginError(
                        impl.plugin_name,
                        CHANNELS,
                        f"declared {channel.name!r}, which {first!r} declares already",
                    )
                claims[channel.name] = (impl.plugin_name, channel)
        self._claims = claims
        return claims

    # Facts --------------------------------------------------------------------------------

    def household(self, contact: FirstContact) -> tuple[HouseholdMember, ...] | None:
        """Every plugin's members; None (unknown) only when every answer was None."""
        members = self._merged("thinkfamily_household", list_of(HouseholdMember), contact=contact)
        return None if members is None else tuple(members)

    def risk_indicators(self, contact: FirstContact) -> tuple[RiskIndicator, ...]:
        found = self._merged("thinkfamily_risk_indicators", list_of(RiskIndicator), contact=contact)
        return tuple(found or ())

    def locate_authority(self, contact: FirstContact, children: Sequence[Child]) -> AuthorityMatch:
        match = self._first(
            "thinkfamily_locate_authority",
            instance(AuthorityMatch),
            contact=contact,
            children=list(children),
        )
        return match or AuthorityMatch(None, (), "no plugin could locate the authority")

    # Prompts and decisions ------------------------------------------------------------------

    def present(self, contact: FirstContact, assessment: Assessment) -> None:
        self.pm.hook.thinkfamily_present(contact=contact, assessment=assessment)

    def record(
        self, decision: Decision, assessment: Assessment | None, *, only: str | None = None
    ) -> list[PluginError]:
        """Each plugin is called on its own, so one failing does not keep the decision from the
        others; the failures are returned so each can be retried alone (``only`` names the
        one plugin to call)."""
        hook = "thinkfamily_record"
        failures: list[PluginError] = []
        for impl in self._impls(hook):
            if only is not None and impl.plugin_name != only:
                continue
            try:
                self._alone(hook, impl)(decision=decision, assessment=assessment)
            except PluginError as failure:
                failures.append(failure)
        return failures

    def record_household(
        self, answer: HouseholdAnswer, contact: FirstContact, *, only: str | None = None
    ) -> list[PluginError]:
        """As :meth:`record`, for a household answer: each plugin alone, failures returned."""
        hook = "thinkfamily_record_household"
        failures: list[PluginError] = []
        for impl in self._impls(hook):
            if only is not None and impl.plugin_name != only:
                continue
            try:
                self._alone(hook, impl)(answer=answer, contact=contact)
            except PluginError as failure:
                failures.append(failure)
        return failures

    def decision_escalated(self, escalation: DecisionEscalation) -> None:
        self.pm.hook.thinkfamily_decision_escalated(escalation=escalation)

    # Delivery -------------------------------------------------------------------------------

    def dispatch(self, referral: Referral, destination: Destination) -> Receipt | None:
        """Deliver through the first plugin that answers; a host channel (``x-...``) is
        offered only to the plugin that declares it."""
        hook = "thinkfamily_dispatch"
        if destination.channel.is_host:
            claim = self.channels().get(destination.channel.value)
            owner = claim[0] if claim else None
            impl = next((i for i in self._impls(hook) if i.plugin_name == owner), None)
            if impl is None:
                return None  # nobody delivers by it: a failed attempt, and config check says so
            answer = self._alone(hook, impl)(referral=referral, destination=destination)
            if answer is None:
                return None
            try:
                return instance(Receipt)(answer)
            except TypeError as exc:
                raise PluginError(impl.plugin_name, hook, str(exc)) from None
        return self._first(hook, instance(Receipt), referral=referral, destination=destination)

    def referral_update(
        self,
        referral: Referral,
        status: ReferralStatus,
        receipt: Receipt | None = None,
        prompt: Prompt | None = None,
    ) -> None:
        self.pm.hook.thinkfamily_referral_update(
            referral=referral, status=status, receipt=receipt, prompt=prompt
        )

    # Service --------------------------------------------------------------------------------

    def http_routes(self, context: PluginContext) -> list[Any]:
        return self._merged("thinkfamily_http_routes", list_of(object), context=context) or []

    def listeners(self, context: PluginContext) -> list[Listener]:
        found: list[Any] = (
            self._merged("thinkfamily_listeners", list_of(object), context=context) or []
        )
        return found
