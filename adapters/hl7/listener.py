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
from dataclasses import replace

from adapters.hl7.ack import AckError, acks_for
from adapters.hl7.errors import APPLICATION_INTERNAL_ERROR
from adapters.hl7.framing import END_BYTES, START_BYTES, Frame, FrameDecoder, FramingFault
from adapters.hl7.ingest import UNKNOWN_HEADER, Outcome, Reader
from plugin_core.clock import utc_now
from plugin_core.ports import Accepted, ServicePort

log = logging.getLogger(__name__)

_QUEUE_HIGH = 256
_QUEUE_LOW = 64
_BATCH = 64


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

    async def commit(self, outcomes: list[Outcome]) -> list[Outcome]:
        """Commit the contacts of a batch in one hop to the commit thread, in order.

        Each contact is still its own durable commit (or one group commit, when the service
        offers ``accept_contacts``); a failed commit is answered AE so the sender sends again.
        """
        service = self.service()
        if service is None:
            error = AckError(APPLICATION_INTERNAL_ERROR, "the service is not ready; send again")
            return [replace(o, contact=None, error=error, ack_code="AE") for o in outcomes]
        loop = asyncio.get_running_loop()
        results = await loop.run_in_executor(self.executor, _commit_all, service, outcomes)
        out: list[Outcome] = []
        for outcome, result in zip(outcomes, results, strict=True):
            if isinstance(result, BaseException):
                log.error(
                    "hl7: commit failed for message %s with %s",
                    outcome.header.control_id[:40],
                    type(result).__name__,
                )
                error = AckError(
                    APPLICATION_INTERNAL_ERROR, "the contact was not stored; send again"
                )
                out.append(replace(outcome, contact=None, error=error, ack_code="AE"))
            else:
                if result.duplicate:
                    log.info("hl7: message %s was already recorded", outcome.header.control_id[:40])
                out.append(outcome)
        if any(o.ack_code == "AE" for o in out):
            self.count("hl7.failed")
        return out


def _commit_all(service: ServicePort, outcomes: list[Outcome]) -> list[Accepted | Exception]:
    """Runs on the commit thread: a group commit when the service has one, else one by one."""
    batch = [(o.contact, o.header.message_key) for o in outcomes if o.contact is not None]
    group = getattr(service, "accept_contacts", None)
    if callable(group) and len(batch) > 1:
        try:
            answers: list[Accepted | Exception] = list(group(batch))
            return answers
        except Exception as exc:
            log.warning(
                "hl7: group commit failed with %s; committing one by one", type(exc).__name__
            )
    results: list[Accepted | Exception] = []
    for contact, key in batch:
        try:
            results.append(service.accept_contact(contact, message_key=key))
        except Exception as exc:
            results.append(exc)
    return results


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
            first = await self.queue.get()
            events = [first]
            while first is not None and len(events) < _BATCH and not self.queue.empty():
                events.append(self.queue.get_nowait())
            closing = events[-1] is None
            ready = [e for e in events if e is not None]
            if self.paused and self.queue.qsize() < _QUEUE_LOW and self.transport is not None:
                self.transport.resume_reading()
                self.paused = False
            try:
                outcomes = await self._handle(ready)
            except Exception as exc:  # answer anyway: one bad batch must not stop the rest
                log.error("hl7: handling messages failed with %s", type(exc).__name__)
                error = AckError(APPLICATION_INTERNAL_ERROR, "the message could not be handled")
                outcomes = [Outcome(UNKNOWN_HEADER, error=error, ack_code="AE") for _ in ready]
            for outcome in outcomes:
                self._answer(outcome)
            if closing:
                return

    async def _handle(self, events: list[Frame | FramingFault]) -> list[Outcome]:
        """Read every frame, commit the contacts among them, then the outcomes in order."""
        reader = self.listener.reader
        outcomes = [
            reader.framing_fault(e.reason, e.data)
            if isinstance(e, FramingFault)
            else reader.read(e.data)
            for e in events
        ]
        for outcome in outcomes:
            if outcome.skipped is not None:
                self.listener.count("hl7.skipped")
            elif outcome.contact is None:
                self.listener.count("hl7.rejected" if outcome.ack_code == "AR" else "hl7.errors")
        to_commit = [o for o in outcomes if o.contact is not None]
        if not to_commit:
            return outcomes
        committed = iter(await self.listener.commit(to_commit))
        return [next(committed) if o.contact is not None else o for o in outcomes]

    def _answer(self, outcome: Outcome) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        acks = acks_for(outcome.header, outcome.ack_code, at=utc_now(), error=outcome.error)
        for ack in acks:
            transport.write(START_BYTES + ack.encode(outcome.encoding, "replace") + END_BYTES)
