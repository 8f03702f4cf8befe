"""Plugin wiring and the typed facade over the hooks.

Order of wiring: add specs, block disabled plugins, load entry points, register the built-in
plugins by name, then ``check_pending`` so a misspelt hook is an error rather than a no-op.
Core code calls hooks only through :class:`Hooks`, which calls each implementation in turn,
checks what it returned and names the plugin at fault.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import pluggy

import hooks.specs
from hooks import PROJECT_NAME
from plugin_core.errors import ContactInvalid, ContactSkipped
from plugin_core.model import (
    Assessment,
    AuthorityMatch,
    Child,
    Decision,
    DecisionEscalation,
    Destination,
    FirstContact,
    HouseholdMember,
    Prompt,
    Receipt,
    Referral,
    ReferralStatus,
    RiskIndicator,
)
from plugin_core.ports import ServicePort
from plugin_core.trust_config import TrustConfig

T = TypeVar("T")

DEFAULT_PLUGINS: tuple[str, ...] = (
    "plugin_core.builtin.contact_facts",
    "plugin_core.builtin.directory",
    "plugin_core.builtin.phone",
    "adapters.hl7.plugin",
    "adapters.fhir.plugin",
    "adapters.email.plugin",
    "adapters.web.plugin",
)
"""Built-in plugins, registered by module name like anyone else's; a host may block any."""


@dataclass
class PluginContext:
    """What plugins are given at start-up: the configuration and, when serving, the service.

    ``service`` is None outside ``thinkfamily serve`` (for example in ``thinkfamily assess``),
    so adapters must not assume it.
    """

    config: TrustConfig
    service: ServicePort | None = None
    settings: dict[str, Any] = field(default_factory=dict)


class PluginError(RuntimeError):
    """A plugin raised or returned something the contract does not allow."""

    def __init__(self, plugin: str, hook: str, reason: str) -> None:
        self.plugin = plugin
        self.hook = hook
        super().__init__(f"plugin {plugin!r} in {hook}: {reason}")


class _Factory(Protocol):
    def __call__(self, context: PluginContext) -> object: ...


def plugin_manager(
    context: PluginContext,
    *,
    blocked: Iterable[str] = (),
    extra: Sequence[tuple[str, object]] = (),
    entry_points: bool = True,
) -> pluggy.PluginManager:
    """A wired plugin manager: specs, blocks, entry points, built-ins, extras, checked.

    :param blocked: plugin names (built-in module names or entry-point names) to leave out.
    :param extra: ``(name, plugin)`` pairs a host or a test registers directly.
    """
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(hooks.specs)
    for name in blocked:
        pm.set_blocked(name)
    if entry_points:
        pm.load_setuptools_entrypoints(PROJECT_NAME)
    for module_name in DEFAULT_PLUGINS:
        if pm.is_blocked(module_name):
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # an optional adapter that is not installed
            raise
        factory: _Factory | None = getattr(module, "make_plugin", None)
        pm.register(factory(context) if factory else module, name=module_name)
    for name, plugin in extra:
        pm.register(plugin, name=name)
    pm.check_pending()
    for plugin in pm.get_plugins():
        for caller in pm.get_hookcallers(plugin) or ():
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and (impl.hookwrapper or impl.wrapper):
                    raise PluginError(
                        impl.plugin_name, caller.name, "hook wrappers are not supported"
                    )
    Hooks(pm).configure(context)
    return pm


class Hooks:
    """The typed facade: the only place core code reaches the hooks."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm

    def _call(self, impl: Any, hook: str, kwargs: dict[str, Any]) -> Any:
        """One implementation's answer; its exception becomes a PluginError naming it."""
        try:
            return impl.function(*[kwargs[name] for name in impl.argnames])
        except (ContactInvalid, ContactSkipped):
            raise
        except Exception as exc:
            raise PluginError(impl.plugin_name, hook, f"raised {type(exc).__name__}") from exc

    def _impls(self, hook: str) -> list[Any]:
        """Implementations in pluggy's calling order (try-first first, try-last last)."""
        return list(reversed(getattr(self.pm.hook, hook).get_hookimpls()))

    def _answers(
        self, hook: str, check: Callable[[Any], T | None], **kwargs: Any
    ) -> Iterable[tuple[str, T]]:
        """Call each implementation in pluggy's order, yielding checked non-None answers."""
        for impl in self._impls(hook):
            result = self._call(impl, hook, kwargs)
            if result is None:
                continue
            try:
                checked = check(result)
            except TypeError as exc:
                raise PluginError(impl.plugin_name, hook, str(exc)) from None
            if checked is not None:
                yield impl.plugin_name, checked

    def _call_all(self, hook: str, **kwargs: Any) -> None:
        for _ in self._answers(hook, _ignore, **kwargs):
            pass

    # Initialisation -----------------------------------------------------------------------

    def configure(self, context: PluginContext) -> None:
        self._call_all("thinkfamily_configure", context=context)

    def parse_contact(self, data: bytes, hint: str = "") -> FirstContact | None:
        for _, contact in self._answers(
            "thinkfamily_parse_contact", _instance(FirstContact), data=data, hint=hint
        ):
            return contact
        return None

    def split_messages(self, data: bytes, hint: str = "") -> list[bytes] | None:
        for _, messages in self._answers(
            "thinkfamily_split_messages", _list_of(bytes), data=data, hint=hint
        ):
            return messages
        return None

    # Facts --------------------------------------------------------------------------------

    def household(self, contact: FirstContact) -> tuple[HouseholdMember, ...] | None:
        known = False
        members: list[HouseholdMember] = []
        for _, answer in self._answers(
            "thinkfamily_household", _list_of(HouseholdMember), contact=contact
        ):
            known = True
            members.extend(answer)
        return tuple(members) if known else None

    def risk_indicators(self, contact: FirstContact) -> tuple[RiskIndicator, ...]:
        found: list[RiskIndicator] = []
        for _, answer in self._answers(
            "thinkfamily_risk_indicators", _list_of(RiskIndicator), contact=contact
        ):
            found.extend(answer)
        return tuple(found)

    def locate_authority(self, contact: FirstContact, children: Sequence[Child]) -> AuthorityMatch:
        for _, match in self._answers(
            "thinkfamily_locate_authority",
            _instance(AuthorityMatch),
            contact=contact,
            children=list(children),
        ):
            return match
        return AuthorityMatch(None, (), "no plugin could locate the authority")

    # Prompts and decisions ------------------------------------------------------------------

    def present(self, contact: FirstContact, assessment: Assessment) -> None:
        self._call_all("thinkfamily_present", contact=contact, assessment=assessment)

    def record(
        self, decision: Decision, assessment: Assessment | None, *, only: str | None = None
    ) -> list[PluginError]:
        """Every implementation is called even when one fails; the failures are returned so
        each can be retried alone (``only`` names the one plugin to call)."""
        failures: list[PluginError] = []
        kwargs = {"decision": decision, "assessment": assessment}
        for impl in self._impls("thinkfamily_record"):
            if only is not None and impl.plugin_name != only:
                continue
            try:
                self._call(impl, "thinkfamily_record", kwargs)
            except PluginError as failure:
                failures.append(failure)
        return failures

    def decision_escalated(self, escalation: DecisionEscalation) -> None:
        self._call_all("thinkfamily_decision_escalated", escalation=escalation)

    # Delivery -------------------------------------------------------------------------------

    def dispatch(self, referral: Referral, destination: Destination) -> Receipt | None:
        for _, receipt in self._answers(
            "thinkfamily_dispatch", _instance(Receipt), referral=referral, destination=destination
        ):
            return receipt
        return None

    def referral_update(
        self,
        referral: Referral,
        status: ReferralStatus,
        receipt: Receipt | None = None,
        prompt: Prompt | None = None,
    ) -> None:
        self._call_all(
            "thinkfamily_referral_update",
            referral=referral,
            status=status,
            receipt=receipt,
            prompt=prompt,
        )

    # Service --------------------------------------------------------------------------------

    def http_routes(self, context: PluginContext) -> list[Any]:
        routes: list[Any] = []
        for _, answer in self._answers(
            "thinkfamily_http_routes", _list_of(object), context=context
        ):
            routes.extend(answer)
        return routes

    def listeners(self, context: PluginContext) -> list[Any]:
        found: list[Any] = []
        for _, answer in self._answers("thinkfamily_listeners", _list_of(object), context=context):
            found.extend(answer)
        return found


def _ignore(_: object) -> None:
    return None


def _instance(kind: type[T]) -> Callable[[Any], T]:
    def check(value: Any) -> T:
        if not isinstance(value, kind):
            raise TypeError(f"returned {type(value).__name__}, expected {kind.__name__} or None")
        return value

    return check


def _list_of(kind: type[T]) -> Callable[[Any], list[T]]:
    def check(value: Any) -> list[T]:
        if not isinstance(value, list | tuple):
            raise TypeError(f"returned {type(value).__name__}, expected a list or None")
        for item in value:
            if not isinstance(item, kind):
                raise TypeError(
                    f"returned a list holding {type(item).__name__}, expected {kind.__name__}"
                )
        return list(value)

    return check
