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
    InboundDelivery.objects.filter(pk=first.pk).update(received_at=timezone.now() - dt.timedelta(days=15))

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
