"""Conversation search (inbox.search): one folded text per conversation, kept by the pipeline and the services."""

from __future__ import annotations

import math

import pytest

from dandelion.inbox import search, services
from dandelion.inbox.models import AuthorIdentity, Contact, Conversation
from tests.inbox.conftest import event

#: Every plan a search can take, forced by its bounds: matches listed by id; every conversation of the scope checked
#: on its own row; a conversation past the text's limit searched in its messages, listed or checked per row.
SEARCH_PLANS = {
    "listed by id": {},
    "checked per conversation": {"SEARCH_FREQUENT_AFTER": 0},
    "probed again within the scope": {"SEARCH_FREQUENT_AFTER": 1, "SEARCH_SCOPED_AFTER": math.inf},
    "truncated, listed": {"SEARCH_TEXT_MAX": 30},
    "truncated, checked per conversation": {"SEARCH_TEXT_MAX": 30, "SEARCH_TRUNCATED_AFTER": 0},
    "everything per conversation": {"SEARCH_TEXT_MAX": 30, "SEARCH_TRUNCATED_AFTER": 0, "SEARCH_FREQUENT_AFTER": 0},
}


def use_plan(monkeypatch, plan):
    for name, bound in SEARCH_PLANS[plan].items():
        monkeypatch.setattr(search, name, bound)
    search.rebuild()  # the texts as this plan's limit writes them


def lines(conversation) -> set[str]:
    conversation.refresh_from_db()
    return set(conversation.search_text.split(search.LINE)) - {""}


def test_fold_is_case_and_space_insensitive():
    assert search.fold("  Straße\tÉTÉ \n Box ") == "strasse été box"
    assert search.fold(None) == ""
    # Turkish: dotless ı and dotted İ meet I and i, as the databases' upper-casing matched them
    assert search.fold("KIRMIZI kazak") == search.fold("kırmızı kazak") == "kirmizi kazak"
    assert search.fold("İSTANBUL") == search.fold("istanbul")


def test_a_stale_copy_never_turns_the_truncation_flag_off(inbox, deliver, two_queues, monkeypatch):
    """The pipeline read the conversation before another writer's note pushed its text past the limit: its own
    append must not write the flag back to False (the note would be in neither the text nor the fallback)."""
    from dandelion.routing import sla

    fr, _am = two_queues
    monkeypatch.setattr(search, "SEARCH_TEXT_MAX", len(Conversation.objects.get(pk=fr.pk).search_text) + 40)
    real = sla.load_books

    def meanwhile(conversations):
        services.add_note(Conversation.objects.get(pk=fr.pk), text="zanzibarique " * 5, actor=inbox.users.fr_cm)
        return real(conversations)

    monkeypatch.setattr(sla, "load_books", meanwhile)
    deliver(inbox.fr_account, event("ok", id="fr-ok", author="u-fr", name="Camille Martin", in_reply_to="fr1"))
    assert Conversation.objects.get(pk=fr.pk).search_truncated
    assert set(search.search_conversations(Conversation.objects.all(), "zanzibarique")) == {fr}


def test_a_rebuild_locks_the_rows_it_rewrites(inbox, two_queues):
    """A rebuild reads the messages after locking the conversations (``FOR UPDATE`` on PostgreSQL), so a message
    written meanwhile waits and appends to the rebuilt text instead of being overwritten by it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as q:
        search.rebuild_rows(Conversation, [c.pk for c in two_queues])
    sql = [x["sql"].upper() for x in q]
    first_read = next(i for i, x in enumerate(sql) if "INBOX_CONVERSATION" in x and x.startswith("SELECT"))
    if connection.features.has_select_for_update:
        assert "FOR UPDATE" in sql[first_read], sql
    assert first_read < next(i for i, x in enumerate(sql) if "INBOX_MESSAGE" in x)


@pytest.mark.parametrize("plan", list(SEARCH_PLANS))
def test_search_matches_message_text_author_handle_and_contact_name_within_the_scope(
        inbox, two_queues, api_for, monkeypatch, plan):
    fr, am = two_queues
    AuthorIdentity.objects.filter(messages__conversation=am).update(handle="@abebe_addis")
    Contact.objects.filter(pk=fr.contact_id).update(name="Zéphyrine Durand")
    use_plan(monkeypatch, plan)
    if "truncated" in plan:
        assert Conversation.objects.filter(search_truncated=True).count() == 2
    api = api_for(inbox.users.fr_cm)

    def found(term, user=inbox.users.fr_cm):
        return {r["id"] for r in api_for(user).get("/api/v1/conversations/", {"search": term}).json()["results"]}

    assert found("REMBOURSEMENT") == {fr.pk}  # message text, any case
    assert found("colis  est") == {fr.pk}  # white space as typed
    assert found("abebe_ADDIS") == {am.pk}  # author handle
    assert found("kebede") == {am.pk}  # author name
    assert found("zéphyrine") == {fr.pk}  # contact name
    assert found("xylophonique") == set()
    assert found("%") == set() and found("_") == {am.pk}  # LIKE wildcards are plain characters
    # outside the user's scope nothing is found, whatever matches
    for term in ("rembourse", "zéphyrine", "abebe_addis"):
        assert found(term, inbox.users.es_agent) == set()
    assert api.get("/api/v1/conversations/", {"search": "rembourse"}).json()["count"] == 1


@pytest.mark.parametrize("plan", list(SEARCH_PLANS))
def test_search_results_keep_the_queue_order_in_every_plan(inbox, deliver, api_for, client_for, monkeypatch, plan):
    """Nearest SLA first, conversations without an SLA due time (resolved) last, then latest activity: the order of
    the unsearched queue, whichever plan the search takes (the listed-ids plan restates it for the database)."""
    import datetime as dt

    from django.utils import timezone

    deliver(inbox.fr_account, *[event(f"Ma box {i} ne marche plus", id=f"o{i}", author=f"o-{i}") for i in range(5)])
    use_plan(monkeypatch, plan)
    now = timezone.now()
    convs = list(Conversation.objects.order_by("pk"))
    dues = [now + dt.timedelta(hours=3), None, now + dt.timedelta(hours=1), None, now + dt.timedelta(hours=2)]
    for i, (conv, due) in enumerate(zip(convs, dues, strict=True)):
        Conversation.objects.filter(pk=conv.pk).update(sla_due_at=due, last_activity_at=now - dt.timedelta(minutes=i))
    expected = [convs[2].pk, convs[4].pk, convs[0].pk, convs[1].pk, convs[3].pk]
    api = api_for(inbox.users.fr_cm)
    assert [r["id"] for r in api.get("/api/v1/conversations/").json()["results"]] == expected
    assert [r["id"] for r in api.get("/api/v1/conversations/", {"search": "marche"}).json()["results"]] == expected
    page = client_for(inbox.users.fr_cm).get("/inbox/", {"tab": "all", "status": "", "search": "marche"})
    assert [c.pk for c in page.context["page"].object_list] == expected


def test_pipeline_replies_and_notes_keep_the_search_text_as_a_rebuild_writes_it(inbox, deliver, two_queues):
    """What the pipeline (new and existing conversations, echoes of the account's own replies), a reply and a note
    append is what a rebuild from the stored messages writes: the two paths cannot drift apart."""
    fr, _am = two_queues
    deliver(inbox.fr_account, event("Toujours rien reçu, numéro 48213", id="fr2", author="u-fr", name="Camille Martin",
                                    in_reply_to="fr1"),
            event("Nous regardons votre dossier", id="echo1", in_reply_to="fr2", from_account=True))
    fr = Conversation.objects.get(pk=fr.pk)
    services.reply_to_conversation(fr, text="Un remboursement est en cours.", actor=inbox.users.fr_cm)
    services.add_note(fr, text="Client fidèle depuis 2011", actor=inbox.users.fr_cm)
    kept = {c.pk: lines(c) for c in Conversation.objects.all()}
    assert {"camille martin", "@u-fr", "toujours rien reçu, numéro 48213", "nous regardons votre dossier",
            "un remboursement est en cours.", "client fidèle depuis 2011"} <= kept[fr.pk]
    search.rebuild()
    assert {c.pk: lines(c) for c in Conversation.objects.all()} == kept
    assert set(search.search_conversations(Conversation.objects.all(), "FIDÈLE")) == {fr}


def test_two_writers_appending_at_once_both_keep_their_text(inbox, two_queues):
    """The database appends (``text || added``): a writer holding an older copy of the conversation does not erase
    another's addition."""
    fr, _am = two_queues
    first, second = Conversation.objects.get(pk=fr.pk), Conversation.objects.get(pk=fr.pk)
    search.append_saved(first, ["première note"])
    search.append_saved(second, ["seconde note"])
    assert {"première note", "seconde note"} <= lines(fr)


def test_a_conversation_past_the_limit_stays_findable_by_its_later_messages(inbox, deliver, monkeypatch, api_for):
    monkeypatch.setattr(search, "SEARCH_TEXT_MAX", 60)
    deliver(inbox.fr_account, event("Bonjour, première question", id="t1", author="u-t", name="Camille Long"))
    deliver(inbox.fr_account, event("Encore une question sur le modem", id="t2", author="u-t", name="Camille Long",
                                    in_reply_to="t1"),
            event("Et le décodeur quokkafone ne marche pas", id="t3", author="u-t", in_reply_to="t2"))
    conv = Conversation.objects.get()
    assert conv.search_truncated and len(conv.search_text) <= 60 and "quokkafone" not in conv.search_text
    api = api_for(inbox.users.fr_cm)
    assert [r["id"] for r in api.get("/api/v1/conversations/", {"search": "quokkafone"}).json()["results"]] == [
        conv.pk]
    monkeypatch.setattr(search, "SEARCH_FREQUENT_AFTER", 0)
    assert [r["id"] for r in api.get("/api/v1/conversations/", {"search": "Quokkafone"}).json()["results"]] == [
        conv.pk]


def test_the_migration_fills_the_text_of_conversations_stored_before_it(inbox, two_queues):
    """Conversations stored before the column existed get their text from their messages (what migration
    inbox.0006 runs)."""
    from django.apps import apps

    fr, am = two_queues
    expected = {fr.pk: lines(fr), am.pk: lines(am)}
    Conversation.objects.update(search_text="", search_truncated=False)
    search.rebuild_rows(apps.get_model("inbox", "Conversation"), [fr.pk, am.pk])
    assert {fr.pk: lines(fr), am.pk: lines(am)} == expected
    assert "camille martin" in expected[fr.pk] and "abebe kebede" in expected[am.pk]


def test_a_frequent_word_is_checked_on_each_row_not_by_listing_every_match(inbox, two_queues, monkeypatch):
    """Past the bound the list's query holds no set of ids and no sub-select: each conversation's own row is read
    as the page is (PostgreSQL stops after the page; a set of every match would be built first)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(search, "SEARCH_FREQUENT_AFTER", 0)
    searched = search.search_conversations(Conversation.objects.order_by("sla_due_at"), "rembourse")
    with CaptureQueriesContext(connection) as listed:
        assert list(searched) == [two_queues[0]]
    sql = " ".join(listed[-1]["sql"].upper().split())
    assert "IN (SELECT" not in sql and " IN (" not in sql and "(SELECT" not in sql, sql


@pytest.mark.postgres
def test_postgresql_search_probes_the_trigram_index_of_the_search_text(inbox, two_queues):
    """On PostgreSQL the probe is answered from the search text's trigram index (forced by disabling sequential
    scans: a plan without the index would still scan); the four indexes it replaced are gone."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'inbox_%%_trgm'")
        assert {r[0] for r in cur.fetchall()} == {"inbox_conv_search_trgm"}
        cur.execute("SET LOCAL enable_seqscan = off")
    plan = Conversation.objects.filter(search_text__contains="rembourse").order_by().values("pk").explain()
    assert "inbox_conv_search_trgm" in plan, plan
    assert list(search.search_conversations(Conversation.objects.all(), "rembourse")) == [two_queues[0]]


def test_the_rebuild_command_repairs_texts_changed_outside_dandelion(inbox, two_queues):
    from io import StringIO

    from django.core.management import call_command

    fr, am = two_queues
    expected = {fr.pk: lines(fr), am.pk: lines(am)}
    Conversation.objects.update(search_text="\nstale", search_truncated=False)
    out = StringIO()
    call_command("rebuild_search", "--chunk", "1", stdout=out)
    assert "rebuilt for 2 conversations" in out.getvalue() and "1/2 conversations" in out.getvalue()
    assert {fr.pk: lines(fr), am.pk: lines(am)} == expected
    Conversation.objects.filter(pk=am.pk).update(search_text="\nstale")
    call_command("rebuild_search", "--conversation", str(am.pk), stdout=StringIO())
    assert lines(am) == expected[am.pk] and lines(fr) == expected[fr.pk]


def test_thousands_of_listed_ids_go_to_the_database_as_one_list(inbox, two_queues):
    """``AnyOf``: one array parameter on PostgreSQL, ``IN`` elsewhere (SQLite takes thousands of parameters)."""
    from django.db import connection
    from django.db.models import F
    from django.test.utils import CaptureQueriesContext

    from dandelion.core.querysets import AnyOf

    fr, _am = two_queues
    ids = [*range(10**7, 10**7 + 5000), fr.pk]
    with CaptureQueriesContext(connection) as q:
        assert list(Conversation.objects.filter(AnyOf(F("pk"), ids))) == [fr]
    if connection.vendor == "postgresql":
        assert "= ANY(" in q[-1]["sql"]
    assert list(Conversation.objects.filter(AnyOf(F("pk"), []))) == []


@pytest.mark.parametrize("scoped", [True, False])
def test_a_word_common_elsewhere_is_listed_within_the_users_scope(inbox, deliver, two_queues, monkeypatch, api_for,
                                                                    scoped):
    """Many matches in the organisation, few in the user's scope: probed again within the scope and listed by id
    (a name common in the company); when the database expects matches everywhere, checked per conversation."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    deliver(inbox.es_account, event("Quiero un remboursement ya", id="es1", author="u-es", name="Pablo Ruiz"))
    monkeypatch.setattr(search, "SEARCH_FREQUENT_AFTER", 1)
    monkeypatch.setattr(search, "SEARCH_SCOPED_AFTER", math.inf if scoped else -1)
    assert Conversation.objects.filter(search_text__contains="remboursement").count() == 2
    with CaptureQueriesContext(connection) as q:
        response = api_for(inbox.users.fr_cm).get("/api/v1/conversations/", {"search": "Remboursement"})
    assert [r["id"] for r in response.json()["results"]] == [two_queues[0].pk]
    listed = [x["sql"].upper() for x in q if "INBOX_CONVERSATION" in x["sql"].upper() and "ORDER BY" in x["sql"].upper()]
    per_row = any("STRPOS" in sql or "INSTR" in sql for sql in listed)
    assert per_row is not scoped, listed
