"""Background jobs of the outgoing webhooks (discovered by ``core.jobs.autodiscover``)."""

from __future__ import annotations

from django_tasks import task

from dandelion.core.jobs import periodic


@task()
def deliver_webhooks() -> dict:
    """Attempt the due deliveries (enqueued once per batch of events; claims make a second run harmless)."""
    from dandelion.webhooks.services import process_due

    return vars(process_due())


@periodic("webhooks.deliver_due", every=60)
@task()
def deliver_due_webhooks() -> dict:
    """Every minute: the retries whose time has come, and deliveries whose worker died mid-attempt."""
    from dandelion.webhooks.services import process_due

    return vars(process_due())
