"""The ``[hl7]`` section of a trust configuration, read once and checked.

Every key has a default, so a trust that says nothing still gets a working listener; a key with
the wrong type is reported with its dotted name, like the rest of the configuration.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.hl7.tls import TlsFiles, server_context
from plugin_core.model import Relationship
from plugin_core.settings.config import TrustConfig

DEFAULT_MAX_MESSAGE_BYTES = 1_048_576


class Hl7SettingsError(ValueError):
    """A key of the ``[hl7]`` section has the wrong type or value."""


@dataclass(frozen=True, slots=True)
class ChildrenField:
    """Where a trust records "children in household": an OBX by code, or a Z-segment field."""

    segment: str = "OBX"
    observation: str = ""
    field: int = 5
    component: int = 1


@dataclass(frozen=True, slots=True)
class Hl7Settings:
    enabled: bool = True
    listen_host: str = "127.0.0.1"
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    max_connections: int = 64
    relationship_codes: dict[str, Relationship] = field(default_factory=dict)
    children_in_household: tuple[ChildrenField, ...] = ()
    nk1_is_household: bool = False
    sending_application: str = "THINKFAMILY"
    sending_facility: str = ""
    referral_version: str = "2.7"
    ack_timeout_seconds: float = 30.0
    connect_timeout_seconds: float = 10.0
    listen_tls: TlsFiles | None = None
    referral_tls: TlsFiles | None = None


def _get(table: dict[str, Any], key: str, kind: type, default: Any) -> Any:
    if key not in table:
        return default
    value = table[key]
    if kind is int and isinstance(value, bool):
        raise Hl7SettingsError(f"hl7.{key}: must be a whole number")
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind):
        raise Hl7SettingsError(f"hl7.{key}: must be {_NAMES.get(kind, kind.__name__)}")
    return value


_NAMES = {str: "text", int: "a whole number", float: "a number", bool: "true or false"}


KEYS = frozenset(
    {
        "enabled",
        "listen_host",
        "max_message_bytes",
        "max_connections",
        "relationship_codes",
        "children_in_household",
        "nk1_is_household",
        "sending_application",
        "sending_facility",
        "referral_version",
        "ack_timeout_seconds",
        "connect_timeout_seconds",
        "tls_certificate",
        "tls_private_key",
        "tls_client_ca",
        "referral_tls",
        "referral_tls_ca",
        "referral_tls_certificate",
        "referral_tls_private_key",
    }
)
_CHILDREN_KEYS = frozenset({"segment", "observation", "field", "component"})


def load_settings(config: TrustConfig) -> Hl7Settings:
    """Settings from ``[hl7]``; raises Hl7SettingsError naming the key at fault."""
    table = config.section("hl7")
    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise Hl7SettingsError(f"hl7.{unknown[0]}: is not a setting of the HL7 adapter")
    max_bytes = _get(table, "max_message_bytes", int, DEFAULT_MAX_MESSAGE_BYTES)
    if max_bytes < 1024:
        raise Hl7SettingsError("hl7.max_message_bytes: must be at least 1024")
    max_connections = _get(table, "max_connections", int, 64)
    if max_connections < 1:
        raise Hl7SettingsError("hl7.max_connections: must be 1 or more")
    codes: dict[str, Relationship] = {}
    raw_codes = _get(table, "relationship_codes", dict, {})
    for code, meaning in raw_codes.items():
        try:
            codes[str(code).strip().upper()] = Relationship(meaning)
        except ValueError:
            raise Hl7SettingsError(
                f"hl7.relationship_codes.{code}: {meaning!r} is not a relationship"
            ) from None
    places = tuple(
        _children_field(raw, i)
        for i, raw in enumerate(_as_list(table.get("children_in_household", [])))
    )
    version = _get(table, "referral_version", str, "2.7")
    if version not in ("2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8"):
        raise Hl7SettingsError(
            "hl7.referral_version: must be one of 2.5, 2.5.1, 2.6, 2.7, 2.7.1, 2.8"
        )
    return Hl7Settings(
        enabled=_get(table, "enabled", bool, True),
        listen_host=_get(table, "listen_host", str, "127.0.0.1"),
        max_message_bytes=max_bytes,
        max_connections=max_connections,
        relationship_codes=codes,
        children_in_household=places,
        nk1_is_household=_get(table, "nk1_is_household", bool, False),
        sending_application=_get(table, "sending_application", str, "THINKFAMILY"),
        sending_facility=_get(table, "sending_facility", str, config.trust_id),
        referral_version=version,
        ack_timeout_seconds=_get(table, "ack_timeout_seconds", float, 30.0),
        connect_timeout_seconds=_get(table, "connect_timeout_seconds", float, 10.0),
        listen_tls=_listen_tls(table, config.path.parent),
        referral_tls=_referral_tls(table, config.path.parent),
    )


def _path(table: dict[str, Any], key: str, base: Path) -> Path | None:
    raw: str = _get(table, key, str, "")
    if not raw:
        return None
    path: Path = base / raw
    if not path.is_file():
        raise Hl7SettingsError(f"hl7.{key}: no file at {raw}")
    return path


def _listen_tls(table: dict[str, Any], base: Path) -> TlsFiles | None:
    certificate = _path(table, "tls_certificate", base)
    private_key = _path(table, "tls_private_key", base)
    ca = _path(table, "tls_client_ca", base)
    if certificate is None and private_key is None:
        if ca is not None:
            raise Hl7SettingsError("hl7.tls_client_ca: needs tls_certificate and tls_private_key")
        return None
    if certificate is None or private_key is None:
        missing = "tls_certificate" if certificate is None else "tls_private_key"
        raise Hl7SettingsError(f"hl7.{missing}: TLS needs both a certificate and its private key")
    files = TlsFiles(certificate, private_key, ca)
    try:
        server_context(files)
    except (ssl.SSLError, OSError) as exc:
        raise Hl7SettingsError(
            f"hl7.tls_certificate: cannot be used ({exc.__class__.__name__})"
        ) from None
    return files


def _referral_tls(table: dict[str, Any], base: Path) -> TlsFiles | None:
    if not _get(table, "referral_tls", bool, False):
        return None
    return TlsFiles(
        _path(table, "referral_tls_certificate", base),
        _path(table, "referral_tls_private_key", base),
        _path(table, "referral_tls_ca", base),
    )


def _as_list(raw: Any) -> list[Any]:
    if isinstance(raw, dict):
        return [raw]
    if isinstance(raw, list):
        return raw
    raise Hl7SettingsError("hl7.children_in_household: must be a table or a list of tables")


def _children_field(raw: Any, index: int) -> ChildrenField:
    key = f"hl7.children_in_household[{index}]"
    if not isinstance(raw, dict):
        raise Hl7SettingsError(f"{key}: must be a table")
    unknown = sorted(set(raw) - _CHILDREN_KEYS)
    if unknown:
        raise Hl7SettingsError(
            f"{key}.{unknown[0]}: is not a key here (segment, observation, field, component)"
        )
    segment = raw.get("segment", "OBX")
    if not isinstance(segment, str) or len(segment) != 3 or not segment.isalnum():
        raise Hl7SettingsError(f"{key}.segment: must be a three-character segment name")
    segment = segment.upper()
    observation = raw.get("observation", "")
    if not isinstance(observation, str):
        raise Hl7SettingsError(f"{key}.observation: must be text")
    if segment == "OBX" and not observation:
        raise Hl7SettingsError(f"{key}.observation: is required for OBX (the OBX-3 code)")
    if segment != "OBX" and not segment.startswith("Z"):
        raise Hl7SettingsError(f"{key}.segment: must be OBX or a Z-segment")
    numbers: dict[str, int] = {}
    for name, default in (("field", 5 if segment == "OBX" else 1), ("component", 1)):
        value = raw.get(name, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise Hl7SettingsError(f"{key}.{name}: must be a whole number of 1 or more")
        numbers[name] = value
    return ChildrenField(segment, observation.strip(), numbers["field"], numbers["component"])
