"""The scale-out task backend for real: Django's tasks API → Celery over Redis and over RabbitMQ → a Celery worker
runs the inbox's processing job, and a webhook's events end up in the right queue.

Needs the brokers (Redis 127.0.0.1:6379, RabbitMQ 127.0.0.1:5672 guest/guest): required under CI=true, skipped
with the reason elsewhere when one is not reachable.
"""

from __future__ import annotations

import os
import socket
import time
import uuid

import pytest

# Celery is the scale-out engine, deployed with PostgreSQL: these run in the PostgreSQL pass of `make test` (the
# SQLite pass's in-memory test database fails table locks at once instead of waiting, as a worker thread needs).
pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BROKERS = {
    "redis": ("127.0.0.1", 6379, "redis://127.0.0.1:6379/15"),
    "rabbitmq": ("127.0.0.1", 5672, "amqp://guest:guest@127.0.0.1:5672//"),
}


def _reachable(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
        return True
    except OSError:
        return False


@pytest.fixture(params=sorted(BROKERS))
def celery_backend(request, settings):
    host, port, url = BROKERS[request.param]
    if not _reachable(host, port):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{request.param} is required under CI=true ({host}:{port} unreachable)")
        pytest.skip(f"{request.param} not reachable on {host}:{port}")
    from celery.contrib.testing.worker import start_worker

    from dandelion.core import tasks_celery

    queue = f"test-{uuid.uuid4().hex[:8]}"  # a private queue: nothing left over from other runs is consumed
    app = tasks_celery.app
    _drop_connections(app)
    app.conf.update(broker_url=url, task_default_queue=queue, broker_connection_retry_on_startup=False)
    settings.TASKS = {"default": {"BACKEND": "dandelion.core.tasks_celery.CeleryBackend", "QUEUES": []}}
    original = tasks_celery.CeleryBackend.enqueue

    def enqueue_on_private_queue(self, task, args, kwargs):
        return original(self, task.using(queue_name=queue), args, kwargs)

    tasks_celery.CeleryBackend.enqueue = enqueue_on_private_queue
    app.conf.task_routes = {"dandelion.run_task": {"queue": queue}}
    try:
        with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, loglevel="WARNING",
                          queues=[queue], shutdown_timeout=60):
            yield request.param
    finally:
        tasks_celery.CeleryBackend.enqueue = original
        _drop_connections(app)


def _drop_connections(app) -> None:
    """Forget pooled broker connections so the next broker URL is used (the app is process-wide)."""
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None


def _wait(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_webhook_events_are_processed_by_a_celery_worker(celery_backend, inbox, post_hook):
    from dandelion.core.models import JobSlot
    from dandelion.inbox.models import Conversation, InboundDelivery
    from tests.inbox.conftest import event

    JobSlot.objects.all().delete()
    response = post_hook(inbox.fr_account, {"events": [
        event("Bonjour, ma commande n'est jamais arrivée, je veux un remboursement", id=f"cel-{celery_backend}",
              author="u-cel", name="Camille", language="fr")]})
    assert response.status_code == 202, response.content
    delivery_id = response.json()["delivery"]
    assert _wait(lambda: InboundDelivery.objects.get(pk=delivery_id).state == "done"), \
        f"the Celery worker ({celery_backend}) did not process the delivery"
    conv = Conversation.objects.get(messages__external_id=f"cel-{celery_backend}")
    assert conv.team == inbox.fr_team
