"""The service port's old address: the types now live in :mod:`plugin_core.contract`.

Kept so that existing imports keep working; new code imports from the contract.
"""

from __future__ import annotations

from plugin_core.contract import Accepted, ReferralDetails, ServicePort

__all__ = ["Accepted", "ReferralDetails", "ServicePort"]
