"""A host's answer comes first: every built-in answer to a first-answer hook is a fallback.

The host here is installed as a package (an entry point), so pluggy registers it before the
built-ins; its implementations carry no ``tryfirst`` and still answer first.
"""

from __future__ import annotations

from datetime import date

import pluggy
import pytest

from hooks import hookimpl
from plugin_core.host.engine import ThinkFamily
from plugin_core.host.plugins import BUILT_IN_NAMES
from plugin_core.model import (
    Authority,
    AuthorityMatch,
    Channel,
    Child,
    Destination,
    FirstContact,
    Receipt,
    Referral,
    Route,
)
from plugin_core.settings.config import TrustConfig

from .builders import make_contact, make_referral, member
from .installed import install

HL7_ADT = (
    b"MSH|^~\\&|PAS|TRUST|TF|TRUST|202603021000||ADT^A01|M1|P|2.5\r"
    b"PID|1||P1^^^TRUST^MR||Testcase^Alex\r"
)
FHIR_BUNDLE = b'{"resourceType": "Bundle", "type": "collection", "entry": []}'
OWN_JSON = b'{"id": "built-in", "occurred_at": "2026-03-01T10:00:00+00:00", "patient": {"id": "p"}}'


class HostEhr:
    """A host that answers every first-answer hook, without ``tryfirst``."""

    def __init__(self) -> None:
        self.contact = make_contact(contact_id="from-host")
        self.merton = Authority("merton", "Merton")

    @hookimpl
    def thinkfamily_parse_contact(self, data: bytes, hint: str) -> FirstContact | None:
        return self.contact

    @hookimpl
    def thinkfamily_locate_authority(
        self, contact: FirstContact, children: list[Child]
    ) -> AuthorityMatch | None:
        return AuthorityMatch(self.merton, (self.merton,), "host address service")

    @hookimpl
    def thinkfamily_dispatch(self, referral: Referral, destination: Destination) -> Receipt | None:
        return Receipt(destination.channel, delivered=True, reference="sent-by-host")


@pytest.fixture
def host_first(config: TrustConfig, monkeypatch: pytest.MonkeyPatch) -> ThinkFamily:
    install(monkeypatch, {"acme-ehr": HostEhr()})
    engine = ThinkFamily(config)
    assert engine.pm.get_plugin("acme-ehr") is not None
    return engine


@pytest.mark.parametrize(
    ("channel", "address"),
    [
        (Channel.EMAIL, "front-door@islington.example"),
        (Channel.HL7, "not-a-host-and-port"),
        (Channel.FHIR, "https://fhir.islington.example"),
        (Channel.PHONE, ""),
    ],
    ids=["email", "hl7", "fhir", "phone"],
)
def test_installed_host_dispatch_without_tryfirst_is_asked_before_the_built_in_transports(
    host_first: ThinkFamily, channel: Channel, address: str
) -> None:
    where = Destination(
        Authority("islington", "Islington"), Route.FRONT_DOOR, channel, address, True
    )
    receipt = host_first.hooks.dispatch(make_referral(), where)
    assert receipt is not None and receipt.reference == "sent-by-host"


@pytest.mark.parametrize(
    ("data", "hint"),
    [(HL7_ADT, "adt.hl7"), (FHIR_BUNDLE, "bundle.json"), (OWN_JSON, "contact.json")],
    ids=["hl7", "fhir", "thinkfamily-json"],
)
def test_installed_host_parse_contact_is_asked_before_the_built_in_readers(
    host_first: ThinkFamily, data: bytes, hint: str
) -> None:
    parsed = host_first.hooks.parse_contact(data, hint)
    assert parsed is not None and parsed.id == "from-host"


def test_installed_host_locate_authority_is_asked_before_the_directory(
    host_first: ThinkFamily,
) -> None:
    contact = make_contact(household=[member(date(2016, 6, 1))], postcode="N7 8JL")
    result = host_first.assess(contact, now=contact.occurred_at, present=False)
    assert result.authority.authority == Authority("merton", "Merton")


def test_every_built_in_answer_to_a_first_answer_hook_is_a_fallback(engine: ThinkFamily) -> None:
    checked = 0
    for caller in engine.pm.hook.__dict__.values():
        if not isinstance(caller, pluggy.HookCaller) or caller.spec is None:
            continue
        if not caller.spec.opts.get("firstresult"):
            continue
        for impl in caller.get_hookimpls():
            if impl.plugin_name in BUILT_IN_NAMES:
                assert impl.trylast, f"{impl.plugin_name} answers {caller.name} before a host"
                checked += 1
    assert checked >= 8  # readers, splitter, directory and four transports
