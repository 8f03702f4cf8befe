"""Shared fixtures for the FHIR adapter's tests: the Medplum peer, keys, tokens, households.

The peer is Medplum's FHIR router over its in-memory repository (tests/peers/fhir/server.mjs),
started on loopback with a bounded wait and stopped after. All data is synthetic.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from tests.peers.node_peer import start_node_peer, stop_node_peer
from tests.peers.ports import free_port
from tests.peers.service import ServiceProcess, write_trust_config

ROOT = Path(__file__).resolve().parents[2]
PEER_DIR = ROOT / "tests" / "peers" / "fhir"
NODE_MODULES = PEER_DIR / "node_modules"
NODE22 = NODE_MODULES / ".bin" / "node"

needs_node_peer = pytest.mark.skipif(
    not (NODE_MODULES / "@medplum" / "fhir-router").is_dir(),
    reason="run `npm ci` in tests/peers/fhir to install the Medplum FHIR peer",
)

# Synthetic identifying values in the households below; the suite's log scan looks for each.
IDENTIFIERS = ("9000000009", "Testperson", "1988-05-01", "N7 8JL")

EHR_ISS = "https://ehr.example.test"
EHR_SUB = "ehr-client-1"
EHR_KID = "ehr-key-1"
SMART_CLIENT = "thinkfamily-backend"
SMART_KID = "tf-smart-1"


# Medplum peer ---------------------------------------------------------------------------------


class MedplumPeer:
    """One Node process running the Medplum FHIR router on a free loopback port."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.env = env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base(self) -> str:
        return f"{self.root}/fhir/R4"

    def start(self, timeout: float = 30.0) -> MedplumPeer:
        self.process, self.port = start_node_peer(
            PEER_DIR, dict(self.env), name="Medplum", timeout=timeout, stderr=subprocess.STDOUT
        )
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        stop_node_peer(self.process)

    # FHIR helpers ---------------------------------------------------------------------------

    def post(self, resource: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        path = "" if resource["resourceType"] == "Bundle" else "/" + resource["resourceType"]
        response = requests.post(
            self.base + path,
            json=resource,
            headers={"Content-Type": "application/fhir+json", **_auth(token)},
            timeout=10,
        )
        assert response.status_code in (200, 201), response.text
        body: dict[str, Any] = response.json()
        return body

    def search(
        self, resource_type: str, token: str | None = None, **params: str
    ) -> list[dict[str, Any]]:
        response = requests.get(
            f"{self.base}/{resource_type}", params=params, headers=_auth(token), timeout=10
        )
        assert response.status_code == 200, response.text
        return [e["resource"] for e in response.json().get("entry", [])]


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


@pytest.fixture(scope="module")
def medplum() -> Iterator[MedplumPeer]:
    peer = MedplumPeer().start()
    try:
        yield peer
    finally:
        peer.stop()


# Keys and tokens ------------------------------------------------------------------------------


@dataclass
class KeyPair:
    kid: str
    alg: str
    private_pem: bytes
    public_jwk: dict[str, Any]


def ec_key(kid: str) -> KeyPair:
    private = ec.generate_private_key(ec.SECP384R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    jwk = json.loads(ECAlgorithm.to_jwk(private.public_key()))
    jwk.update(kid=kid, alg="ES384", use="sig")
    return KeyPair(kid, "ES384", pem, jwk)


def rsa_key(kid: str) -> KeyPair:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    jwk = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update(kid=kid, alg="RS384", use="sig")
    return KeyPair(kid, "RS384", pem, jwk)


@dataclass
class Keys:
    directory: Path
    ehr: KeyPair
    smart: KeyPair

    @property
    def ehr_jwks(self) -> Path:
        return self.directory / "ehr-jwks.json"

    @property
    def smart_jwks(self) -> Path:
        return self.directory / "smart-jwks.json"

    @property
    def smart_private(self) -> Path:
        return self.directory / "smart-private.pem"

    @property
    def ehr_private(self) -> Path:
        return self.directory / "ehr-private.pem"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    directory = tmp_path_factory.mktemp("fhir-keys")
    found = Keys(directory, ec_key(EHR_KID), rsa_key(SMART_KID))
    found.ehr_jwks.write_text(json.dumps({"keys": [found.ehr.public_jwk]}))
    found.smart_jwks.write_text(json.dumps({"keys": [found.smart.public_jwk]}))
    found.smart_private.write_bytes(found.smart.private_pem)
    found.ehr_private.write_bytes(found.ehr.private_pem)
    return found


def cds_token(
    key: KeyPair,
    aud: str,
    *,
    iss: str = EHR_ISS,
    sub: str = EHR_SUB,
    lifetime: int = 120,
    issued_ago: int = 0,
    jti: str | None = None,
    headers: dict[str, Any] | None = None,
) -> str:
    now = int(time.time()) - issued_ago
    claims = {"iss": iss, "sub": sub, "aud": aud, "iat": now, "exp": now + lifetime}
    claims["jti"] = jti or str(uuid.uuid4())
    return jwt.encode(
        claims, key.private_pem, algorithm=key.alg, headers={"kid": key.kid, **(headers or {})}
    )


# Trust configuration --------------------------------------------------------------------------


def fhir_toml(
    *,
    base_url: str = "",
    audience: str = "",
    keys: Keys | None = None,
    auth: str = "none",
    token_url: str = "",
    form_url: str = "https://forms.example.test/think-family",
) -> str:
    lines = ["[fhir]"]
    if base_url:
        lines.append(f'base_url = "{base_url}"')
    lines += [f'auth = "{auth}"', "retries = 1", "backoff = 0.05", "read_timeout = 10"]
    lines.append(f'clinician_form_url = "{form_url}"')
    if auth == "bearer":
        lines.append('bearer_token_env = "TF_TEST_FHIR_TOKEN"')
    if auth == "smart-backend" and keys is not None:
        lines += [
            "",
            "[fhir.smart]",
            f'client_id = "{SMART_CLIENT}"',
            f'token_url = "{token_url}"',
            f'private_key_path = "{keys.smart_private}"',
            f'kid = "{SMART_KID}"',
        ]
    if keys is not None and audience:
        lines += [
            "",
            "[fhir.cds]",
            f'audience = "{audience}"',
            "",
            "[[fhir.cds.issuers]]",
            f'iss = "{EHR_ISS}"',
            f'sub = "{EHR_SUB}"',
            f'jwks_path = "{keys.ehr_jwks}"',
        ]
    return "\n".join(lines) + "\n"


def authorities_with_fhir(endpoint: str) -> str:
    """The example directory with Islington's front door and out-of-hours team on FHIR."""
    text = (ROOT / "config" / "authorities.toml").read_text()
    ooh = '[authorities.islington.routes.out_of_hours]\nmissing = "the source guidance gives no out-of-hours number; add the emergency duty team\'s"'
    assert ooh in text
    text = text.replace(
        ooh,
        f'[authorities.islington.routes.out_of_hours]\nchannel = "fhir"\naddress = "{endpoint}"\nphone = "020 7226 0992"',
    )
    old = '[authorities.islington.routes.front_door]\nchannel = "phone"\nphone = "020 7527 7400"'
    assert old in text
    return text.replace(
        old,
        f'[authorities.islington.routes.front_door]\nchannel = "fhir"\naddress = "{endpoint}"\nphone = "020 7527 7400"',
    )


@pytest.fixture
def trust_config(tmp_path: Path) -> Callable[..., Path]:
    def make(*, authorities: str | None = None, **fhir: Any) -> Path:
        return write_trust_config(
            tmp_path / "trust", extra_toml=fhir_toml(**fhir), authorities=authorities
        )

    return make


# Synthetic households -------------------------------------------------------------------------


def household_bundle(
    tag: str,
    *,
    children: tuple[str, ...] = ("2016-06-01", "2019-02-11"),
    with_condition: bool = True,
    with_cp_flag: bool = False,
    household_observation: bool = True,
    pregnant: bool = False,
) -> dict[str, Any]:
    """A transaction Bundle of one adult, an admission and the children in the household."""
    patient_url = f"urn:uuid:{uuid.uuid4()}"
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": patient_url,
            "resource": {
                "resourceType": "Patient",
                "identifier": [
                    {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000009"}
                ],
                "name": [{"use": "official", "family": f"Testperson{tag}", "given": ["Alex"]}],
                "gender": "female",
                "birthDate": "1988-05-01",
                "address": [{"use": "home", "postalCode": "N7 8JL"}],
            },
            "request": {"method": "POST", "url": "Patient"},
        },
        {
            "fullUrl": f"urn:uuid:{uuid.uuid4()}",
            "resource": {
                "resourceType": "Encounter",
                "status": "in-progress",
                "class": {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                    "code": "IMP",
                },
                "subject": {"reference": patient_url},
                "period": {"start": "2026-03-01T10:00:00+00:00"},
            },
            "request": {"method": "POST", "url": "Encounter"},
        },
    ]
    child_urls = []
    for i, birth in enumerate(children):
        url = f"urn:uuid:{uuid.uuid4()}"
        child_urls.append(url)
        entries.append(
            {
                "fullUrl": url,
                "resource": {
                    "resourceType": "RelatedPerson",
                    "patient": {"reference": patient_url},
                    "relationship": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                                    "code": "CHILD" if i == 0 else "STPCHLD",
                                }
                            ]
                        }
                    ],
                    "name": [{"family": f"Testperson{tag}", "given": [f"Child{i}"]}],
                    "birthDate": birth,
                    "address": [{"postalCode": "N7 8JL"}],
                },
                "request": {"method": "POST", "url": "RelatedPerson"},
            }
        )
    if household_observation:
        entries.append(
            {
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {
                        "coding": [
                            {
                                "system": "https://thinkfamily.example/fhir/CodeSystem/thinkfamily",
                                "code": "household-composition",
                            }
                        ]
                    },
                    "subject": {"reference": patient_url},
                    "effectiveDateTime": "2026-02-20T09:00:00+00:00",
                    "focus": [{"reference": u} for u in child_urls],
                },
                "request": {"method": "POST", "url": "Observation"},
            }
        )
    if pregnant:
        entries.append(
            {
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "82810-3"}]},
                    "subject": {"reference": patient_url},
                    "effectiveDateTime": "2026-02-20T09:00:00+00:00",
                    "valueCodeableConcept": {
                        "coding": [{"system": "http://snomed.info/sct", "code": "77386006"}]
                    },
                },
                "request": {"method": "POST", "url": "Observation"},
            }
        )
    if with_condition:
        entries.append(
            {
                "resource": {
                    "resourceType": "Condition",
                    "clinicalStatus": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                "code": "active",
                            }
                        ]
                    },
                    "code": {
                        "coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "F10.2"}]
                    },
                    "subject": {"reference": patient_url},
                },
                "request": {"method": "POST", "url": "Condition"},
            }
        )
    if with_cp_flag:
        entries.append(
            {
                "resource": {
                    "resourceType": "Flag",
                    "status": "active",
                    "code": {
                        "coding": [
                            {
                                "system": "https://thinkfamily.example/fhir/CodeSystem/flags",
                                "code": "CPP",
                            }
                        ]
                    },
                    "subject": {"reference": patient_url},
                },
                "request": {"method": "POST", "url": "Flag"},
            }
        )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def load_household(peer: MedplumPeer, tag: str, **options: Any) -> tuple[str, str]:
    """Load a synthetic household into the peer; returns (patient id, encounter id)."""
    result = peer.post(household_bundle(tag, **options))
    locations = [e["response"]["location"] for e in result["entry"]]
    patient = next(loc for loc in locations if loc.startswith("Patient/")).split("/")[1]
    encounter = next(loc for loc in locations if loc.startswith("Encounter/")).split("/")[1]
    return patient, encounter


def prefetch_searches(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """A patient-view prefetch's four searches, each a searchset Bundle of ``resources``'
    resources of its type."""
    searches = (
        ("relatedPersons", "RelatedPerson"),
        ("conditions", "Condition"),
        ("observations", "Observation"),
        ("flags", "Flag"),
    )
    return {
        key: {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": r} for r in resources if r["resourceType"] == kind],
        }
        for key, kind in searches
    }


def as_collection(bundle: dict[str, Any]) -> dict[str, Any]:
    """The same resources as a collection Bundle with ids, as an EHR would export them."""
    ids = {
        e["fullUrl"]: f"{e['resource']['resourceType']}/{uuid.uuid4().hex[:12]}"
        for e in bundle["entry"]
        if "fullUrl" in e
    }
    text = json.dumps(bundle)
    for url, ref in ids.items():
        text = text.replace(url, ref)
    doc = json.loads(text)
    for entry, original in zip(doc["entry"], bundle["entry"], strict=True):
        entry.pop("request")
        if "fullUrl" in original:
            entry["resource"]["id"] = ids[original["fullUrl"]].split("/")[1]
            entry["fullUrl"] = f"https://ehr.example.test/fhir/{ids[original['fullUrl']]}"
        else:
            entry["resource"]["id"] = uuid.uuid4().hex[:12]
    return {"resourceType": "Bundle", "id": "export-1", "type": "collection", "entry": doc["entry"]}


@contextmanager
def fhir_service(
    directory: Path, medplum: MedplumPeer, keys: Keys, *, name: str, authorities: str | None = None
) -> Iterator[ServiceProcess]:
    """``thinkfamily serve`` reading from the Medplum peer, its CDS audience its own address."""
    port = free_port()
    config = write_trust_config(
        directory / "trust",
        extra_toml=fhir_toml(base_url=medplum.base, audience=f"http://127.0.0.1:{port}", keys=keys),
        authorities=authorities,
    )
    proc = ServiceProcess(config, f"sqlite:///{directory / 'tf.db'}", directory, name=name)
    proc.http_port = port
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()
