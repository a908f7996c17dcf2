"""Webhook → stored delivery → processing job → pipeline: the inbound path, end to end."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import DatabaseError
from django.utils import timezone

from dandelion.inbox.choices import DeliveryState, Direction
from dandelion.inbox.jobs import STALE_CLAIM_SECONDS, claim_deliveries, process_pending_deliveries
from dandelion.inbox.models import Contact, Conversation, ConversationEvent, InboundDelivery, Message
from dandelion.routing.models import AppliedSla
from tests.inbox.conftest import ago, event

pytestmark = pytest.mark.django_db


def test_french_complaint_lands_with_fr_helpers_and_the_sla_clock_runs(inbox, deliver):
    deliver(inbox.fr_account, event("Bonjour, ma commande n'est toujours pas arrivée, c'est inacceptable !",
                                    id="fb-1", author="u-1", name="Camille Martin", language="fr"))
    conv = Conversation.objects.get()
    assert conv.team == inbox.fr_team
    assert conv.language == "fr"
    assert conv.needs_reply and conv.waiting_since is not None
    assert conv.routing_reason["explanation"]
    assert conv.sla_due_at is not None  # first-response clock running
    assert AppliedSla.objects.filter(conversation=conv, metric="first_response", status="active").exists()
    assert conv.assignee in (inbox.users.fr_agent, inbox.users.fr_agent2)  # round robin
    kinds = set(ConversationEvent.objects.filter(conversation=conv).values_list("kind", flat=True))
    assert {"created", "routed"} <= kinds
    msg = Message.objects.get()
    assert msg.direction == Direction.INBOUND and msg.language == "fr" and msg.needs_reply
    assert msg.author_identity.contact.name == "Camille Martin"


def test_amharic_comment_goes_to_modco_moderation(inbox, deliver):
    deliver(inbox.fr_account, event("ሰላም ትዕዛዜ የት ነው? እባካችሁ እርዱኝ", id="fb-am", author="u-am", language="am"))
    conv = Conversation.objects.get()
    assert conv.team == inbox.vendor_team
    assert "ModCo" in conv.routing_reason["explanation"]


def test_redelivered_event_yields_one_message(inbox, deliver):
    payload = event("Où est mon colis ?", id="fb-dup", author="u-2", language="fr")
    deliver(inbox.fr_account, payload)
    deliver(inbox.fr_account, payload, payload)  # redelivered, twice in the same batch
    assert Message.objects.filter(external_id="fb-dup").count() == 1
    assert Conversation.objects.count() == 1
    assert Contact.objects.count() == 1


def test_thread_replies_join_the_conversation_and_echo_counts_as_response(inbox, deliver):
    t0 = ago(minutes=10)
    deliver(inbox.fr_account,
            event("Bonjour, mon colis est en retard ?", id="c1", author="u-3", at=t0, language="fr"),
            event("Nous regardons, pouvez-vous nous écrire en privé ?", id="b1", author="brand", in_reply_to="c1",
                  from_account=True, at=t0 + dt.timedelta(minutes=2)))
    conv = Conversation.objects.get()
    assert conv.first_response_at == t0 + dt.timedelta(minutes=2)
    assert not conv.needs_reply and conv.waiting_since is None
    inbound = Message.objects.get(external_id="c1")
    assert inbound.replied and inbound.replied_at == conv.first_response_at
    assert AppliedSla.objects.get(conversation=conv, metric="first_response").status == "hit"
    # the customer answers in the same thread: it waits again
    deliver(inbox.fr_account, event("Merci, c'est fait. Et maintenant ?", id="c2", author="u-3", in_reply_to="b1",
                                    language="fr"))
    conv.refresh_from_db()
    assert Conversation.objects.count() == 1
    assert conv.needs_reply and conv.messages.count() == 3


def test_echo_of_unknown_post_is_skipped(inbox, deliver):
    deliver(inbox.fr_account, event("Notre nouvelle collection !", id="post-1", author="brand", from_account=True))
    assert Message.objects.count() == 0


def test_dms_are_grouped_per_author(inbox, deliver):
    deliver(inbox.fr_account,
            event("Bonjour, j'ai une question", id="dm1", author="u-9", kind="dm", language="fr"),
            event("Vous êtes là ?", id="dm2", author="u-9", kind="dm", language="fr"))
    conv = Conversation.objects.get()
    assert conv.kind == "private" and conv.messages.count() == 2


# --- the webhook's refusals write nothing ------------------------------------------------------------------------


def _nothing_written():
    assert InboundDelivery.objects.count() == 0
    assert Message.objects.count() == 0


def test_bad_signature_is_refused(inbox, post_hook):
    r = post_hook(inbox.fr_account, event("x", id="s1"), secret="wrong")
    assert r.status_code == 403 and r.json()["error"] == "bad_signature"
    r = post_hook(inbox.fr_account, event("x", id="s1"), signature=False)
    assert r.status_code == 401 and r.json()["error"] == "missing_signature"
    _nothing_written()


def test_oversized_body_is_refused(inbox, post_hook):
    body = json.dumps(event("x" * (300 * 1024), id="big")).encode()
    r = post_hook(inbox.fr_account, None, raw=body)
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    _nothing_written()


def test_oversized_body_with_lying_content_length_is_refused(inbox, post_hook):
    body = json.dumps(event("x" * (300 * 1024), id="big")).encode()
    r = post_hook(inbox.fr_account, None, raw=body, CONTENT_LENGTH="100")
    assert r.status_code in (400, 403, 413)
    _nothing_written()


def test_malformed_payload_names_the_field(inbox, post_hook):
    bad = {"events": [event("ok", id="m1"), {"id": "m2", "kind": "comment", "text": "x",
                                             "created_at": timezone.now().isoformat(), "author": {}}]}
    r = post_hook(inbox.fr_account, bad)
    assert r.status_code == 400
    assert r.json() == {"error": "malformed", "detail": "events[1].author.id: required", "field": "events[1].author.id"}
    r = post_hook(inbox.fr_account, None, raw=b"{not json")
    assert r.status_code == 400 and "invalid JSON" in r.json()["detail"]
    _nothing_written()


def test_unknown_or_archived_account_is_404(inbox, post_hook):
    r = post_hook(type("A", (), {"pk": 999999})(), event("x", id="u1"))
    assert r.status_code == 404 and r.json()["error"] == "unknown_account"
    inbox.es_account.status = "archived"
    inbox.es_account.save(update_fields=["status"])
    r = post_hook(inbox.es_account, event("x", id="u2"))
    assert r.status_code == 404
    _nothing_written()


def test_database_unavailable_is_503_never_202(inbox, post_hook, monkeypatch):
    from dandelion.inbox import services

    def broken(*args, **kwargs):
        raise DatabaseError("database is locked")

    monkeypatch.setattr(services, "store_delivery", broken)
    r = post_hook(inbox.fr_account, event("x", id="d1"))
    assert r.status_code == 503 and r.json()["error"] == "unavailable"


def test_accepted_delivery_is_stored_before_202(inbox, post_hook, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        r = post_hook(inbox.fr_account, {"events": [event("a", id="a1"), event("b", id="a2")]})
    assert r.status_code == 202
    body = r.json()
    assert body["accepted"] == 2
    delivery = InboundDelivery.objects.get(pk=body["delivery"])
    assert delivery.state == DeliveryState.PENDING and delivery.event_count == 2
    assert len(callbacks) == 1  # the processing job, enqueued on commit


# --- processing: claims, stale claims, failures --------------------------------------------------------------------


def test_stale_claim_is_recovered(inbox, post_hook):
    r = post_hook(inbox.fr_account, event("Bonjour ?", id="st1", language="fr"))
    delivery = InboundDelivery.objects.get(pk=r.json()["delivery"])
    claimed = claim_deliveries(worker="killed-worker")
    assert [d.pk for d in claimed] == [delivery.pk]
    # the worker dies here; a second worker cannot claim it while the claim is fresh
    assert claim_deliveries(worker="other") == []
    InboundDelivery.objects.filter(pk=delivery.pk).update(
        claimed_at=timezone.now() - dt.timedelta(seconds=STALE_CLAIM_SECONDS + 5))
    result = process_pending_deliveries.call()
    assert result["deliveries"] == 1
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DONE and delivery.attempts == 2
    assert Message.objects.filter(external_id="st1").count() == 1


def test_failure_is_recorded_with_backoff(inbox, post_hook, monkeypatch):
    from dandelion.inbox import pipeline

    r = post_hook(inbox.fr_account, event("Bonjour ?", id="f1"))
    with monkeypatch.context() as patched:
        patched.setattr(pipeline, "understand", lambda events, account=None, **kw: (_ for _ in ()).throw(RuntimeError("model down")))
        process_pending_deliveries.call()
    delivery = InboundDelivery.objects.get(pk=r.json()["delivery"])
    assert delivery.state == DeliveryState.PENDING and delivery.attempts == 1
    assert "model down" in delivery.error and delivery.next_attempt_at > timezone.now()
    process_pending_deliveries.call()  # not due yet
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PENDING
    InboundDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    process_pending_deliveries.call()
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DONE


def test_the_accounts_single_language_is_evidence_for_short_messages(inbox, deliver):
    """No declared language: on the French account a short French question is read as French and reaches the
    French helpers; an English message there stays English (a hint multiplies odds, it is no verdict)."""
    from dandelion.inbox.models import Message

    deliver(inbox.fr_account,
            event("Où est ma commande ?", id="short-fr", author="u-s1"),
            event("My package never arrived and I want a refund, this is the third time I ask", id="long-en",
                  author="u-s2"))
    fr = Message.objects.get(external_id="short-fr")
    en = Message.objects.get(external_id="long-en")
    assert fr.language == "fr" and fr.conversation.team == inbox.fr_team
    assert en.language == "en" and en.conversation.team == inbox.vendor_team  # ModCo covers English


def test_workers_claim_disjoint_batches(inbox, post_hook):
    ids = [post_hook(inbox.fr_account, event(f"Bonjour {i} ?", id=f"cl{i}", language="fr")).json()["delivery"]
           for i in range(6)]
    a = claim_deliveries(limit=3, worker="a")
    b = claim_deliveries(limit=3, worker="b")
    assert [d.pk for d in a] == ids[:3] and [d.pk for d in b] == ids[3:]
    assert claim_deliveries(limit=3, worker="c") == []


def test_a_worker_that_loses_a_claim_race_takes_the_next_window(inbox, post_hook, monkeypatch):
    """Without SKIP LOCKED (SQLite; forced here on any database): a rival claims the window this worker read
    before its conditional UPDATE lands; the worker claims the next window instead of going away empty."""
    from django.db import connection

    from dandelion.inbox import jobs

    ids = [post_hook(inbox.fr_account, event(f"Bonjour {i} ?", id=f"rc{i}", language="fr")).json()["delivery"]
           for i in range(6)]
    monkeypatch.setattr(connection.features, "has_select_for_update_skip_locked", False)
    real_claimable, calls = jobs._claimable, []

    def claimable_with_a_rival(now):
        calls.append(now)
        if len(calls) == 2:  # the first conditional UPDATE: the rival got there first
            InboundDelivery.objects.filter(pk__in=ids[:3]).update(
                state=DeliveryState.PROCESSING, claimed_by="rival", claimed_at=now)
        return real_claimable(now)

    monkeypatch.setattr(jobs, "_claimable", claimable_with_a_rival)
    claimed = jobs.claim_deliveries(limit=3, worker="a")
    assert [d.pk for d in claimed] == ids[3:]
    assert set(InboundDelivery.objects.filter(pk__in=ids[:3]).values_list("claimed_by", flat=True)) == {"rival"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_rows_locked_by_another_workers_claim_are_skipped(inbox, post_hook):
    """PostgreSQL: while one worker's claim transaction holds the oldest rows, another claims the rest at once
    (no waiting on the lock, no double claim)."""
    import threading

    from django.db import connection, connections

    assert connection.features.has_select_for_update_skip_locked
    ids = [post_hook(inbox.fr_account, event(f"Hola {i}", id=f"lk{i}", language="es")).json()["delivery"]
           for i in range(4)]
    locked, release = threading.Event(), threading.Event()

    def hold_first_two():
        from django.db import transaction

        try:
            with transaction.atomic():
                list(InboundDelivery.objects.select_for_update().filter(pk__in=ids[:2]))
                locked.set()
                release.wait(20)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_first_two)
    holder.start()
    try:
        assert locked.wait(20)
        claimed = claim_deliveries(limit=10, worker="b")
        assert [d.pk for d in claimed] == ids[2:]
    finally:
        release.set()
        holder.join(20)
    assert [d.pk for d in claim_deliveries(limit=10, worker="c")] == ids[:2]


def test_a_batch_reads_routing_and_sla_configuration_once_per_team(inbox, post_hook):
    """Twelve new French conversations in one delivery: the team's SLA policies, its calendar and the default
    route's units and teams are read once for the batch, not once per conversation."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    post_hook(inbox.fr_account, {"events": [event(f"Bonjour, ma commande {i} n'est pas arrivée ?", id=f"b{i}",
                                                  author=f"u-b{i}", language="fr") for i in range(12)]})
    with CaptureQueriesContext(connection) as queries:
        assert process_pending_deliveries.call()["created"] == 12
    assert Conversation.objects.filter(team=inbox.fr_team).count() == 12

    def reads(table):
        return sum(1 for q in queries.captured_queries
                   if q["sql"].lstrip().upper().startswith("SELECT") and f'FROM "{table}"' in q["sql"])

    assert reads("routing_slapolicy") == 1
    assert reads("routing_businesscalendar") <= 2  # the team's own, then its units'
    assert reads("orgs_orgunit") <= 3
    assert reads("orgs_membership") == 1  # who is assignable in the team; their loads are counted per assignment
    assert reads("routing_appliedsla") == 0  # new conversations have no clocks to look up: they are created
    assert AppliedSla.objects.filter(conversation__team=inbox.fr_team, metric="first_response").count() == 12
    assert not Conversation.objects.filter(team=inbox.fr_team, sla_due_at__isnull=True).exists()


# --- the batch: planned in memory, written once -------------------------------------------------------------------


def _events_of(n, *, prefix, start=0):
    from dandelion.inbox.connect import event_from_dict

    t0 = ago(minutes=30)
    return [event_from_dict(event(f"Bonjour, ma commande {i} n'est toujours pas arrivée ?", id=f"{prefix}-{i}",
                                  author=f"{prefix}-author-{i}", at=t0 + dt.timedelta(seconds=i), language="fr"))
            for i in range(start, start + n)]


def test_a_batch_costs_the_same_queries_for_5_or_40_new_conversations(inbox):
    """Routing, SLA clocks and assignment are planned per batch: more conversations add rows, not queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dandelion.inbox.pipeline import ingest_events

    account = type(inbox.fr_account).objects.select_related("owner_unit").get(pk=inbox.fr_account.pk)
    # first contacts of the tables, lazy team creation, on PostgreSQL each table's sequence looked up once (COPY)
    ingest_events(account, _events_of(20, prefix="warm"))
    counts = []
    for n, prefix in ((5, "small"), (40, "large")):
        with CaptureQueriesContext(connection) as ctx:
            result = ingest_events(account, _events_of(n, prefix=prefix))
        assert result.created == n and result.conversations_created == n
        counts.append(len(ctx.captured_queries))
    # 8x the conversations, the same statements (SQLite splits a long INSERT by its parameter limit: a few more)
    assert counts[1] <= counts[0] + 4, counts
    convs = Conversation.objects.filter(thread_key__startswith="large-")
    assert convs.count() == 40
    assert not convs.filter(team__isnull=True).exists()
    assert not convs.filter(sla_due_at__isnull=True).exists()  # every one on the clock, written with its INSERT
    assert AppliedSla.objects.filter(conversation__in=convs, metric="first_response", status="active").count() == 40
    assert ConversationEvent.objects.filter(conversation__in=convs, kind="routed").count() == 40


def test_a_batch_assigns_round_robin_within_capacity_and_audits_each_assignment(inbox):
    from dandelion.core.models import AuditEvent
    from dandelion.inbox.pipeline import ingest_events
    from dandelion.orgs.models import Membership

    Membership.objects.filter(team=inbox.fr_team).update(capacity=2)
    account = type(inbox.fr_account).objects.select_related("owner_unit").get(pk=inbox.fr_account.pk)
    ingest_events(account, _events_of(6, prefix="rr"))
    convs = list(Conversation.objects.filter(thread_key__startswith="rr-").order_by("first_inbound_at"))
    assignees = [c.assignee for c in convs]
    agents = {inbox.users.fr_agent, inbox.users.fr_agent2}
    assert set(assignees[:4]) == agents and assignees[0] != assignees[1] and assignees[2] != assignees[3]
    assert assignees[4:] == [None, None]  # both agents at capacity (2 each): the rest waits in the team queue
    assigned = [c for c in convs if c.assignee]
    assert ConversationEvent.objects.filter(kind="assigned", conversation__in=assigned).count() == 4
    assert AuditEvent.objects.filter(action="routing.conversation.auto_assign",
                                     object_id__in=[str(c.pk) for c in assigned]).count() == 4


def test_a_concurrent_worker_storing_part_of_the_batch_makes_it_run_again_storing_each_event_once(
        inbox, monkeypatch):
    """Between this batch's dedup and its INSERT another worker stores one of its events (same thread): the
    unique constraint stops the INSERT, the transaction rolls back, the batch runs again and skips that event."""
    from dandelion.inbox import pipeline

    account = type(inbox.fr_account).objects.select_related("owner_unit").get(pk=inbox.fr_account.pk)
    events = _events_of(3, prefix="race")
    real = pipeline.understand
    calls = []

    def understand_then_race(batch, acc=None, **kwargs):
        calls.append(len(batch))
        if len(calls) == 1:  # the other worker, while this one reads its texts
            pipeline.ingest_events(account, [events[1]])
        return real(batch, acc, **kwargs)

    monkeypatch.setattr(pipeline, "understand", understand_then_race)
    result = pipeline.ingest_events(account, events)
    assert result.duplicates == 1 and result.created == 2
    assert Message.objects.filter(external_id__startswith="race-").count() == 3
    for e in events:
        assert Message.objects.filter(external_id=e.external_id).count() == 1
    assert Conversation.objects.filter(thread_key__startswith="race-").count() == 3
    assert calls[0] == 3  # the batch read its texts once: the second attempt reused them


def test_an_answer_arriving_before_its_message_waits_for_it_then_counts_as_the_response(inbox, deliver, settings):
    """Out of order (or held by another worker): the brand's answer comes first. It is not skipped as an answer to
    the brand's own post: it waits (a delivery due later), and once the customer's message is stored it is stored
    in its thread and counts as the first response."""
    settings.DANDELION_ECHO_WAITS = [0, 0]
    t0 = ago(minutes=10)
    answer = event("Bonjour, nous regardons.", id="b-early", author="brand", in_reply_to="c-late", from_account=True,
                   at=t0 + dt.timedelta(minutes=3))
    deliver(inbox.fr_account, answer)
    assert Message.objects.count() == 0
    waiting = InboundDelivery.objects.get(source="echo-wait")
    assert waiting.state == DeliveryState.PENDING and waiting.payload[0]["echo_wait"] == 1
    InboundDelivery.objects.filter(pk=waiting.pk).update(next_attempt_at=timezone.now() + dt.timedelta(minutes=2))
    from django.test import Client

    health = Client().get("/healthz").json()["inbound"]  # waiting is not a backlog
    assert health["backlog"] == 0 and health["answers_waiting_for_their_message"] == 1
    InboundDelivery.objects.filter(pk=waiting.pk).update(next_attempt_at=timezone.now())
    deliver(inbox.fr_account, event("Bonjour, ma commande n'est pas arrivée ?", id="c-late", author="u-9", at=t0,
                                    language="fr"))
    process_pending_deliveries.call()  # the waiting answer's turn
    conv = Conversation.objects.get()
    assert conv.messages.count() == 2
    assert conv.first_response_at == t0 + dt.timedelta(minutes=3) and not conv.needs_reply
    assert Message.objects.get(external_id="c-late").replied
    assert not InboundDelivery.objects.exclude(state=DeliveryState.DONE).exists()


def test_an_answer_whose_message_never_comes_is_skipped_after_its_last_wait(inbox, deliver, settings):
    settings.DANDELION_ECHO_WAITS = [0, 0]
    deliver(inbox.fr_account, event("Merci à tous !", id="b-orphan", author="brand", in_reply_to="brand-post-1",
                                    from_account=True))
    for _ in range(3):
        process_pending_deliveries.call()
    assert Message.objects.count() == 0
    levels = sorted(d.payload[0]["echo_wait"] for d in InboundDelivery.objects.filter(source="echo-wait"))
    assert levels == [1, 2]  # waited twice, then skipped
    assert not InboundDelivery.objects.exclude(state=DeliveryState.DONE).exists()


def test_a_deadlock_between_two_batches_runs_the_batch_again_other_database_errors_do_not(inbox, monkeypatch):
    from django.db import OperationalError

    from dandelion.inbox import pipeline

    class Deadlock(Exception):
        sqlstate = "40P01"

    def crossed(*args, **kwargs):
        error = OperationalError("deadlock detected")
        error.__cause__ = Deadlock()
        raise error

    account = type(inbox.fr_account).objects.select_related("owner_unit").get(pk=inbox.fr_account.pk)
    real, calls = pipeline._ingest_once, []

    def once_crossed(*args, **kwargs):
        calls.append(1)
        return crossed() if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_ingest_once", once_crossed)
    assert pipeline.ingest_events(account, _events_of(2, prefix="dl")).created == 2 and len(calls) == 2

    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(pipeline, "_ingest_once", down)
    with pytest.raises(OperationalError):
        pipeline.ingest_events(account, _events_of(1, prefix="down"))


# --- a claim over several accounts of one network: one batch, each account threaded apart --------------------------


def _facebook_accounts(inbox, n):
    """``n`` more facebook accounts (the network of ``inbox.fr_account``), alternately French and Spanish."""
    from tests.factories import SocialAccountFactory

    units = [(inbox.france, "fr", "FR"), (inbox.spain, "es", "ES")]
    return [SocialAccountFactory(owner_unit=units[i % 2][0], network="facebook", handle=f"@brand_fb_{i}",
                                 external_id=f"fb-extra-{i}", languages=[units[i % 2][1]], country=units[i % 2][2],
                                 connector="fake") for i in range(n)]


def test_a_claim_over_accounts_of_one_network_threads_routes_and_dates_each_account_apart(inbox, post_hook):
    spanish = _facebook_accounts(inbox, 2)[1]
    french = inbox.fr_account
    t0 = ago(minutes=20)
    at = [t0 + dt.timedelta(minutes=i) for i in range(5)]
    assert post_hook(french, {"events": [
        event("Bonjour, ma commande n'est pas arrivée", id="fb-1", author="same-person", kind="dm", at=at[0],
              language="fr"),
        event("Bonjour, où est mon colis ?", id="fb-2", author="someone", at=at[1], language="fr"),
    ]}).status_code == 202
    assert post_hook(spanish, {"events": [
        # the same person writes to both accounts: one conversation on each
        event("Hola, mi pedido no ha llegado", id="fb-3", author="same-person", kind="dm", at=at[2], language="es"),
        # a reply naming a message of the other account (in the same claim): a thread of this account, not theirs
        event("¿Y el mío?", id="fb-4", author="other", in_reply_to="fb-2", at=at[3], language="es"),
        # the brand's answer to the other account's message: not this account's thread (it waits for a message
        # of its own account, then is skipped)
        event("Le vamos a ayudar", id="fb-5", from_account=True, in_reply_to="fb-2", at=at[4]),
    ]}).status_code == 202

    result = process_pending_deliveries.call()

    assert result["deliveries"] == 2 and result["created"] == 4
    assert set(InboundDelivery.objects.exclude(source="echo-wait").values_list("state", flat=True)) == {
        DeliveryState.DONE}
    waiting = InboundDelivery.objects.get(source="echo-wait")
    assert waiting.account == spanish and [e["id"] for e in waiting.payload] == ["fb-5"]
    dms = {c.account_id: c for c in Conversation.objects.filter(kind="private")}
    assert set(dms) == {french.pk, spanish.pk}
    assert dms[french.pk].team == inbox.fr_team and dms[spanish.pk].team == inbox.es_team
    reply = Message.objects.get(external_id="fb-4")
    assert reply.conversation.account == spanish and reply.conversation.thread_key == "fb-4"
    original = Message.objects.get(external_id="fb-2")
    assert original.conversation.account == french and original.conversation.messages.count() == 1
    assert not original.replied and not Message.objects.filter(external_id="fb-5").exists()
    french.refresh_from_db()
    spanish.refresh_from_db()
    assert french.last_activity_at == at[1] and spanish.last_activity_at == at[4]


def _claim_statements(inbox, post_hook, accounts, prefix):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for k, account in enumerate(accounts):
        events = [event(f"Bonjour, commande {k}-{i} pas arrivée ?", id=f"{prefix}-{k}-{i}",
                        author=f"{prefix}-a-{k}-{i}", language="fr") for i in range(3)]
        assert post_hook(account, {"events": events}).status_code == 202
    with CaptureQueriesContext(connection) as ctx:
        result = process_pending_deliveries.call()
    assert result == {"deliveries": len(accounts), "created": 3 * len(accounts), "duplicates": 0}
    return len(ctx.captured_queries)


def test_a_claim_costs_the_same_statements_for_2_or_8_accounts_of_one_network(inbox, post_hook):
    """Every account's events are written together: more accounts in a claim add rows, not statements (it was
    some 25 statements more per account)."""
    accounts = [inbox.fr_account, *_facebook_accounts(inbox, 9)]
    _claim_statements(inbox, post_hook, accounts[:1], "warm")  # lazy team creation, first contacts of the tables
    two = _claim_statements(inbox, post_hook, accounts[1:3], "two")
    eight = _claim_statements(inbox, post_hook, accounts[2:10], "eight")
    assert eight <= two + 6, (two, eight)  # SQLite splits a long INSERT by its parameter limit: a few more


def test_a_bad_delivery_in_a_claim_over_several_accounts_holds_back_only_itself(inbox, post_hook):
    other = _facebook_accounts(inbox, 1)[0]
    for account, prefix in ((inbox.fr_account, "a"), (inbox.fr_account, "b"), (other, "c")):
        assert post_hook(account, {"events": [event("Bonjour, où est ma commande ?", id=f"{prefix}-1",
                                                    author=f"{prefix}-author", language="fr")]}).status_code == 202
    bad = InboundDelivery.objects.order_by("pk")[1]
    InboundDelivery.objects.filter(pk=bad.pk).update(payload=[{"kind": "comment"}])  # no id: unreadable

    process_pending_deliveries.call()

    states = dict(InboundDelivery.objects.values_list("pk", "state"))
    assert states.pop(bad.pk) == DeliveryState.FAILED  # unreadable: failed for good at once, never retried
    assert set(states.values()) == {DeliveryState.DONE}
    bad.refresh_from_db()
    assert bad.attempts == 1 and bad.error.startswith("events[0].") and bad.error.endswith(": required")
    assert bad.next_attempt_at is None and bad.processed_at is not None
    assert set(Message.objects.values_list("external_id", flat=True)) == {"a-1", "c-1"}


def test_an_identity_another_worker_created_meanwhile_wins(inbox, monkeypatch):
    """Identities are inserted in one statement; when another worker created one of them after this batch looked,
    the batch takes theirs, drops the contact it made for it, and creates the others once."""
    from dandelion.inbox import pipeline
    from dandelion.inbox.models import AuthorIdentity

    account = type(inbox.fr_account).objects.select_related("owner_unit").get(pk=inbox.fr_account.pk)
    events = _events_of(20, prefix="race")
    real = pipeline.insert_rows

    def racing(model, objs):
        # after the batch looked its authors up, before it inserts their identities
        if model is Contact and not AuthorIdentity.objects.filter(external_id="race-author-3").exists():
            theirs = Contact.objects.create(name="Theirs")  # the other worker's, committed before ours
            AuthorIdentity.objects.create(network=account.network, external_id="race-author-3", contact=theirs)
        return real(model, objs)

    monkeypatch.setattr(pipeline, "insert_rows", racing)
    contacts_before = Contact.objects.count()
    result = pipeline.ingest_events(account, events)
    assert result.created == 20
    identities = AuthorIdentity.objects.filter(external_id__startswith="race-author-")
    assert identities.count() == 20 and len({i.contact_id for i in identities}) == 20
    theirs = identities.get(external_id="race-author-3")
    assert theirs.contact.name == "Theirs"
    assert Message.objects.get(external_id="race-3").author_identity_id == theirs.pk
    assert Conversation.objects.get(thread_key="race-3").contact_id == theirs.contact_id
    assert Contact.objects.count() == contacts_before + 20  # ours for race-author-3 was dropped, not left orphaned


# --- configuration kept across a worker's batches ----------------------------------------------------------------


def test_a_worker_reads_configuration_once_and_again_only_after_a_change(inbox, post_hook):
    """A steady stream of small batches: the second batch reads no routing, SLA or assignment configuration; a rule
    created through the service, or an agent made unavailable, applies to the very next batch."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dandelion.orgs.services import update_membership
    from dandelion.routing.services import create_routing_rule

    config_tables = ("routing_routingrule", "routing_slapolicy", "routing_businesscalendar", "orgs_membership",
                     "orgs_team", "orgs_orgunit")

    def batch(i, text="Bonjour, ma commande n'est pas arrivée ?"):
        post_hook(inbox.fr_account, {"events": [event(text, id=f"k{i}", author=f"u-k{i}", language="fr")]})
        with CaptureQueriesContext(connection) as queries:
            assert process_pending_deliveries.call()["created"] == 1
        reads = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")
                 and any(f'FROM "{t}"' in q["sql"] for t in config_tables)]
        return Conversation.objects.get(thread_key=f"k{i}"), reads

    first, reads = batch(1)
    assert first.team == inbox.fr_team and first.assignee is not None and reads
    second, reads = batch(2)
    assert second.team == inbox.fr_team and second.sla_due_at is not None and second.assignee is not None
    assert reads == []  # all kept from the first batch

    create_routing_rule(actor=inbox.users.hub_admin, unit=inbox.france, name="Refunds to Spain",
                        conditions={"all": [{"field": "keywords", "op": "any", "value": ["remboursement"]}]},
                        actions={"route_to_team": inbox.es_team.pk})
    third, reads = batch(3, "Je veux un remboursement")
    assert third.team == inbox.es_team and reads  # the new rule, read afresh
    assert third.routing_reason["rule"] is not None

    for membership in inbox.fr_team.memberships.all():
        update_membership(actor=inbox.users.hub_admin, membership=membership, is_available=False)
    fourth, _ = batch(4)
    assert fourth.team == inbox.fr_team and fourth.assignee is None  # nobody available: it waits in the queue


# --- deduplication per receiving account; linked copies ------------------------------------------------------------


def _second_french_account(inbox):
    """Another facebook account of the French unit (the same helpers may answer on both)."""
    from tests.factories import SocialAccountFactory

    return SocialAccountFactory(owner_unit=inbox.france, network="facebook", handle="@brand_fr_support",
                                external_id="fb-fr-support", languages=["fr"], country="FR", connector="fake")


def test_the_same_post_reaching_two_accounts_is_one_message_in_each_inbox_linked(inbox, deliver, post_hook):
    """A public post mentioning two of the organisation's accounts: each account receives it (same network id).
    Neither delivery is lost: two messages, one per inbox, linked by their external id; delivered again to either
    account, each is still stored once."""
    other = _second_french_account(inbox)
    post = event("@brand_fr @brand_fr_support ma commande n'est jamais arrivée !", id="post-77", author="u-7",
                 language="fr")
    deliver(inbox.fr_account, post)
    deliver(other, post)
    mine, theirs = (Message.objects.get(external_id="post-77", account=a) for a in (inbox.fr_account, other))
    assert mine.conversation != theirs.conversation
    assert mine.conversation.account == inbox.fr_account and theirs.conversation.account == other
    assert list(mine.linked()) == [theirs] and list(theirs.linked()) == [mine]
    assert mine.conversation.needs_reply and theirs.conversation.needs_reply  # both inboxes show it
    assert mine.author_identity == theirs.author_identity  # one person
    # delivered again to each account (and twice to one in a single claim): nothing more
    assert post_hook(inbox.fr_account, {"events": [post, post]}).status_code == 202
    assert post_hook(other, {"events": [post]}).status_code == 202
    result = process_pending_deliveries.call()
    assert result["deliveries"] == 2 and result["created"] == 0 and result["duplicates"] == 3
    assert Message.objects.filter(external_id="post-77").count() == 2
    assert Conversation.objects.count() == 2


def test_the_same_post_reaching_two_accounts_in_one_claim_is_stored_for_each(inbox, post_hook):
    other = _second_french_account(inbox)
    post = event("@brand_fr @brand_fr_support remboursement ?", id="post-78", author="u-8", language="fr")
    for account in (inbox.fr_account, other, other):
        assert post_hook(account, {"events": [post]}).status_code == 202
    result = process_pending_deliveries.call()
    assert result["created"] == 2 and result["duplicates"] == 1
    assert sorted(Message.objects.filter(external_id="post-78").values_list("account_id", flat=True)) == sorted(
        [inbox.fr_account.pk, other.pk])


def test_the_key_is_the_receiving_account_and_the_external_id(inbox, deliver):
    """The database guards the key itself: a second copy for one account is refused, one for another is not."""
    from django.db import IntegrityError, transaction

    other = _second_french_account(inbox)
    deliver(inbox.fr_account, event("Bonjour ?", id="k-1", author="u-9", language="fr"))
    stored = Message.objects.get(external_id="k-1")
    copy = Message.objects.get(pk=stored.pk)
    copy.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()
    copy.pk, copy.account = None, other
    copy.save()
    assert Message.objects.filter(external_id="k-1").count() == 2


def test_answering_one_copy_answers_the_other_and_says_from_which_account(inbox, deliver):
    """Answered from one inbox, the other copy is answered too: its conversation stops waiting, its first response
    target is hit, and its history says from which account (and conversation) it was answered."""
    from dandelion.inbox import services
    from dandelion.inbox.choices import EventKind

    other = _second_french_account(inbox)
    post = event("Bonjour, ma commande n'est toujours pas arrivée !", id="post-79", author="u-10", language="fr",
                 at=ago(minutes=5))
    deliver(inbox.fr_account, post)
    deliver(other, post)
    mine = Conversation.objects.get(account=inbox.fr_account)
    theirs = Conversation.objects.get(account=other)
    assert theirs.team == inbox.fr_team and AppliedSla.objects.filter(conversation=theirs).exists()
    services.reply_to_conversation(mine, text="Bonjour, nous regardons.", actor=inbox.users.fr_agent)
    theirs.refresh_from_db()
    copy = Message.objects.get(account=other, external_id="post-79")
    assert copy.replied and copy.replied_at is not None
    assert not theirs.needs_reply and theirs.waiting_since is None
    assert theirs.first_response_at == copy.replied_at and theirs.last_outbound_at is None  # nothing sent from it
    assert AppliedSla.objects.get(conversation=theirs, metric="first_response").status == "hit"
    note = ConversationEvent.objects.get(conversation=theirs, kind=EventKind.ANSWERED_ELSEWHERE)
    assert note.data["from_account"] == inbox.fr_account.pk
    assert note.data["from_account_handle"] == inbox.fr_account.handle
    assert note.data["from_conversation"] == mine.pk and note.data["message"] == copy.pk


def test_an_echo_answering_one_copy_answers_the_other(inbox, deliver):
    """The brand answered outside Dandelion, from one account: the other account's copy is answered too."""
    other = _second_french_account(inbox)
    t0 = ago(minutes=10)
    post = event("@brand_fr @brand_fr_support où est ma commande ?", id="post-80", author="u-11", language="fr",
                 at=t0)
    deliver(other, post)
    deliver(inbox.fr_account, post,
            event("Nous regardons !", id="ans-80", author="brand", in_reply_to="post-80", from_account=True,
                  at=t0 + dt.timedelta(minutes=3)))
    theirs = Conversation.objects.get(account=other)
    assert not theirs.needs_reply and theirs.first_response_at == t0 + dt.timedelta(minutes=3)
    assert Message.objects.get(account=other, external_id="post-80").replied
    assert not Message.objects.filter(account=other, external_id="ans-80").exists()  # the answer is not theirs


def test_a_copy_arriving_after_the_post_was_answered_elsewhere_does_not_wait(inbox, deliver):
    from dandelion.inbox import services
    from dandelion.inbox.choices import EventKind

    other = _second_french_account(inbox)
    post = event("@brand_fr @brand_fr_support un souci avec ma carte", id="post-81", author="u-12", language="fr",
                 at=ago(minutes=30))
    deliver(inbox.fr_account, post)
    services.reply_to_conversation(Conversation.objects.get(), text="Bonjour, c'est réglé.",
                                   actor=inbox.users.fr_agent)
    deliver(other, post)  # late: the network delivered the mention to the second account afterwards
    theirs = Conversation.objects.get(account=other)
    copy = Message.objects.get(account=other, external_id="post-81")
    answer_at = Message.objects.get(account=inbox.fr_account, external_id="post-81").replied_at
    assert copy.replied and copy.replied_at == answer_at
    assert not theirs.needs_reply and theirs.first_response_at == answer_at
    assert not AppliedSla.objects.filter(conversation=theirs, metric="first_response", status="active").exists()
    assert ConversationEvent.objects.filter(conversation=theirs, kind=EventKind.ANSWERED_ELSEWHERE).count() == 1
    # a later message of the customer in that thread waits as usual
    deliver(other, event("Merci mais encore une question", id="post-82", author="u-12", in_reply_to="post-81",
                         language="fr"))
    theirs.refresh_from_db()
    assert theirs.needs_reply


def test_a_private_answer_answers_only_its_own_inbox(inbox, deliver):
    """DMs are not linked answers: a private reply reaches one inbox only."""
    from dandelion.inbox import services

    other = _second_french_account(inbox)
    dm = event("Bonjour, en privé : ma commande ?", id="dm-83", author="u-13", kind="dm", language="fr")
    deliver(inbox.fr_account, dm)
    deliver(other, dm)
    services.reply_to_conversation(Conversation.objects.get(account=inbox.fr_account), text="Bonjour",
                                   actor=inbox.users.fr_agent)
    assert Conversation.objects.get(account=other).needs_reply
    assert not Message.objects.get(account=other, external_id="dm-83").replied


def test_the_conversation_page_shows_the_linked_copy_and_where_it_was_answered(inbox, deliver, client_for):
    """The other inbox shows the post was answered from the first account, with a link for whoever may open that
    conversation; a copy in another spoke is named, without a link, to people who may not open it."""
    from dandelion.inbox import services
    from tests.factories import SocialAccountFactory

    other = _second_french_account(inbox)
    spanish = SocialAccountFactory(owner_unit=inbox.spain, network="facebook", handle="@brand_es_fb",
                                   external_id="fb-es", languages=["es"], country="ES", connector="fake")
    post = event("Bonjour, ma commande n'est toujours pas arrivée !", id="post-90", author="u-20", language="fr",
                 at=ago(minutes=5))
    for account in (inbox.fr_account, other, spanish):
        deliver(account, post)
    mine = Conversation.objects.get(account=inbox.fr_account)
    theirs = Conversation.objects.get(account=other)
    services.reply_to_conversation(mine, text="Bonjour, nous regardons.", actor=inbox.users.fr_agent)

    page = client_for(inbox.users.fr_agent).get(theirs.get_absolute_url()).content.decode()
    assert "Answered from @brand_fr" in page and f'href="{mine.get_absolute_url()}"' in page
    assert "Also received by" in page and "@brand_es_fb" in page
    spanish_conv = Conversation.objects.get(account=spanish)
    assert spanish_conv.get_absolute_url() not in page  # not this agent's spoke: named, not linked
    assert "The same post was answered from @brand_fr." in page  # the history says it too
    admin_page = client_for(inbox.users.hub_admin).get(theirs.get_absolute_url()).content.decode()
    assert f'href="{spanish_conv.get_absolute_url()}"' in admin_page
