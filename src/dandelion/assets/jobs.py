"""Background jobs of the account registry (discovered by ``core.jobs.autodiscover``)."""

from __future__ import annotations

from django_tasks import task

from dandelion.core.actors import SYSTEM
from dandelion.core.jobs import periodic


@periodic("assets.mark_dormant_accounts", every=3600)
@task()
def mark_dormant_accounts_job() -> int:
    """Hourly: flag active accounts without activity for DANDELION_DORMANT_AFTER_DAYS as dormant (idempotent)."""
    from dandelion.assets.services import mark_dormant_accounts

    return mark_dormant_accounts(actor=SYSTEM)
