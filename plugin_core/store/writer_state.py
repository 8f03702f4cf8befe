"""What the writer keeps for a group of requests and for each thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from plugin_core.store.base import Tx


class Group:
    """Requests whose writes sit in the open transaction, waiting for its commit."""

    __slots__ = ("ahead", "done", "error", "members")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.members = 0
        self.ahead: list[str] = []
        """Statements to send before the group's next one: its start, until a request of the
        group writes, and savepoints not sent yet."""


class Unit:
    """Several store calls of one request, committed together when the block ends."""

    __slots__ = ("after", "started")

    def __init__(self) -> None:
        self.started = False
        self.after: list[Callable[[], None]] = []


class Local(threading.local):
    """What one thread holds of the writer: its transaction, open unit."""

    def __init__(self) -> None:
        self.tx: Tx | None = None
        self.first = False
        self.unit: Unit | None = None
