"""Background jobs: Django's tasks API (``django-tasks``) behind one interface, plus named periodic jobs.

* ``enqueue_on_commit(task, *args)`` enqueues after the surrounding transaction commits (never for rolled-back work).
* ``enqueue_once(task, slot, *args)`` enqueues unless a run is already waiting (one pending job is enough), with a
  :class:`~dandelion.core.models.JobSlot` row taken in one statement (:func:`take_slot`).
* ``@periodic("name", every=seconds)`` registers a task that the workers' scheduler enqueues exactly once per
  period across all workers: claiming a period inserts a unique ``PeriodicJobRun`` row, and only the inserter
  enqueues (Healthchecks / NetBox ``enqueue_once`` style). Jobs themselves are idempotent.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from importlib.util import find_spec
from typing import Any

from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_tasks import task

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: int  # seconds
    task: Any  # a django_tasks Task


_PERIODIC: dict[str, PeriodicJob] = {}


def periodic(name: str, *, every: int) -> Callable[[Any], Any]:
    """Register a django-tasks ``Task`` to run once per ``every`` seconds across all workers."""

    def decorator(task_obj):
        _PERIODIC[name] = PeriodicJob(name=name, every=every, task=task_obj)
        return task_obj

    return decorator


def autodiscover() -> None:
    """Import every installed Dandelion app's ``jobs`` module so its tasks and periodic jobs register."""
    for config in apps.get_app_configs():
        if config.name.startswith("dandelion.") and find_spec(f"{config.name}.jobs") is not None:
            import_module(f"{config.name}.jobs")


def periodic_jobs() -> dict[str, PeriodicJob]:
    return dict(_PERIODIC)


def period_start(now: dt.datetime, every: int) -> dt.datetime:
    epoch = int(now.timestamp())
    return dt.datetime.fromtimestamp(epoch - epoch % every, tz=dt.UTC)


def tick(now: dt.datetime | None = None, *, worker: str = "") -> list[str]:
    """Claim and enqueue every periodic job whose current period is unclaimed. Returns the names enqueued."""
    from dandelion.core.models import PeriodicJobRun

    now = now or timezone.now()
    enqueued = []
    for job in _PERIODIC.values():
        start = period_start(now, job.every)
        try:
            with transaction.atomic():
                PeriodicJobRun.objects.create(name=job.name, period_start=start, claimed_by=worker[:200])
                job.task.enqueue()
        except IntegrityError:
            continue  # another worker claimed this period
        enqueued.append(job.name)
    return enqueued


def enqueue_on_commit(task_obj, *args, **kwargs) -> None:
    """Enqueue ``task_obj`` once the current transaction commits."""
    transaction.on_commit(lambda: task_obj.enqueue(*args, **kwargs))


def worker_name() -> str:
    import os

    return f"{socket.gethostname()}:{os.getpid()}"



@periodic("core.retention", every=3600)
@task()
def apply_retention() -> dict:
    """Hourly: delete the operational rows past their retention (``dandelion.core.retention``; bounded per run,
    idempotent)."""
    from dandelion.core.retention import purge

    return {o.policy.name: {"deleted": o.deleted, "more": o.more} for o in purge() if o.cutoff is not None}


# --- de-duplicated enqueue ------------------------------------------------------------------------------------------


def take_slot(slot: str, now: dt.datetime | None = None) -> bool:
    """Take ``slot``: insert its row, or replace one older than ``JobSlot.STALE_AFTER`` (a lost run), in **one**
    statement; False when a fresh one is there (a run is already waiting). Every stored webhook asks this, so it is
    one round trip, where a transaction deleting the stale row and then inserting took four. ``INSERT ... ON
    CONFLICT DO UPDATE ... WHERE ... RETURNING``: the same SQL on PostgreSQL and SQLite (3.35+)."""
    from dandelion.core.models import JobSlot

    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=JobSlot.STALE_AFTER)
    if connection.vendor == "sqlite" and not _sqlite_returns():  # SQLite before 3.35 (Django 5.2 takes 3.31)
        with transaction.atomic():
            JobSlot.objects.filter(name=slot, enqueued_at__lt=stale).delete()
            _, created = JobSlot.objects.get_or_create(name=slot, defaults={"enqueued_at": now})
        return created
    ops = connection.ops
    table = ops.quote_name(JobSlot._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (name, enqueued_at) VALUES (%s, %s) ON CONFLICT (name) DO UPDATE "
            f"SET enqueued_at = excluded.enqueued_at WHERE {table}.enqueued_at < %s RETURNING id",
            [slot, ops.adapt_datetimefield_value(now), ops.adapt_datetimefield_value(stale)])
        return cursor.fetchone() is not None


def _sqlite_returns() -> bool:
    import sqlite3

    return sqlite3.sqlite_version_info >= (3, 35)


def release_slot(slot: str) -> None:
    """Free ``slot`` (a job does this when it starts, so work stored meanwhile enqueues a fresh run)."""
    from dandelion.core.models import JobSlot

    JobSlot.objects.filter(name=slot).delete()


def enqueue_once(task_obj, slot: str, *args, **kwargs) -> bool:
    """Enqueue unless a run is already waiting (one pending job is enough). Returns True when enqueued."""
    if not take_slot(slot):
        return False
    try:
        task_obj.enqueue(*args, **kwargs)
    except Exception:
        release_slot(slot)
        raise
    return True
