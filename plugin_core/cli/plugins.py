"""``plugins``: the plugins loaded, where each comes from, and those switched off."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from plugin_core.cli.base import command, config_failed, load_config_or_fail
from plugin_core.settings.issues import ConfigError

if TYPE_CHECKING:
    from plugin_core.cli.base import Subparsers


def add_plugins(sub: Subparsers) -> None:
    plugins = sub.add_parser(
        "plugins", help="list the plugins loaded, with their distribution, version and hooks"
    )
    plugins.add_argument("--config", help="trust configuration (default: the example trust)")


@command("plugins")
def _plugins(args: argparse.Namespace) -> int:
    """Each plugin with its distribution, version and hooks, then those switched off."""
    from plugin_core.host.engine import ThinkFamily
    from plugin_core.host.plugins import blocked_names, plugin_infos

    config = load_config_or_fail(args.config)
    if isinstance(config, int):
        return config
    try:
        tf = ThinkFamily(config)
    except ConfigError as exc:
        return config_failed(exc)
    for issue in tf.plugin_issues:
        print(f"warning: {issue}", file=sys.stderr)
    infos = plugin_infos(tf.pm)
    width = max([len("plugin"), *(len(i.name) for i in infos)])
    dist_width = max([len("distribution"), *(len(i.distribution) for i in infos)])
    print(f"{'plugin':<{width}}  {'distribution':<{dist_width}}  {'version':<9}  hooks")
    for info in infos:
        hooks = ", ".join(h.removeprefix("thinkfamily_") for h in info.hooks)
        print(
            f"{info.name:<{width}}  {info.distribution or '(in process)':<{dist_width}}  "
            f"{info.version or '-':<9}  {hooks}"
        )
    blocked = blocked_names(tf.pm)
    print(f"{len(infos)} plugin(s) loaded; disabled: {', '.join(blocked) or 'none'}")
    return 0
