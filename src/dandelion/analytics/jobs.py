"""Background jobs of analytics (discovered by ``core.jobs.autodiscover``)."""

from __future__ import annotations

from django_tasks import task

from dandelion.core.jobs import periodic


@periodic("analytics.refresh_recent_days", every=3600)
@task()
def refresh_recent_rollups() -> dict:
    """Every hour: recompute today and the three days before (late replies, SLA outcomes and team changes move
    recent figures). Idempotent: each day is deleted and recomputed in one transaction."""
    from dandelion.analytics.services import refresh_recent_days
    from dandelion.core.actors import SYSTEM

    return {"rows": refresh_recent_days(actor=SYSTEM)}


@periodic("analytics.weekly_digest", every=3600)
@task()
def send_weekly_digests() -> dict:
    """Every hour: send last week's digests not sent yet (the first run of the week sends them; later runs retry
    failures and send to people who joined since). Idempotent: each delivery is claimed before it is sent."""
    from dandelion.analytics import services
    from dandelion.core.actors import SYSTEM

    return services.send_weekly_digests(actor=SYSTEM)


@periodic("analytics.collect_network_metrics", every=6 * 3600)
@task()
def collect_network_metrics() -> dict:
    """Every six hours: read followers and recent posts' engagement through the accounts' connectors and store
    today's figures (one row per account and per post per day: a later run of the same day overwrites them)."""
    from dandelion.analytics import services
    from dandelion.core.actors import SYSTEM

    return services.collect_network_metrics(actor=SYSTEM)
