"""Host channels: an ``x-`` channel named in the directory, claimed by the plugin declaring it.

A route of the trust's directory may name a channel of the host's own (``x-acme-filedrop``)
instead of fhir, hl7, email or phone. Each such route must be claimed by exactly one plugin,
through ``thinkfamily_channels``, and pass that plugin's check of its contact fields; the
faults are configuration errors with file, key and reason, shown by ``thinkfamily config
check`` and refused at start-up.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from plugin_core.contract import HostChannel, PluginError, RouteContact
from plugin_core.host.facade import Hooks
from plugin_core.host.faults import plugin_fault
from plugin_core.host.switches import loaded_names
from plugin_core.settings.trust_config import ConfigIssue, RouteEntry, TrustConfig

__all__ = ["channel_issues"]

_HOOK = "thinkfamily_channels"


def channel_issues(hooks: Hooks, config: TrustConfig) -> list[ConfigIssue]:
    """An error for each directory route whose host channel no plugin declares, and for each
    fault a declaring plugin's check finds in a route's contact fields.

    A plugin whose declaration is itself wrong (not an ``x-`` name, a name another plugin
    declares) raises a :class:`~plugin_core.contract.PluginError` naming it.
    """
    claims = hooks.channels()  # checks every declaration, used or not
    routes = list(_host_routes(config))
    if not routes:
        return []
    file = _directory_file(config)
    loaded = ", ".join(loaded_names(hooks.pm)) or "none"
    issues: list[ConfigIssue] = []
    for key, contact in routes:
        claim = claims.get(contact.channel)
        if claim is None:
            issues.append(
                ConfigIssue(
                    file,
                    f"{key}.channel",
                    f"{contact.channel!r} is a host channel no plugin declares "
                    f"(thinkfamily_channels); loaded plugins: {loaded}",
                )
            )
            continue
        plugin, channel = claim
        for field, reason in _checked(plugin, channel, contact).items():
            issues.append(ConfigIssue(file, f"{key}.{field}", f"{reason} ({plugin})"))
    return issues


def _host_routes(config: TrustConfig) -> Iterator[tuple[str, RouteContact]]:
    """Each route naming a host channel, with its dotted key in the directory file."""
    directory = config.directory
    entries: list[tuple[str, str, str | None, RouteEntry]] = [
        ("police", "police", None, directory.police)
    ]
    for authority_id, authority in directory.authorities.items():
        for route, entry in authority.routes.items():
            key = f"authorities.{authority_id}.routes.{route.value}"
            entries.append((key, route.value, authority_id, entry))
    for key, route_name, owner, entry in entries:
        if entry.channel is None or entry.missing:
            continue
        name = str(getattr(entry.channel, "value", entry.channel))
        if not name.startswith("x-"):
            continue
        yield key, RouteContact(name, route_name, owner, entry.address, entry.phone, entry.label)


def _checked(plugin: str, channel: HostChannel, contact: RouteContact) -> Mapping[str, str]:
    """The declaring plugin's faults for one route: ``{field: reason}``."""
    if channel.check is None:
        return {}
    try:
        found = channel.check(contact)
    except Exception as exc:
        raise plugin_fault(plugin, _HOOK, exc) from exc
    if found is None:
        return {}
    if not isinstance(found, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in found.items()
    ):
        raise PluginError(
            plugin,
            _HOOK,
            f"the check of {channel.name!r} returned {type(found).__name__}, "
            "expected a mapping of field to reason",
        )
    return found


def _directory_file(config: TrustConfig) -> str:
    """The directory file as the trust file names it, for issues' file."""
    named = config.section("trust").get("directory")
    return str(Path(config.path).parent / named) if isinstance(named, str) else str(config.path)
