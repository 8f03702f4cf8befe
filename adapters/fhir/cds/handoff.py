"""Handing a CDS Hooks call from the event loop to a worker thread, once, cheaply.

A call's work (the token, the mapping, the one transaction) blocks on the database, so it runs
in a thread; the loop only reads the body and writes the answer. Starlette's general thread
hand-off (through anyio: a capacity limiter, a cancel scope and a result queue per call) cost
the loop about as much as the rest of the loop's part of a call; a plain executor future does
the same job. The call runs in a copy of the loop's context, as it did before, and a call whose
client goes away is finished in its thread all the same (its write is never cut short).
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
A = TypeVar("A")

THREADS = 40
"""As many calls as Starlette's own pool would run at once (anyio's default limit)."""

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    """One pool for the process, made on first use (threads start as calls need them)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="cds-call")
        return _pool


async def in_thread(work: Callable[[A], T], argument: A) -> T:
    """``work(argument)`` in a worker thread, awaited on the loop."""
    context = contextvars.copy_context()
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor(), context.run, work, argument)
