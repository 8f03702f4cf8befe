"""Sign-in sessions of the clinician pages, kept in the store.

The pages hold the cookie; the service keeps only its digest, with the signed-in person's id,
roles and units as JSON the web adapter writes and reads. Session data names staff, never
patients.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from plugin_core.service.base import ServiceBase


def _key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class WebSessions(ServiceBase):
    def open_web_session(self, secret: str, kind: str, data: str, *, lasts: timedelta) -> None:
        """Keep ``data`` under the cookie value (or sign-in state) ``secret`` until ``lasts``
        from now at the latest."""
        now = self.clock()
        self.store.put_web_session(_key(secret), kind, data, now=now, expires_at=now + lasts)

    def web_session(self, secret: str, kind: str, *, idle: timedelta | None = None) -> str | None:
        """The data of a live session, now marked as used; None when there is none, it has
        ended, or it went unused for longer than ``idle``."""
        now = self.clock()
        since = now - idle if idle is not None else None
        return self.store.web_session(_key(secret), kind, now=now, idle_since=since)

    def take_web_session(self, secret: str, kind: str) -> str | None:
        """The data of a live entry, removed so it can be used only once."""
        return self.store.take_web_session(_key(secret), kind, now=self.clock())

    def close_web_session(self, secret: str) -> None:
        self.store.drop_web_session(_key(secret))
