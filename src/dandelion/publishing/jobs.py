"""The send job: due post variants sent exactly once (see ``services.send_due``)."""

from __future__ import annotations

from django_tasks import task

from dandelion.core.jobs import periodic, worker_name


@periodic("publishing.send_due", every=15)
@task()
def send_due_posts(limit: int = 500) -> dict:
    """Every 15 s: claim the due variants and send them (idempotent: a claimed variant is sent by its claimer
    only; a dead worker's claims are recovered after the lease)."""
    from dandelion.publishing.services import send_due

    return send_due(limit=limit, worker=worker_name())


@periodic("publishing.purge_link_visitors", every=3600)
@task()
def purge_link_visitors() -> int:
    """Hourly: forget the short links' visitors seen before the de-duplication window."""
    from django.utils import timezone

    from dandelion.publishing.clicks import purge_visitors

    return purge_visitors(timezone.now())
