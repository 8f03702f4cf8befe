"""Referral receivers that can be taken down and brought back on the same port, keeping what
they received: a BaRS-style FHIR ``$process-message`` endpoint and an SMTP mailbox.

Both count every copy they accept by the idempotency key they see (the Bundle identifier, the
``X-ThinkFamily-Idempotency-Key`` header), so a test can tell a resend the receiver had to
de-duplicate from a referral that never arrived.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from tests.peers.ports import free_port
from tests.peers.smtp import Mailbox


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.0, so every request has its own connection and a stopped server takes no more."""

    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            bundle = json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            bundle = None
        if not self.path.endswith("/$process-message") or not isinstance(bundle, dict):
            self._send(400, _outcome("expected a message Bundle at $process-message"))
            return
        key = str((bundle.get("identifier") or {}).get("value") or "")
        entries = bundle.get("entry") or [{}]
        header = entries[0].get("resource") or {}
        if not key or header.get("resourceType") != "MessageHeader":
            self._send(400, _outcome("Bundle.identifier and a MessageHeader are required"))
            return
        self.server.owner.record(key)
        if self.server.owner.delay:
            time.sleep(self.server.owner.delay)  # stored, not yet answered: a sender may resend
        self._send(200, _response(header))

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads the counts, not an access log."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: FhirMessageReceiver

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A sender that hung up (or was killed) before its answer is expected here."""


def _outcome(text: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "invalid", "diagnostics": text}],
    }


def _response(header: dict[str, Any]) -> dict[str, Any]:
    """A response message naming the request's MessageHeader, code ``ok``."""
    return {
        "resourceType": "Bundle",
        "type": "message",
        "entry": [
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": {
                    "resourceType": "MessageHeader",
                    "id": str(uuid.uuid4()),
                    "eventCoding": header.get("eventCoding"),
                    "source": {"endpoint": "http://127.0.0.1/receiver"},
                    "response": {"identifier": str(header.get("id", "")), "code": "ok"},
                },
            }
        ],
    }


class FhirMessageReceiver:
    """A children's services FHIR endpoint on loopback; ``down()`` and ``up()`` flap it.

    ``delay`` holds each answer back after the message is stored, widening the window in which
    a sender that dies never learns of the delivery.
    """

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.port = free_port()
        self.received: Counter[str] = Counter()
        self.outages = 0
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/fhir/R4"

    def record(self, key: str) -> None:
        with self._lock:
            self.received[key] += 1

    def keys(self) -> Counter[str]:
        with self._lock:
            return Counter(self.received)

    @property
    def is_up(self) -> bool:
        return self._server is not None

    def up(self) -> None:
        if self._server is not None:
            return
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.owner = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def down(self) -> None:
        """Stop taking connections; a request already being answered is finished."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self.outages += 1

    def __enter__(self) -> FhirMessageReceiver:
        self.up()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self.down()
            self.outages -= 1


class SwitchableSmtp:
    """An aiosmtpd mailbox whose server is stopped and started on the same port; the mailbox
    (what was received) outlives each outage."""

    def __init__(self, mailbox: Mailbox | None = None) -> None:
        self.mailbox = mailbox or Mailbox()
        self.port = free_port()
        self.outages = 0
        self._controller: Controller | None = None

    @property
    def is_up(self) -> bool:
        return self._controller is not None

    def up(self) -> None:
        if self._controller is not None:
            return
        controller = Controller(
            self.mailbox, hostname="127.0.0.1", port=self.port, ready_timeout=10
        )
        controller.start()
        self._controller = controller

    def down(self) -> None:
        if self._controller is None:
            return
        self._controller.stop()
        self._controller = None
        self.outages += 1

    def keys(self) -> Counter[str]:
        return self.mailbox.keys()

    def __enter__(self) -> SwitchableSmtp:
        self.up()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._controller is not None:
            self.down()
            self.outages -= 1
