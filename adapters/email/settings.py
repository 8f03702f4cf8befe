"""The ``[email]`` section of a trust configuration, as a model checked with the rest.

``tls`` is one of three words and the deprecated ``starttls`` a real boolean: ``"no"`` is
refused rather than read as true. Credentials are
never in the file; ``username_env`` and ``password_env`` name the variables that hold them.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from plugin_core.settings.config import TrustConfig
from plugin_core.settings.faults import refuse
from plugin_core.settings.issues import ERROR, ConfigError, Issues
from plugin_core.settings.reader import validate
from plugin_core.settings.section import (
    EnvVar,
    FileName,
    Name,
    Port,
    Section,
    SettingsContext,
)

_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+$")


def _address(value: str) -> str:
    value = value.strip()
    if not _ADDRESS.match(value):
        refuse("must be an email address")
    return value


class EmailSection(Section):
    """The SMTP relay that referrals whose channel is ``email`` go through."""

    smtp_host: Name = "localhost"
    smtp_port: Port = 25
    sender: Annotated[str, AfterValidator(_address)] = "thinkfamily@localhost"
    starttls: bool | None = None
    """Deprecated: read as ``tls``; see :mod:`adapters.email.tls`."""
    tls: Literal["starttls", "implicit", "none"] = "starttls"
    ca_file: FileName = ""
    timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 20.0
    username_env: EnvVar | None = None
    password_env: EnvVar | None = None


def read_email_settings(config: TrustConfig) -> EmailSection:
    """The checked ``[email]`` section; raises ConfigError listing every fault."""
    issues = Issues(config.path)
    section = validate(
        EmailSection,
        config.section("email"),
        issues,
        at=("email",),
        context=SettingsContext(config.path),
    )
    errors = [i for i in issues.found if i.severity == ERROR]
    if section is None or errors:
        raise ConfigError(errors)
    return section
