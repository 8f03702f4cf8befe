"""Built-in plugin: the responsible authority from the trust's local-authority directory.

It runs last, so a host that knows the authority (from its own address service) answers first.
"""

from __future__ import annotations

from hooks import hookimpl
from plugin_core.model import AuthorityMatch, Child, FirstContact
from plugin_core.plugins import PluginContext
from plugin_core.routing import locate_authority


class DirectoryLocator:
    def __init__(self, context: PluginContext) -> None:
        self.directory = context.config.directory

    @hookimpl(trylast=True)
    def thinkfamily_locate_authority(
        self, contact: FirstContact, children: list[Child]
    ) -> AuthorityMatch | None:
        return locate_authority(self.directory, contact, children)


def make_plugin(context: PluginContext) -> DirectoryLocator:
    return DirectoryLocator(context)
