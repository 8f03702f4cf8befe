"""The example host plugin (``examples/host-plugin``), installed as a trust would install it,
works end to end: found through its entry point, listed, and driven through ``thinkfamily
serve`` from contact to a referral dropped in its own channel's folder.

The fresh environment gets ThinkFamily built from the repository (not editable) and the example
built from its own folder; their dependencies come from the test environment through a ``.pth``
line, so nothing is downloaded and the install takes seconds.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import sysconfig
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.peers.ports import wait_for
from tests.peers.service import ROOT, ServiceProcess, write_trust_config

pytestmark = pytest.mark.integration

EXAMPLE = ROOT / "examples" / "host-plugin"

# Synthetic identifying values: none may appear in a log, the worklist or a command's output.
PATIENT_NAME = "Ottoline Fakerecord"
PATIENT_NHS_NUMBER = "9990003335"
PATIENT_BIRTH_DATE = "1984-11-23"
PATIENT_POSTCODE = "ZZ1 7XY"  # covered by no authority: only the EHR knows the authority
CHILD_NAME = "Tamsin Fakerecord"
CHILD_BIRTH_DATE = "2016-08-19"
PARTNER_NAME = "Barnaby Fakerecord"
IDENTIFIERS = (
    PATIENT_NAME,
    PATIENT_NHS_NUMBER,
    PATIENT_BIRTH_DATE,
    PATIENT_POSTCODE,
    CHILD_NAME,
    CHILD_BIRTH_DATE,
    PARTNER_NAME,
)

RECORDS = {
    "patients": [
        {
            "id": "acme-200001",
            "household": [
                {
                    "id": "acme-200002",
                    "name": CHILD_NAME,
                    "birth_date": CHILD_BIRTH_DATE,
                    "relationship": "daughter",
                    "lives_with_patient": True,
                },
                {"id": "acme-200003", "name": PARTNER_NAME, "relationship": "husband"},
            ],
            "problems": [
                {"system": "ICD-10", "code": "F20.9"},
                {"kind": "domestic_abuse"},
            ],
            "local_authority": "acmeshire",
        }
    ]
}

ACMESHIRE = """
[authorities.acmeshire]
name = "Acmeshire"
postcodes = ["ZZ9"]

[authorities.acmeshire.routes.front_door]
channel = "x-acme-filedrop"
address = "acmeshire"
phone = "01632 960001"

[authorities.acmeshire.routes.out_of_hours]
channel = "x-acme-filedrop"
address = "acmeshire-edt"
phone = "01632 960002"
"""

ACME_SECTION = """
[acme_ehr]
records = "acme/records.json"
worklist = "acme/worklist.jsonl"
notes = "acme/notes.jsonl"
drop_folder = "acme/drop"

[outbox]
poll_seconds = 0.2
retry_base_seconds = 0.2
retry_cap_seconds = 1.0
"""


@dataclass(frozen=True)
class Installed:
    """A fresh environment holding ThinkFamily and the example plugin."""

    root: Path
    python: Path
    thinkfamily: Path
    env: dict[str, str]

    def run(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.thinkfamily), *args],
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    if importlib.util.find_spec("hatchling") is None:
        pytest.skip("the build backend (hatchling) is not installed: run bash .ci/setup")
    root = tmp_path_factory.mktemp("example-venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # The test environment's packages serve as dependencies and build backend. A .pth line
    # comes after the fresh environment's own packages, and the .pth files in that folder
    # (the editable install's among them) are not read, so the fresh build is what runs.
    ours = {sysconfig.get_paths()[key] for key in ("purelib", "platlib")}
    (Path(site) / "_test_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
    offline = ["--no-deps", "--no-index", "--no-build-isolation", "--ignore-installed"]
    subprocess.run([*pip, *offline, str(ROOT), str(EXAMPLE)], check=True, env=env, timeout=120)
    return Installed(root, python, root / "bin" / "thinkfamily", env)


def test_the_example_declares_the_build_backend_the_project_pins() -> None:
    def requires(path: Path) -> list[str]:
        with path.open("rb") as handle:
            return list(tomllib.load(handle)["build-system"]["requires"])

    assert requires(EXAMPLE / "pyproject.toml") == requires(ROOT / "pyproject.toml")


def test_example_plugin_is_found_by_its_entry_point_and_listed_with_distribution_and_version(
    installed: Installed, tmp_path: Path
) -> None:
    where = subprocess.run(
        [
            str(installed.python),
            "-c",
            "import plugin_core, acme_ehr_thinkfamily as a; "
            "print(plugin_core.__file__); print(a.__file__)",
        ],
        cwd=tmp_path,
        env=installed.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert all(Path(p).is_relative_to(installed.root) for p in where), where  # not editable
    # Marked as typed, so a plugin's own mypy checks it against ThinkFamily's types.
    assert (Path(where[0]).parent / "py.typed").is_file()
    assert (Path(where[0]).parent.parent / "hooks" / "py.typed").is_file()

    config = _trust(tmp_path)
    listed = installed.run("plugins", "--config", str(config), cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    (row,) = [line.split() for line in listed.stdout.splitlines() if line.startswith("acme-ehr ")]
    assert row[:3] == ["acme-ehr", "acme-ehr-thinkfamily", "1.0.0"]
    hooks = "".join(row[3:]).split(",")
    assert {"household", "risk_indicators", "locate_authority", "present", "record"} <= set(hooks)
    assert {"channels", "dispatch", "configure"} <= set(hooks)

    checked = installed.run("config", "check", str(config), cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert f"{config}: valid" in checked.stdout


def test_example_plugin_faults_in_its_section_and_routes_are_listed_by_config_check(
    installed: Installed, tmp_path: Path
) -> None:
    config = _trust(
        tmp_path,
        section=ACME_SECTION.replace('notes = "acme/notes.jsonl"\n', 'note = "x"\n'),
        authorities=ACMESHIRE.replace('address = "acmeshire-edt"', 'address = "/srv/edt"'),
    )
    checked = installed.run("config", "check", str(config), cwd=tmp_path)
    assert checked.returncode == 1
    errors = checked.stderr.splitlines()
    assert f"error: {config}: acme_ehr.notes: is required" in errors
    assert any(
        line.startswith(f"error: {config}: acme_ehr.note: is not a known key") for line in errors
    )

    config = _trust(
        tmp_path,
        authorities=ACMESHIRE.replace('address = "acmeshire-edt"', 'address = "/srv/edt"'),
    )
    checked = installed.run("config", "check", str(config), cwd=tmp_path)
    assert checked.returncode == 1
    assert (
        f"error: {config.parent / 'authorities.toml'}: "
        "authorities.acmeshire.routes.out_of_hours.address: must be a folder name inside "
        "[acme_ehr] drop_folder, such as acmeshire (acme-ehr)"
    ) in checked.stderr.splitlines()


def test_example_plugin_drives_a_contact_from_its_ehr_to_a_referral_in_its_drop_folder(
    installed: Installed, tmp_path: Path
) -> None:
    config = _trust(tmp_path)
    acme = config.parent / "acme"
    service = ServiceProcess(
        config,
        f"sqlite:///{tmp_path / 'tf.db'}",
        tmp_path / "logs",
        name="example-host-plugin",
        env={"PYTHONPATH": ""},
        executable=installed.thinkfamily,
    ).start(timeout=60)
    outputs: dict[str, str] = {}
    try:
        health = service.api("GET", "/healthz").json()
        assert "acme-ehr" in json.dumps(health["plugins"])

        # The contact carries no household: the EHR's answers are all there is.
        posted = service.api("POST", "/api/contacts", json=_contact("c-acme-1", "acme-200001"))
        assert posted.status_code == 201, posted.text
        assessment = posted.json()
        assert assessment["household_known"] is True
        (child,) = assessment["children"]
        assert (child["relationship"], child["lives_with_patient"]) == ("child", True)
        assert child["age"] == _age(CHILD_BIRTH_DATE)
        assert {"mental_health", "domestic_abuse"} <= set(assessment["indicators"])
        assert assessment["authority"]["id"] == "acmeshire"
        assert assessment["authority"]["reason"] == "recorded in the Acme EHR"
        assert "consider-children" in [p["code"] for p in assessment["prompts"]]

        # A patient the EHR does not know: the household stays unknown, never "no children".
        unknown = service.api("POST", "/api/contacts", json=_contact("c-acme-2", "acme-999999"))
        assert unknown.status_code == 201, unknown.text
        assert unknown.json()["household_known"] is False
        assert "record-household" in [p["code"] for p in unknown.json()["prompts"]]

        decided = service.api("POST", "/api/contacts/c-acme-1/decision", json=_decision())
        assert decided.status_code == 201, decided.text
        (made,) = decided.json()["referrals"]
        assert made["authority"] == "acmeshire"

        def delivered() -> bool:
            found = service.api("GET", f"/api/referrals/{made['id']}").json()
            return bool(found["status"] == "delivered")

        wait_for(delivered, timeout=20, what="the referral delivered through the drop folder")
        (dropped,) = (acme / "drop").glob(f"*/{made['idempotency_key']}.json")
        assert dropped.parent.name in {"acmeshire", "acmeshire-edt"}  # in or out of hours
        referral = json.loads(dropped.read_text())
        assert referral["reference"] == made["idempotency_key"]
        assert referral["authority"] == {"id": "acmeshire", "name": "Acmeshire"}
        assert [c["name"] for c in referral["children"]] == [CHILD_NAME]
        assert referral["adult"]["nhs_number"] == PATIENT_NHS_NUMBER
        assert referral["referrer"]["id"] == "nurse-21"

        worklist = [json.loads(line) for line in (acme / "worklist.jsonl").read_text().splitlines()]
        assert {(row["contact_id"], row["code"]) for row in worklist} >= {
            ("c-acme-1", "consider-children"),
            ("c-acme-2", "record-household"),
        }
        notes = [json.loads(line) for line in (acme / "notes.jsonl").read_text().splitlines()]
        assert [(n["decision_id"], n["share"]) for n in notes] == [("d-acme-1", True)]
        outputs["worklist"] = (acme / "worklist.jsonl").read_text()
        outputs["notes"] = (acme / "notes.jsonl").read_text()
        outputs["api"] = posted.text + unknown.text + decided.text
    finally:
        service.stop()
    outputs["service log"] = service.log_text()

    audit = installed.run(
        "audit", "list", "--db", service.db_url, "--kind", "referral.delivered", cwd=tmp_path
    )
    assert audit.returncode == 0, audit.stderr
    (entry,) = [json.loads(line) for line in audit.stdout.splitlines()]
    assert entry["subject"] == made["id"]
    assert entry["details"]["channel"] == "x-acme-filedrop"
    outputs["audit"] = audit.stdout + audit.stderr

    leaks = [
        (where, value[:3])
        for where, text in outputs.items()
        for value in IDENTIFIERS
        if value in text
    ]
    assert leaks == []


def _trust(directory: Path, *, section: str = ACME_SECTION, authorities: str = ACMESHIRE) -> Path:
    acme = directory / "config" / "acme"
    (acme / "drop").mkdir(parents=True, exist_ok=True)
    (acme / "records.json").write_text(json.dumps(RECORDS))
    directory_file = (ROOT / "config" / "authorities.toml").read_text() + authorities
    return write_trust_config(directory / "config", extra_toml=section, authorities=directory_file)


def _contact(contact_id: str, patient_id: str) -> dict[str, Any]:
    return {
        "id": contact_id,
        "occurred_at": datetime.now(UTC).isoformat(),
        "patient": {
            "id": patient_id,
            "nhs_number": PATIENT_NHS_NUMBER,
            "name": PATIENT_NAME,
            "birth_date": PATIENT_BIRTH_DATE,
            "postcode": PATIENT_POSTCODE,
        },
        "encounter": {"id": f"e-{contact_id}", "kind": "inpatient"},
        "household": None,
    }


def _decision() -> dict[str, Any]:
    return {
        "id": "d-acme-1",
        "decided_by": {"id": "nurse-21", "role": "Staff nurse", "team": "Ward 4"},
        "share": True,
        "level_of_need": 3,
        "reasons": "Parent admitted in crisis; the child is at home with no other carer.",
        "what_shared": "Admission, diagnosis category and the child's age.",
        "lawful_basis": "public_task",
        "consent": "not_sought",
        "consent_not_sought_reason": "Seeking consent would delay help for the child.",
    }


def _age(birth_date: str) -> int:
    born, today = datetime.fromisoformat(birth_date).date(), datetime.now(UTC).date()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
