"""An authority a host names must be in the trust's directory: only the directory knows how to
reach it. One that is not is not taken; the professional is asked to confirm the authority."""

from __future__ import annotations

import logging

import pytest

from hooks import hookimpl
from plugin_core.host.engine import NOT_IN_DIRECTORY, ThinkFamily
from plugin_core.model import Authority, AuthorityMatch, Child, FirstContact, PromptCode
from plugin_core.settings.trust_config import TrustConfig

from .builders import make_contact, member, utc


class AddressService:
    def __init__(self, match: AuthorityMatch) -> None:
        self.match = match

    @hookimpl
    def thinkfamily_locate_authority(
        self, contact: FirstContact, children: list[Child]
    ) -> AuthorityMatch:
        return self.match


def assess_with(config: TrustConfig, match: AuthorityMatch) -> ThinkFamily:
    return ThinkFamily(config, entry_points=False, extra=[("acme-address", AddressService(match))])


def test_authority_outside_the_directory_prompts_confirm_authority_naming_the_plugin(
    config: TrustConfig, caplog: pytest.LogCaptureFixture
) -> None:
    atlantis = Authority("atlantis", "Atlantis")
    engine = assess_with(config, AuthorityMatch(atlantis, (atlantis,), "EHR address service"))
    contact = make_contact(household=[member(utc(2016, 6, 1).date())])
    with caplog.at_level(logging.WARNING, logger="thinkfamily.engine"):
        assessment = engine.assess(contact, present=False)
    assert not assessment.authority.known
    assert assessment.authority.candidates == ()
    prompt = assessment.prompt(PromptCode.CONFIRM_AUTHORITY)
    assert prompt is not None and prompt.detail == NOT_IN_DIRECTORY
    (record,) = [r for r in caplog.records if r.getMessage() == "authority not in the directory"]
    assert (record.plugin, record.hook) == ("acme-address", "thinkfamily_locate_authority")  # type: ignore[attr-defined]


def test_authority_in_the_directory_is_taken_with_the_directory_name(config: TrustConfig) -> None:
    named = Authority("islington", "LB Islington (EHR)")
    engine = assess_with(config, AuthorityMatch(named, (named,), "EHR address service"))
    assessment = engine.assess(make_contact(household=[member(utc(2016, 6, 1).date())]))
    assert assessment.authority.authority == Authority("islington", "Islington")
    assert assessment.authority.reason == "EHR address service"
    assert assessment.prompt(PromptCode.CONFIRM_AUTHORITY) is None


def test_candidates_outside_the_directory_are_not_offered(config: TrustConfig) -> None:
    offered = (Authority("islington", "Islington"), Authority("atlantis", "Atlantis"))
    engine = assess_with(config, AuthorityMatch(None, offered, "two authorities share it"))
    assessment = engine.assess(make_contact(household=[member(utc(2016, 6, 1).date())]))
    assert assessment.authority.candidates == (Authority("islington", "Islington"),)
    prompt = assessment.prompt(PromptCode.CONFIRM_AUTHORITY)
    assert prompt is not None and prompt.detail == "Could be: Islington."
