"""Who may hold a connection to the MLLP listener, and which connection gives way to a new one.

An integration engine keeps a few long-lived connections and sends on them now and then, so
being idle is never a reason to close one by itself. A listener that only refused connections
once full could be locked by anyone holding its slots open; instead a new connection is always
let in by closing the longest-idle one, unless every connection is in the middle of a commit.

"Idle" counts from the last whole message a connection delivered (or from when it opened):
bytes trickled into a frame, or outside one, do not make a connection look busy. A frame begun
must also finish within the frame deadline, so a trickling sender cannot hold a slot for long.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from adapters.hl7.settings import Hl7Settings

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_MAX_CONNECTIONS = 64
DEFAULT_MAX_PER_PEER = 16
DEFAULT_FRAME_DEADLINE = 30.0
SATURATION_WINDOW = 300.0
"""How long /healthz says "degraded" after a connection found the listener full."""


@dataclass(frozen=True, slots=True)
class ConnectionPolicy:
    """The ``[hl7]`` connection settings as the listener applies them."""

    max_connections: int = DEFAULT_MAX_CONNECTIONS
    max_per_peer: int = DEFAULT_MAX_PER_PEER
    """Connections one sender address may hold; 0 means no limit."""
    frame_deadline: float = DEFAULT_FRAME_DEADLINE
    """Seconds a begun frame has to finish."""
    allowed: tuple[IpNetwork, ...] = ()
    """Sender networks let in; empty lets in every sender."""
    saturation_window: float = SATURATION_WINDOW

    def allows(self, peer: str) -> bool:
        if not self.allowed:
            return True
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self.allowed)


def policy_of(settings: Hl7Settings) -> ConnectionPolicy:
    """The listener's policy from the ``[hl7]`` settings (networks already checked there)."""
    return ConnectionPolicy(
        max_connections=settings.max_connections,
        max_per_peer=settings.max_connections_per_peer,
        frame_deadline=settings.frame_deadline_seconds,
        allowed=tuple(ipaddress.ip_network(n) for n in settings.allowed_networks),
    )


def peer_of(sockaddr: Any) -> str:
    """The sender's address as text; an IPv4 address mapped into IPv6 reads as IPv4."""
    host = str(sockaddr[0]) if isinstance(sockaddr, tuple) and sockaddr else str(sockaddr)
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


@dataclass(eq=False, slots=True)
class Slot:
    """One open connection as the admission rules see it (times from ``time.monotonic``)."""

    peer: str
    opened: float
    last_message: float
    """When it last delivered a whole frame, or opened."""
    frame_started: float | None = None
    """When the frame now arriving began; None between frames."""
    busy: bool = False
    """Reading, committing or answering what arrived: never closed for another."""
    closing: bool = False


@dataclass(frozen=True, slots=True)
class Admission:
    """What to do with a new connection: let it in (closing ``close`` first) or refuse it."""

    admitted: bool
    reason: str = ""
    """Why it was refused: ``network``, ``peer`` (its address is at its cap with every
    connection busy) or ``full`` (every connection busy)."""
    close: tuple[Slot, ...] = ()
    saturated: bool = False
    """The listener was full when it arrived."""
    peer_capped: bool = False
    """Its address was at ``max_per_peer``."""


def longest_idle(slots: Iterable[Slot]) -> Slot | None:
    """The connection to close for a new one: the longest since it delivered a message."""
    candidates = [s for s in slots if not s.busy and not s.closing]
    if not candidates:
        return None
    return min(candidates, key=lambda s: (s.last_message, s.opened))


def admit(policy: ConnectionPolicy, slots: Sequence[Slot], peer: str) -> Admission:
    """Apply the allow-list, the per-sender cap and the listener's cap to a new connection.

    A sender at its cap gives up its own longest-idle connection (an engine reconnecting
    after a network fault replaces the connection it lost); a full listener gives up its
    longest-idle connection. A connection is refused only when none can give way.
    """
    if not policy.allows(peer):
        return Admission(False, "network")
    live = [s for s in slots if not s.closing]
    close: list[Slot] = []
    capped = False
    if policy.max_per_peer:
        own = [s for s in live if s.peer == peer]
        if len(own) >= policy.max_per_peer:
            capped = True
            victim = longest_idle(own)
            if victim is None:
                return Admission(False, "peer", peer_capped=True)
            close.append(victim)
    saturated = len(live) - len(close) >= policy.max_connections
    if saturated:
        victim = longest_idle(s for s in live if s not in close)
        if victim is None:
            return Admission(False, "full", saturated=True, peer_capped=capped)
        close.append(victim)
    return Admission(True, close=tuple(close), saturated=saturated, peer_capped=capped)
