"""``dandelion worker``: runs background jobs, the periodic scheduler and a heartbeat for /healthz."""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections
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
                call_command("db_worker", interval=options["interval"], queue_name=options["queue_name"],
                             startup_delay=False)
        finally:
            stop.set()
            thread.join(timeout=2)
            time.sleep(0)
