"""Retention end to end: a processed webhook body goes after its time, what it brought stays, and the same event
delivered again later (a network's late retry) is still stored once."""

import datetime as dt

import pytest
from django.utils import timezone

from dandelion.core import jobs
from dandelion.inbox.models import InboundDelivery, Message
from tests.inbox.conftest import event

pytestmark = pytest.mark.django_db


def test_processed_deliveries_go_after_their_time_and_their_messages_stay(inbox, deliver):
    first = deliver(inbox.fr_account, event("Bonjour, où est ma commande ?", id="r1", author="u1", language="fr"))
    recent = deliver(inbox.fr_account, event("Toujours rien reçu", id="r2", author="u2", language="fr"))
    long_ago = timezone.now() - dt.timedelta(days=15)
    InboundDelivery.objects.filter(pk=first.pk).update(received_at=long_ago, processed_at=long_ago)

    now = timezone.now()
    assert "core.retention" in jobs.tick(now, worker="w1")
    assert "core.retention" not in jobs.tick(now, worker="w2")  # once per hour across workers
    outcome = jobs.apply_retention.call()

    assert outcome["inbox.deliveries"] == {"deleted": 1, "more": False}
    assert list(InboundDelivery.objects.values_list("pk", flat=True)) == [recent.pk]
    assert set(Message.objects.values_list("external_id", flat=True)) == {"r1", "r2"}
    # the body is gone, the event is not forgotten: a late re-delivery stores nothing twice
    again = deliver(inbox.fr_account, event("Bonjour, où est ma commande ?", id="r1", author="u1", language="fr"))
    assert again.state == "done"
    assert Message.objects.filter(external_id="r1").count() == 1


def test_a_delivery_retried_and_processed_late_keeps_its_full_retention(inbox, post_hook, monkeypatch):
    """Retention counts from the end of processing, not from receipt: a delivery that failed three weeks ago, retried
    and processed today, stays its 14 days (and a failed one its 90 from when it failed)."""
    from dandelion.inbox import jobs, pipeline
    from dandelion.inbox.services import retry_failed_deliveries

    response = post_hook(inbox.fr_account, {"events": [event("Mon colis ?", id="late-1", author="u-late",
                                                             language="fr")]})
    pk = response.json()["delivery"]
    InboundDelivery.objects.filter(pk=pk).update(attempts=jobs.MAX_ATTEMPTS - 1)
    with monkeypatch.context() as m:
        m.setattr(pipeline, "ingest_batch", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("bug")))
        jobs.process_pending_deliveries.call()
    failed = InboundDelivery.objects.get(pk=pk)
    assert failed.state == "failed" and failed.processed_at is not None  # failed for good: the clock starts
    three_weeks = timezone.now() - dt.timedelta(days=21)
    InboundDelivery.objects.filter(pk=pk).update(received_at=three_weeks, processed_at=three_weeks)
    assert jobs_retention()["inbox.failed_deliveries"]["deleted"] == 0  # 21 of its 90 days
    retry_failed_deliveries(inbox.fr_account, actor=inbox.users.fr_admin)
    assert InboundDelivery.objects.get(pk=pk).processed_at is None
    jobs.process_pending_deliveries.call()
    assert InboundDelivery.objects.get(pk=pk).state == "done"
    assert jobs_retention()["inbox.deliveries"]["deleted"] == 0  # processed today, received three weeks ago
    assert Message.objects.filter(external_id="late-1").exists()


def jobs_retention() -> dict:
    return jobs.apply_retention.call()
