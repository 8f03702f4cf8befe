"""The MLLP listener: frames in, contacts durably committed, ACKs out, in order per connection.

Reading a message takes tens of microseconds and runs on the event loop; the commit blocks on
the disk, so it runs on one worker thread (the store has one writer anyway). A connection's
messages are answered strictly in the order they came, and AA/CA is written only after the
commit returns. Nothing a peer sends stops the listener: every frame is answered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from functools import partial

from adapters.hl7.ack import AckError, acks_for
from adapters.hl7.errors import APPLICATION_INTERNAL_ERROR
from adapters.hl7.framing import END_BYTES, START_BYTES, Frame, FrameDecoder, FramingFault
from adapters.hl7.ingest import UNKNOWN_HEADER, Outcome, Reader
from plugin_core.clock import utc_now
from plugin_core.ports import ServicePort

log = logging.getLogger(__name__)

_QUEUE_HIGH = 256
_QUEUE_LOW = 64


class MllpListener:
    """An asyncio MLLP server bound to ``host:port``; ``port`` 0 picks a free port."""

    def __init__(
        self,
        reader: Reader,
        service: Callable[[], ServicePort | None],
        *,
        host: str = "127.0.0.1",
        port: int = 2575,
        executor: Executor | None = None,
    ) -> None:
        self.reader = reader
        self.service = service
        self.host = host
        self.port = port
        self._executor = executor
        self._own_executor = executor is None
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()

    @property
    def executor(self) -> Executor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hl7-commit")
        return self._executor

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Connection(self), self.host, self.port, reuse_address=True
        )
        sockets = self._server.sockets or ()
        if sockets:
            self.port = sockets[0].getsockname()[1]
        log.info("hl7: MLLP listener on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for connection in list(self._connections):
                await connection.close()
            await self._server.wait_closed()
            self._server = None
        if self._own_executor and self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def count(self, metric: str) -> None:
        service = self.service()
        if service is not None:
            self.executor.submit(_quiet_count, service, metric)

    async def commit(self, outcome: Outcome) -> Outcome:
        """Commit a contact; a failed commit is answered AE so that the sender sends again."""
        assert outcome.contact is not None
        service = self.service()
        if service is None:
            error = AckError(APPLICATION_INTERNAL_ERROR, "the service is not ready; send again")
            return Outcome(outcome.header, error=error, ack_code="AE", encoding=outcome.encoding)
        loop = asyncio.get_running_loop()
        call = partial(
            service.accept_contact, outcome.contact, message_key=outcome.header.message_key
        )
        try:
            accepted = await loop.run_in_executor(self.executor, call)
        except Exception as exc:
            log.error(
                "hl7: commit failed for message %s with %s",
                outcome.header.control_id[:40],
                type(exc).__name__,
            )
            self.count("hl7.failed")
            error = AckError(APPLICATION_INTERNAL_ERROR, "the contact was not stored; send again")
            return Outcome(outcome.header, error=error, ack_code="AE", encoding=outcome.encoding)
        if accepted.duplicate:
            log.info("hl7: message %s was already recorded", outcome.header.control_id[:40])
        return outcome


def _quiet_count(service: ServicePort, metric: str) -> None:
    try:
        service.count(metric)
    except Exception as exc:
        log.warning("hl7: counting %s failed with %s", metric, type(exc).__name__)


class _Connection(asyncio.Protocol):
    def __init__(self, listener: MllpListener) -> None:
        self.listener = listener
        self.decoder = FrameDecoder(listener.reader.settings.max_message_bytes)
        self.queue: asyncio.Queue[Frame | FramingFault | None] = asyncio.Queue()
        self.transport: asyncio.Transport | None = None
        self.task: asyncio.Task[None] | None = None
        self.paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.listener._connections.add(self)
        self.task = asyncio.get_running_loop().create_task(self._serve())

    def data_received(self, data: bytes) -> None:
        for event in self.decoder.feed(data):
            self.queue.put_nowait(event)
        if not self.paused and self.queue.qsize() > _QUEUE_HIGH and self.transport is not None:
            self.transport.pause_reading()
            self.paused = True

    def connection_lost(self, exc: Exception | None) -> None:
        if self.decoder.pending:
            self.listener.count("hl7.truncated")
        self.queue.put_nowait(None)
        self.listener._connections.discard(self)

    async def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        if self.task is not None:
            self.queue.put_nowait(None)
            try:
                await asyncio.wait_for(self.task, timeout=10)
            except (TimeoutError, asyncio.CancelledError):
                self.task.cancel()

    async def _serve(self) -> None:
        while True:
            event = await self.queue.get()
            if event is None:
                return
            if self.paused and self.queue.qsize() < _QUEUE_LOW and self.transport is not None:
                self.transport.resume_reading()
                self.paused = False
            try:
                outcome = await self._handle(event)
            except Exception as exc:  # answer anyway: one bad message must not stop the rest
                log.error("hl7: handling a message failed with %s", type(exc).__name__)
                error = AckError(APPLICATION_INTERNAL_ERROR, "the message could not be handled")
                outcome = Outcome(UNKNOWN_HEADER, error=error, ack_code="AE")
            self._answer(outcome)

    async def _handle(self, event: Frame | FramingFault) -> Outcome:
        reader = self.listener.reader
        if isinstance(event, FramingFault):
            outcome = reader.framing_fault(event.reason, event.data)
        else:
            outcome = reader.read(event.data)
        if outcome.contact is not None:
            return await self.listener.commit(outcome)
        if outcome.skipped is not None:
            self.listener.count("hl7.skipped")
        else:
            self.listener.count("hl7.rejected" if outcome.ack_code == "AR" else "hl7.errors")
        return outcome

    def _answer(self, outcome: Outcome) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        acks = acks_for(outcome.header, outcome.ack_code, at=utc_now(), error=outcome.error)
        for ack in acks:
            transport.write(START_BYTES + ack.encode(outcome.encoding, "replace") + END_BYTES)
