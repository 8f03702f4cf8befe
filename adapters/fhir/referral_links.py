"""The fullUrls that tie one referral message's entries together.

Derived from the message's idempotency key, so a re-send carries the same URLs and a receiver
that de-duplicates on them sees one message.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.fhir.outbound import urn


@dataclass(frozen=True, slots=True)
class Links:
    """The fullUrls that tie one message's entries together; the same for every re-send."""

    header: str
    service_request: str
    patient: str
    consent: str
    flag: str
    encounter: str | None
    practitioner: str
    sender: str
    receiver: str
    role: str
    team: str

    @classmethod
    def for_message(cls, key: str, with_encounter: bool) -> Links:
        return cls(
            header=urn(key, "header"),
            service_request=urn(key, "service-request"),
            patient=urn(key, "patient"),
            consent=urn(key, "consent"),
            flag=urn(key, "flag"),
            encounter=urn(key, "encounter") if with_encounter else None,
            practitioner=urn(key, "practitioner"),
            sender=urn(key, "sender"),
            receiver=urn(key, "receiver"),
            role=urn(key, "practitioner-role"),
            team=urn(key, "team"),
        )
