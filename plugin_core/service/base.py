"""The running service's core: the engine bound to a store, counters, and plugins told of
what is already committed."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, cast

from plugin_core import metrics
from plugin_core.contract import PluginContext, PluginError, ServeOptions, ServicePort
from plugin_core.host.engine import ThinkFamily
from plugin_core.host.faults import fault_fields
from plugin_core.model import Prompt, Referral, ReferralStatus
from plugin_core.rules.clock import utc_now
from plugin_core.service.records import Records
from plugin_core.settings.trust_config import TrustConfig
from plugin_core.store import Store
from plugin_core.store.audit import AuditEntry

log = logging.getLogger("thinkfamily.service")


class ServiceBase(Records):
    """One service instance: engine, store, counters. Safe to call from several threads."""

    def __init__(
        self,
        config: TrustConfig,
        store: Store,
        *,
        blocked: Iterable[str] = (),
        extra: Sequence[tuple[str, object]] = (),
        entry_points: bool = True,
        clock: Callable[[], datetime] = utc_now,
        serve: ServeOptions | None = None,
    ) -> None:
        super().__init__(store)
        self.config = config
        self.clock = clock
        self.instance = secrets.token_hex(4)
        self.engine = ThinkFamily(
            config,
            blocked=blocked,
            extra=extra,
            entry_points=entry_points,
            service=cast(ServicePort, self),  # the composed Service implements the port
            serve=serve,
            clock=clock,
        )

    @property
    def context(self) -> PluginContext:
        return self.engine.context

    def unit(self) -> AbstractContextManager[object]:
        """Commit every write made inside the block in one transaction when the block ends.

        For a request that writes several times (a CDS Hooks call: its token's ``jti``, the
        contact, the ``cds.cards`` audit entry): one commit instead of three, and all or none.
        Inside the block calls return before their writes are durable; answer the sender only
        after the block is left. An exception out of the block writes nothing of it. Plugins
        hear of what it recorded after the commit. Enter and leave it in one thread.
        """
        return self.store.unit()

    def notify(self, hook: str, subject: str, call: Callable[..., None], *args: Any) -> None:
        """Tell plugins of something already committed; their failure cannot undo it.

        A sender was, or is about to be, told the work is done, so a plugin's fault here is
        logged and counted, never raised into the request or the acknowledgement. Inside a
        :meth:`unit`, plugins are told once it has committed.
        """
        if self.store.writer.defer(lambda: self._notify(hook, subject, call, *args)):
            return
        self._notify(hook, subject, call, *args)

    def notify_escalated(self, referral: Referral, prompt: Prompt) -> None:
        """Tell the host's plugins that a referral is escalated, with the prompt to ring."""
        self.notify(
            "referral_update",
            referral.id,
            self.engine.hooks.referral_update,
            referral,
            ReferralStatus.ESCALATED,
            None,
            prompt,
        )

    def _notify(self, hook: str, subject: str, call: Callable[..., None], *args: Any) -> None:
        try:
            call(*args)
        except PluginError as failure:
            self.plugin_failed(failure, subject, after_commit=True)
        except Exception as exc:
            log.error(
                "plugin call failed after commit", extra={**fault_fields(exc), "subject": subject}
            )
            self.count(f"hooks.{hook}.failed")

    def plugin_failed(
        self, failure: PluginError, subject: str, *, after_commit: bool = False
    ) -> None:
        """Log, count and audit a plugin's fault: the plugin, the hook and the error's class,
        never the exception's text. ``subject`` is the id of what was being handled."""
        fields = fault_fields(failure)
        if after_commit:
            log.error("plugin failed after commit", extra={**fields, "subject": subject})
        else:
            log.error("plugin failed", extra={**fields, "subject": subject})
        self.count(f"hooks.{failure.hook.removeprefix('thinkfamily_')}.failed")
        try:
            self.append_audit("plugin.failed", failure.plugin, subject, fields)
        except Exception as exc:  # the fault is logged and counted; the store may be down
            log.warning("plugin fault not audited", extra={"error": type(exc).__name__})

    # Part of the service port ----------------------------------------------------------------

    def append_audit(self, kind: str, actor: str, subject: str, details: dict[str, Any]) -> None:
        self.store.append_audit([AuditEntry(kind, actor, subject, details)], self.clock())

    def use_once(self, key: str, until: datetime) -> bool:
        return self.store.use_once(key, until=until, now=self.clock())

    def count(self, metric: str, amount: int = 1) -> None:
        self.store.add_counter(metric, amount)
        metrics.counted(metric, amount)

    def purge_once_keys(self) -> None:
        """Forget keys whose time has passed."""
        self.store.purge_once_keys(self.clock())
