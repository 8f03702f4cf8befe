"""Card and suggestion uuids are the name-based (version 5) uuids of their names, so a card
answered again, or acknowledged by feedback, keeps the uuid the EHR was first given."""

from __future__ import annotations

import uuid

import pytest

from adapters.fhir.cds.cards import card_uuid, name_uuid
from plugin_core.model import PromptCode

NAMES = [
    "",
    "h-1|consider-children",
    "0b5f2c4e-1d2a-4c1b-9a77-3e0f5d1c2b4a|consider-unborn|flag",
    "hook|consider-children|task",
    "naïve é ü 子|x",
    "x" * 500,
]


@pytest.mark.parametrize("name", NAMES)
def test_a_name_uuid_is_the_standard_version_5_uuid_of_the_name(name: str) -> None:
    made = name_uuid(name)
    assert made == str(uuid.uuid5(uuid.NAMESPACE_URL, name))
    assert uuid.UUID(made).version == 5


def test_a_card_uuid_names_the_hook_instance_and_the_prompt() -> None:
    expected = uuid.uuid5(uuid.NAMESPACE_URL, "h-9|consider-children")
    assert card_uuid("h-9", PromptCode.CONSIDER_CHILDREN) == str(expected)
    assert card_uuid("h-9", PromptCode.CONSIDER_UNBORN) != str(expected)
