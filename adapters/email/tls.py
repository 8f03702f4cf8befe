"""How a referral email is protected on its way to the relay: the ``tls`` and ``ca_file`` keys
of ``[email]``.

- ``starttls`` (the default): connect, then upgrade to TLS. A relay that does not offer the
  upgrade (or a man in the middle that hides it) gets nothing: the attempt fails and is
  retried, then escalated like any failed delivery. Never a send in clear.
- ``implicit``: TLS from the first byte (SMTPS, usually port 465).
- ``none``: clear text, for a relay on the same host only; credentials are then refused.

Certificates and host names are always checked, against ``ca_file`` when given (a trust's own
CA), otherwise the system's CAs. The old ``starttls = true|false`` is still read, with a
warning, as ``tls = "starttls"|"none"``.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from plugin_core.settings.trust_config import ConfigError, ConfigIssue


class TlsMode(StrEnum):
    STARTTLS = "starttls"
    IMPLICIT = "implicit"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class EmailTls:
    mode: TlsMode = TlsMode.STARTTLS
    ca_file: Path | None = None

    def context(self) -> ssl.SSLContext:
        """A client context that verifies the relay's certificate and name; TLS 1.2 or later."""
        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context


def read_tls(section: dict[str, Any], config_file: Path) -> tuple[EmailTls, list[str]]:
    """The section's TLS settings and any warnings; raises ConfigError naming the key.

    Credentials without TLS are refused here, so a misconfigured relay is found by
    ``config check`` and at start-up, never by sending a password in clear."""
    file = str(config_file)
    warnings: list[str] = []

    def error(key: str, reason: str) -> ConfigError:
        return ConfigError([ConfigIssue(file, f"email.{key}", reason)])

    raw = section.get("tls")
    if raw is None and "starttls" in section:
        old = section["starttls"]
        if not isinstance(old, bool):
            raise error("starttls", "must be true or false (better: use tls)")
        raw = TlsMode.STARTTLS.value if old else TlsMode.NONE.value
        warnings.append(f'email.starttls is deprecated: write tls = "{raw}" instead')
    elif raw is not None and "starttls" in section:
        warnings.append("email.starttls is ignored: tls is set")
    try:
        mode = TlsMode(raw if raw is not None else TlsMode.STARTTLS.value)
    except ValueError:
        raise error("tls", 'must be "starttls", "implicit" or "none"') from None
    ca_file: Path | None = None
    if section.get("ca_file") is not None:
        if not isinstance(section["ca_file"], str) or not section["ca_file"]:
            raise error("ca_file", "must be the path of a PEM file of CA certificates")
        ca_file = Path(section["ca_file"])
        if not ca_file.is_absolute():
            ca_file = config_file.parent / ca_file
        if not ca_file.is_file():
            raise error("ca_file", f"no file at {ca_file}")
    if mode is TlsMode.NONE:
        for key in ("username_env", "password_env"):
            if section.get(key):
                raise error(
                    key,
                    'credentials are never sent without TLS: set tls = "starttls" or "implicit"',
                )
        if ca_file is not None:
            warnings.append('email.ca_file is not used with tls = "none"')
    return EmailTls(mode, ca_file), warnings
