"""``config check`` never raises, whatever a trust file holds, and every fault it finds names
its file, its key and the reason.

Generated TOML values (wrong types, huge and negative numbers, numbers as text, nested tables
and lists, dates and times, unicode) are put at known keys of every section of the four files,
and at keys nobody knows.
"""

from __future__ import annotations

import math
import subprocess
import tempfile
import tomllib
from datetime import date, time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugin_core.host.check import check_configuration
from plugin_core.settings.issues import ConfigIssue

from .builders import CONFIG_DIR

FILES = ("example-trust.toml", "authorities.toml", "codes.toml", "relationships.toml")

# (file, path of keys) where a generated value is put; every section of every file.
TARGETS: list[tuple[str, tuple[str, ...]]] = [
    ("example-trust.toml", ("trust", "id")),
    ("example-trust.toml", ("trust", "directory")),
    ("example-trust.toml", ("trust", "recheck_days")),
    ("example-trust.toml", ("trust",)),
    ("example-trust.toml", ("urgency", "urgent_levels")),
    ("example-trust.toml", ("urgency", "urgent_ack_minutes")),
    ("example-trust.toml", ("safeguarding", "lead")),
    ("example-trust.toml", ("safeguarding", "lead", "phone")),
    ("example-trust.toml", ("wording", "record-household")),
    ("example-trust.toml", ("wording",)),
    ("example-trust.toml", ("service", "http_port")),
    ("example-trust.toml", ("service", "mllp_port")),
    ("example-trust.toml", ("api", "token_env")),
    ("example-trust.toml", ("plugins", "disabled")),
    ("example-trust.toml", ("outbox", "poll_seconds")),
    ("example-trust.toml", ("outbox", "batch")),
    ("example-trust.toml", ("email", "smtp_port")),
    ("example-trust.toml", ("email", "starttls")),
    ("example-trust.toml", ("email", "sender")),
    ("example-trust.toml", ("web", "base_url")),
    ("example-trust.toml", ("web", "link_ttl_minutes")),
    ("example-trust.toml", ("web", "frame_ancestors")),
    ("example-trust.toml", ("hl7", "max_message_bytes")),
    ("example-trust.toml", ("hl7", "enabled")),
    ("example-trust.toml", ("hl7", "relationship_codes")),
    ("example-trust.toml", ("hl7", "children_in_household")),
    ("example-trust.toml", ("hl7", "tls_certificate")),
    ("example-trust.toml", ("fhir", "auth")),
    ("example-trust.toml", ("fhir", "retries")),
    ("example-trust.toml", ("fhir", "smart")),
    ("example-trust.toml", ("fhir", "cds", "issuers")),
    ("authorities.toml", ("police",)),
    ("authorities.toml", ("police", "channel")),
    ("authorities.toml", ("authorities", "islington", "postcodes")),
    ("authorities.toml", ("authorities", "islington", "office_hours", "opens")),
    ("authorities.toml", ("authorities", "islington", "routes")),
    ("authorities.toml", ("authorities", "hackney", "routes", "front_door", "address")),
    ("authorities.toml", ("authorities",)),
    ("codes.toml", ("systems", "icd10")),
    ("codes.toml", ("indicator",)),
    ("codes.toml", ("relationships",)),
    ("relationships.toml", ("relationships", "child")),
    ("relationships.toml", ("relationships",)),
]

_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
_numbers_as_text = st.sampled_from(["25", "-1", "99999", "1e9", "no", "yes", "true", "", " "])
_scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([0, -1, 1, 65535, 65536, 99999, 2**63 - 1]),
    st.floats(allow_nan=True, allow_infinity=True),
    _text,
    _numbers_as_text,
    st.dates(),
    st.times(),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=8,
)
_changes = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(TARGETS), _values),
        # A key nobody knows, in a section of the trust file or at the top.
        st.tuples(
            st.tuples(
                st.just("example-trust.toml"),
                st.tuples(st.sampled_from(["trust", "service", "hl7", "acme", "outbox"]), _text),
            ),
            _values,
        ),
    ),
    min_size=1,
    max_size=12,
)


def test_config_check_names_file_key_and_reason_for_generated_values_in_every_section() -> None:
    @settings(
        max_examples=80,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(_changes)
    def check(changes: list[tuple[tuple[str, tuple[str, ...]], Any]]) -> None:
        with tempfile.TemporaryDirectory() as folder:
            trust = write_files(Path(folder), changes)
            issues = check_configuration(trust, entry_points=False)
            assert_named(issues, Path(folder))

    check()


def test_config_check_command_survives_a_file_wrong_everywhere(
    thinkfamily_script: Path, tmp_path: Path
) -> None:
    nasty: list[Any] = [
        {"nested": [1, {"deeper": [date(2026, 1, 1)]}]},
        "★ unicode ☃ \u202e",
        -(2**63),
        math.inf,
        [True, "two", 3.5],
        time(9, 30),
    ]
    changes = [(target, nasty[i % len(nasty)]) for i, target in enumerate(TARGETS)]
    trust = write_files(tmp_path, changes)
    result = subprocess.run(
        [str(thinkfamily_script), "config", "check", str(trust)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "(check)" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert lines and all(line.startswith(f"error: {tmp_path}") for line in lines)
    for line in lines:
        file, key, reason = line.removeprefix("error: ").split(": ", 2)
        assert Path(file).name in FILES and key and reason


# Helpers ------------------------------------------------------------------------------------


def assert_named(issues: list[ConfigIssue], folder: Path) -> None:
    assert isinstance(issues, list)
    for issue in issues:
        assert issue.key != "(check)", f"a check broke instead of naming a fault: {issue}"
        assert Path(issue.file).parent == folder and Path(issue.file).name in FILES, issue
        assert issue.key.strip(), issue
        assert issue.reason.strip() and "could not be checked" not in issue.reason, issue
        assert issue.severity in ("error", "warning"), issue


def write_files(folder: Path, changes: list[tuple[tuple[str, tuple[str, ...]], Any]]) -> Path:
    """The example's four files in ``folder`` with each change made; returns the trust file."""
    docs = {name: tomllib.loads((CONFIG_DIR / name).read_text()) for name in FILES}
    for (name, path), value in changes:
        table = docs[name]
        for key in path[:-1]:
            if not isinstance(table.get(key), dict):
                table[key] = {}
            table = table[key]
        table[path[-1]] = value
    for name, doc in docs.items():
        text = "".join(f"{toml_key(k)} = {toml_value(v)}\n" for k, v in doc.items())
        assert tomllib.loads(text) == nan_safe(doc), "the test's TOML writer is wrong"
        (folder / name).write_text(text)
    return folder / FILES[0]


def toml_key(key: str) -> str:
    return toml_string(key)


def toml_string(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(type(value).__name__)


def nan_safe(value: Any) -> Any:
    """The value as compared after a round trip: NaN is not equal to itself."""
    if isinstance(value, float) and math.isnan(value):
        return _NAN
    if isinstance(value, list):
        return [nan_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: nan_safe(v) for k, v in value.items()}
    return value


class _Nan(float):
    def __eq__(self, other: object) -> bool:
        return isinstance(other, float) and math.isnan(other)

    def __hash__(self) -> int:
        return 0


_NAN = _Nan("nan")
