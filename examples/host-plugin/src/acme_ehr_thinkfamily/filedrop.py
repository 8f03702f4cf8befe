"""The ``x-acme-filedrop`` channel: each referral as a JSON file in the authority's folder.

The file carries ThinkFamily's referral minimum dataset (the same facts as its email, FHIR and
HL7 referrals), built by ``referral_content``. It is named after the referral's idempotency
key, so a referral offered again after a failure overwrites its own file rather than
appearing twice, and written under a temporary name first, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from plugin_core.contract import ReferralDetails, RouteContact
from plugin_core.formats.referral_content import ReferralContent, referral_content
from plugin_core.model import Destination, Referral

CHANNEL = "x-acme-filedrop"
_FOLDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def check_route(route: RouteContact) -> dict[str, str] | None:
    """A route's ``address`` names a folder inside ``[acme_ehr] drop_folder``."""
    if not _FOLDER_NAME.fullmatch(route.address):
        return {"address": "must be a folder name inside [acme_ehr] drop_folder, such as acmeshire"}
    return None


def drop(
    folder: Path,
    referral: Referral,
    destination: Destination,
    details: ReferralDetails | None,
    trust_name: str,
) -> Path:
    """Write the referral into ``folder`` and return the file's path."""
    content = referral_content(
        referral,
        contact=details.contact if details else None,
        assessment=details.assessment if details else None,
        decision=details.decision if details else None,
        destination=destination,
        trust_name=trust_name,
    )
    folder.mkdir(exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9._-]", "_", referral.idempotency_key) + ".json"
    path = folder / name
    partial = folder / f".{name}.partial"
    partial.write_text(json.dumps(as_json(content), indent=2, default=_plain), encoding="utf-8")
    os.replace(partial, path)
    return path


def as_json(content: ReferralContent) -> dict[str, Any]:
    """The dataset as the receiving authority's intake reads it."""
    referrer = content.referrer
    adult = content.adult
    return {
        "reference": content.reference,
        "original_reference": content.original_reference,
        "referral_id": content.referral_id,
        "action": content.action,
        "made_at": content.made_at,
        "acknowledge_by": content.due_by,
        "urgency": content.urgency_text,
        "level_of_need": content.level_of_need,
        "authority": {"id": content.authority_id, "name": content.authority_text},
        "route": content.sent_route or content.route,
        "from": content.trust_name,
        "children": [
            {
                "name": child.name,
                "birth_date": child.birth_date,
                "age": child.age,
                "unborn": child.unborn,
                "relationship": child.relationship,
                "lives_with_adult": child.lives_with_adult,
                "postcode": child.postcode,
            }
            for child in content.children
        ],
        "adult": None
        if adult is None
        else {
            "name": adult.name,
            "nhs_number": adult.nhs_number,
            "birth_date": adult.birth_date,
            "postcode": adult.postcode,
        },
        "concern": content.concern,
        "change_reasons": content.change_reasons,
        "indicators": [
            {"kind": entry.kind, "text": entry.text, "system": entry.system, "code": entry.code}
            for entry in content.indicators
        ],
        "lado_criteria": list(content.lado_criteria),
        "what_shared": content.what_shared,
        "lawful_basis": content.lawful_basis,
        "consent": content.consent,
        "consent_not_sought_reason": content.consent_not_sought_reason,
        "referrer": None
        if referrer is None
        else {
            "id": referrer.id,
            "name": referrer.name,
            "role": referrer.role,
            "team": referrer.team,
            "organisation": referrer.organisation,
            "phone": referrer.phone,
            "email": referrer.email,
        },
    }


def _plain(value: object) -> str:
    """Dates and times as ISO 8601; enumerations are text already."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)
