"""Built-in plugin: the facts a contact already carries, and ThinkFamily's own contact JSON.

These answers are fallbacks (``trylast``), so a host's own household, indicators and
contact readers come first.
"""

from __future__ import annotations

from hooks import hookimpl
from plugin_core.contract import PluginContext
from plugin_core.formats.contact_json import parse_contact
from plugin_core.model import FirstContact, HouseholdMember, RiskIndicator
from plugin_core.settings.code_lists import CodeLists


class ContactFacts:
    code_lists: CodeLists

    @hookimpl
    def thinkfamily_configure(self, context: PluginContext) -> None:
        self.code_lists = context.config.code_lists

    @hookimpl(trylast=True)
    def thinkfamily_household(self, contact: FirstContact) -> list[HouseholdMember] | None:
        return None if contact.household is None else list(contact.household)

    @hookimpl(trylast=True)
    def thinkfamily_risk_indicators(self, contact: FirstContact) -> list[RiskIndicator] | None:
        return list(contact.indicators) or None

    @hookimpl(trylast=True)
    def thinkfamily_parse_contact(self, data: bytes, hint: str) -> FirstContact | None:
        if not data.lstrip().startswith(b"{") or b'"resourceType"' in data[:4096]:
            return None
        return parse_contact(data, self.code_lists)
