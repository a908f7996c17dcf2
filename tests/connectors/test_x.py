"""The ``x`` connector (X API v2 through tweepy), verified against recorded responses shaped like X's documentation
(``responses`` at the requests seam tweepy uses), not the live network."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from responses import matchers
from tests.connectors.meta_helpers import fixture

from dandelion.connectors import registry
from dandelion.connectors.base import AccountRef, OAuthClient, OutboundPost, OutboundReply
from dandelion.connectors.errors import ConnectorError, PayloadError, SignatureError
from dandelion.connectors.x import api

ME = "1500000000000000000"
V2 = "https://api.twitter.com/2"
CONSUMER_SECRET = "x-consumer-secret"


@pytest.fixture(autouse=True)
def _reset_limits():
    api.reset()
    yield
    api.reset()


@pytest.fixture
def xa() -> AccountRef:
    return AccountRef(
        id=41,
        network="x",
        external_id=ME,
        handle="brand_fr",
        connector="x",
        credentials={
            "access_token": "user-token",
            "refresh_token": "refresh-1",
            "client_id": "cid",
            "client_secret": "csecret",
            "consumer_secret": CONSUMER_SECRET,
        },
    )


@pytest.fixture
def connector():
    return registry.get("x")


def x_signed(payload, secret=CONSUMER_SECRET):
    body = json.dumps(payload).encode()
    signature = (
        "sha256=" + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    )
    return body, {"x-twitter-webhooks-signature": signature}


def limits(remaining=74, reset=None):
    return {
        "x-rate-limit-limit": "75",
        "x-rate-limit-remaining": str(remaining),
        "x-rate-limit-reset": str(reset or int(time.time()) + 900),
    }


@responses.activate
def test_poll_mentions_with_since_id_pages_and_dms(connector, xa):
    mentions = f"{V2}/users/{ME}/mentions"
    responses.get(
        mentions,
        json=fixture("x", "mentions_page2.json"),
        headers=limits(),
        match=[
            matchers.query_param_matcher(
                {"pagination_token": "7140dibdnow9c7btw4b0nfmlx7o6lq7lxxxb1s9x2ypjg"}, strict_match=False
            )
        ],
    )
    responses.get(mentions, json=fixture("x", "mentions_page1.json"), headers=limits())
    responses.get(f"{V2}/dm_events", json=fixture("x", "dm_events.json"), headers=limits())
    result = connector.poll_cursor(
        xa, {"since_id": "1865000000000000000", "dm_since_id": "1866100000000000000"}
    )
    assert [(e.external_id, e.kind, e.in_reply_to, e.from_account) for e in result.events] == [
        ("1866000000000000000", "mention", None, False),
        ("1866000000000000001", "mention", None, False),
        ("1866000000000000003", "mention", "1866000000000000002", False),
        ("dm:1866100000000000001", "dm", None, False),
        ("dm:1866100000000000002", "dm", None, True),
    ]
    assert result.events[1].author.followers == 1200 and result.events[1].author.handle == "client_x"
    assert result.cursor == {"since_id": "1866000000000000003", "dm_since_id": "1866100000000000002"}
    assert [r.ref for r in result.rejected] == ["tweet 1865999999999999999"]
    first = responses.calls[0].request
    assert parse_qs(urlsplit(first.url).query)["since_id"] == ["1865000000000000000"]
    assert first.headers["Authorization"] == "Bearer user-token"


@responses.activate
def test_reply_dm_hide_delete_mute(connector, xa):
    tweets = responses.post(
        f"{V2}/tweets",
        json={
            "data": {
                "id": "1866500000000000001",
                "text": "Merci",
                "edit_history_tweet_ids": ["1866500000000000001"],
            }
        },
        status=201,
    )
    sent = connector.send_reply(xa, OutboundReply(text="Merci", in_reply_to="1866000000000000003"))
    assert sent.external_id == "1866500000000000001"
    assert json.loads(tweets.calls[0].request.body) == {
        "text": "Merci",
        "reply": {"in_reply_to_tweet_id": "1866000000000000003"},
    }
    dm = responses.post(
        f"{V2}/dm_conversations/with/2244994945/messages",
        status=201,
        json={
            "data": {
                "dm_conversation_id": "1500000000000000000-2244994945",
                "dm_event_id": "1866600000000000001",
            }
        },
    )
    sent = connector.send_reply(
        xa, OutboundReply(text="En privé", kind="dm", recipient_external_id="2244994945")
    )
    assert sent.external_id == "dm:1866600000000000001" and json.loads(dm.calls[0].request.body) == {
        "text": "En privé"
    }
    hidden = responses.put(f"{V2}/tweets/1866000000000000003/hidden", json={"data": {"hidden": True}})
    connector.hide(xa, "1866000000000000003")
    connector.unhide(xa, "1866000000000000003")
    assert [json.loads(c.request.body) for c in hidden.calls] == [{"hidden": True}, {"hidden": False}]
    responses.delete(f"{V2}/tweets/1866500000000000001", json={"data": {"deleted": True}})
    assert connector.delete(xa, "1866500000000000001").action == "delete"
    muted = responses.post(f"{V2}/users/{ME}/muting", json={"data": {"muting": True}})
    responses.get(f"{V2}/users/me", json=fixture("x", "me.json"))
    connector.mute_author(xa, "2244994945")
    assert json.loads(muted.calls[0].request.body) == {"target_user_id": "2244994945"}
    with pytest.raises(ConnectorError) as error:
        connector.ban_author(xa, "2244994945")
    assert error.value.permanent
    with pytest.raises(ConnectorError):
        connector.send_reply(xa, OutboundReply(text="é" * 300, in_reply_to="1"))  # over 280 as X counts


@responses.activate
def test_publish_with_image_and_alt_text(connector, xa):
    responses.get("https://cdn.example/a.png", body=b"\x89PNG fake", content_type="image/png")
    upload = responses.post("https://api.x.com/2/media/upload", json=fixture("x", "media_upload.json"))
    meta = responses.post("https://api.x.com/2/media/metadata", json={"data": {"associated_metadata": True}})
    tweets = responses.post(
        f"{V2}/tweets", status=201, json={"data": {"id": "1866700000000000001", "text": "x"}}
    )
    sent = connector.publish(
        xa,
        OutboundPost(
            text="Nouveau",
            media_urls=["https://cdn.example/a.png"],
            alt_texts=["Un logo"],
            link="https://example.org",
        ),
    )
    assert sent.external_id == "1866700000000000001"
    assert b"tweet_image" in upload.calls[0].request.body
    assert json.loads(meta.calls[0].request.body) == {
        "id": "1880028106020515840",
        "metadata": {"alt_text": {"text": "Un logo"}},
    }
    assert json.loads(tweets.calls[0].request.body) == {
        "text": "Nouveau\nhttps://example.org",
        "media": {"media_ids": ["1880028106020515840"]},
    }
    responses.delete(f"{V2}/tweets/1866700000000000001", json={"data": {"deleted": True}})
    connector.delete_post(xa, "1866700000000000001")


@responses.activate
def test_search_and_metrics(connector, xa):
    responses.get(f"{V2}/tweets/search/recent", json=fixture("x", "search.json"), headers=limits())
    found = connector.search(xa, "#brandfr", limit=10)
    assert [e.external_id for e in found.events] == ["1866200000000000001"]
    assert found.cursor == "b26v89c19zqg8o3fpds84gm0395pkbbjlh482vwsbbtp9"
    responses.get(f"{V2}/users/me", json=fixture("x", "me.json"))
    metrics = connector.fetch_metrics(xa)
    assert (metrics.followers, metrics.following, metrics.posts, metrics.extra) == (
        8800,
        120,
        4100,
        {"listed": 40.0},
    )
    responses.get(
        f"{V2}/tweets/1866700000000000001",
        json={
            "data": {
                "id": "1866700000000000001",
                "text": "x",
                "public_metrics": {
                    "retweet_count": 2,
                    "reply_count": 1,
                    "like_count": 9,
                    "quote_count": 0,
                    "bookmark_count": 1,
                    "impression_count": 340,
                },
            }
        },
    )
    assert connector.post_metrics(xa, "1866700000000000001") == {
        "retweet": 2,
        "reply": 1,
        "like": 9,
        "quote": 0,
        "bookmark": 1,
        "impression": 340,
    }


@responses.activate
def test_rate_limit_headers_pause_the_endpoint(connector, xa):
    reset = int(time.time()) + 600
    route = responses.get(
        f"{V2}/tweets/search/recent",
        json=fixture("x", "search.json"),
        headers=limits(remaining=0, reset=reset),
    )
    connector.search(xa, "brand")
    with pytest.raises(ConnectorError) as error:
        connector.search(xa, "brand")
    assert not error.value.permanent and 500 < error.value.retry_after <= 600
    assert route.call_count == 1
    responses.get(
        f"{V2}/users/me",
        json=fixture("x", "error_429.json"),
        status=429,
        headers=limits(remaining=0, reset=reset),
    )
    with pytest.raises(ConnectorError) as error:
        connector.fetch_metrics(xa)
    assert not error.value.permanent and error.value.retry_after > 500


@responses.activate
def test_expired_token_is_refreshed_once_then_revoked_is_permanent(connector, xa):
    me = responses.get(f"{V2}/users/me", json=fixture("x", "error_401.json"), status=401)
    token = responses.post(
        "https://api.x.com/2/oauth2/token",
        json={
            "token_type": "bearer",
            "expires_in": 7200,
            "access_token": "fresh-token",
            "scope": "tweet.read",
            "refresh_token": "refresh-2",
        },
    )
    with pytest.raises(ConnectorError) as error:
        connector.fetch_metrics(xa)
    assert error.value.permanent and "connect the account again" in str(error.value)
    assert token.call_count == 1 and "refresh_token=refresh-1" in token.calls[0].request.body
    assert me.calls[1].request.headers["Authorization"] == "Bearer fresh-token"
    assert api.token_of(xa) == "fresh-token"


@responses.activate
def test_server_errors_are_transient(connector, xa):
    responses.get(f"{V2}/users/me", status=503, json={"title": "Service Unavailable"})
    with pytest.raises(ConnectorError) as error:
        connector.fetch_metrics(xa)
    assert not error.value.permanent


def test_crc_check(connector, xa):
    content_type, body = connector.answer_challenge(xa, {"crc_token": "abc123"})
    expected = base64.b64encode(
        hmac.new(CONSUMER_SECRET.encode(), b"abc123", hashlib.sha256).digest()
    ).decode()
    assert content_type == "application/json" and json.loads(body) == {"response_token": f"sha256={expected}"}
    with pytest.raises(SignatureError):
        connector.answer_challenge(xa, {})


def test_account_activity_tweet_and_dm(connector, xa):
    [tweet] = connector.parse_webhook(xa, *x_signed(fixture("x", "aaa_tweet_create.json")))
    assert (tweet.external_id, tweet.kind, tweet.author.handle, tweet.created_at.year) == (
        "1866300000000000001",
        "mention",
        "client_x",
        2026,
    )
    [dm] = connector.parse_webhook(xa, *x_signed(fixture("x", "aaa_direct_message.json")))
    assert (dm.external_id, dm.kind, dm.text, dm.author.name) == (
        "dm:1866400000000000001",
        "dm",
        "Bonjour en DM",
        "Client X",
    )


def test_account_activity_signature_and_hostile_payloads(connector, xa):
    body, headers = x_signed(fixture("x", "aaa_tweet_create.json"))
    with pytest.raises(SignatureError):
        connector.parse_webhook(xa, body, {})
    with pytest.raises(SignatureError):
        connector.parse_webhook(xa, body + b"\n", headers)
    for mutate in (
        lambda p: p["tweet_create_events"][0].pop("user"),
        lambda p: p["tweet_create_events"][0].update(text="x" * 30_000),
        lambda p: p.update(for_user_id="someone-else"),
        lambda p: p.update(tweet_create_events={"not": "a list"}),
    ):
        payload = fixture("x", "aaa_tweet_create.json")
        mutate(payload)
        with pytest.raises(PayloadError):
            connector.parse_webhook(xa, *x_signed(payload))
    raw = json.dumps(fixture("x", "aaa_tweet_create.json")).replace("une question", "\\udc00").encode()
    signature = (
        "sha256="
        + base64.b64encode(hmac.new(CONSUMER_SECRET.encode(), raw, hashlib.sha256).digest()).decode()
    )
    with pytest.raises(PayloadError):
        connector.parse_webhook(xa, raw, {"x-twitter-webhooks-signature": signature})
    unknown = {"for_user_id": ME, "follow_events": [{"type": "follow"}], "tweet_delete_events": [{}]}
    assert connector.parse_webhook(xa, *x_signed(unknown)) == []


@responses.activate
def test_oauth_pkce_flow(connector, monkeypatch):
    monkeypatch.setenv("DANDELION_X_CLIENT_ID", "cid")
    monkeypatch.setenv("DANDELION_X_CLIENT_SECRET", "csecret")
    client = connector.oauth_register(instance="", redirect_uri="https://dandelion.example/cb/")
    url = connector.oauth_authorize_url(client, state="signed.state")
    query = parse_qs(urlsplit(url).query)
    verifier = connector.code_verifier(client)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert query["code_challenge"] == [challenge] and query["code_challenge_method"] == ["S256"]
    assert query["state"] == ["signed.state"] and "offline.access" in query["scope"][0]
    assert 43 <= len(verifier) <= 128
    token = responses.post(
        "https://api.x.com/2/oauth2/token",
        json={
            "token_type": "bearer",
            "expires_in": 7200,
            "access_token": "at",
            "scope": "tweet.read users.read",
            "refresh_token": "rt",
        },
    )
    responses.get(f"{V2}/users/me", json=fixture("x", "me.json"))
    grant = connector.oauth_exchange(client, code="the-code")
    assert (grant.external_id, grant.handle) == (ME, "brand_fr")
    assert grant.credentials["access_token"] == "at" and grant.credentials["refresh_token"] == "rt"
    assert grant.expires_at is not None
    assert f"code_verifier={verifier}" in token.calls[0].request.body
    with pytest.raises(ConnectorError):
        connector.oauth_exchange(OAuthClient("https://x.com", "https://x/", {"client_id": "c"}), code="")


@responses.activate
def test_a_backlog_is_read_on_across_polls_without_loss(connector, xa):
    xa = AccountRef(
        id=xa.id,
        network="x",
        external_id=ME,
        handle="brand_fr",
        connector="x",
        credentials=xa.credentials,
        config={"max_pages": 1, "poll_dms": False},
    )
    mentions = f"{V2}/users/{ME}/mentions"
    second = responses.get(
        mentions,
        json=fixture("x", "mentions_page2.json"),
        match=[
            matchers.query_param_matcher(
                {"pagination_token": "7140dibdnow9c7btw4b0nfmlx7o6lq7lxxxb1s9x2ypjg"}, strict_match=False
            )
        ],
    )
    responses.get(mentions, json=fixture("x", "mentions_page1.json"))
    first = connector.poll_cursor(xa, {"since_id": "1865000000000000000"})
    assert first.more and [e.external_id for e in first.events] == [
        "1866000000000000001",
        "1866000000000000003",
    ]
    assert first.cursor["since_id"] == "1865000000000000000"  # not moved past the unread page
    then = connector.poll_cursor(xa, first.cursor)
    assert second.call_count == 1 and not then.more
    assert [e.external_id for e in then.events] == ["1866000000000000000"]
    assert then.cursor["since_id"] == "1866000000000000003" and "resume_token" not in then.cursor


@responses.activate
def test_post_metrics_connector_reads_public_metrics_and_leaves_out_deleted_posts(connector, xa):
    from dandelion.connectors.base import PostMetricsConnector

    assert isinstance(connector, PostMetricsConnector)
    responses.get(f"{V2}/tweets/1866700000000000001", json={"data": {"id": "1866700000000000001", "text": "x",
                  "public_metrics": {"retweet_count": 2, "reply_count": 1, "like_count": 9, "quote_count": 4}}})
    responses.get(f"{V2}/tweets/1866700000000000002", json={"errors": [{
        "value": "1866700000000000002", "detail": "Could not find tweet with id: [1866700000000000002].",
        "title": "Not Found Error", "resource_type": "tweet", "parameter": "id",
        "type": "https://api.twitter.com/2/problems/resource-not-found"}]})
    [post] = connector.fetch_post_metrics(xa, ["1866700000000000001", "1866700000000000002"])
    assert (post.external_id, post.likes, post.replies, post.reposts, post.quotes) == (
        "1866700000000000001", 9, 1, 2, 4)
