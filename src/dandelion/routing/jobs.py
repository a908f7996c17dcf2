"""Routing background jobs: the SLA breach sweep (periodic, every minute). Idempotent."""

from __future__ import annotations

from django_tasks import task

from dandelion.core.jobs import periodic


@periodic("routing.sla_breaches", every=60)
@task()
def sla_breaches() -> int:
    """Mark overdue SLA targets missed and run their escalation (see :func:`routing.sla.check_breaches`)."""
    from dandelion.routing.sla import check_breaches

    return check_breaches()
