"""Built-in plugin: the responsible authority from the trust's local-authority directory.

The directory carries the trust's postcode lookup (ONS data) when one is configured, so a full
postcode is settled by it and a partial one by the directory's sectors and districts.
A fallback (``trylast``): a host that knows the authority (from its own address service)
answers first.
"""

from __future__ import annotations

from hooks import hookimpl
from plugin_core.contract import PluginContext
from plugin_core.model import AuthorityMatch, Child, FirstContact
from plugin_core.rules.routing import locate_authority
from plugin_core.settings.directory import Directory


class DirectoryLocator:
    directory: Directory

    @hookimpl
    def thinkfamily_configure(self, context: PluginContext) -> None:
        self.directory = context.config.directory

    @hookimpl(trylast=True)
    def thinkfamily_locate_authority(
        self, contact: FirstContact, children: list[Child]
    ) -> AuthorityMatch | None:
        return locate_authority(self.directory, contact, children)
