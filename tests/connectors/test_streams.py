"""The shared reconnect loop of live connections (``connectors/streams.py``): backoff doubling to its cap with jitter,
``Retry-After`` honoured, reset after a healthy connection, permanent errors handed over and retried slowly, an
unexpected exception never ending the loop, the end when there is nothing to stream. No network: scripted streams."""

from __future__ import annotations

import threading

from dandelion.connectors.base import InboundAuthor, InboundEvent, StreamBatch, utcnow
from dandelion.connectors.errors import ConnectorError
from dandelion.connectors.streams import StreamStats, backoff_s, keep_streaming, run_listeners, summary


class Waits(threading.Event):
    """A stop event whose waits return at once and are recorded; set after ``limit`` waits."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.waits: list[float] = []
        self.limit = limit

    def wait(self, timeout=None):
        self.waits.append(timeout)
        if len(self.waits) >= self.limit:
            self.set()
        return self.is_set()


def event(n: int) -> InboundEvent:
    return InboundEvent(f"e{n}", "mention", "hi", utcnow(), InboundAuthor("a"))


def test_transient_errors_back_off_doubling_to_the_cap_and_retry_after_wins():
    assert [backoff_s(n, base_s=2, cap_s=20) for n in range(1, 6)] == [2, 4, 8, 16, 20]
    assert backoff_s(1, base_s=2, cap_s=20, retry_after=90) == 90
    assert backoff_s(1, base_s=2, cap_s=20, retry_after=10**9) == 3600  # a broken header: an hour at most

    def failing():
        def gen():
            raise ConnectorError("dropped")
            yield  # pragma: no cover
        return gen()

    stop = Waits(limit=5)
    stats = keep_streaming(failing, lambda batch: None, stop=stop, stats=StreamStats("t"), base_s=1, cap_s=8)
    assert stats.connections == 5 and stats.errors == 5 and stats.last_error == "dropped"
    for wait, expected in zip(stop.waits, [1, 2, 4, 8, 8], strict=True):
        assert 0.8 * expected <= wait <= 1.2 * expected  # ±20 % jitter


def test_batches_are_handed_over_and_a_healthy_connection_resets_the_backoff():
    handled: list[StreamBatch] = []
    clock = iter([0, 100, 100, 100, 200, 200])  # the first connection lived 100 s: healthy

    def opened():
        def gen():
            yield StreamBatch()  # a heartbeat: not handed over
            yield StreamBatch(events=[event(1)], poll=True)
            raise ConnectorError("dropped", retry_after=None)
        return gen()

    stop = Waits(limit=2)
    stats = keep_streaming(opened, handled.append, stop=stop, stats=StreamStats("t"), base_s=1, cap_s=60,
                           healthy_after_s=60, clock=lambda: next(clock))
    assert len(handled) == 2 and stats.batches == 2 and all(b.events for b in handled)
    assert stop.waits[0] <= 1.2 and stop.waits[1] <= 2.4  # 1 s after a healthy connection, then 2 s


def test_permanent_errors_are_reported_and_retried_slowly_and_bugs_do_not_stop_the_loop():
    reported: list[str] = []
    calls = iter(["permanent", "bug", "gone"])

    def opened():
        what = next(calls)
        if what == "gone":
            return None  # nothing to stream any more: the loop ends

        def gen():
            if what == "permanent":
                raise ConnectorError("token revoked", permanent=True)
            raise KeyError("a connector bug")
            yield  # pragma: no cover
        return gen()

    stop = Waits(limit=10)
    stats = keep_streaming(opened, lambda b: None, stop=stop, stats=StreamStats("t"),
                           on_permanent=lambda exc: reported.append(exc.message), permanent_retry_s=600, base_s=1)
    assert reported == ["token revoked"] and stop.waits[0] == 600
    assert stats.errors == 2 and stats.last_error == "unexpected KeyError" and stats.connections == 2
    assert "2 error(s)" in summary(stats)


def test_run_listeners_stops_every_listener():
    started = threading.Barrier(3)

    def listener(stop):
        started.wait(timeout=5)
        stop.wait(10)
        return StreamStats("x", connections=1)

    stop = threading.Event()
    threading.Thread(target=lambda: (started.wait(timeout=5), stop.set()), daemon=True).start()
    results = run_listeners([("a", listener), ("b", listener)], stop=stop, seconds=10)
    assert [r.connections for r in results] == [1, 1]
