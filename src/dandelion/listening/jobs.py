"""Background jobs of listening (discovered by ``core.jobs.autodiscover``): all idempotent."""

from __future__ import annotations

from django_tasks import task

from dandelion.core.actors import SYSTEM
from dandelion.core.jobs import periodic


@periodic("listening.read_inbound", every=60)
@task()
def read_inbound_job() -> int:
    """Every minute: the organisation's new inbound messages become mentions (from a cursor: safe to rerun)."""
    from dandelion.listening.sources import read_inbound_messages

    return read_inbound_messages(actor=SYSTEM)


@periodic("listening.evaluate", every=60)
@task()
def evaluate_job() -> int:
    """Every minute: the spike detector's tick over every active query."""
    from dandelion.listening.services import evaluate_queries

    return len(evaluate_queries(actor=SYSTEM))


@periodic("listening.search", every=120)
@task()
def search_job() -> int:
    """Every two minutes: the network searches of the queries that ask for them (cursors: safe to rerun)."""
    from dandelion.listening.search import poll_network_searches

    return poll_network_searches(actor=SYSTEM).created
