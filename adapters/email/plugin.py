"""Built-in plugin: deliver referrals by email over SMTP, the referral document attached.

Settings come from the trust configuration's ``[email]`` section: ``smtp_host``,
``smtp_port``, ``sender``, ``tls`` and ``ca_file`` (see :mod:`adapters.email.tls`),
``timeout_seconds``, and ``username_env``/``password_env`` naming environment variables for
credentials. SMTP acceptance is delivery, not acknowledgement: urgent referrals still escalate
until a person confirms the authority has them. A fallback (``trylast``): a host's own
transport is asked first.
"""

from __future__ import annotations

import importlib
import logging
import os
import smtplib
import ssl
import threading

from pydantic import BaseModel

from adapters.email.message import build_message
from adapters.email.settings import EmailSection, read_email_settings
from adapters.email.tls import TlsMode, read_tls
from hooks import hookimpl
from plugin_core.contract import PluginContext
from plugin_core.model import Channel, Destination, Receipt, Referral

log = logging.getLogger("thinkfamily.email")


def _load_pdf() -> None:
    importlib.import_module("plugin_core.formats.referral_pdf")


class EmailTransport:
    context: PluginContext

    @hookimpl
    def thinkfamily_config_sections(self) -> dict[str, type[BaseModel]]:
        return {"email": EmailSection}

    @hookimpl
    def thinkfamily_configure(self, context: PluginContext) -> None:
        self.context = context
        settings = read_email_settings(context.config)
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.sender = settings.sender
        self.tls, warnings = read_tls(context.config.section("email"), context.config.path)
        for warning in warnings:
            log.warning("email settings", extra={"reason": warning})
        self.timeout = settings.timeout_seconds
        self.username_env = settings.username_env
        self.password_env = settings.password_env
        if context.serve is not None:
            # The PDF library takes a second or more to import: load it beside start-up, not
            # in the way of the first referral. Commands that send nothing never load it.
            threading.Thread(target=_load_pdf, name="thinkfamily-pdf-import", daemon=True).start()

    @hookimpl(trylast=True)
    def thinkfamily_dispatch(self, referral: Referral, destination: Destination) -> Receipt | None:
        if destination.channel is not Channel.EMAIL:
            return None
        service = self.context.service
        details = service.referral_details(referral) if service is not None else None
        message = build_message(
            referral,
            destination,
            details,
            sender=self.sender,
            trust_name=self.context.config.trust_name,
            safeguarding=self.context.config.safeguarding_lead,
        )
        try:
            with self._connect() as smtp:
                smtp.ehlo()
                if self.tls.mode is TlsMode.STARTTLS:
                    if not smtp.has_extn("starttls"):
                        # Never fall back to clear text: a man in the middle can hide STARTTLS.
                        return _failed("the mail server did not offer STARTTLS: nothing sent")
                    smtp.starttls(context=self.tls.context())
                    smtp.ehlo()
                user = os.environ.get(str(self.username_env)) if self.username_env else None
                if user:  # only ever over TLS: credentials with tls = "none" are refused
                    smtp.login(user, os.environ.get(str(self.password_env), ""))
                refused = smtp.send_message(message)
        except ssl.SSLCertVerificationError:
            return _failed("the mail server's certificate is not trusted: nothing sent")
        except ssl.SSLError as exc:
            return _failed(f"TLS with the mail server failed: {type(exc).__name__}")
        except smtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.smtp_code < 600
            return Receipt(
                Channel.EMAIL,
                delivered=False,
                retryable=not permanent,
                detail=f"SMTP {exc.smtp_code}",
            )
        except (OSError, smtplib.SMTPException) as exc:
            return Receipt(
                Channel.EMAIL,
                delivered=False,
                retryable=True,
                detail=f"SMTP unavailable: {type(exc).__name__}",
            )
        if refused:
            return Receipt(
                Channel.EMAIL, delivered=False, retryable=True, detail="recipient refused"
            )
        return Receipt(
            Channel.EMAIL,
            delivered=True,
            reference=str(message["Message-ID"]),
            detail="accepted by the mail server",
        )

    def _connect(self) -> smtplib.SMTP:
        if self.tls.mode is TlsMode.IMPLICIT:
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self.tls.context()
            )
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)


def _failed(detail: str) -> Receipt:
    """A failed attempt that is retried, then escalated like any other."""
    return Receipt(Channel.EMAIL, delivered=False, retryable=True, detail=detail)
