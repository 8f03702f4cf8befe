"""``thinkfamily contacts`` for an operator's terminal: ids that carry control characters are
shown escaped, and the last line tells the true total, not the page size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from plugin_core.cli import main
from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.service import Service
from plugin_core.settings.trust_config import load_trust_config
from plugin_core.store import open_store

from .conftest import contact_doc

HOSTILE = ("c-\x1b[2J-clears", "c-\u202e-reversed", "c-bell\x07")


@pytest.fixture
def db_with_60_contacts(make_config: Any, tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'tf.db'}"
    config = load_trust_config(make_config(2525))
    service = Service(config, open_store(url), entry_points=False)
    ids = [*HOSTILE, *(f"c-{n}" for n in range(57))]
    contacts = [contact_from_dict(contact_doc(i), config.code_lists) for i in ids]
    service.accept_contacts([(c, None) for c in contacts])
    service.close()
    return url


def test_contacts_command_escapes_control_characters_and_prints_the_true_total(
    db_with_60_contacts: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["contacts", "--db", db_with_60_contacts, "--limit", "100"]) == 0
    out = capsys.readouterr().out
    assert not any(ch in out for ch in ("\x1b", "\u202e", "\x07"))
    for shown in ("c-\\x1b[2J-clears", "c-\\u202e-reversed", "c-bell\\x07"):
        assert shown in out
    assert out.splitlines()[-1] == "60 contact(s)"


def test_contacts_command_says_how_many_it_shows_of_how_many(
    db_with_60_contacts: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["contacts", "--db", db_with_60_contacts]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 + 50 + 1
    assert lines[-1] == "showing 50 of 60 contact(s); --limit shows more"
