"""Mastodon's streaming API, against a MOCK streaming server (``mastodon_stream_mock.py``: Mastodon's SSE format over
the REST mock; no real Mastodon runs here): mentions and DMs pushed on the user stream, hostile frames rejected one by
one, reconnecting, the catch-up poll and the dedup with polling, end to end through the inbox; hashtag streams as a
listening source deduplicated with the periodic search."""

from __future__ import annotations

import threading
import time

import pytest
from tests.connectors.mastodon_stream_mock import mastodon_streaming_mock  # noqa: F401 - the fixture
from tests.connectors.streamtools import run_listener, take
from tests.connectors.test_mastodon_inbox import _fresh_clients, mastodon_account  # noqa: F401 - shared fixtures
from tests.inbox.conftest import _analyzer, _fake_store, inbox  # noqa: F401 - fixtures shared with the inbox tests

from dandelion.connectors import registry
from dandelion.connectors.base import AccountRef, SearchStreamingConnector, StreamingConnector
from dandelion.connectors.errors import ConnectorError
from dandelion.connectors.mastodon import client as clients

_ids = iter(range(90_000, 10_000_000))


@pytest.fixture
def mock(mastodon_streaming_mock):
    return mastodon_streaming_mock


@pytest.fixture
def mastodon_mock(mastodon_streaming_mock):
    """The streaming mock, under the name the inbox tests' ``mastodon_account`` fixture asks for."""
    return mastodon_streaming_mock


@pytest.fixture
def brand(mock):
    account = mock.account("acme", "Acme")
    account.token = mock.token_for(account)
    return account


def ref_for(mock, account, **config) -> AccountRef:
    return AccountRef(id=next(_ids), network="mastodon", external_id=account.id, handle=f"acme@{mock.host}",
                      credentials={"access_token": account.token}, config={"instance": mock.url, **config},
                      connector="mastodon")


def events_of(batches):
    return [e for b in batches for e in b.events]


def rejected_of(batches):
    return [r for b in batches for r in b.rejected]


def test_user_stream_pushes_mentions_and_dms_as_polling_reads_them(mock, brand):
    mastodon = registry.get("mastodon")
    assert isinstance(mastodon, StreamingConnector) and isinstance(mastodon, SearchStreamingConnector)
    camille = mock.account("camille", "Camille")
    stop = threading.Event()
    stream = mastodon.stream(ref_for(mock, brand), stop=stop)
    assert next(stream).poll  # connected: one poll to catch up
    mock.wait_for_streams(1)
    started = time.monotonic()
    mention = mock.post(camille, "@acme ma commande est bloquée")
    mock.post(camille, "un post sans mention")  # not for the brand: nothing pushed to it
    mock.post(brand, "Bonne semaine !")  # the brand's own home timeline update: skipped
    dm = mock.post(camille, "@acme mon numéro de client est 42", visibility="direct")
    got = take(stream, until=lambda b: len(events_of(b)) >= 3)
    latency = time.monotonic() - started
    by_id = {e.external_id: e for e in events_of(got)}
    assert by_id[mention["id"]].kind == "mention" and by_id[mention["id"]].author.handle == "camille"
    assert by_id[dm["id"]].kind == "dm"  # both as a notification and a conversation: the inbox stores it once
    assert {e.raw["source"] for e in events_of(got) if e.external_id == dm["id"]} == {"notification", "conversation"}
    assert "Bonne semaine" not in " ".join(e.text for e in events_of(got)) and not rejected_of(got)
    assert latency < 3
    # the same statuses through polling: the same external ids, kinds and texts (the inbox deduplicates on them)
    from dandelion.connectors.base import poll_with_cursor

    polled = {e.external_id: e for e in poll_with_cursor(mastodon, ref_for(mock, brand), None).events}
    assert polled[mention["id"]].text == by_id[mention["id"]].text and polled[dm["id"]].kind == "dm"
    stop.set()
    assert [b for b in stream if b.events] == []


def test_hostile_frames_are_rejected_one_by_one_and_the_stream_goes_on(mock, brand):
    mastodon = registry.get("mastodon")
    camille = mock.account("camille", "Camille")
    stream = mastodon.stream(ref_for(mock, brand), stop=threading.Event())
    next(stream)
    mock.wait_for_streams(1)
    user = f"user:{brand.id}"
    mock.push_raw(user, b"event: notification\ndata: {not json\n\n")
    mock.push_raw(user, b"event: notification\ndata: {\"id\": \"9\", \"type\": \"mention\"}\n\n")  # no status
    mock.push_raw(user, b"event: notification\ndata: {\"id\": \"8\", \"type\": \"favourite\"}\n\n")  # not an item
    mock.push_raw(user, b"event: surprise\ndata: {}\n\n")  # an event type nobody knows
    deep = b"[" * 500 + b"]" * 500
    mock.push_raw(user, b"event: conversation\ndata: " + deep + b"\n\n")
    import json

    for status in ({"id": "77", "content": "<p>\ud800 lone surrogate</p>", "visibility": "public",
                    "account": {"id": "5"}},
                   {"id": "78", "content": "<p>ok</p>", "visibility": "nonsense", "account": {"id": "5"}}):
        mock.push_raw(user, b"event: notification\ndata: " + json.dumps(
            {"id": "10", "type": "mention", "status": status}).encode() + b"\n\n")
    mock.push_raw(user, b"event: notification\ndata: " + b"x" * 1_100_000 + b"\n\n")  # over the frame limit
    ok = mock.post(camille, "@acme toujours là ?")
    got = take(stream, until=lambda b: any(e.external_id == ok["id"] for e in events_of(b)))
    errors = [r.error for r in rejected_of(got)]
    assert len(errors) == 7, errors
    assert sum("unreadable JSON" in e for e in errors) == 3  # not JSON, too deep, a lone surrogate
    assert any("unreadable JSON" in e for e in errors) and any("without its status" in e for e in errors)
    assert any("unknown streaming event type 'surprise'" in e for e in errors)
    assert any("visibility" in e for e in errors) and any("over 1000000 bytes" in e for e in errors)
    assert [e.external_id for e in events_of(got)] == [ok["id"]]


def test_stream_errors_are_mapped(mock, brand):
    mastodon = registry.get("mastodon")
    mastodon.client(ref_for(mock, brand))  # verify_credentials done: the stream request is what fails below
    mock.stream_status = 503
    with pytest.raises(ConnectorError) as busy:
        next(mastodon.stream(ref_for(mock, brand), stop=threading.Event()))
    assert not busy.value.permanent
    mock.revoke_token(brand.token)
    clients.forget()
    with pytest.raises(ConnectorError) as revoked:
        next(mastodon.stream(ref_for(mock, brand), stop=threading.Event()))
    assert revoked.value.permanent
    with pytest.raises(ConnectorError, match="hashtags only"):
        next(mastodon.stream_search(ref_for(mock, brand), ["acme", '"acme bank"'], stop=threading.Event()))
    assert mastodon.stream_search_terms(["acme", "#Acme", "@acme"]) == ["#acme"]
    assert not mastodon.stream_enabled({"streaming": False})


def test_hashtag_stream_follows_public_posts_with_the_tag(mock, brand):
    mastodon = registry.get("mastodon")
    camille = mock.account("camille", "Camille")
    stream = mastodon.stream_search(ref_for(mock, brand), ["#acmepanne", "acme"], stop=threading.Event())
    first = next(stream)
    assert not first.poll
    mock.wait_for_streams(1)
    tagged = mock.post(camille, "Encore une #AcmePanne ce matin")
    mock.post(camille, "#AcmePanne mais privé", visibility="private")  # not public: not streamed
    mock.post(camille, "#autre sujet")
    got = take(stream, until=lambda b: len(events_of(b)) >= 1)
    time.sleep(0.3)
    assert [e.external_id for e in events_of(got)] == [tagged["id"]] and events_of(got)[0].raw["source"] == "search"


# --- end to end through Dandelion -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_streamed_mention_reaches_the_queue_and_a_dropped_stream_catches_up(inbox, mastodon_account, mock):
    from dandelion.inbox import streaming
    from dandelion.inbox.jobs import process_pending_deliveries
    from dandelion.inbox.models import Conversation, InboundDelivery, Message
    from dandelion.inbox.polling import poll_account

    camille = mock.account("camille", "Camille")
    state = {"mention": None, "gap": None, "dropped": False}

    def scenario():
        mock.wait_for_streams(1)
        state["mention"] = mock.post(camille, "@acme_fr mon colis n'est jamais arrivé")["id"]
        time.sleep(0.8)
        mock.stream_status = 502  # the next connection fails once: backoff, then it connects
        mock.drop_streams()
        state["gap"] = mock.post(camille, "@acme_fr vous êtes là ?")["id"]  # while disconnected
        state["dropped"] = True

    threading.Thread(target=scenario, daemon=True).start()

    def done():
        return state["dropped"] and Message.objects.filter(external_id=state["gap"]).exists() or \
            InboundDelivery.objects.filter(body__contains=str(state["gap"])).exists() and state["dropped"]

    stats, elapsed = run_listener(lambda stop: streaming.listen(mastodon_account.pk, stop=stop, backoff_base_s=0.2),
                                  until=done, module=streaming)
    process_pending_deliveries.call()
    first = Message.objects.get(external_id=state["mention"])
    assert first.conversation.team == inbox.fr_team and first.kind == "mention"
    assert Message.objects.filter(external_id=state["gap"]).exists()  # caught up by the poll at reconnection
    assert stats.connections == 3 and stats.errors == 2 and elapsed < 10, stats
    assert InboundDelivery.objects.filter(account=mastodon_account, source="stream").exists()
    count = Message.objects.filter(conversation__account=mastodon_account).count()
    type(mastodon_account).objects.filter(pk=mastodon_account.pk).update(next_poll_at=None)
    poll_account(mastodon_account.pk)
    process_pending_deliveries.call()
    assert Message.objects.filter(conversation__account=mastodon_account).count() == count  # nothing twice
    assert Conversation.objects.filter(account=mastodon_account).count() == 2  # a public mention each


@pytest.mark.django_db
def test_hostile_stream_events_are_quarantined_and_a_revoked_token_shows_on_health(inbox, mastodon_account, mock):
    from dandelion.inbox import streaming
    from dandelion.inbox.models import InboundDelivery

    def scenario():
        mock.wait_for_streams(1)
        mock.push_raw(f"user:{mastodon_account.brand.id}", b"event: conversation\ndata: [1, 2]\n\n")
        mock.push_raw(f"user:{mastodon_account.brand.id}", b"event: notification\ndata: {oops\n\n")

    threading.Thread(target=scenario, daemon=True).start()
    failed = InboundDelivery.objects.filter(account=mastodon_account, source="stream", state="failed")
    stats, _ = run_listener(lambda stop: streaming.listen(mastodon_account.pk, stop=stop),
                            until=lambda: failed.count() >= 2, module=streaming)
    assert stats.rejected == 2 and {d.error.split(":")[0] for d in failed} == {"stream conversation",
                                                                               "stream notification"}
    mock.revoke_token(mastodon_account.brand.token)
    clients.forget()
    stop = threading.Event()
    threading.Timer(1.0, stop.set).start()
    stats = streaming.listen(mastodon_account.pk, stop=stop, permanent_retry_s=60)
    mastodon_account.refresh_from_db()
    assert stats.errors == 1 and "live connection" in mastodon_account.last_error
    assert "revoked" in mastodon_account.last_error


@pytest.mark.django_db
def test_hashtag_stream_feeds_listening_once_with_the_periodic_search(inbox, mastodon_account, mock):
    from dandelion.core.actors import SYSTEM
    from dandelion.listening import services, streaming
    from dandelion.listening.models import Mention
    from dandelion.listening.search import poll_network_searches

    query = services.create_query(actor=SYSTEM, unit=inbox.france, name="Pannes", network_search=True,
                                  text="#acmepanne AND NOT lang:de")
    assert streaming.streamable_pairs() == [(query.pk, mastodon_account.pk)]
    camille = mock.account("camille", "Camille")
    posted = {}

    def scenario():
        mock.wait_for_streams(1)
        posted["fr"] = mock.post(camille, "Encore une #AcmePanne ce matin")["id"]

    threading.Thread(target=scenario, daemon=True).start()
    stats, elapsed = run_listener(lambda stop: streaming.listen_query(query.pk, mastodon_account.pk, stop=stop),
                                  until=lambda: Mention.objects.filter(matches__query=query).exists(), module=streaming)
    mention = Mention.objects.get(matches__query=query)
    assert mention.source_ref == f"mastodon:{posted['fr']}" and stats.events == 1 and elapsed < 10
    poll_network_searches(actor=SYSTEM)  # the periodic search finds the same post: stored once
    assert Mention.objects.filter(matches__query=query).count() == 1
