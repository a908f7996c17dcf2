"""``dandelion worker`` survives a database outage (the database task backend's loop exits on one)."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from dandelion.core.management.commands import run_worker


def test_the_worker_loop_starts_again_after_database_errors_with_growing_waits(monkeypatch):
    calls, waits = [], []

    def db_worker(name, **options):
        calls.append((name, options))
        if len(calls) <= 3:
            raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr(run_worker, "call_command", db_worker)
    run_worker.run_db_worker(interval=0.5, queue_name="*", sleep=waits.append)
    assert len(calls) == 4 and calls[-1] == ("db_worker", {"interval": 0.5, "queue_name": "*",
                                                           "startup_delay": False})
    assert waits == [1.0, 2.0, 4.0]


def test_the_worker_gives_up_after_max_restarts_and_other_errors_are_not_swallowed(monkeypatch):
    def down(name, **options):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(run_worker, "call_command", down)
    with pytest.raises(OperationalError):
        run_worker.run_db_worker(interval=0.5, queue_name="*", sleep=lambda s: None, max_restarts=2)

    def bug(name, **options):
        raise ValueError("a bug, not an outage")

    monkeypatch.setattr(run_worker, "call_command", bug)
    with pytest.raises(ValueError):
        run_worker.run_db_worker(interval=0.5, queue_name="*", sleep=lambda s: None)
