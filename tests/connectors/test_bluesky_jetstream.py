"""Live listening on Bluesky through Jetstream, against a local WebSocket server speaking Jetstream's format
(``jetstream_server.py``: NOT Jetstream, and frames built in its documented shapes, not recorded from the live
service): posts containing the query's terms become listening mentions, hostile messages are rejected one by one,
a dropped connection resumes from the last ``time_us`` and the replayed posts are stored once."""

from __future__ import annotations

import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from tests.connectors.jetstream_server import JetstreamServer, commit, identity
from tests.connectors.streamtools import take

from dandelion.connectors import registry
from dandelion.connectors.base import AccountRef, SearchStreamingConnector
from dandelion.connectors.bluesky import jetstream
from dandelion.connectors.errors import ConfigError, ConnectorError

CUSTOMER = "did:plc:customer0000000000000000"
BRAND = "did:plc:brand000000000000000000000"


@pytest.fixture
def server():
    jetstream.forget()
    running = JetstreamServer()
    yield running
    running.stop()
    jetstream.forget()


def ref_for(server, **config) -> AccountRef:
    return AccountRef(id=4242, network="bluesky", external_id=BRAND, handle="brand.test",
                      credentials={"app_password": "unused"}, config={"jetstream_url": server.url, **config},
                      connector="bluesky")


def test_posts_with_the_terms_arrive_and_hostile_messages_are_rejected_alone(server):
    bluesky = registry.get("bluesky")
    assert isinstance(bluesky, SearchStreamingConnector)
    server.backlog = [
        identity(CUSTOMER),  # not a post: skipped
        commit(CUSTOMER, "3kaaa", "Mon COLIS est arrivé cassé", langs=["fr-FR"]),
        commit(CUSTOMER, "3kbbb", "rien à voir, colissimo n'est pas un mot cherché"),
        commit(CUSTOMER, "3kccc", "encore une panne", tags=["AcmePanne"]),
        commit(CUSTOMER, "3kddd", "Le colis", operation="delete"),  # a deletion: skipped
        commit(CUSTOMER, "3keee", "colis", collection="app.bsky.feed.like"),  # not a post
        commit(CUSTOMER, "3kfff", "colis", images=["Carton écrasé"], reply_to=f"at://{BRAND}/app.bsky.feed.post/1"),
        commit(BRAND, "3kggg", "Notre colis du jour"),  # the brand's own post
        "{not json",
        commit(CUSTOMER, "bad rkey!", "colis"),
        commit(CUSTOMER, "3khhh", {"text": "not a string"}),
        commit("not-a-did", "3kiii", "colis"),
        commit(CUSTOMER, "3kjjj", "colis \ud800 surrogate"),
        '{"kind": "commit", "did": "' + CUSTOMER + '", "commit": {"operation": "create", "collection": '
        '"app.bsky.feed.post", "rkey": "3kkkk", "record": {"text": "colis ' + "x" * 1_100_000 + '"}}}',
        commit(CUSTOMER, "3klll", "dernier colis"),
    ]
    stream = bluesky.stream_search(ref_for(server), ["colis", "#acmepanne"], stop=threading.Event())
    got = take(stream, until=lambda b: any(e.external_id.endswith("3klll") for bb in b for e in bb.events))
    events = {e.external_id.rsplit("/", 1)[1]: e for b in got for e in b.events}
    assert set(events) == {"3kaaa", "3kccc", "3kfff", "3kggg", "3klll"}
    assert events["3kaaa"].external_id == f"at://{CUSTOMER}/app.bsky.feed.post/3kaaa"
    assert events["3kaaa"].author.language == "fr" and events["3kaaa"].kind == "mention"
    assert events["3kfff"].kind == "reply" and "[Image: Carton écrasé]" in events["3kfff"].text
    assert events["3kggg"].from_account and not events["3kaaa"].from_account
    errors = [r.error for b in got for r in b.rejected]
    assert len(errors) == 6, errors
    assert any("unreadable JSON" in e for e in errors) and any("rkey" in e for e in errors)
    assert any("no text" in e for e in errors) and any("author DID" in e for e in errors)
    assert any("over 1000000 bytes" in e for e in errors)
    query = parse_qs(urlsplit(server.paths[0]).query)
    assert query["wantedCollections"] == ["app.bsky.feed.post"] and "cursor" not in query


def test_reconnection_resumes_from_the_last_message_and_errors_are_mapped(server):
    bluesky = registry.get("bluesky")
    first = commit(CUSTOMER, "3kaaa", "colis", time_us=1_800_000_000_000_000)
    server.backlog = [first]
    stream = bluesky.stream_search(ref_for(server), ["colis"], stop=threading.Event())
    take(stream, until=lambda b: len(b) == 1)
    server.drop()
    with pytest.raises(ConnectorError) as dropped:
        for _batch in stream:
            pass
    assert not dropped.value.permanent
    again = bluesky.stream_search(ref_for(server), ["colis"], stop=threading.Event())
    take(again, until=lambda b: len(b) == 1)
    cursor = parse_qs(urlsplit(server.paths[1]).query)["cursor"]
    assert cursor == [str(1_800_000_000_000_000 - jetstream.REPLAY_US)]
    with pytest.raises(ConnectorError) as down:
        next(bluesky.stream_search(ref_for(server, jetstream_url="ws://127.0.0.1:1/subscribe"), ["colis"],
                                   stop=threading.Event()))
    assert not down.value.permanent
    with pytest.raises(ConfigError):
        bluesky.validate_config({"jetstream_url": "https://not-a-websocket"})
    assert bluesky.stream_search_terms(['"acme bank"', "#x", "@a.test", '""']) == ['"acme bank"', "#x", "@a.test"]


@pytest.mark.django_db
def test_jetstream_feeds_a_listening_query_once_across_reconnections(org, server):
    from tests.factories import SocialAccountFactory

    from dandelion.core.actors import SYSTEM
    from dandelion.listening import services, streaming
    from dandelion.listening.models import Mention

    account = SocialAccountFactory(owner_unit=org.france, network="bluesky", handle="brand.test",
                                   external_id=BRAND, connector="bluesky",
                                   connector_config={"jetstream_url": server.url})
    query = services.create_query(actor=SYSTEM, unit=org.france, name="Colis", network_search=True,
                                  text="colis AND NOT lang:de")
    assert (query.pk, account.pk) in streaming.streamable_pairs()
    server.backlog = [commit(CUSTOMER, "3kaaa", "Mon colis est perdu", langs=["fr"]),
                      commit(CUSTOMER, "3kbbb", "Mein colis ist weg", langs=["de"])]  # NOT lang:de, locally
    stop = threading.Event()
    state = {"dropped": False}
    original = streaming.handle_batch

    def handle(*args):
        created = original(*args)
        if not state["dropped"]:
            state["dropped"] = True
            server.drop()  # the connection drops: the reconnection replays the same posts
        elif server.paths and len(server.paths) >= 2:
            stop.set()
        return created

    timer = threading.Timer(15, stop.set)
    timer.start()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(streaming, "handle_batch", handle)
            stats = streaming.listen_query(query.pk, account.pk, stop=stop, backoff_base_s=0.1)
    finally:
        timer.cancel()
    assert stats.connections >= 2 and len(server.paths) >= 2
    mentions = Mention.objects.filter(matches__query=query)
    assert [m.source_ref for m in mentions] == [f"bluesky:at://{CUSTOMER}/app.bsky.feed.post/3kaaa"]
    assert Mention.objects.filter(source_ref__endswith="3kaaa").count() == 1  # the replay stored nothing twice
