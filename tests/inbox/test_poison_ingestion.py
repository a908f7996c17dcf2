"""Poison-proof ingestion: what the issue reported, end to end (webhook → worker), and the worker's isolation of a
delivery that still fails (a bad event alone, a worker that stops on a delivery)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from django.utils import timezone

from dandelion.inbox.choices import DeliveryState
from dandelion.inbox.jobs import process_pending_deliveries
from dandelion.inbox.models import InboundDelivery, Message
from tests.inbox.conftest import event

pytestmark = pytest.mark.django_db


# --- at the edge: a signed body the worker could not store is a 400 naming the field --------------------------------


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda e: e.update(text="Bonjour \ud800"), "events[1].text"),
        (lambda e: e.update(text="Bonjour \x00"), "events[1].text"),
        (lambda e: e.update(created_at="0001-01-01T00:00:00Z"), "events[1].created_at"),
        (lambda e: e.update(created_at="9999-12-31T23:59:59Z"), "events[1].created_at"),
        (lambda e: e["author"].update(followers=10**30), "events[1].author.followers"),
        (lambda e: e.update(kind=["dm"]), "events[1].kind"),
        (lambda e: e.update(id="x" * 151), "events[1].id"),
    ],
)
def test_a_signed_body_the_worker_could_not_store_is_a_400_naming_the_field(inbox, post_hook, mutate, field):
    events = [event("Bonjour ?", id="ok-1"), event("Bonjour ?", id="bad-1")]
    mutate(events[1])
    r = post_hook(inbox.fr_account, {"events": events})
    assert r.status_code == 400, r.content
    body = r.json()
    assert body["error"] == "malformed" and body["field"] == field and body["detail"].startswith(f"{field}: ")
    assert not InboundDelivery.objects.exists()  # a batch is accepted or refused whole


def test_a_body_nested_100000_levels_is_a_400_not_a_500(inbox, post_hook):
    r = post_hook(inbox.fr_account, None, raw=b"[" * 100_000 + b"]" * 100_000)
    assert r.status_code == 400 and r.json()["field"] == "body" and "nested deeper" in r.json()["detail"]


def test_unsigned_garbage_is_still_refused_before_it_is_read(inbox, post_hook):
    garbage = b"[" * 100_000
    assert post_hook(inbox.fr_account, None, raw=garbage, signature=False).status_code == 401
    assert post_hook(inbox.fr_account, None, raw=garbage, signature="sha256=" + "0" * 64).status_code == 403


# --- in the worker: one bad item fails alone, visibly -----------------------------------------------------------------


def _stored_with(account, events) -> InboundDelivery:
    """A delivery stored as a connector that skipped the validator (or an older release) would have stored it."""
    from dandelion.connectors import fake
    from dandelion.inbox.services import store_delivery

    delivery = store_delivery(account, [fake.make_event("placeholder")] * len(events), enqueue=False)
    InboundDelivery.objects.filter(pk=delivery.pk).update(payload=events)
    return delivery


def test_events_the_validator_refuses_in_a_stored_delivery_fail_alone_and_the_rest_is_stored(inbox, post_hook):
    good_before = post_hook(inbox.fr_account, event("Bonjour, où est ma commande ?", id="before", language="fr"))
    bad_date, huge = event("Bonjour ?", id="p-2"), event("Bonjour ?", id="p-3")
    bad_date["created_at"] = "0001-01-01T00:00:00+01:00"
    huge["author"]["followers"] = 10**30
    poisoned = _stored_with(inbox.fr_account, [event("Bonjour ?", id="p-1"), bad_date, huge,
                                                event("Bonjour ?", id="p-4")])

    process_pending_deliveries.call()

    poisoned.refresh_from_db()
    assert poisoned.state == DeliveryState.FAILED and poisoned.next_attempt_at is None  # bad input: not retried
    assert poisoned.error.startswith("2 of 4 events could not be stored (the others were): events[1].created_at: "
                                     "must be between 1970 and 2100; events[2].author.followers: must be at most")
    assert set(Message.objects.values_list("external_id", flat=True)) == {"before", "p-1", "p-4"}
    assert InboundDelivery.objects.get(pk=good_before.json()["delivery"]).state == DeliveryState.DONE


def test_an_event_the_pipeline_cannot_store_fails_alone_and_the_rest_of_its_batch_is_stored(inbox, post_hook,
                                                                                         monkeypatch):
    """A non-transient failure the validator did not foresee (here: the database refusing a value): the batch is
    split, the delivery's other events are stored, only the failing event is named, other deliveries are done."""
    from django.db import DataError

    from dandelion.inbox import pipeline

    real = pipeline.ingest_batch

    def refusing(items, **kwargs):
        if any(e.external_id == "x-2" for _, e in items):
            raise DataError("value too long for type character varying(150)")
        return real(items, **kwargs)

    monkeypatch.setattr(pipeline, "ingest_batch", refusing)
    first = post_hook(inbox.fr_account, {"events": [event("Bonjour ?", id=f"x-{i}") for i in range(1, 4)]})
    second = post_hook(inbox.fr_account, {"events": [event("Bonjour ?", id="y-1")]})
    other_network = post_hook(inbox.es_account, {"events": [event("Hola ?", id="z-1")]})

    result = process_pending_deliveries.call()

    assert result["deliveries"] == 3
    states = dict(InboundDelivery.objects.values_list("pk", "state"))
    assert states[first.json()["delivery"]] == DeliveryState.FAILED
    assert states[second.json()["delivery"]] == states[other_network.json()["delivery"]] == DeliveryState.DONE
    failed = InboundDelivery.objects.get(pk=first.json()["delivery"])
    assert failed.error == ("1 of 3 events could not be stored (the others were): events[1] (id 'x-2'): "
                            "DataError: value too long for type character varying(150)")
    assert set(Message.objects.values_list("external_id", flat=True)) == {"x-1", "x-3", "y-1", "z-1"}

    # fixed: queued again from the Deliveries page, it stores the missing event once and the others are duplicates
    from dandelion.inbox.services import retry_failed_deliveries

    monkeypatch.setattr(pipeline, "ingest_batch", real)
    assert retry_failed_deliveries(inbox.fr_account, actor=None) == 1
    process_pending_deliveries.call()
    failed.refresh_from_db()
    assert failed.state == DeliveryState.DONE and failed.error == ""
    assert Message.objects.filter(external_id__in=["x-1", "x-2", "x-3"]).count() == 3


def test_the_failure_is_visible_on_the_deliveries_page_and_api(inbox, client_for, api_for):
    poisoned = _stored_with(inbox.fr_account, [event("Bonjour ?", id="v-1"), {"kind": "comment", "text": "no id"}])
    process_pending_deliveries.call()
    poisoned.refresh_from_db()
    assert poisoned.state == DeliveryState.FAILED
    assert poisoned.error == "1 of 2 events could not be stored (the others were): events[1].created_at: required"

    page = client_for(inbox.users.fr_admin).get("/inbox/deliveries/", {"state": "failed"})
    assert page.status_code == 200 and "events[1].created_at: required" in page.content.decode()
    api = api_for(inbox.users.fr_admin).get("/api/v1/inbound-deliveries/", {"state": "failed"})
    assert api.status_code == 200
    rows = api.json()["results"]
    assert [(r["id"], r["state"]) for r in rows] == [(poisoned.pk, "failed")] and "events[1].created_at" in rows[0]["error"]


def test_a_transient_failure_is_still_retried_with_backoff(inbox, post_hook, monkeypatch):
    from django.db import OperationalError

    from dandelion.inbox import pipeline

    monkeypatch.setattr(pipeline, "ingest_batch", lambda items, **kw: (_ for _ in ()).throw(
        OperationalError("could not connect to server")))
    r = post_hook(inbox.fr_account, {"events": [event("Bonjour ?", id="t-1"), event("Bonjour ?", id="t-2")]})
    process_pending_deliveries.call()
    delivery = InboundDelivery.objects.get(pk=r.json()["delivery"])
    assert delivery.state == DeliveryState.PENDING and delivery.next_attempt_at > timezone.now()
    assert "could not connect" in delivery.error


# --- a worker that stops on a delivery: the next one isolates it, the one after sets it aside -----------------------


class Crash(BaseException):
    """What a native crash looks like from inside: nothing after it runs (not an ``Exception``: never caught)."""


def test_a_delivery_that_stops_its_worker_is_isolated_then_set_aside_and_the_others_are_stored(inbox, post_hook,
                                                                                                monkeypatch):
    from dandelion.inbox import jobs

    for i in range(3):
        assert post_hook(inbox.fr_account, {"events": [event("Bonjour ?", id=f"w-{i}")]}).status_code == 202
    a, poison, b = InboundDelivery.objects.order_by("pk")
    real = jobs._ingest_group

    def crashing(group, **kwargs):
        if any(d.pk == poison.pk for d in group):
            raise Crash
        return real(group, **kwargs)

    monkeypatch.setattr(jobs, "_ingest_group", crashing)

    def stale():  # the claim of the dead worker expires
        InboundDelivery.objects.filter(state=DeliveryState.PROCESSING).update(
            claimed_at=timezone.now() - timezone.timedelta(seconds=jobs.stale_claim_seconds() + 1))

    with pytest.raises(Crash):  # the first worker dies on the batch: nothing committed, all three stuck
        process_pending_deliveries.call()
    assert set(InboundDelivery.objects.values_list("state", flat=True)) == {DeliveryState.PROCESSING}
    stale()
    with pytest.raises(Crash):  # the next takes them over, each alone: the one before the poison is stored
        process_pending_deliveries.call()
    states = dict(InboundDelivery.objects.values_list("pk", "state"))
    assert states[a.pk] == DeliveryState.DONE and states[poison.pk] == states[b.pk] == DeliveryState.PROCESSING
    assert InboundDelivery.objects.get(pk=poison.pk).claimed_by.endswith(jobs.ALONE_MARK)
    stale()
    result = process_pending_deliveries.call()  # the poison, named by its mark, is set aside unprocessed
    assert result["deliveries"] == 2
    poison.refresh_from_db()
    assert poison.state == DeliveryState.FAILED and poison.next_attempt_at is None
    assert poison.error.startswith("WorkerStopped: the worker stopped while processing this delivery alone")
    assert InboundDelivery.objects.get(pk=b.pk).state == DeliveryState.DONE
    assert set(Message.objects.values_list("external_id", flat=True)) == {"w-0", "w-2"}


#: A worker process whose pipeline crashes for real (SIGSEGV, like mmh3 on a lone surrogate) on one delivery.
SEGFAULT_WORKER = r"""
import ctypes, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dandelion.config.settings")
import django
django.setup()
from dandelion.inbox import jobs

real = jobs._ingest_group

def ingest_group(group, **kwargs):
    if any(e.get("text") == "SEGFAULT" for d in group for e in d.payload):
        ctypes.string_at(0)  # a native crash: the process dies at once
    return real(group, **kwargs)

jobs._ingest_group = ingest_group
print("RESULT", jobs.process_pending_deliveries.call(), flush=True)
"""


@pytest.mark.django_db(transaction=True)
def test_a_real_native_crash_stops_two_workers_at_most_and_nothing_else_is_lost(inbox, post_hook, tmp_path):
    from dandelion.inbox import jobs
    from tests.inbox.test_faults import REPO_ROOT, _subprocess_env, shared_database

    with shared_database(tmp_path) as database_url:
        texts = ["Bonjour ?", "SEGFAULT", "Bonjour ?", "Bonjour ?"]
        for i, text in enumerate(texts):
            assert post_hook(inbox.fr_account, {"events": [event(text, id=f"s-{i}")]}).status_code == 202
        codes = []
        for _ in range(3):
            worker = subprocess.run([sys.executable, "-c", SEGFAULT_WORKER], check=False, cwd=REPO_ROOT, text=True,
                                    capture_output=True, timeout=120, env=_subprocess_env(database_url))
            codes.append(worker.returncode)
            if worker.returncode == 0:
                break
            InboundDelivery.objects.filter(state=DeliveryState.PROCESSING).update(
                claimed_at=timezone.now() - timezone.timedelta(seconds=jobs.STALE_CLAIM_SECONDS + 1))
        assert codes == [-signal.SIGSEGV, -signal.SIGSEGV, 0], worker.stderr[-2000:]
        states = dict(InboundDelivery.objects.values_list("payload__0__id", "state"))
        assert states == {"s-0": "done", "s-1": "failed", "s-2": "done", "s-3": "done"}
        assert set(Message.objects.values_list("external_id", flat=True)) == {"s-0", "s-2", "s-3"}
        assert "WorkerStopped" in InboundDelivery.objects.get(state=DeliveryState.FAILED).error
    assert os.environ.get("DJANGO_SETTINGS_MODULE")
