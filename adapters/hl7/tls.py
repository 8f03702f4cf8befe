"""TLS for MLLP: the listener's server context and the referral client's context.

MLLP itself has no security; trusts that carry HL7 across a network wrap it in TLS. Both
contexts refuse anything older than TLS 1.2, and the client always verifies the receiver.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """Certificate files, as paths already resolved against the trust configuration's folder."""

    certificate: Path | None = None
    private_key: Path | None = None
    ca: Path | None = None


def server_context(files: TlsFiles) -> ssl.SSLContext:
    """The listener's context; with a CA, senders must present a certificate it signed."""
    assert files.certificate is not None and files.private_key is not None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(files.certificate, files.private_key)
    if files.ca is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(files.ca)
    return context


def client_context(files: TlsFiles) -> ssl.SSLContext:
    """The referral client's context: the receiver's certificate and name are always checked."""
    context = ssl.create_default_context(cafile=str(files.ca) if files.ca else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if files.certificate is not None and files.private_key is not None:
        context.load_cert_chain(files.certificate, files.private_key)
    return context
