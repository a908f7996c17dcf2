"""core.bulk: ``insert_rows`` stores what ``bulk_create`` stores (COPY on PostgreSQL), ``update_rows`` writes what
``bulk_update`` writes and merges appended text and turned-on flags with the row as it is now."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from dandelion.core import bulk
from dandelion.inbox.choices import ConversationStatus, Direction, EventKind, Priority
from dandelion.inbox.models import Contact, Conversation, ConversationEvent, Message
from tests.factories import SocialAccountFactory

pytestmark = pytest.mark.django_db

AWKWARD = ["plain", "tab\there", "line\nbreak", "back\\slash \\N", "quote ' and \"", "ünïcödé 日本語 🙂", "", " \r\n"]
AT = dt.datetime(2026, 12, 2, 9, 30, 15, 123456, tzinfo=dt.UTC)


def conversation(**kwargs) -> Conversation:
    account = kwargs.pop("account", None) or SocialAccountFactory()
    contact = Contact.objects.create(name="C")
    return Conversation.objects.create(account=account, contact=contact, thread_key=f"t{contact.pk}", **kwargs)


def messages(conv: Conversation, n: int, prefix: str) -> list[Message]:
    return [Message(conversation=conv, account_id=conv.account_id, network="facebook", external_id=f"{prefix}-{i}",
                    direction=Direction.INBOUND,
                    text=AWKWARD[i % len(AWKWARD)] + f" #{i}", sent_at=AT + dt.timedelta(seconds=i),
                    language="fr" if i % 2 else "", spam=i / 7, needs_reply=bool(i % 3),
                    replied_at=None if i % 4 else AT, in_reply_to="" if i % 5 else "parent-0")
            for i in range(n)]


def stored(qs, exclude=("id", "external_id", "received_at", "created_at")) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in exclude} for row in qs.order_by("id").values()]


@pytest.mark.parametrize("n", [3, 40])  # below and above COPY_FROM: both paths on PostgreSQL
def test_insert_rows_stores_what_bulk_create_stores(n):
    conv = conversation()
    ours, theirs = messages(conv, n, "ours"), messages(conv, n, "theirs")
    bulk.insert_rows(Message, ours)
    Message.objects.bulk_create(theirs)
    assert stored(Message.objects.filter(external_id__startswith="ours")) == \
        stored(Message.objects.filter(external_id__startswith="theirs"))
    assert [m.text for m in Message.objects.filter(external_id__startswith="ours").order_by("id")] == \
        [m.text for m in ours]
    # the objects are saved ones, numbered in order, as bulk_create leaves them
    assert all(m.pk is not None and not m._state.adding and m._state.db == "default" for m in ours)
    assert [m.pk for m in ours] == sorted(m.pk for m in ours)
    assert {m.pk: m.external_id for m in ours} == dict(
        Message.objects.filter(external_id__startswith="ours").values_list("pk", "external_id"))
    assert all(m.received_at is not None for m in Message.objects.filter(external_id__startswith="ours"))


def test_insert_rows_json_choices_and_unsaved_parents():
    account = SocialAccountFactory()
    parents = [Conversation(account=account, contact=Contact.objects.create(name=f"P{i}"), thread_key=f"t{i}",
                            status=ConversationStatus.OPEN, priority=Priority.HIGH, routing_reason={"rule": i})
               for i in range(20)]
    # events built while their conversations are unsaved, then the conversations inserted: the events take their ids
    events = [ConversationEvent(conversation=c, kind=EventKind.ROUTED,
                                data={"n": i, "nested": {"list": [1, "two", None]}, "text": AWKWARD[i % 8]})
              for i, c in enumerate(parents)]
    bulk.insert_rows(Conversation, parents)
    bulk.insert_rows(ConversationEvent, events)
    rows = list(ConversationEvent.objects.filter(conversation__in=parents).order_by("id"))
    assert [(r.conversation_id, r.kind, r.data) for r in rows] == [
        (c.pk, "routed", {"n": i, "nested": {"list": [1, "two", None]}, "text": AWKWARD[i % 8]})
        for i, c in enumerate(parents)]
    saved = Conversation.objects.filter(pk__in=[c.pk for c in parents]).order_by("id")
    assert [(c.status, c.priority, c.routing_reason, c.thread_key) for c in saved] == [
        ("open", "high", {"rule": i}, f"t{i}") for i in range(20)]  # stored as values, not as enum names
    assert all(c.created_at is not None for c in saved)


@pytest.mark.parametrize("n", [3, 40])  # both paths on PostgreSQL
def test_insert_rows_sets_auto_now_fields_on_the_objects_and_the_rows_alike(n):
    from django.utils import timezone

    conv = conversation()
    ours = messages(conv, n, "stamp")
    for m in ours:
        m.received_at = AT  # an old value held by the object: auto_now_add replaces it on insert, as save does
    before = timezone.now()
    bulk.insert_rows(Message, ours)
    after = timezone.now()
    rows = dict(Message.objects.filter(external_id__startswith="stamp").values_list("pk", "received_at"))
    assert all(before <= m.received_at <= after and rows[m.pk] == m.received_at for m in ours)


def test_insert_rows_unique_violation_raises_and_keeps_nothing():
    conv = conversation()
    bulk.insert_rows(Message, messages(conv, 20, "dup"))
    again = messages(conv, 20, "new") + messages(conv, 1, "dup")  # one external id already stored
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.insert_rows(Message, again)
    assert all(m.pk is None for m in again)
    assert not Message.objects.filter(external_id__startswith="new").exists()
    assert Message.objects.filter(conversation=conv).count() == 20  # the transaction goes on


def test_insert_rows_uses_copy_on_postgresql():
    conv = conversation()
    with CaptureQueriesContext(connection) as ctx:
        bulk.insert_rows(Message, messages(conv, bulk.COPY_FROM, "copy"))
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    if connection.vendor == "postgresql":
        assert "nextval" in sql and "INSERT" not in sql  # the rows went by COPY, which the capture cannot see
    else:
        assert "INSERT" in sql
    assert Message.objects.filter(external_id__startswith="copy").count() == bulk.COPY_FROM


@pytest.mark.parametrize("chunk", [1000, 2])
def test_update_rows_writes_fields_appends_and_turns_on(monkeypatch, chunk):
    monkeypatch.setattr(bulk, "UPDATE_CHUNK", chunk)
    account = SocialAccountFactory()
    convs = [conversation(account=account, search_text=f"start {i}\n") for i in range(5)]
    # another writer appends to the first and sets the flag of the second after our copies were read
    Conversation.objects.filter(pk=convs[0].pk).update(search_text="start 0\ntheirs\n")
    Conversation.objects.filter(pk=convs[1].pk).update(search_truncated=True)
    for i, c in enumerate(convs):
        c.status, c.priority = ConversationStatus.RESOLVED, Priority.URGENT
        c.waiting_since = AT if i % 2 else None
        c.routing_reason = {"explanation": AWKWARD[i]}
        c.search_truncated = i == 3
    bulk.update_rows(Conversation, list(reversed(convs)),
                     ["status", "priority", "waiting_since", "routing_reason"], turn_on=["search_truncated"],
                     append={"search_text": {convs[0].pk: "ours 0\n", convs[2].pk: "ours 2\n"}})
    got = {c.pk: c for c in Conversation.objects.filter(pk__in=[c.pk for c in convs])}
    assert [(got[c.pk].status, got[c.pk].priority, got[c.pk].waiting_since, got[c.pk].routing_reason)
            for c in convs] == [("resolved", "urgent", AT if i % 2 else None, {"explanation": AWKWARD[i]})
                                for i in range(5)]
    assert [got[c.pk].search_text for c in convs] == [
        "start 0\ntheirs\nours 0\n", "start 1\n", "start 2\nours 2\n", "start 3\n", "start 4\n"]
    # turned on where ours says so, kept on where the other writer set it, never cleared
    assert [got[c.pk].search_truncated for c in convs] == [False, True, False, True, False]


def test_update_rows_plain_fields_as_bulk_update():
    conv = conversation()
    ours, theirs = messages(conv, 6, "ours"), messages(conv, 6, "theirs")
    Message.objects.bulk_create(ours + theirs)
    for group in (ours, theirs):
        for i, m in enumerate(group):
            m.replied, m.replied_at, m.text = True, AT + dt.timedelta(minutes=i), f"edited {AWKWARD[i]}"
    bulk.update_rows(Message, ours, ["replied", "replied_at", "text"])
    Message.objects.bulk_update(theirs, ["replied", "replied_at", "text"])
    assert stored(Message.objects.filter(external_id__startswith="ours")) == \
        stored(Message.objects.filter(external_id__startswith="theirs"))
    bulk.update_rows(Message, [], ["text"])  # nothing to write: no statement


def test_insert_rows_converts_what_bulk_create_converts():
    """Values that are not of the column's plain type go through Django's conversion, as bulk_create sends them."""
    from django.utils.translation import gettext_lazy

    def made(prefix):
        return [Contact(name=gettext_lazy("Lazy name") if i % 2 else f"{prefix}{i}", followers=float(i),
                        languages=["fr"], country="FR") for i in range(bulk.COPY_FROM + 2)]

    ours, theirs = made("c"), made("c")
    bulk.insert_rows(Contact, ours)
    Contact.objects.bulk_create(theirs)
    cols = ("name", "followers", "languages", "country")
    assert list(Contact.objects.filter(pk__in=[c.pk for c in ours]).order_by("id").values_list(*cols)) == \
        list(Contact.objects.filter(pk__in=[c.pk for c in theirs]).order_by("id").values_list(*cols))
    conv = conversation()
    rows = messages(conv, bulk.COPY_FROM, "iso")
    for m in rows:
        m.sent_at = "2026-12-02T09:30:15+00:00"  # a string, as a form or an API could hand it over
    bulk.insert_rows(Message, rows)
    assert set(Message.objects.filter(external_id__startswith="iso").values_list("sent_at", flat=True)) == {
        dt.datetime(2026, 12, 2, 9, 30, 15, tzinfo=dt.UTC)}


def test_insert_rows_leaves_objects_unsaved_when_a_value_is_refused():
    conv = conversation()
    rows = messages(conv, bulk.COPY_FROM, "bad")
    rows[-1].sent_at = "not a date"
    with pytest.raises(ValidationError), transaction.atomic():  # Django's conversion refuses it, as in bulk_create
        bulk.insert_rows(Message, rows)
    assert all(m.pk is None and m._state.adding for m in rows)
    assert not Message.objects.filter(external_id__startswith="bad").exists()


def test_update_rows_auto_now_takes_the_time_of_the_write():
    conv = conversation()
    conv.updated_at = AT  # an old value held by the object
    before = dt.datetime.now(dt.UTC)
    bulk.update_rows(Conversation, [conv], ["status", "updated_at"])
    conv.refresh_from_db()
    assert conv.updated_at >= before  # as save(update_fields=...) gives it


@pytest.mark.postgres  # TOAST is PostgreSQL's
def test_update_rows_does_not_rewrite_a_long_text_it_appends_nothing_to():
    """A conversation's search text near its limit lives out of line (TOAST); a batch that appends nothing to it
    must not write it again (``text || ''`` would, 100 chunks for 200,000 characters)."""
    import random
    import string

    def toast_rows_written() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_get_xact_tuples_inserted(reltoastrelid) FROM pg_class "
                           "WHERE relname = %s", [Conversation._meta.db_table])
            return cursor.fetchone()[0]

    rng = random.Random(5)
    conv = conversation(search_text="".join(rng.choice(string.ascii_letters + " ") for _ in range(199_000)))
    before = toast_rows_written()
    conv.status = ConversationStatus.PENDING
    bulk.update_rows(Conversation, [conv], ["status"], turn_on=["search_truncated"], append={"search_text": {}})
    assert toast_rows_written() == before
    bulk.update_rows(Conversation, [conv], ["status"], append={"search_text": {conv.pk: "more\n"}})
    assert toast_rows_written() > before  # the check sees a rewrite when there is one
    conv.refresh_from_db()
    assert conv.status == "pending" and conv.search_text.endswith("more\n") and len(conv.search_text) == 199_005
