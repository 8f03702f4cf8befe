"""Built-in plugin: deliver referrals by email over SMTP, the referral document attached.

Settings come from the trust configuration's ``[email]`` section (see ``settings``):
``smtp_host``, ``smtp_port``, ``sender``, ``starttls`` (true or false, default true),
``timeout_seconds``, and ``username_env``/``password_env`` naming environment variables for
credentials. SMTP
acceptance is delivery, not acknowledgement: urgent referrals still escalate until a person
confirms the authority has them. A fallback (``trylast``): a host's own transport is asked
first.
"""

from __future__ import annotations

import importlib
import os
import smtplib
import ssl
import threading

from pydantic import BaseModel

from adapters.email.message import build_message
from adapters.email.settings import EmailSection, read_email_settings
from hooks import hookimpl
from plugin_core.contract import PluginContext
from plugin_core.model import Channel, Destination, Receipt, Referral


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
        self.starttls = settings.starttls
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
        )
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.ehlo()
                if self.starttls and smtp.has_extn("starttls"):
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                user = os.environ.get(str(self.username_env)) if self.username_env else None
                if user:
                    smtp.login(user, os.environ.get(str(self.password_env), ""))
                refused = smtp.send_message(message)
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
