"""What the connectors share to honour networks' rate limits without sleeping in a worker: the bound on any wait a
network asks for, reading a ``Retry-After``-like header, and a book of pauses kept in this process.

A connector that learns (from a 429, or a quota header reaching zero) that an account, or one of its endpoints, must
wait, records the pause in its ``PauseBook``; before the next call it asks ``book.check(key, message)``, which raises a
transient ``ConnectorError`` whose ``retry_after`` is the time left, so the polling and delivery jobs come back then.
A rate limit is a delay, never a failure. Pure Python (no Django).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from dandelion.connectors.errors import ConnectorError

#: The longest wait a network's header may impose on a job (a day): beyond, the header is not believed.
MAX_RETRY_AFTER_S = 24 * 3600.0


def bounded(seconds: float, *, floor: float = 1.0, cap: float = MAX_RETRY_AFTER_S) -> float:
    """``seconds`` within ``[floor, cap]``."""
    return max(floor, min(float(seconds), cap))


def header_wait(headers: Mapping[str, Any] | None, *names: str, default: float, floor: float = 1.0,
                cap: float = MAX_RETRY_AFTER_S) -> float:
    """The seconds to wait read from the first of ``names`` that holds a number of seconds (``Retry-After``,
    ``x-ratelimit-reset``...), within ``[floor, cap]``; ``default`` when none does."""
    for name in names:
        try:
            value = (headers or {})[name]
            return bounded(float(value), floor=floor, cap=cap)
        except (KeyError, TypeError, ValueError):
            continue
    return default


class PauseBook:
    """Pauses per key (an account id, or ``(account id, endpoint)``) in this process. ``clock`` is the time base of
    the ``until`` values given to :meth:`pause_until` (``time.time`` for a network's epoch reset headers,
    ``time.monotonic`` for pauses only ever given as durations)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._until: dict[Hashable, tuple[float, str]] = {}

    def pause_until(self, key: Hashable, until: float, why: str = "") -> None:
        """Pause ``key`` until ``until`` (on the book's clock); a longer pause already recorded is kept."""
        with self._lock:
            if until > self._until.get(key, (0.0, ""))[0]:
                self._until[key] = (float(until), why)

    def pause_for(self, key: Hashable, seconds: float, why: str = "") -> None:
        self.pause_until(key, self._clock() + seconds, why)

    def wait(self, key: Hashable) -> float:
        """Seconds ``key`` still has to wait (0: none)."""
        with self._lock:
            until, _why = self._until.get(key, (0.0, ""))
        return max(0.0, until - self._clock())

    def check(self, key: Hashable, message: str) -> None:
        """Raise a transient ``ConnectorError`` (``"<message>: paused N s more"``, ``retry_after`` = the wait) while
        ``key`` is paused."""
        wait = self.wait(key)
        if wait > 0:
            raise ConnectorError(f"{message}: paused {int(wait)} s more", retry_after=wait)

    def clear(self) -> None:
        with self._lock:
            self._until.clear()
