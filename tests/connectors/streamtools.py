"""Helpers of the live-connection tests (IMAP IDLE, Mastodon streaming, Jetstream): read a stream until something
came, and run a listener in the test's own thread (its database transaction) until a condition holds."""

from __future__ import annotations

import threading
import time

import pytest


def take(stream, *, until, timeout: float = 5.0) -> list:
    """The non-empty batches of ``stream`` until ``until(collected)`` holds (AssertionError after ``timeout`` s)."""
    collected, deadline = [], time.monotonic() + timeout
    for batch in stream:
        if batch.events or batch.rejected or batch.poll:
            collected.append(batch)
        if until(collected):
            return collected
        if time.monotonic() > deadline:
            break
    raise AssertionError(f"not reached in {timeout} s: {collected}")


def run_listener(listener, *, module, until, timeout: float = 10.0):
    """Run ``listener(stop)`` here until ``until()`` holds after one of the batches ``module.handle_batch`` handles
    (or ``timeout`` s); ``(what it returned, seconds it ran)``."""
    stop = threading.Event()
    original = module.handle_batch

    def handle(*args):
        result = original(*args)
        if until():
            stop.set()
        return result

    timer = threading.Timer(timeout, stop.set)
    timer.start()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(module, "handle_batch", handle)
            started = time.monotonic()
            result = listener(stop)
            return result, time.monotonic() - started
    finally:
        timer.cancel()
