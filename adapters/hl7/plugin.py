"""Built-in plugin: HL7 v2 contacts, the MLLP listener and REF^I12 referral delivery.

Settings come from the trust's ``[hl7]`` section, checked when the plugin is configured so
that ``config check`` reports their faults. Its answers to first-answer hooks (reading and
splitting HL7, delivering a referral) are fallbacks (``trylast``), so a host's own come first.
"""

from __future__ import annotations

import logging

from pydantic import BaseModel

from adapters.hl7.client import MllpSendError, send_and_wait
from adapters.hl7.connections import policy_of
from adapters.hl7.ingest import Reader
from adapters.hl7.listener import MllpListener
from adapters.hl7.referral import ReferralBuildError, ReferralFacts, build_ref_i12
from adapters.hl7.settings import Hl7Section, Hl7Settings, load_settings
from adapters.hl7.tls import client_context, server_context
from adapters.hl7.traffic import split_messages
from hooks import hookimpl
from plugin_core.contract import ContactInvalid, Listener, PluginContext
from plugin_core.model import Channel, Destination, FirstContact, Receipt, Referral
from plugin_core.rules.clock import utc_now

log = logging.getLogger(__name__)

_HL7_STARTS = (b"MSH", b"FHS", b"BHS")


def looks_like_hl7(data: bytes) -> bool:
    """A cheap test on the first bytes: MLLP start block or an MSH, FHS or BHS segment."""
    head = data[:64].lstrip()
    return head[:1] == b"\x0b" or head[:3] in _HL7_STARTS


class Hl7Plugin:
    context: PluginContext
    settings: Hl7Settings
    reader: Reader

    @hookimpl
    def thinkfamily_config_sections(self) -> dict[str, type[BaseModel]]:
        return {"hl7": Hl7Section}

    @hookimpl
    def thinkfamily_configure(self, context: PluginContext) -> None:
        """Read the ``[hl7]`` section (already checked against :class:`Hl7Section`)."""
        self.settings = load_settings(context.config)
        self.context = context
        self.reader = Reader(self.settings, context.config.code_lists)

    # Reading contacts -------------------------------------------------------------------------

    @hookimpl(trylast=True)
    def thinkfamily_parse_contact(self, data: bytes, hint: str) -> FirstContact | None:
        if not looks_like_hl7(data):
            return None
        messages = split_messages(data)
        if len(messages) > 1:
            raise ContactInvalid(
                f"the input holds {len(messages)} HL7 messages; give one, or use replay"
            )
        message = messages[0] if messages else data
        if message.startswith(b"\x0b"):  # split_messages keeps the start block of a cut frame
            raise ContactInvalid("MLLP: the frame is cut short (no end block)")
        return self.reader.contact(message)

    @hookimpl(trylast=True)
    def thinkfamily_split_messages(self, data: bytes, hint: str) -> list[bytes] | None:
        """Messages in a file of HL7 traffic (for ``thinkfamily replay``), or None if not HL7."""
        if not looks_like_hl7(data):
            return None
        return split_messages(data)

    # Service ----------------------------------------------------------------------------------

    @hookimpl
    def thinkfamily_listeners(self, context: PluginContext) -> list[Listener] | None:
        """The MLLP listener when serving (or when the trust has an ``[hl7]`` section)."""
        serve = context.serve
        if not (serve or context.config.section("hl7")) or not self.settings.enabled:
            return None
        port = serve.mllp_port if serve else context.config.mllp_port
        host = context.config.section("hl7").get("listen_host")
        if not isinstance(host, str) or not host:
            host = serve.host if serve else self.settings.listen_host
        return [
            MllpListener(
                self.reader,
                lambda: context.service,
                host=host,
                port=int(port),
                policy=policy_of(self.settings),
                tls=server_context(self.settings.listen_tls) if self.settings.listen_tls else None,
            )
        ]

    # Delivery ---------------------------------------------------------------------------------

    @hookimpl(trylast=True)
    def thinkfamily_dispatch(self, referral: Referral, destination: Destination) -> Receipt | None:
        if destination.channel is not Channel.HL7:
            return None
        host, _, port_text = destination.address.rpartition(":")
        if not host or not port_text.isdigit():
            return _failed("the address must be host:port", retryable=False)
        facts = self._facts(referral)
        try:
            text = build_ref_i12(
                referral,
                destination,
                self.settings,
                facts,
                trust_name=self.context.config.trust_name,
                at=utc_now(),
                safeguarding=self.context.config.safeguarding_lead,
            )
        except ReferralBuildError as exc:
            return _failed(str(exc), retryable=False)
        try:
            reply = send_and_wait(
                host,
                int(port_text),
                text.encode("utf-8"),
                referral.idempotency_key,
                connect_timeout=self.settings.connect_timeout_seconds,
                ack_timeout=self.settings.ack_timeout_seconds,
                tls=client_context(self.settings.referral_tls)
                if self.settings.referral_tls
                else None,
            )
        except (MllpSendError, OSError) as exc:
            reason = str(exc) if isinstance(exc, MllpSendError) else type(exc).__name__
            log.warning(
                "hl7: referral not delivered", extra={"referral_id": referral.id, "reason": reason}
            )
            return _failed(f"MLLP to {destination.address}: {reason}", retryable=True)
        extra = {
            "ack_code": reply.code,
            "message_control_id": referral.idempotency_key,
            "ack_control_id": reply.control_id,
        }
        detail = reply.text[:200]
        if reply.code == "AA":
            return Receipt(
                Channel.HL7, True, acknowledged=True, reference=reply.control_id, extra=extra
            )
        return Receipt(
            Channel.HL7,
            False,
            reference=reply.control_id,
            detail=f"{reply.code}: {detail}" if detail else reply.code,
            retryable=reply.code == "AE",
            extra=extra,
        )

    def _facts(self, referral: Referral) -> ReferralFacts:
        """The contact, assessment and decision behind a referral, when the service holds them."""
        service = self.context.service
        if service is None:
            return ReferralFacts()
        try:
            details = service.referral_details(referral)
        except Exception as exc:
            log.warning(
                "hl7: loading a referral's details failed",
                extra={"referral_id": referral.id, "error": type(exc).__name__},
            )
            return ReferralFacts()
        if details is None:
            return ReferralFacts()
        return ReferralFacts(details.contact, details.assessment, details.decision)


def _failed(detail: str, *, retryable: bool) -> Receipt:
    return Receipt(Channel.HL7, False, detail=detail, retryable=retryable)
