"""The contact audit entry counts codes ThinkFamily could not read; the stored assessment keeps
them, so a safeguarding lead can see what the record held that no list could classify."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from plugin_core.formats.contact_json import contact_from_dict
from plugin_core.service import Service
from plugin_core.settings.load import load_trust_config
from plugin_core.store import open_store

from .conftest import FakeClock, contact_doc
from .test_store import NOW


def test_contact_audit_counts_unclassified_codes_and_the_assessment_keeps_them(
    tmp_path: Path, make_config: Any
) -> None:
    config = load_trust_config(make_config(2525))
    store = open_store(f"sqlite:///{tmp_path / 'tf.db'}")
    service = Service(config, store, entry_points=False, clock=FakeClock(NOW))
    doc = contact_doc("c-unread")
    doc["indicators"] = [{"system": "READ2", "code": "E11z."}, {"code": "F20.0"}]
    service.accept_contact(contact_from_dict(doc, config.code_lists))
    (entry,) = [e for e in store.audit_entries() if e.kind == "contact.accepted"]
    assert json.loads(entry.details)["unclassified_codes"] == 2
    stored = store.get_contact("c-unread")
    assert stored is not None
    assert stored.assessment.unclassified == (("READ2", "E11z."), ("", "F20.0"))
