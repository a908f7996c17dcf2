"""The Bluesky connector against a REAL local AT Protocol network (Bluesky's own ``@atproto/dev-env``: PLC, PDS,
AppView), started once per session by the ``bsky_net`` fixture (see ``blueskynet.py``), and end to end through
Dandelion: a customer mentions the brand → the polling job puts the conversation in the right team's queue → the
agent's reply (the inbox service) is a threaded reply on the network (read back with getPostThread) → hiding a
customer's reply from the inbox adds it to the thread gate's hidden replies → a published post is in the author
feed."""

from __future__ import annotations

import base64
import json
import time

import pytest
from django.utils import timezone
from tests.connectors.blueskynet import Network
from tests.inbox.conftest import _analyzer, _fake_store, inbox  # noqa: F401 - fixtures shared with the inbox tests

from dandelion.connectors import registry
from dandelion.connectors.base import AccountRef, OutboundPost, OutboundReply, poll_with_cursor
from dandelion.connectors.bluesky import session as sessions
from dandelion.connectors.errors import ConnectorError


@pytest.fixture(autouse=True)
def _fresh_sessions():
    sessions.forget()
    yield
    sessions.forget()


_ids = iter(range(1000, 10_000_000))


def ref_for(net: Network, account, **config) -> AccountRef:
    return AccountRef(id=next(_ids), network="bluesky", external_id=account.did, handle=account.handle,
                      credentials={"app_password": account.app_password},
                      config={"service": net.pds, **config}, connector="bluesky")


def poll_until(connector, ref, cursor, *, count: int = 1, timeout: float = 15.0):
    """Poll until at least ``count`` events came (the AppView indexes a moment after the PDS)."""
    deadline = time.monotonic() + timeout
    events, rejected = [], []
    while True:
        result = poll_with_cursor(connector, ref, cursor)
        events += list(result.events)
        rejected += list(result.rejected)
        cursor = dict(result.cursor)
        if len(events) >= count and not result.more:
            return events, cursor, rejected
        if time.monotonic() > deadline:
            raise AssertionError(f"only {len(events)} of {count} events arrived")
        time.sleep(0.2 if not result.more else 0)


def thread_of(net, viewer, uri):
    return net.appview_get("app.bsky.feed.getPostThread", viewer, uri=uri)["thread"]


def cid_of(net, viewer, uri):
    """The post's CID once the AppView has indexed it."""
    return net.wait_for(lambda: next((p["cid"] for p in net.appview_get("app.bsky.feed.getPosts", viewer,
                                                                          uris=[uri])["posts"]), None), what=uri)


def hidden_replies(net, viewer, uri, expected):
    """The thread gate's hidden replies of ``uri`` once the AppView shows ``expected`` (it indexes a moment later)."""
    def read():
        gate = thread_of(net, viewer, uri)["post"].get("threadgate")
        return gate is not None and gate["record"].get("hiddenReplies", []) == expected and gate["record"]
    return net.wait_for(read, what=f"hidden replies {expected}")


def expired_jwt(did: str) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    now = int(time.time())
    return ".".join([part({"typ": "at+jwt", "alg": "HS256"}),
                     part({"scope": "com.atproto.appPass", "sub": did, "iat": now - 7200, "exp": now - 60,
                           "aud": "did:web:localhost"}), "c2lnbmF0dXJl"])


# --- the connector alone ---------------------------------------------------------------------------------------


def test_mentions_replies_and_quotes_arrive_once_oldest_first(bsky_net):
    net = bsky_net
    brand, customer = net.account("brand"), net.account("camille")
    bluesky = registry.get("bluesky")
    ref = ref_for(net, brand)
    first = poll_with_cursor(bluesky, ref, None)
    assert first.events == [] and first.cursor["did"] == brand.did

    mention = net.mention(customer, brand, "mon colis n'est pas arrivé")
    own = bluesky.publish(ref, OutboundPost(text="Nouvelle collection en boutique"))
    own_cid = cid_of(net, brand, own.external_id)
    comment = net.post(customer, "Jolie ! Quand en ligne ?", reply_to=({"uri": own.external_id, "cid": own_cid},) * 2)
    quote = net.post(customer, "Regardez ça", embed={"$type": "app.bsky.embed.record",
                                                    "record": {"uri": own.external_id, "cid": own_cid}})
    net.post(customer, "un post sans rapport")  # not a notification of the brand

    events, cursor, rejected = poll_until(bluesky, ref, first.cursor, count=3)
    assert rejected == []
    by_id = {e.external_id: e for e in events}
    assert set(by_id) == {mention["uri"], comment["uri"], quote["uri"]}
    assert by_id[mention["uri"]].kind == "mention" and by_id[mention["uri"]].in_reply_to is None
    assert by_id[mention["uri"]].author.external_id == customer.did
    assert by_id[mention["uri"]].author.handle == customer.handle and by_id[mention["uri"]].author.name == "Camille"
    assert by_id[comment["uri"]].kind == "comment" and by_id[comment["uri"]].in_reply_to == own.external_id
    assert by_id[quote["uri"]].kind == "mention"
    assert [e.created_at for e in events] == sorted(e.created_at for e in events)

    again = poll_with_cursor(bluesky, ref, cursor)
    assert again.events == []  # nothing twice
    sessions.forget()  # a worker restart: a fresh login, the stored cursor still holds
    assert poll_with_cursor(bluesky, ref, cursor).events == []


def test_a_backlog_is_walked_in_pages_across_polls_without_loss(bsky_net):
    net = bsky_net
    brand, customer = net.account("brand"), net.account("fan")
    bluesky = registry.get("bluesky")
    ref = ref_for(net, brand, page_size=5, max_pages=2)
    cursor = dict(poll_with_cursor(bluesky, ref, None).cursor)
    uris = {net.mention(customer, brand, f"message {i}")["uri"] for i in range(23)}
    net.wait_for(lambda: len(net.appview_get("app.bsky.notification.listNotifications", brand, limit=30)
                             ["notifications"]) >= 23, what="23 notifications")
    got, polls = [], 0
    while True:
        result = poll_with_cursor(bluesky, ref, cursor)
        polls += 1
        got += [e.external_id for e in result.events]
        cursor = dict(result.cursor)
        if not result.more:
            break
    assert polls == 3 and sorted(got) == sorted(uris) and len(got) == 23
    assert poll_with_cursor(bluesky, ref, cursor).events == []
    late = net.mention(customer, brand, "one more")
    events, _cursor, _ = poll_until(bluesky, ref, cursor)
    assert [e.external_id for e in events] == [late["uri"]]


def test_reply_is_threaded_with_root_and_parent_and_carries_facets(bsky_net):
    net = bsky_net
    brand, customer = net.account("brand"), net.account("lea")
    bluesky = registry.get("bluesky")
    ref = ref_for(net, brand)
    root = net.mention(customer, brand, "ma commande ?")
    follow = net.post(customer, "toujours rien", reply_to=({"uri": root["uri"], "cid": root["cid"]},
                                                           {"uri": root["uri"], "cid": root["cid"]}))
    text = f"Bonjour @{customer.handle}, voyez https://aide.example.test/colis #support 🇫🇷👍🏽"
    sent = bluesky.send_reply(ref, OutboundReply(text=text, in_reply_to=follow["uri"]))
    assert sent.external_id.startswith(f"at://{brand.did}/app.bsky.feed.post/")
    thread = net.wait_for(lambda: (t := thread_of(net, brand, follow["uri"])).get("replies") and t)
    reply = thread["replies"][0]["post"]
    assert reply["uri"] == sent.external_id
    record = reply["record"]
    assert record["reply"]["root"]["uri"] == root["uri"] and record["reply"]["parent"]["uri"] == follow["uri"]
    features = {f["features"][0]["$type"].split("#")[1]: f["features"][0] for f in record["facets"]}
    assert features["mention"]["did"] == customer.did
    assert features["link"]["uri"] == "https://aide.example.test/colis" and features["tag"]["tag"] == "support"

    with pytest.raises(ConnectorError) as too_long:
        bluesky.send_reply(ref, OutboundReply(text="é" * 301, in_reply_to=follow["uri"]))
    assert too_long.value.permanent and "300" in str(too_long.value)
    bluesky.send_reply(ref, OutboundReply(text="👍🏽" * 300, in_reply_to=follow["uri"]))  # 300 graphemes fit
    with pytest.raises(ConnectorError) as gone:
        bluesky.send_reply(ref, OutboundReply(text="hello", in_reply_to=root["uri"].replace(root["uri"][-5:], "zzzzz")))
    assert gone.value.permanent


def test_hide_unhide_delete_block_and_mute_apply_on_the_network(bsky_net):
    net = bsky_net
    brand, troll = net.account("brand"), net.account("troll")
    bluesky = registry.get("bluesky")
    ref = ref_for(net, brand)
    post = bluesky.publish(ref, OutboundPost(text="Nos horaires d'été", link="https://acme.example.test/ete"))
    cid = cid_of(net, brand, post.external_id)
    bad = net.post(troll, "spam spam", reply_to=({"uri": post.external_id, "cid": cid},) * 2)
    cid_of(net, brand, bad["uri"])  # the AppView has it (as it has by the time its notification is polled)

    result = bluesky.hide(ref, bad["uri"])
    assert "hidden replies" in result.detail
    gate = hidden_replies(net, brand, post.external_id, [bad["uri"]])
    assert "allow" not in gate  # everyone may still reply
    assert bluesky.hide(ref, bad["uri"])  # twice: still one entry
    hidden_replies(net, brand, post.external_id, [bad["uri"]])
    bluesky.unhide(ref, bad["uri"])
    hidden_replies(net, brand, post.external_id, [])

    elsewhere = net.post(troll, "a thread of my own")
    cid_of(net, brand, elsewhere["uri"])
    not_ours = bluesky.hide(ref, elsewhere["uri"])
    assert "Dandelion only" in not_ours.detail

    with pytest.raises(ConnectorError) as refused:
        bluesky.delete(ref, bad["uri"])
    assert refused.value.permanent and "own posts" in str(refused.value)

    assert "blocked on Bluesky" in bluesky.ban_author(ref, troll.did).detail
    assert "already blocked" in bluesky.ban_author(ref, troll.did).detail
    net.wait_for(lambda: net.appview_get("app.bsky.actor.getProfile", brand, actor=troll.did)["viewer"]
                 .get("blocking"), what="the block")
    bluesky.mute_author(ref, troll.did)
    net.wait_for(lambda: net.appview_get("app.bsky.actor.getProfile", brand, actor=troll.did)["viewer"]["muted"],
                 what="the mute")

    bluesky.delete(ref, post.external_id)
    net.wait_for(lambda: net.appview_get("app.bsky.feed.getPosts", brand, uris=[post.external_id])["posts"] == [],
                 what="the deletion")


def test_search_metrics_and_check(bsky_net):
    net = bsky_net
    brand, customer = net.account("brand"), net.account("nina")
    bluesky = registry.get("bluesky")
    ref = ref_for(net, brand)
    word = f"zorglub{int(time.time())}"
    for i in range(3):
        net.post(customer, f"{word} avis numéro {i}")
    found = net.wait_for(lambda: len(bluesky.search(ref, word, limit=10).events) == 3 or None, what="search")
    assert found
    page = bluesky.search(ref, word, limit=2)
    assert len(page.events) == 2 and page.cursor
    rest = bluesky.search(ref, word, limit=2, cursor=page.cursor)
    assert {e.external_id for e in page.events}.isdisjoint({e.external_id for e in rest.events})
    assert all(word in e.text and e.author.external_id == customer.did for e in page.events)

    bluesky.publish(ref, OutboundPost(text="un"))
    metrics = net.wait_for(lambda: (m := bluesky.fetch_metrics(ref)).posts == 1 and m, what="posts count")
    assert metrics.followers == 0 and metrics.following == 0
    lines = {line.name: line for line in bluesky.check(ref)}
    assert lines["login"].ok and brand.did in lines["login"].detail and lines["notifications"].ok


def test_revoked_app_password_is_permanent_and_expired_sessions_refresh(bsky_net):
    net = bsky_net
    brand = net.account("brand")
    bluesky = registry.get("bluesky")
    ref = ref_for(net, brand)
    assert poll_with_cursor(bluesky, ref, None).cursor["did"] == brand.did
    live = sessions._sessions[ref.id]
    # the access token expired: the SDK refreshes it with the refresh token before the call
    live.client._session.access_jwt = expired_jwt(brand.did)
    assert poll_with_cursor(bluesky, ref, None).cursor["did"] == brand.did
    assert live.client._session.access_jwt != expired_jwt(brand.did)
    # both tokens refused (the session was revoked): one new login with the app password
    live.client._session.access_jwt = live.client._session.refresh_jwt = "not-a-token"
    assert poll_with_cursor(bluesky, ref, None).cursor["did"] == brand.did
    assert sessions._sessions[ref.id] is not live

    token = net.session(brand)
    net.xrpc("POST", "com.atproto.server.revokeAppPassword", token=token, json={"name": "dandelion"})
    sessions.forget()
    with pytest.raises(ConnectorError) as revoked:
        poll_with_cursor(bluesky, ref, None)
    assert revoked.value.permanent and "app password" in str(revoked.value)
    lines = {line.name: line for line in bluesky.check(ref)}
    assert not lines["login"].ok and "(permanent)" in lines["login"].detail


# --- end to end through Dandelion ------------------------------------------------------------------------------


@pytest.fixture
def bluesky_account(inbox, bsky_net):
    from dandelion.assets import services as assets

    brand = bsky_net.account("acme")
    account = inbox.fr_account
    account.network, account.connector, account.external_id, account.handle = "bluesky", "bluesky", brand.did, \
        brand.handle
    account.connector_config = {"service": bsky_net.pds, "langs": ["fr"]}
    account.save()
    assets.set_account_credentials(account, credentials={"app_password": brand.app_password}, expires_at=None,
                                   actor=inbox.users.hub_admin)
    account.brand = brand
    return account


def run_poll():
    from dandelion.inbox.jobs import poll_accounts, process_pending_deliveries

    summary = poll_accounts.call()
    process_pending_deliveries.call()
    return summary


def poll_until_events(account, count=1, timeout=10.0):
    """The polling job, run until ``count`` events arrived: the issue's bound is 10 s from post to queue."""
    deadline, got = time.monotonic() + timeout, 0
    while got < count:
        type(account).objects.filter(pk=account.pk).update(next_poll_at=None)  # due now
        got += run_poll()["events"]
        if got < count:
            assert time.monotonic() < deadline, f"only {got} of {count} events within {timeout} s"
            time.sleep(0.3)


@pytest.mark.django_db
def test_mention_to_queue_threaded_reply_hide_and_publish(inbox, bluesky_account, bsky_net):
    from dandelion.inbox import connect, services
    from dandelion.inbox.jobs import deliver_reply, run_moderation
    from dandelion.inbox.models import Conversation, Message

    net, brand = bsky_net, bluesky_account.brand
    customer = net.account("camille")
    run_poll()  # the first poll sets the cursor
    started = time.monotonic()
    mention = net.mention(customer, brand, "bonjour, mon colis n'est pas arrivé, je suis inquiète")
    poll_until_events(bluesky_account)
    assert time.monotonic() - started < 10
    message = Message.objects.get(external_id=mention["uri"])
    conversation = message.conversation
    assert conversation.team == inbox.fr_team and conversation.account == bluesky_account
    assert conversation.needs_reply and message.author_identity.external_id == customer.did
    bluesky_account.refresh_from_db()
    assert bluesky_account.poll_state["did"] == brand.did and bluesky_account.last_error == ""

    reply = services.reply_to_conversation(conversation, text=f"Bonjour @{customer.handle}, nous regardons. #aide",
                                           actor=inbox.users.fr_agent)
    assert deliver_reply.call(reply.pk) == "sent"
    reply.refresh_from_db()
    thread = net.wait_for(lambda: (t := thread_of(net, customer, mention["uri"])).get("replies") and t)
    on_network = thread["replies"][0]["post"]
    assert on_network["uri"] == reply.external_id and on_network["author"]["did"] == brand.did
    assert on_network["record"]["reply"]["parent"]["uri"] == mention["uri"]
    assert on_network["record"]["reply"]["root"]["uri"] == mention["uri"]

    # the customer answers the brand's reply: it threads into the same conversation
    answer = net.post(customer, "merci !", reply_to=({"uri": mention["uri"], "cid": mention["cid"]},
                                                     {"uri": on_network["uri"], "cid": on_network["cid"]}))
    poll_until_events(bluesky_account)
    assert Message.objects.get(external_id=answer["uri"]).conversation_id == conversation.pk

    # a post published by the brand appears in its author feed; a reply to it hidden from the inbox is hidden there
    post = registry.get("bluesky").publish(connect.account_ref(bluesky_account),
                                           OutboundPost(text="Nos nouveautés de la semaine"))
    feed = net.wait_for(lambda: (f := net.appview_get("app.bsky.feed.getAuthorFeed", customer, actor=brand.did)[
        "feed"]) and post.external_id in [item["post"]["uri"] for item in f] and f, what="the post in the feed")
    assert post.external_id in [item["post"]["uri"] for item in feed]
    cid = next(item["post"]["cid"] for item in feed if item["post"]["uri"] == post.external_id)
    rude = net.post(customer, "nul nul nul", reply_to=({"uri": post.external_id, "cid": cid},) * 2)
    poll_until_events(bluesky_account)
    rude_message = Message.objects.get(external_id=rude["uri"])
    services.moderate_message(rude_message, action="hide", actor=inbox.users.fr_agent, reason="insulte")
    assert run_moderation.call(rude_message.pk, "hide") == "done"
    hidden_replies(net, customer, post.external_id, [rude["uri"]])
    rude_message.refresh_from_db()
    assert rude_message.moderation_state == "hidden"
    assert Conversation.objects.filter(account=bluesky_account).count() == 2


@pytest.mark.django_db
def test_revoked_app_password_shows_on_health_and_clears_with_new_credentials(inbox, bluesky_account, bsky_net):
    from dandelion.assets import services as assets

    net, brand = bsky_net, bluesky_account.brand
    token = net.session(brand)
    net.xrpc("POST", "com.atproto.server.revokeAppPassword", token=token, json={"name": "dandelion"})
    sessions.forget()
    assert run_poll()["failed"] == 1
    bluesky_account.refresh_from_db()
    assert "app password" in bluesky_account.last_error and "connector_error" in bluesky_account.health_flags()
    assert bluesky_account.next_poll_at > timezone.now() + timezone.timedelta(hours=5)  # permanent: retried slowly
    fresh = net.xrpc("POST", "com.atproto.server.createAppPassword", token=token, json={"name": "dandelion-2"})
    assets.set_account_credentials(bluesky_account, credentials={"app_password": fresh["password"]}, expires_at=None,
                                   actor=inbox.users.hub_admin)
    assert run_poll()["failed"] == 0
    bluesky_account.refresh_from_db()
    assert bluesky_account.last_error == ""


def test_report_author_reaches_the_moderation_service(bsky_net):
    """``report_author`` (the ``ReportConnector`` ability the inbox's "Report…" uses): createReport through the PDS
    to the local network's moderation service (ozone), on the post named, then on the account alone."""
    net = bsky_net
    brand, troll = net.account("brand"), net.account("troll")
    bluesky = registry.get("bluesky")
    ref = ref_for(net, brand)
    bad = net.post(troll, "@brand.test arnaque, envoyez vos mots de passe")
    cid_of(net, brand, bad["uri"])
    on_post = bluesky.report_author(ref, troll.did, [bad["uri"]], comment="spam: hameçonnage")
    assert on_post.action == "report_author" and "report" in on_post.detail
    on_account = bluesky.report_author(ref, troll.did, [], comment="insultes répétées")
    assert on_account.detail != on_post.detail  # two reports, two ids
    with pytest.raises(ConnectorError):
        bluesky.report_author(ref, troll.did, [bad["uri"].replace(bad["uri"][-5:], "zzzzz")])


def test_post_metrics_and_followers_as_the_appview_counts_them(bsky_net):
    """``fetch_post_metrics`` (getPosts) and ``fetch_metrics`` (getProfile) against the real AppView: a like, a
    repost, two replies and a quote from customers; a follow; a deleted post is left out."""
    import datetime as dt

    from dandelion.connectors.base import PostMetricsConnector

    def _now_iso() -> str:
        return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    net = bsky_net
    brand, fan, other = net.account("brand"), net.account("fan"), net.account("other")
    bluesky = registry.get("bluesky")
    assert isinstance(bluesky, PostMetricsConnector)
    ref = ref_for(net, brand)
    liked = bluesky.publish(ref, OutboundPost(text="Notre nouvelle collection")).external_id
    quiet = bluesky.publish(ref, OutboundPost(text="Rien à signaler")).external_id
    gone = bluesky.publish(ref, OutboundPost(text="Effacé")).external_id
    strong = {"uri": liked, "cid": cid_of(net, brand, liked)}
    cid_of(net, brand, gone)
    bluesky.delete_post(ref, gone)
    for who in (fan, other):
        token = net.session(who)
        if who is fan:
            for collection in ("app.bsky.feed.like", "app.bsky.feed.repost"):
                net.xrpc("POST", "com.atproto.repo.createRecord", token=token, json={
                    "repo": who.did, "collection": collection,
                    "record": {"$type": collection, "subject": strong, "createdAt": _now_iso()}})
        net.xrpc("POST", "com.atproto.repo.createRecord", token=token, json={
            "repo": who.did, "collection": "app.bsky.graph.follow",
            "record": {"$type": "app.bsky.graph.follow", "subject": brand.did, "createdAt": _now_iso()}})
        net.post(who, "Bravo !", reply_to=(strong, strong))
    net.post(other, "Regardez ça", embed={"$type": "app.bsky.embed.record", "record": strong})

    def counted():
        found = {m.external_id: m for m in bluesky.fetch_post_metrics(ref, [liked, quiet, gone, "not-a-uri"])}
        return found if found.get(liked) and found[liked].quotes == 1 and found[liked].replies == 2 else None

    found = net.wait_for(counted, what="the AppView's counts")
    assert set(found) == {liked, quiet}
    assert (found[liked].likes, found[liked].reposts, found[liked].replies, found[liked].quotes) == (1, 1, 2, 1)
    assert (found[quiet].likes, found[quiet].reposts, found[quiet].replies, found[quiet].quotes) == (0, 0, 0, 0)
    metrics = net.wait_for(lambda: (m := bluesky.fetch_metrics(ref)).followers == 2 and m, what="followers")
    assert metrics.posts == 2
