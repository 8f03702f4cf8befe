"""Host channels in the plugin contract: what ``thinkfamily_channels`` declares, and the
directory route its check is given.

Part of :mod:`plugin_core.contract`, which names these types for plugin authors; a leaf like it,
importing only the domain model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from plugin_core.model import Channel, ModelError

__all__ = ["HostChannel", "RouteCheck", "RouteContact"]


@dataclass(frozen=True, slots=True)
class RouteContact:
    """One route of the trust's directory that names a host channel, as its check sees it.

    Directory values only (an authority's id, a route, where to send); never patient data.
    """

    channel: str
    """The host channel's name, ``x-...``."""
    route: str
    """The route (``front_door``, ``out_of_hours``, ``early_help``, ``lado``, ``police``)."""
    authority: str | None
    """The authority's id in the directory; ``None`` for the police route."""
    address: str = ""
    phone: str = ""
    label: str = ""


RouteCheck = Callable[[RouteContact], Mapping[str, str] | None]
"""Checks a route's contact fields: returns ``{field: reason}`` for each fault (``{"address":
"must be a folder path"}``), or ``None`` or ``{}`` when the route is fine."""


@dataclass(frozen=True, slots=True)
class HostChannel:
    """A delivery channel of the host's own, declared by ``thinkfamily_channels``.

    The trust's directory names it on a route (``channel = "x-acme-filedrop"``);
    ``thinkfamily config check`` and start-up refuse a route whose host channel no plugin
    declares, and report what ``check`` finds wrong with each route that uses it (file, key,
    reason). ``thinkfamily_dispatch`` is then offered that route's referrals only in the plugin
    that declares the channel.
    """

    name: str
    """``x-`` then lower-case letters, digits and hyphens, up to 64 characters."""
    check: RouteCheck | None = None
    """Checks each route that uses the channel; without it any route is accepted."""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise ModelError("HostChannel.name must be text", field="HostChannel.name")
        try:
            channel = Channel(self.name)
        except ValueError:
            channel = None
        if channel is None or not channel.is_host:
            raise ModelError(
                "HostChannel.name must be x- then lower-case letters, digits and hyphens",
                field="HostChannel.name",
            )
