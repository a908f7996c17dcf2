"""The send job: due post variants sent exactly once (see ``services.send_due``)."""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone
from django_tasks import task

from dandelion.core.jobs import enqueue_once, periodic, release_slot, worker_name

logger = logging.getLogger(__name__)


SEND_LIMIT = 500


@periodic("publishing.send_due", every=15)
@task()
def send_due_posts(limit: int = SEND_LIMIT, slot: str = "") -> dict:
    """Claim the due variants and send them (idempotent: a claimed variant is sent by its claimer only; a dead
    worker's claims are recovered after the lease). Runs at each due time (``wake_sender``, enqueued when a post
    is scheduled) and every 15 s as a safety net (retries after a backoff, recovered claims, a lost wake-up).
    A full claim means more may be due: another run is enqueued at once, before this one sends, so every idle
    worker joins the drain."""
    from dandelion.publishing.services import send_due

    if slot:
        release_slot(slot)
    return send_due(limit=limit, worker=worker_name(), on_full_claim=lambda: wake_sender(None, limit=limit))


def wake_sender(at: dt.datetime | None, *, limit: int = SEND_LIMIT) -> bool:
    """Enqueue the send job to run at ``at`` (now when None), once per second however many posts fall due in it
    (a ``JobSlot`` per second, freed when the run starts). A backend that cannot defer a job leaves the post to
    the periodic run. True when a run was enqueued."""
    now = timezone.now()
    at = at if at is not None and at > now else now
    slot = f"publishing.send_due@{int(at.timestamp())}"
    try:
        job = send_due_posts.using(run_after=at) if at > now else send_due_posts
        return enqueue_once(job, slot, limit, slot)
    except Exception:  # no deferred jobs here (or the queue is down): the periodic run sends it
        logger.warning("could not enqueue the send job for %s; the periodic run will send", at, exc_info=True)
        return False


@task(priority=-10)  # after the send runs waiting in the queue: a copy, never ahead of a due post
def record_sent_in_inbox(variant_ids: list[int]) -> int:
    """The sent variants enter the inbox as the brand's own posts (``services.record_sent``; idempotent)."""
    from dandelion.publishing.services import record_sent

    return record_sent(variant_ids)


@periodic("publishing.purge_link_visitors", every=3600)
@task()
def purge_link_visitors() -> int:
    """Hourly: forget the short links' visitors seen before the de-duplication window."""
    from django.utils import timezone

    from dandelion.publishing.clicks import purge_visitors

    return purge_visitors(timezone.now())
