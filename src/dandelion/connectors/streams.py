"""The reconnect loop shared by every consumer of a live connection (``StreamingConnector.stream``,
``SearchStreamingConnector.stream_search``): pure Python, no Django; the inbox's and listening's listeners give it
what to open and what to do with each batch.

``keep_streaming(open_stream, handle, stop=...)`` opens the stream, hands every non-empty ``StreamBatch`` to
``handle``, and when the connection fails: a transient ``ConnectorError`` (or an unexpected exception, logged)
reconnects after ``base_s`` seconds doubling up to ``cap_s`` (``Retry-After`` honoured; back to ``base_s`` once a
connection has lived ``healthy_after_s``), with ±20 % jitter; a permanent one is passed to ``on_permanent`` (which
shows it on a health) and retried after ``permanent_retry_s`` (the credentials may have been fixed meanwhile). A
stream that ends on its own reconnects after ``base_s``. ``open_stream`` returns None when there is nothing to stream
any more (the account was archived, the query switched off): the loop ends.
"""

from __future__ import annotations

import logging
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from dandelion.connectors.base import StreamBatch
from dandelion.connectors.errors import ConnectorError

logger = logging.getLogger(__name__)

BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 300.0
HEALTHY_AFTER_S = 60.0
PERMANENT_RETRY_S = 600.0


@dataclass
class StreamStats:
    """What one listener did (for a command's summary and the tests)."""

    name: str
    connections: int = 0
    batches: int = 0
    events: int = 0
    rejected: int = 0
    polls: int = 0
    errors: int = 0
    last_error: str = ""


def backoff_s(failures: int, *, base_s: float, cap_s: float, retry_after: float | None = None) -> float:
    """The wait before reconnecting after ``failures`` failures in a row (1 → ``base_s``), before jitter."""
    delay = min(cap_s, base_s * 2 ** min(max(failures, 1) - 1, 16))
    if retry_after:
        delay = max(delay, min(float(retry_after), 3600.0))
    return delay


def keep_streaming(open_stream: Callable[[], Iterator[StreamBatch] | None],
                   handle: Callable[[StreamBatch], None], *, stop: threading.Event, stats: StreamStats,
                   on_permanent: Callable[[ConnectorError], None] = lambda exc: None,
                   base_s: float = BACKOFF_BASE_S, cap_s: float = BACKOFF_CAP_S,
                   healthy_after_s: float = HEALTHY_AFTER_S, permanent_retry_s: float = PERMANENT_RETRY_S,
                   clock: Callable[[], float] = time.monotonic) -> StreamStats:
    """Keep a stream open until ``stop`` is set (see the module); returns ``stats``, filled in."""
    failures = 0
    while not stop.is_set():
        stream = open_stream()
        if stream is None:
            logger.info("%s: nothing to stream any more", stats.name)
            return stats
        stats.connections += 1
        started = clock()
        try:
            for batch in stream:
                if batch.events or batch.rejected or batch.poll:
                    stats.batches += 1
                    handle(batch)
                if stop.is_set():
                    break
            else:
                if not stop.is_set():  # the network ended the stream: not a failure
                    failures = 0
                    stop.wait(base_s)
            continue
        except ConnectorError as exc:
            stats.errors += 1
            stats.last_error = exc.message
            if exc.permanent:
                logger.warning("%s: permanent error: %s", stats.name, exc.message)
                on_permanent(exc)
                stop.wait(permanent_retry_s)
                continue
            failures = 1 if clock() - started >= healthy_after_s else failures + 1
            delay = backoff_s(failures, base_s=base_s, cap_s=cap_s, retry_after=exc.retry_after)
            logger.info("%s dropped (%s): reconnecting in %.1f s", stats.name, exc.message, delay)
        except Exception as exc:
            logger.exception("%s: unexpected error in the connector", stats.name)
            stats.errors += 1
            stats.last_error = f"unexpected {type(exc).__name__}"
            failures += 1
            delay = backoff_s(failures, base_s=base_s, cap_s=cap_s)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # a generator: its connections are closed now, not when collected
        stop.wait(delay * random.uniform(0.8, 1.2))
    return stats


def run_listeners(targets: list[tuple[str, Callable[[threading.Event], StreamStats]]], *,
                  seconds: float | None = None, stop: threading.Event | None = None,
                  join_timeout_s: float = 30.0) -> list[StreamStats]:
    """Run each ``(name, listener)`` in a thread of its own until ``stop`` is set, ``seconds`` have passed, or the
    process gets SIGTERM or Ctrl-C; the stats of those that finished, in order."""
    stop = stop or threading.Event()
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set()) if main else None  # a service manager's stop
    results: dict[int, StreamStats] = {}

    def run(index: int, listener: Callable[[threading.Event], StreamStats]) -> None:
        results[index] = listener(stop)

    threads = [threading.Thread(target=run, args=(i, listener), name=f"stream-{name}", daemon=True)
               for i, (name, listener) in enumerate(targets)]
    for thread in threads:
        thread.start()
    try:
        stop.wait(seconds)
    except KeyboardInterrupt:
        pass
    stop.set()
    for thread in threads:
        thread.join(timeout=join_timeout_s)
    if main:
        signal.signal(signal.SIGTERM, previous)
    return [results[i] for i in range(len(targets)) if i in results]


def summary(stats: StreamStats) -> str:
    """One line for a command's output."""
    line = (f"{stats.name}: {stats.connections} connection(s), {stats.events} event(s) pushed, {stats.polls} "
            f"poll(s), {stats.rejected} rejected, {stats.errors} error(s)")
    return line + (f" (last: {stats.last_error})" if stats.last_error else "")
