"""Log lines keep ThinkFamily's own fields and a plugin's ``plugin_`` counts; anything else is
dropped, and the first time a field is dropped one warning names it, never its value."""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from plugin_core.logs import JsonFormatter

from .builders import PATIENT_NAME, PATIENT_NHS_NUMBER


def line(caplog: pytest.LogCaptureFixture, **extra: object) -> dict[str, object]:
    record = logging.LogRecord("acme.ehr", logging.INFO, __file__, 1, "task sent", None, None)
    record.__dict__.update(extra)
    with caplog.at_level(logging.WARNING, logger="thinkfamily.logs"):
        body: dict[str, object] = json.loads(JsonFormatter().format(record))
    return body


def test_a_plugin_count_under_the_plugin_prefix_is_written(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = line(caplog, plugin_batch_size=12, plugin_retried=True, referral_id="r1")
    assert (body["plugin_batch_size"], body["plugin_retried"], body["referral_id"]) == (
        12,
        True,
        "r1",
    )
    assert not [r for r in caplog.records if r.getMessage() == "log field dropped"]


def test_text_or_an_identifier_sized_number_under_the_prefix_is_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    name_key, nhs_key = f"plugin_name_{uuid.uuid4().hex[:6]}", f"plugin_nhs_{uuid.uuid4().hex[:6]}"
    body = line(caplog, **{name_key: PATIENT_NAME, nhs_key: int(PATIENT_NHS_NUMBER)})
    assert name_key not in body and nhs_key not in body
    text = json.dumps(body) + caplog.text
    assert PATIENT_NAME not in text and PATIENT_NHS_NUMBER not in text


def test_an_unknown_field_is_dropped_with_one_warning_naming_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = f"patient_{uuid.uuid4().hex[:6]}"
    first = line(caplog, **{key: PATIENT_NAME})
    second = line(caplog, **{key: PATIENT_NAME})
    assert key not in first and key not in second
    warnings = [r for r in caplog.records if r.getMessage() == "log field dropped"]
    assert [(r.field, r.levelname) for r in warnings] == [(key, "WARNING")]  # type: ignore[attr-defined]
    assert "acme.ehr" in warnings[0].reason  # type: ignore[attr-defined]
    assert PATIENT_NAME not in caplog.text
