"""A plugin failing under a real ``thinkfamily serve``: named in the log and the audit trail by
plugin, hook and error class, and never quoting what its exceptions said.

The plugin is an installed package (a module and its ``.dist-info`` on ``PYTHONPATH``) whose
exceptions, and their chained causes, carry the synthetic patient's identifiers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests

from tests.peers.plugin_package import plugin_package
from tests.peers.ports import free_port, wait_for
from tests.peers.service import ServiceProcess

from .conftest import (
    IDENTIFIERS,
    PATIENT_DOB,
    PATIENT_NHS,
    PATIENT_POSTCODE,
    contact_doc,
    decision_doc,
)

FAULTY_EHR = f"""
from hooks import hookimpl


class AcmeEhr:
    @hookimpl
    def thinkfamily_household(self, contact):
        if not contact.id.startswith("boom"):
            return None
        patient = contact.patient
        try:
            raise KeyError(f"no household for {{patient.nhs_number}} born {{patient.birth_date}}")
        except KeyError as exc:
            raise RuntimeError(f"EHR lookup failed for {{patient.name}}, {{patient.postcode}}") from exc

    @hookimpl
    def thinkfamily_dispatch(self, referral, destination):
        raise ConnectionError("secure mail refused {PATIENT_NHS} {PATIENT_DOB} {PATIENT_POSTCODE}")


plugin = AcmeEhr()
"""


def _json_lines(text: str) -> list[dict[str, Any]]:
    found = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                found.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return found


def test_faulty_household_and_dispatch_hooks_are_named_in_log_and_audit_without_values(
    tmp_path: Path, make_config: Any
) -> None:
    env = plugin_package(tmp_path / "site", FAULTY_EHR)
    db_url = f"sqlite:///{tmp_path / 'tf.db'}"
    service = ServiceProcess(make_config(free_port()), db_url, tmp_path / "logs", env=env)
    service.start()
    seen: list[str] = []
    try:
        refused = service.api("POST", "/api/contacts", json=contact_doc("boom-1"))
        seen.append(refused.text)
        assert refused.status_code == 500
        accepted = service.api("POST", "/api/contacts", json=contact_doc("c-served"))
        assert accepted.status_code == 201, accepted.text
        decided = service.api("POST", "/api/contacts/c-served/decision", json=decision_doc(level=3))
        assert decided.status_code == 201, decided.text
        referral_id = decided.json()["referrals"][0]["id"]

        def attempted() -> bool:
            found = service.api("GET", f"/api/referrals/{referral_id}")
            seen.append(found.text)
            return bool(found.json()["attempts"] >= 1 and found.json()["status"] == "failed")

        wait_for(attempted, timeout=30, what="a failed delivery attempt")
        seen.append(requests.get(service.url + "/healthz", timeout=5).text)
    finally:
        service.stop()
    log = service.log_text()
    audit = subprocess.run(
        [str(Path(sys.executable).with_name("thinkfamily")), "audit", "list", "--db", db_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    shapes = {
        (line.get("plugin"), line.get("hook"), line.get("error")) for line in _json_lines(log)
    }
    assert ("acme-ehr", "thinkfamily_household", "RuntimeError") in shapes
    assert ("acme-ehr", "thinkfamily_dispatch", "ConnectionError") in shapes
    entries = _json_lines(audit.stdout)
    failed = [e for e in entries if e["kind"] == "plugin.failed"]
    assert [(e["actor"], e["subject"], e["details"]) for e in failed] == [
        (
            "acme-ehr",
            "boom-1",
            {"plugin": "acme-ehr", "hook": "thinkfamily_household", "error": "RuntimeError"},
        )
    ]
    attempts = [e for e in entries if e["kind"] == "referral.failed"]
    assert attempts, "the failed delivery is audited"
    assert {
        (e["details"]["plugin"], e["details"]["hook"], e["details"]["error"]) for e in attempts
    } == {("acme-ehr", "thinkfamily_dispatch", "ConnectionError")}

    everything = "\n".join([log, audit.stdout, audit.stderr, *seen])
    assert "EHR lookup failed" not in everything and "secure mail refused" not in everything
    for value in IDENTIFIERS:
        assert value not in everything, f"{value[:3]}… leaked"
