"""Background jobs: Django's tasks API (``django-tasks``) behind one interface, plus named periodic jobs.

* ``enqueue_on_commit(task, *args)`` enqueues after the surrounding transaction commits (never for rolled-back work).
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
from django.db import IntegrityError, transaction
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
