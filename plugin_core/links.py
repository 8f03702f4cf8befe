"""Signed, expiring links to the clinician form.

A link opens one contact's form for one professional until it expires. The token is a JSON Web
Token signed with HMAC-SHA256 by PyJWT: its subject is the professional's id, its audience a
digest of the contact id and its expiry the link's end, so the form knows who decides without a
login of its own, and a link copied to another contact, edited or kept past its time is refused.
No patient data is in the link; the secret is read from an environment variable that the
``[web]`` section names, never from the file.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

import jwt
from pydantic import BeforeValidator, Field

from plugin_core.errors import ThinkFamilyError
from plugin_core.settings.config import TrustConfig
from plugin_core.settings.faults import never, refuse
from plugin_core.settings.issues import ERROR, ConfigError, ConfigIssue, Issues
from plugin_core.settings.reader import validate
from plugin_core.settings.section import EnvVar, Section, SettingsContext, Url

DEFAULT_SECRET_ENV = "THINKFAMILY_FORM_SECRET"
DEFAULT_TTL = timedelta(hours=12)
MAX_TTL = timedelta(days=7)
MIN_SECRET_LENGTH = 32
MAX_PROFESSIONAL_ID = 200
MAX_TOKEN = 4_000
_ALGORITHM = "HS256"
_AUDIENCE = "thinkfamily-form:"


class LinkError(ThinkFamilyError):
    """A form link that cannot be used; the message says why, in words for the professional."""


class NoSecret(LinkError):
    """The environment variable holding the form secret is unset or too short."""

    def __init__(self, env: str) -> None:
        self.env = env
        super().__init__(
            f"set the {env} environment variable to a random value of at least "
            f"{MIN_SECRET_LENGTH} characters"
        )


class LinkExpired(LinkError):
    def __init__(self) -> None:
        super().__init__("the link has expired")


class LinkTampered(LinkError):
    def __init__(self) -> None:
        super().__init__("the link is incomplete or has been changed")


class WrongContact(LinkError):
    def __init__(self) -> None:
        super().__init__("the link belongs to another contact")


@dataclass(frozen=True, slots=True)
class WebSettings:
    """The ``[web]`` section: where the pages are served and how links are signed."""

    base_url: str = ""
    secret_env: str = DEFAULT_SECRET_ENV
    link_ttl: timedelta = DEFAULT_TTL
    frame_ancestors: tuple[str, ...] = ()
    configured: bool = False

    def secret(self) -> bytes:
        return form_secret(self.secret_env)

    def link(self, contact_id: str, professional_id: str) -> str:
        """A link for this contact and professional; raises NoSecret when none is set."""
        return make_link(
            self.base_url, contact_id, professional_id, self.link_ttl, secret_env=self.secret_env
        )


def _origins(value: object) -> object:
    if not isinstance(value, list) or not all(isinstance(a, str) and _is_origin(a) for a in value):
        refuse("must be a list of origins such as https://ehr.example.nhs.uk")
    return value


class WebSection(Section):
    """The ``[web]`` section as written; contributed by the web plugin, read into WebSettings."""

    unknown_key = "is not a known setting"
    unknown_key_severity = ERROR

    base_url: Url = ""
    secret_env: EnvVar = DEFAULT_SECRET_ENV
    link_ttl_minutes: Annotated[float, Field(ge=1, le=MAX_TTL.total_seconds() // 60)] = (
        DEFAULT_TTL.total_seconds() // 60
    )
    frame_ancestors: Annotated[list[str], BeforeValidator(_origins)] = Field(default_factory=list)
    secret: Annotated[
        object, never("secrets must not be written in the file; name a variable in secret_env")
    ] = None


def check_web_settings(data: Any, path: Path) -> tuple[WebSettings, list[ConfigIssue]]:
    """Settings and every fault in ``[web]``, each naming file, key and reason; the settings
    are the defaults when the section has errors."""
    issues = Issues(path)
    section = validate(WebSection, data, issues, at=("web",), context=SettingsContext(path))
    if section is None:
        return WebSettings(), issues.found
    settings = WebSettings(
        base_url=section.base_url,
        secret_env=section.secret_env,
        link_ttl=timedelta(minutes=section.link_ttl_minutes),
        frame_ancestors=tuple(section.frame_ancestors),
        configured=bool(data),
    )
    return settings, issues.found


def web_settings(config: TrustConfig) -> WebSettings:
    """The checked ``[web]`` settings; raises ConfigError listing every fault."""
    settings, issues = check_web_settings(config.section("web"), config.path)
    if issues:
        raise ConfigError(issues)
    return settings


def _is_origin(text: str) -> bool:
    """``scheme://host[:port]`` and nothing else: the value goes into a CSP header."""
    parts = urlsplit(text)
    return (
        parts.scheme in ("https", "http")
        and bool(parts.netloc)
        and not (parts.path or parts.query or parts.fragment)
        and not any(c in text for c in " ;,'\"")
    )


def form_secret(secret_env: str = DEFAULT_SECRET_ENV) -> bytes:
    """The signing secret from the environment; raises NoSecret naming the variable."""
    value = os.environ.get(secret_env, "")
    if len(value) < MIN_SECRET_LENGTH:
        raise NoSecret(secret_env)
    return value.encode()


def make_token(
    contact_id: str,
    professional_id: str,
    ttl: timedelta = DEFAULT_TTL,
    *,
    secret: bytes,
    now: float | None = None,
) -> str:
    """A token for the form of ``contact_id`` decided by ``professional_id``."""
    if not professional_id or len(professional_id) > MAX_PROFESSIONAL_ID:
        raise ValueError(f"a professional id of 1 to {MAX_PROFESSIONAL_ID} characters is needed")
    if not contact_id:
        raise ValueError("a contact id is needed")
    if not timedelta(0) < ttl <= MAX_TTL:
        raise ValueError("a link lasts more than no time and at most seven days")
    expires = int((time.time() if now is None else now) + ttl.total_seconds())
    claims = {"sub": professional_id, "aud": _audience(contact_id), "exp": expires}
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def make_link(
    base_url: str,
    contact_id: str,
    professional_id: str,
    ttl: timedelta = DEFAULT_TTL,
    *,
    secret_env: str = DEFAULT_SECRET_ENV,
    now: float | None = None,
) -> str:
    """The URL of the form for one contact, signed for one professional.

    :param base_url: where the service's pages are reached, for example
        ``https://thinkfamily.example.nhs.uk``.
    :raises NoSecret: the secret environment variable is unset or too short.
    """
    token = make_token(contact_id, professional_id, ttl, secret=form_secret(secret_env), now=now)
    return f"{base_url.rstrip('/')}/form/{quote(contact_id, safe='')}?t={token}"


def check(
    token: str,
    contact_id: str,
    *,
    secret: bytes | None = None,
    secret_env: str = DEFAULT_SECRET_ENV,
    now: float | None = None,
) -> str:
    """The professional id a valid token was made for.

    PyJWT checks the algorithm, the signature, that every claim is there and the audience; the
    expiry is compared here, against ``now`` when given, so a link's last second is exact.

    :raises NoSecret: no secret is configured.
    :raises WrongContact: the token is genuine but was made for another contact.
    :raises LinkTampered: the token is malformed or does not match its signature.
    :raises LinkExpired: the token is genuine but past its expiry.
    """
    key = secret if secret is not None else form_secret(secret_env)
    if not token or len(token) > MAX_TOKEN:
        raise LinkTampered()
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[_ALGORITHM],
            audience=_audience(contact_id),
            options={
                "require": ["sub", "aud", "exp"],
                "verify_exp": False,
                "strict_aud": True,
                "enforce_minimum_key_length": True,
            },
        )
    except jwt.InvalidAudienceError:
        raise WrongContact() from None
    except jwt.InvalidTokenError:
        raise LinkTampered() from None
    professional_id, expires = claims["sub"], claims["exp"]
    if not isinstance(professional_id, str) or not professional_id:
        raise LinkTampered()
    if isinstance(expires, bool) or not isinstance(expires, int):
        raise LinkTampered()
    if (time.time() if now is None else now) >= expires:
        raise LinkExpired()
    return professional_id


def _audience(contact_id: str) -> str:
    """The contact a token is for, as a short digest: the id itself is already in the path."""
    digest = hashlib.sha256(contact_id.encode()).digest()[:12]
    return _AUDIENCE + base64.urlsafe_b64encode(digest).decode()
