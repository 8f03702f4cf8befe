"""Built-in plugin: the phone channel, where delivery means a professional making a call.

It never claims a referral was delivered: it reports that a call is needed, and the engine
prompts the professional with the numbers. Like every built-in transport it answers last
(``trylast``), so a host's own phone workflow is asked first.
"""

from __future__ import annotations

from hooks import hookimpl
from plugin_core.model import Channel, Destination, Receipt, Referral


@hookimpl(trylast=True)
def thinkfamily_dispatch(referral: Referral, destination: Destination) -> Receipt | None:
    if destination.channel is not Channel.PHONE:
        return None
    return Receipt(
        channel=Channel.PHONE,
        delivered=False,
        retryable=False,
        detail="a phone call is needed",
    )
