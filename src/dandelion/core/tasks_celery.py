"""Scale-out task backend: Celery (Redis or RabbitMQ broker) behind Django's tasks API.

No well-kept package bridges django-tasks to Celery, so this is the thin adapter the issue allows: enqueueing sends
one generic Celery message (``dandelion.run_task``) naming the task's import path, and a Celery worker imports and
calls it. Delivery is at-least-once (late acks, redelivered when a worker dies), which is safe because every job in
Dandelion is idempotent. Select it with ``DANDELION_TASK_BACKEND=celery`` and ``CELERY_BROKER_URL``.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from django.conf import settings
from django.utils.module_loading import import_string
from django_tasks.backends.base import BaseTaskBackend
from django_tasks.base import Task, TaskResult, TaskResultStatus
from django_tasks.utils import get_random_id, normalize_json

app = Celery("dandelion")
app.conf.update(
    broker_url=settings.CELERY_BROKER_URL,
    result_backend=settings.CELERY_RESULT_BACKEND or None,
    task_serializer="json",
    accept_content=["json"],
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_default_queue="default",
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


@app.task(name="dandelion.run_task", ignore_result=True)
def run_task(module_path: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """Run the django-tasks ``Task`` at ``module_path`` in this Celery worker."""
    task_obj: Task = import_string(module_path)
    return task_obj.call(*args, **kwargs)


class CeleryBackend(BaseTaskBackend):
    """django-tasks backend that hands work to Celery."""

    supports_defer = True
    supports_priority = True

    def enqueue(self, task: Task, args, kwargs) -> TaskResult:
        self.validate_task(task)
        task_id = get_random_id()
        args, kwargs = normalize_json(list(args)), normalize_json(dict(kwargs))
        run_task.apply_async(
            args=[task.module_path, args, kwargs],
            task_id=task_id,
            queue=task.queue_name,
            eta=task.run_after,
            priority=max(0, min(9, 5 + task.priority // 20)),
        )
        return TaskResult(
            task=task, id=task_id, status=TaskResultStatus.READY, enqueued_at=None, started_at=None,
            last_attempted_at=None, finished_at=None, args=args, kwargs=kwargs, backend=self.alias, errors=[],
            worker_ids=[],
        )


def run_celery_worker(*, queues: str = "*", concurrency: int | None = None) -> None:
    """Run a Celery worker in this process (``dandelion worker`` with the celery backend)."""
    argv = ["worker", "--loglevel=INFO", f"--concurrency={concurrency or os.cpu_count() or 1}",
            f"--hostname=dandelion-{os.getpid()}@%h"]
    if queues and queues != "*":
        argv.append(f"--queues={queues}")
    app.worker_main(argv)
