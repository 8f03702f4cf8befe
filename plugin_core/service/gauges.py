"""What ``/metrics`` reads from the database at each scrape: counts by fixed labels only."""

from __future__ import annotations

from plugin_core.model import ReferralStatus
from plugin_core.service.base import ServiceBase


class Gauges(ServiceBase):
    def gauges(self) -> dict[str, dict[str, int]]:
        """Referrals by status (every status named, none as zero): the outbox and escalations.

        Shared by every instance on the database, so each instance reports the same figures.
        """
        with self.store.transaction() as tx:
            rows = tx.all("SELECT status, COUNT(*) FROM referrals GROUP BY status")
        found = {str(status): int(n) for status, n in rows}
        return {"referrals": {s.value: found.get(s.value, 0) for s in ReferralStatus}}
