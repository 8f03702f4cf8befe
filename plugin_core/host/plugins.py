"""Plugin wiring, the switches that block plugins, and the typed facade over the hooks.

Wiring order: add specs, register the guard, block disabled plugins, load entry points,
register the built-in plugins by name, then ``check_pending`` so a misspelt hook is an error
rather than a no-op; then every section from ``thinkfamily_config_sections`` is checked, and
finally ``thinkfamily_configure`` with the one context.

pluggy calls the hooks (``firstresult`` hooks stop at the first answer). Core code reaches
them only through :class:`Hooks`, which checks what came back; a small internal wrapper
around every hook names the plugin whose exception it sees.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import logging
import os
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

import pluggy
from pydantic import BaseModel

import hooks.specs
from hooks import PROJECT_NAME, hookimpl
from plugin_core.contract import (
    Listener,
    PluginContext,
    PluginError,
    ThinkFamilyError,
)
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
from plugin_core.settings.config import TrustConfig
from plugin_core.settings.issues import ERROR, ConfigError, ConfigIssue, has_errors
from plugin_core.settings.reader import check_sections

__all__ = [
    "BUILT_IN_NAMES",
    "DEFAULT_PLUGINS",
    "DISABLED_ENV",
    "TRACE_ENV",
    "Hooks",
    "PluginContext",
    "PluginError",
    "PluginInfo",
    "blocked_names",
    "plugin_infos",
    "plugin_manager",
    "switch_issues",
    "trace_hook_calls",
    "wire_plugins",
]

log = logging.getLogger("thinkfamily.plugins")

T = TypeVar("T")

DEFAULT_PLUGINS: tuple[str, ...] = (
    "plugin_core.builtin.contact_facts:ContactFacts",
    "plugin_core.builtin.directory:DirectoryLocator",
    "plugin_core.builtin.phone",
    "adapters.hl7.plugin:Hl7Plugin",
    "adapters.fhir.plugin:FhirPlugin",
    "adapters.email.plugin:EmailTransport",
    "adapters.web.plugin:WebPlugin",
)
"""Built-in plugins as ``module`` or ``module:Class``, registered under the module's name.

A class is constructed with no arguments, once per service, and gets its context from
``thinkfamily_configure`` like any installed plugin; a module is registered as it is.
"""

DISABLED_ENV = "THINKFAMILY_DISABLED_PLUGINS"
"""Comma-separated plugin names to block, added to the trust file's ``[plugins] disabled``."""

TRACE_ENV = "THINKFAMILY_TRACE_PLUGINS"
"""Set to ``1`` to log each hook call with the plugins it reached (names only, never values)."""

_GUARD = "thinkfamily.guard"
"""The internal wrapper's plugin name; it is not listed and cannot be disabled."""

_SENDS = frozenset({"thinkfamily_dispatch"})
"""First-answer hooks with effects outside ThinkFamily: never asked twice to find a fault."""

BUILT_IN_NAMES: tuple[str, ...] = tuple(ref.partition(":")[0] for ref in DEFAULT_PLUGINS)


def _hook_names() -> list[str]:
    marker = f"{PROJECT_NAME}_spec"
    return [
        name
        for name, func in inspect.getmembers(hooks.specs, inspect.isfunction)
        if name.startswith(f"{PROJECT_NAME}_") and hasattr(func, marker)
    ]


# The guard: pluggy's error path names the plugin at fault ----------------------------------


class _Guard:
    """The outermost wrapper of every hook: turns a plugin's exception into a PluginError.

    pluggy throws the exception into this wrapper with its traceback intact; the first frame
    that runs a hook implementation's code is the plugin at fault.
    """

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm

    def fault(self, hook: str, exc: Exception) -> PluginError:
        impls = [i for i in getattr(self.pm.hook, hook).get_hookimpls() if not i.wrapper]
        name = _raised_in(impls, exc.__traceback__) or "unknown"
        return PluginError(name, hook, f"raised {type(exc).__name__}")


def _raised_in(impls: Sequence[pluggy.HookImpl], tb: TracebackType | None) -> str | None:
    by_code: dict[object, list[pluggy.HookImpl]] = {}
    for impl in impls:
        by_code.setdefault(getattr(impl.function, "__code__", None), []).append(impl)
    while tb is not None:
        found = by_code.get(tb.tb_frame.f_code)
        if found:
            if len(found) == 1:
                return found[0].plugin_name
            owner = tb.tb_frame.f_locals.get("self")  # two instances of one class
            for impl in found:
                if impl.plugin is owner:
                    return impl.plugin_name
        tb = tb.tb_next
    return None


def _guarding(hook: str) -> Callable[[_Guard], Generator[None, Any, Any]]:
    def guard(self: _Guard) -> Generator[None, Any, Any]:
        try:
            return (yield)
        except (ThinkFamilyError, ConfigError):
            raise  # raised on purpose; the message is written to be shown
        except Exception as exc:
            raise self.fault(hook, exc) from exc

    guard.__name__ = guard.__qualname__ = hook
    return guard


for _hook in _hook_names():
    setattr(_Guard, _hook, hookimpl(wrapper=True, tryfirst=True)(_guarding(_hook)))


# Switches -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Switch:
    """One name a trust or an operator switched off, and where it was written."""

    name: str
    file: str
    key: str


def _switches(config: TrustConfig, environ: Mapping[str, str]) -> list[_Switch]:
    found = [
        _Switch(name, str(config.path), "plugins.disabled")
        for name in config.section("plugins").get("disabled", [])
    ]
    found += [
        _Switch(name.strip(), "environment", DISABLED_ENV)
        for name in environ.get(DISABLED_ENV, "").split(",")
        if name.strip()
    ]
    return found


def switch_issues(
    pm: pluggy.PluginManager,
    config: TrustConfig,
    *,
    extra: Iterable[str] = (),
    environ: Mapping[str, str] | None = None,
) -> list[ConfigIssue]:
    """A warning for each switched-off name that matches no plugin, naming those loaded.

    :param extra: names of plugins registered in process, which a switch may also name.
    """
    switches = _switches(config, os.environ if environ is None else environ)
    loaded = [
        name for name, plugin in pm.list_name_plugin() if plugin is not None and name != _GUARD
    ]
    known = {*loaded, *BUILT_IN_NAMES, *extra}
    unknown = [s for s in switches if s.name not in known]
    if unknown:
        installed = _entry_point_names()
        unknown = [s for s in unknown if s.name not in installed]
    listed = ", ".join(loaded) or "none"
    return [
        ConfigIssue(
            s.file, s.key, f"{s.name!r} names no plugin; loaded plugins: {listed}", "warning"
        )
        for s in unknown
    ]


def _entry_point_names() -> set[str]:
    """Every installed entry point in the group, loaded or blocked (as pluggy finds them)."""
    return {
        ep.name
        for dist in importlib.metadata.distributions()
        for ep in dist.entry_points
        if ep.group == PROJECT_NAME
    }


# Wiring --------------------------------------------------------------------------------------


def plugin_manager(
    context: PluginContext,
    *,
    blocked: Iterable[str] = (),
    extra: Sequence[tuple[str, object]] = (),
    entry_points: bool = True,
    environ: Mapping[str, str] | None = None,
) -> pluggy.PluginManager:
    """A wired plugin manager: specs, guard, blocks, entry points, built-ins, extras, checked,
    then every plugin configured with ``context``.

    :param blocked: plugin names to leave out, besides those the trust file's
        ``[plugins] disabled`` and the ``THINKFAMILY_DISABLED_PLUGINS`` variable name.
    :param extra: ``(name, plugin)`` pairs a host or a test registers directly.
    :param environ: the environment to read the switches from (default ``os.environ``).
    """
    environ = os.environ if environ is None else environ
    switched = [s.name for s in _switches(context.config, environ)]
    pm = wire_plugins(
        blocked=[*blocked, *switched], extra=extra, entry_points=entry_points, environ=environ
    )
    Hooks(pm).configure(context)
    return pm


def wire_plugins(
    *,
    blocked: Iterable[str] = (),
    extra: Sequence[tuple[str, object]] = (),
    entry_points: bool = True,
    environ: Mapping[str, str] | None = None,
) -> pluggy.PluginManager:
    """Specs, guard, blocks, entry points, built-ins and extras, checked; nothing configured
    yet (``config check`` asks for the plugins' sections before there is a configuration)."""
    environ = os.environ if environ is None else environ
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(hooks.specs)
    pm.register(_Guard(pm), name=_GUARD)
    for name in blocked:
        if name != _GUARD:
            pm.set_blocked(name)
    if entry_points:
        pm.load_setuptools_entrypoints(PROJECT_NAME)
    for reference in DEFAULT_PLUGINS:
        name, plugin = _built_in(reference, pm)
        if plugin is not None:
            pm.register(plugin, name=name)
    for name, plugin in extra:
        pm.register(plugin, name=name)
    pm.check_pending()
    _refuse_wrappers(pm)
    if environ.get(TRACE_ENV, "").strip() in ("1", "true", "yes"):
        trace_hook_calls(pm)
    return pm


def _built_in(reference: str, pm: pluggy.PluginManager) -> tuple[str, object | None]:
    module_name, _, class_name = reference.partition(":")
    if pm.is_blocked(module_name):
        return module_name, None
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            return module_name, None  # an optional adapter that is not installed
        raise
    return module_name, getattr(module, class_name)() if class_name else module


def _refuse_wrappers(pm: pluggy.PluginManager) -> None:
    """A plugin's wrapper would see every answer and could change or swallow it (a failed
    delivery hidden, a household altered), so only ThinkFamily's own guard wraps hooks."""
    for name, plugin in pm.list_name_plugin():
        if plugin is None or name == _GUARD:
            continue
        for caller in pm.get_hookcallers(plugin) or ():
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and (impl.hookwrapper or impl.wrapper):
                    raise PluginError(name, caller.name, "hook wrappers are not supported")


def trace_hook_calls(pm: pluggy.PluginManager) -> Callable[[], None]:
    """Log each hook call: the hook, the plugins in calling order, and whether it raised.

    Never the arguments or answers, which carry patient details; returns the undo function.
    """

    def before(hook: str, impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, object]) -> None:
        return None

    def after(
        outcome: pluggy.Result[object],
        hook: str,
        impls: Sequence[pluggy.HookImpl],
        kwargs: Mapping[str, object],
    ) -> None:
        log.info(
            "hook called",
            extra={
                "hook": hook,
                "plugins": [i.plugin_name for i in reversed(impls) if i.plugin_name != _GUARD],
                "status": "failed" if outcome.exception is not None else "ok",
            },
        )

    return pm.add_hookcall_monitoring(before, after)


# Visibility ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """One registered plugin, for ``thinkfamily plugins``, the start-up log and ``/healthz``.

    ``distribution`` is ``thinkfamily`` for built-ins, the installed package for entry points,
    and empty for a plugin registered in process.
    """

    name: str
    distribution: str
    version: str
    hooks: tuple[str, ...]


def plugin_infos(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """The registered plugins in registration order (the guard left out)."""
    installed = {id(plugin): dist for plugin, dist in pm.list_plugin_distributions()}
    found: list[PluginInfo] = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None or name == _GUARD:
            continue
        dist = installed.get(id(plugin))
        if dist is not None:
            distribution, version = str(dist.metadata["Name"]), str(dist.version)
        elif name in BUILT_IN_NAMES:
            distribution, version = PROJECT_NAME, _own_version()
        else:
            distribution, version = "", ""
        hook_names = sorted(c.name for c in pm.get_hookcallers(plugin) or ())
        found.append(PluginInfo(name, distribution, version, tuple(hook_names)))
    return found


def blocked_names(pm: pluggy.PluginManager) -> list[str]:
    """Plugins a block left out: built-in or installed ones (a name that matches no plugin is
    a warning from :func:`switch_issues` instead)."""
    blocked = [name for name, plugin in pm.list_name_plugin() if plugin is None]
    installed = _entry_point_names() if set(blocked) - set(BUILT_IN_NAMES) else set()
    return [name for name in blocked if name in BUILT_IN_NAMES or name in installed]


def _own_version() -> str:
    try:
        return importlib.metadata.version(PROJECT_NAME)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


# The typed facade ---------------------------------------------------------------------------


class Hooks:
    """The typed facade: the only place core code reaches the hooks.

    pluggy does the calling; this class passes arguments by keyword, checks each answer's type
    and merges lists. pluggy does not say which plugin gave an answer, so when one has the
    wrong type a hook that only reads is asked again, one plugin at a time, to name it.
    """

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm

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
        impls = [i for i in reversed(getattr(self.pm.hook, hook).get_hookimpls()) if not i.wrapper]
        if len(impls) > 1 and hook not in _SENDS:
            for impl in impls:
                others = [i.plugin for i in impls if i is not impl]
                try:
                    answer = self.pm.subset_hook_caller(hook, others)(**kwargs)
                    for one in [answer] if first else answer:
                        if one is not None:
                            check(one)
                except (TypeError, PluginError):
                    return PluginError(impl.plugin_name, hook, reason)
        if len(impls) == 1:
            return PluginError(impls[0].plugin_name, hook, reason)
        names = ", ".join(repr(i.plugin_name) for i in impls)
        return PluginError("unknown", hook, f"{reason}; the answer came from one of {names}")

    # Initialisation -----------------------------------------------------------------------

    def config_sections(self) -> dict[str, tuple[type[BaseModel], ...]]:
        """Every section model the plugins contribute, by section name."""
        pairs = self._merged("thinkfamily_config_sections", _section_models) or []
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
                reason = str(exc).partition(": ")[2]
                faults.append(ConfigIssue(str(config.path), f"(plugin {exc.plugin})", reason))
        if faults:
            raise ConfigError(faults)

    def parse_contact(self, data: bytes, hint: str = "") -> FirstContact | None:
        return self._first(
            "thinkfamily_parse_contact", _instance(FirstContact), data=data, hint=hint
        )

    def split_messages(self, data: bytes, hint: str = "") -> list[bytes] | None:
        return self._first("thinkfamily_split_messages", _list_of(bytes), data=data, hint=hint)

    # Facts --------------------------------------------------------------------------------

    def household(self, contact: FirstContact) -> tuple[HouseholdMember, ...] | None:
        """Every plugin's members; None (unknown) only when every answer was None."""
        members = self._merged("thinkfamily_household", _list_of(HouseholdMember), contact=contact)
        return None if members is None else tuple(members)

    def risk_indicators(self, contact: FirstContact) -> tuple[RiskIndicator, ...]:
        found = self._merged(
            "thinkfamily_risk_indicators", _list_of(RiskIndicator), contact=contact
        )
        return tuple(found or ())

    def locate_authority(self, contact: FirstContact, children: Sequence[Child]) -> AuthorityMatch:
        match = self._first(
            "thinkfamily_locate_authority",
            _instance(AuthorityMatch),
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
        impls = [i for i in reversed(getattr(self.pm.hook, hook).get_hookimpls()) if not i.wrapper]
        failures: list[PluginError] = []
        for impl in impls:
            if only is not None and impl.plugin_name != only:
                continue
            others = [i.plugin for i in impls if i is not impl]
            try:
                self.pm.subset_hook_caller(hook, others)(decision=decision, assessment=assessment)
            except PluginError as failure:
                failures.append(failure)
        return failures

    def decision_escalated(self, escalation: DecisionEscalation) -> None:
        self.pm.hook.thinkfamily_decision_escalated(escalation=escalation)

    # Delivery -------------------------------------------------------------------------------

    def dispatch(self, referral: Referral, destination: Destination) -> Receipt | None:
        return self._first(
            "thinkfamily_dispatch",
            _instance(Receipt),
            referral=referral,
            destination=destination,
        )

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
        return self._merged("thinkfamily_http_routes", _list_of(object), context=context) or []

    def listeners(self, context: PluginContext) -> list[Listener]:
        found: list[Any] = (
            self._merged("thinkfamily_listeners", _list_of(object), context=context) or []
        )
        return found


def _section_models(value: Any) -> list[tuple[str, type[BaseModel]]]:
    if not isinstance(value, dict):
        raise TypeError(f"returned {type(value).__name__}, expected a dict or None")
    for name, model in value.items():
        if not isinstance(name, str) or not (
            isinstance(model, type) and issubclass(model, BaseModel)
        ):
            raise TypeError("returned a dict that is not section name -> pydantic model class")
    return list(value.items())


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
