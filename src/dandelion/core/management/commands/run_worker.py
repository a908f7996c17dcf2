"""``dandelion worker``: runs background jobs, the periodic scheduler and a heartbeat for /healthz."""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import InterfaceError, OperationalError, close_old_connections, connections
from django.utils import timezone

from dandelion.core import jobs
from dandelion.core.models import WorkerHeartbeat

logger = logging.getLogger("dandelion.worker")


def beat(name: str, started_at) -> None:
    import os
    import socket

    WorkerHeartbeat.objects.update_or_create(
        name=name,
        defaults={"hostname": socket.gethostname(), "pid": os.getpid(), "started_at": started_at,
                  "last_seen_at": timezone.now()},
    )


def run_db_worker(*, interval: float, queue_name: str, sleep=time.sleep, max_restarts: int | None = None) -> None:
    """The database task backend's worker loop, kept alive through database outages.

    ``db_worker`` exits on a database error it does not expect (the server restarting, a failover, a network cut):
    the worker then waits (1 s, doubling up to 30 s, back to 1 s after a minute of work), drops its broken
    connections and starts the loop again. Deliveries claimed by an interrupted run become claimable again after
    the stale-claim delay; nothing stored is lost."""
    delay = 1.0
    restarts = 0
    while True:
        started = time.monotonic()
        try:
            call_command("db_worker", interval=interval, queue_name=queue_name, startup_delay=False)
            return
        except (OperationalError, InterfaceError) as exc:
            if time.monotonic() - started > 60:
                delay = 1.0
            restarts += 1
            if max_restarts is not None and restarts > max_restarts:
                raise
            logger.warning("database unavailable (%s); the worker starts again in %.0f s", exc, delay)
            for conn in connections.all(initialized_only=True):
                try:
                    conn.close()
                except Exception:  # noqa: BLE001 - a broken connection may fail to close: it is dropped anyway
                    conn.connection = None
            sleep(delay)
            delay = min(delay * 2, 30.0)


class Command(BaseCommand):
    help = "Run the background worker: queued jobs, periodic jobs (once per period across workers), heartbeat."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=0.5, help="Seconds between polls for new jobs.")
        parser.add_argument("--tick", type=float, default=5.0, help="Seconds between scheduler ticks.")
        parser.add_argument("--no-scheduler", action="store_true", help="Do not enqueue periodic jobs.")
        parser.add_argument("--queue-name", default="*", help="Queues to work on (comma-separated, * for all).")

    def handle(self, *args, **options):
        jobs.autodiscover()
        name = jobs.worker_name()
        started_at = timezone.now()
        stop = threading.Event()

        def scheduler_loop():
            while not stop.is_set():
                try:
                    beat(name, started_at)
                    if not options["no_scheduler"]:
                        enqueued = jobs.tick(worker=name)
                        if enqueued:
                            logger.debug("periodic jobs enqueued: %s", ", ".join(enqueued))
                except Exception:
                    logger.exception("scheduler tick failed")
                finally:
                    close_old_connections()
                stop.wait(options["tick"])

        thread = threading.Thread(target=scheduler_loop, name="dandelion-scheduler", daemon=True)
        thread.start()
        self.stdout.write(f"Dandelion worker {name} ({settings.DANDELION_TASK_BACKEND} backend) started.")
        try:
            if settings.DANDELION_TASK_BACKEND == "celery":
                from dandelion.core.tasks_celery import run_celery_worker

                run_celery_worker(queues=options["queue_name"])
            else:
                run_db_worker(interval=options["interval"], queue_name=options["queue_name"])
        finally:
            stop.set()
            thread.join(timeout=2)
            time.sleep(0)
