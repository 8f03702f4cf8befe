"""The FHIR adapter as a ThinkFamily plugin: Bundle contacts, write-back, referrals, CDS Hooks.

Its answers to first-answer hooks (reading a Bundle, delivering a referral) are fallbacks
(``trylast``), so a host's own reader and transport are asked first.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from adapters.fhir.auth import NoToken
from adapters.fhir.bundle import looks_like_bundle, parse_bundle_contact
from adapters.fhir.cds.routes import CdsHooksApp
from adapters.fhir.client import FhirClient
from adapters.fhir.errors import FhirError, FhirResourceInvalid
from adapters.fhir.household_writeback import household_bundle
from adapters.fhir.mapping import split_contact_id
from adapters.fhir.referral_message import referral_message
from adapters.fhir.settings import FhirSection, FhirSettings, read_fhir_settings
from adapters.fhir.transport import post_message
from adapters.fhir.writeback import write_back_bundle
from hooks import hookimpl
from plugin_core.contract import Accepted, PluginContext
from plugin_core.model import (
    Assessment,
    Channel,
    Decision,
    Destination,
    FirstContact,
    HouseholdAnswer,
    Receipt,
    Referral,
)

log = logging.getLogger(__name__)


class FhirPlugin:
    context: PluginContext
    settings: FhirSettings

    def __init__(self) -> None:
        self._clients: dict[str, FhirClient] = {}
        self._lock = threading.Lock()
        self._engine: Any = None

    @hookimpl
    def thinkfamily_config_sections(self) -> dict[str, type[BaseModel]]:
        return {"fhir": FhirSection}

    @hookimpl
    def thinkfamily_configure(self, context: PluginContext) -> None:
        self.context = context
        self.settings = read_fhir_settings(context.config)

    # Reading contacts -------------------------------------------------------------------------

    @hookimpl(trylast=True)
    def thinkfamily_parse_contact(self, data: bytes, hint: str) -> FirstContact | None:
        if not looks_like_bundle(data):
            return None
        return parse_bundle_contact(data, self.context.config.code_lists)

    # Write-back -------------------------------------------------------------------------------

    @hookimpl
    def thinkfamily_record(self, decision: Decision, assessment: Assessment | None) -> None:
        if not self.settings.write_back:
            return
        ids = split_contact_id(decision.contact_id)
        if ids is None:
            log.info(
                "contact did not come from FHIR; nothing written back",
                extra={"decision_id": decision.id},
            )
            return
        try:
            bundle = write_back_bundle(
                decision, assessment, ids[0], ids[1], self.settings.organisation_ods
            )
            self._client(self.settings.base_url).transaction(bundle)
        except FhirError as exc:
            # An invalid resource's message names only the resource and field; say which.
            why = str(exc) if isinstance(exc, FhirResourceInvalid) else type(exc).__name__
            log.warning(
                "decision not written back to FHIR",
                extra={"decision_id": decision.id, "reason": why},
            )
            self._count("fhir.writeback_failed")
            raise  # the service queues a retry of this plugin's write-back
        log.info(
            "decision written back to FHIR",
            extra={"decision_id": decision.id, "count": len(bundle["entry"])},
        )
        self._count("fhir.writeback")

    @hookimpl
    def thinkfamily_record_household(self, answer: HouseholdAnswer, contact: FirstContact) -> None:
        if not self.settings.write_back:
            return
        ids = split_contact_id(contact.id)
        if ids is None:
            log.info(
                "contact did not come from FHIR; nothing written back",
                extra={"contact_id": contact.id},
            )
            return
        try:
            bundle = household_bundle(answer, ids[0], ids[1])
            self._client(self.settings.base_url).transaction(bundle)
        except FhirError as exc:
            why = str(exc) if isinstance(exc, FhirResourceInvalid) else type(exc).__name__
            log.warning(
                "household not written back to FHIR",
                extra={"contact_id": contact.id, "reason": why},
            )
            self._count("fhir.writeback_failed")
            raise  # the service queues a retry of this plugin's write-back
        log.info(
            "household written back to FHIR",
            extra={"contact_id": contact.id, "count": len(bundle["entry"])},
        )
        self._count("fhir.household_writeback")

    # Referral transport -----------------------------------------------------------------------

    @hookimpl(trylast=True)
    def thinkfamily_dispatch(self, referral: Referral, destination: Destination) -> Receipt | None:
        if destination.channel is not Channel.FHIR:
            return None
        port = self.context.service
        details = port.referral_details(referral) if port is not None else None
        if details is None:
            return Receipt(
                Channel.FHIR,
                delivered=False,
                retryable=True,
                detail="the contact and decision behind the referral are not available",
            )
        config = self.context.config
        try:
            bundle = referral_message(
                referral,
                destination,
                details.contact,
                details.decision,
                details.assessment,
                sender_id=config.trust_id,
                sender_name=config.trust_name,
                source_endpoint=self.settings.base_url or f"urn:thinkfamily:{config.trust_id}",
                now=datetime.now(UTC),
                safeguarding=config.safeguarding_lead,
            )
        except FhirResourceInvalid as exc:
            # Sending again would build the same message: the professional phones instead.
            log.warning(
                "referral message not built", extra={"referral_id": referral.id, "reason": str(exc)}
            )
            return Receipt(
                Channel.FHIR,
                delivered=False,
                retryable=False,
                detail=f"the referral message could not be built: {exc}",
            )
        auth = None if self.settings.referral_auth == "same" else NoToken()
        return post_message(
            self._client(destination.address, auth), destination.address, bundle, referral
        )

    # Service ----------------------------------------------------------------------------------

    @hookimpl
    def thinkfamily_http_routes(self, context: PluginContext) -> list[Any] | None:
        return CdsHooksApp(context, self.settings, self._assess).routes()

    def _assess(self, contact: FirstContact, hook_instance: str, encounter_key: str) -> Accepted:
        port = self.context.service
        if port is not None:
            return port.accept_contact(
                contact, message_key=f"cds:{hook_instance}", encounter_key=encounter_key
            )
        with self._lock:
            if self._engine is None:
                from plugin_core.host.engine import ThinkFamily

                self._engine = ThinkFamily(self.context.config)
        assessment: Assessment = self._engine.assess(contact, present=False)
        return Accepted(contact.id, assessment, duplicate=False)

    def _client(self, base_url: str, auth: Any = None) -> FhirClient:
        key = f"{base_url}|{auth is not None}"
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = FhirClient(self.settings, base_url, auth=auth)
                self._clients[key] = client
            return client

    def _count(self, metric: str) -> None:
        if self.context.service is not None:
            self.context.service.count(metric)
