"""The ``facebook`` connector (Graph API), verified against recorded responses shaped like Meta's documentation
(respx at the httpx seam), not the live network."""

from __future__ import annotations

import json

import httpx
import pytest
import respx
from tests.connectors.meta_helpers import APP_SECRET, GRAPH, fixture, meta_signed

from dandelion.connectors import registry
from dandelion.connectors.base import (
    AccountRef,
    Capability,
    OAuthClient,
    OAuthConnector,
    OutboundPost,
    OutboundReply,
    WebhookChallengeConnector,
)
from dandelion.connectors.errors import ConnectorError, PayloadError, SignatureError
from dandelion.connectors.meta import graph

PAGE = "1234567890"


@pytest.fixture(autouse=True)
def _reset_graph():
    graph.reset()
    yield
    graph.reset()


@pytest.fixture
def fb() -> AccountRef:
    return AccountRef(
        id=31,
        network="facebook",
        external_id=PAGE,
        handle="brandfr",
        connector="facebook",
        credentials={"page_access_token": "EAApage", "app_secret": APP_SECRET},
        webhook_secret="verify-me",
    )


@pytest.fixture
def connector():
    return registry.get("facebook")


def test_registered_with_its_capabilities(connector):
    assert connector.capabilities == {
        Capability.INBOUND,
        Capability.POLL,
        Capability.REPLY,
        Capability.MODERATION,
        Capability.METRICS,
        Capability.PUBLISHING,
    }
    assert isinstance(connector, OAuthConnector)
    assert isinstance(connector, WebhookChallengeConnector)


def test_subscription_verification(connector, fb):
    params = {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"}
    assert connector.answer_challenge(fb, params) == ("text/plain", "1158201444")
    with pytest.raises(SignatureError):
        connector.answer_challenge(fb, {**params, "hub.verify_token": "wrong"})
    with pytest.raises(SignatureError):
        connector.answer_challenge(fb, {**params, "hub.mode": "unsubscribe"})


def test_webhook_comment(connector, fb):
    body, headers = meta_signed(fixture("facebook", "webhook_feed_comment.json"))
    [event] = connector.parse_webhook(fb, body, headers)
    assert (event.external_id, event.kind, event.in_reply_to) == ("111_222", "comment", "1234567890_111")
    assert event.author.external_id == "24242424" and event.author.name == "Marie Dupont"
    assert event.text == "Ma commande n'est jamais arrivée" and not event.from_account
    assert event.created_at.year == 2025 or event.created_at.year == 2026


def test_webhook_messenger_dms_and_echo(connector, fb):
    body, headers = meta_signed(fixture("facebook", "webhook_messages.json"))
    events = connector.parse_webhook(fb, body, headers)
    assert [(e.external_id, e.kind, e.from_account, e.author.external_id) for e in events] == [
        ("m_AbCdEf", "dm", False, "5555"),
        ("m_Echo1", "dm", True, "5555"),
    ]


def test_webhook_signature_checked(connector, fb):
    body, headers = meta_signed(fixture("facebook", "webhook_feed_comment.json"))
    with pytest.raises(SignatureError) as missing:
        connector.parse_webhook(fb, body, {})
    assert missing.value.missing
    with pytest.raises(SignatureError):
        connector.parse_webhook(fb, body + b" ", headers)
    _, forged = meta_signed(body, secret="not-the-app-secret")
    with pytest.raises(SignatureError):
        connector.parse_webhook(fb, body, forged)


def test_unknown_changes_and_other_pages_are_ignored(connector, fb):
    body, headers = meta_signed(fixture("facebook", "webhook_unknown.json"))
    assert connector.parse_webhook(fb, body, headers) == []


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p["entry"][0]["changes"][0]["value"].pop("comment_id"),
        lambda p: p["entry"][0]["changes"][0]["value"].pop("from"),
        lambda p: p["entry"][0]["changes"][0]["value"].update(message="x" * 50_000),
        lambda p: p["entry"][0]["changes"][0]["value"].update(message=7),
        lambda p: p.update(object="user"),
        lambda p: p.update(entry="nope"),
        lambda p: p["entry"][0].update(changes=[3]),
    ],
)
def test_hostile_payloads_are_rejected(connector, fb, mutate):
    payload = fixture("facebook", "webhook_feed_comment.json")
    mutate(payload)
    body, headers = meta_signed(payload)
    with pytest.raises(PayloadError):
        connector.parse_webhook(fb, body, headers)


def test_lone_surrogate_rejected(connector, fb):
    raw = (
        json.dumps(fixture("facebook", "webhook_feed_comment.json"))
        .replace("Ma commande", "Ma \\ud800 commande")
        .encode()
    )
    body, headers = meta_signed(raw)
    with pytest.raises(PayloadError):
        connector.parse_webhook(fb, body, headers)
    with pytest.raises(PayloadError):
        connector.parse_webhook(fb, *meta_signed(b"{not json"))


@respx.mock
def test_poll_with_cursor_pages_and_quarantine(connector, fb):
    respx.get(f"{GRAPH}/{PAGE}/feed").respond(json=fixture("facebook", "feed.json"))
    respx.get(f"{GRAPH}/1234567890_111/comments", params={"after": "MgZDZD"}).respond(
        json=fixture("facebook", "comments_page2.json")
    )
    first = respx.get(f"{GRAPH}/1234567890_111/comments").respond(
        json=fixture("facebook", "comments_page1.json")
    )
    respx.get(f"{GRAPH}/{PAGE}/conversations").respond(json=fixture("facebook", "conversations.json"))
    result = connector.poll_cursor(fb, {"since": 1764950000})
    assert [(e.external_id, e.kind, e.in_reply_to, e.from_account) for e in result.events] == [
        ("111_222", "comment", "1234567890_111", False),
        ("111_223", "comment", "111_222", True),
        ("111_224", "comment", "111_222", False),
        ("m_AbCdEf", "dm", None, False),
    ]
    assert [r.ref for r in result.rejected] == ["comment 111_225"]
    assert result.cursor["since"] >= 1764952740
    request = first.calls[0].request
    assert request.url.params["access_token"] == "EAApage"
    assert request.url.params["appsecret_proof"] == graph.appsecret_proof("EAApage", APP_SECRET)


@respx.mock
def test_replies_and_dms(connector, fb):
    comment = respx.post(f"{GRAPH}/111_222/comments").respond(json={"id": "111_300"})
    sent = connector.send_reply(fb, OutboundReply(text="Nous vous répondons en DM", in_reply_to="111_222"))
    assert sent.external_id == "111_300"
    assert b"message=Nous" in comment.calls[0].request.content
    dm = respx.post(f"{GRAPH}/{PAGE}/messages").respond(
        json={"recipient_id": "5555", "message_id": "m_reply"}
    )
    sent = connector.send_reply(fb, OutboundReply(text="Bonjour", kind="dm", recipient_external_id="5555"))
    assert sent.external_id == "m_reply"
    assert json.loads(dm.calls[0].request.content) == {
        "recipient": {"id": "5555"},
        "messaging_type": "RESPONSE",
        "message": {"text": "Bonjour"},
    }


@respx.mock
def test_moderation(connector, fb):
    hide = respx.post(f"{GRAPH}/111_222").respond(json={"success": True})
    assert connector.hide(fb, "111_222").action == "hide"
    assert b"is_hidden=true" in hide.calls[0].request.content
    connector.unhide(fb, "111_222")
    assert b"is_hidden=false" in hide.calls[1].request.content
    respx.delete(f"{GRAPH}/111_222").respond(json={"success": True})
    assert connector.delete(fb, "111_222").detail == "deleted on Facebook"
    block = respx.post(f"{GRAPH}/{PAGE}/blocked").respond(json={"24242424": True})
    connector.ban_author(fb, "24242424")
    assert b"user=24242424" in block.calls[0].request.content


@respx.mock
def test_publish_text_link_and_images(connector, fb):
    feed = respx.post(f"{GRAPH}/{PAGE}/feed").respond(json={"id": f"{PAGE}_900"})
    sent = connector.publish(fb, OutboundPost(text="Nouveautés", link="https://example.org/n"))
    assert sent.external_id == f"{PAGE}_900"
    assert b"link=https" in feed.calls[0].request.content
    photos = respx.post(f"{GRAPH}/{PAGE}/photos").respond(json={"id": "777", "post_id": f"{PAGE}_901"})
    sent = connector.publish(
        fb, OutboundPost(text="Photo", media_urls=["https://cdn.example/a.jpg"], alt_texts=["Un chat"])
    )
    assert sent.external_id == f"{PAGE}_901"
    assert b"alt_text_custom=Un+chat" in photos.calls[0].request.content
    connector.publish(
        fb, OutboundPost(text="Deux", media_urls=["https://cdn.example/a.jpg", "https://cdn.example/b.jpg"])
    )
    assert b"published=false" in photos.calls[1].request.content
    assert b"attached_media%5B1%5D" in feed.calls[1].request.content
    respx.delete(f"{GRAPH}/{PAGE}_900").respond(json={"success": True})
    connector.delete_post(fb, f"{PAGE}_900")


@respx.mock
def test_metrics(connector, fb):
    respx.get(f"{GRAPH}/{PAGE}").respond(json={"followers_count": 1520, "fan_count": 1490, "id": PAGE})
    metrics = connector.fetch_metrics(fb)
    assert metrics.followers == 1520 and metrics.extra == {"fans": 1490.0}
    respx.get(f"{GRAPH}/{PAGE}_900").respond(
        json={
            "shares": {"count": 3},
            "id": f"{PAGE}_900",
            "comments": {"data": [], "summary": {"order": "ranked", "total_count": 12, "can_comment": True}},
            "reactions": {"data": [], "summary": {"total_count": 40, "viewer_reaction": "NONE"}},
        }
    )
    assert connector.post_metrics(fb, f"{PAGE}_900") == {"reactions": 40, "comments": 12, "shares": 3}


@respx.mock
def test_revoked_token_is_permanent(connector, fb):
    respx.get(f"{GRAPH}/{PAGE}").respond(400, json=fixture("facebook", "error_190.json"))
    with pytest.raises(ConnectorError) as error:
        connector.fetch_metrics(fb)
    assert error.value.permanent and "connect the account again" in str(error.value)
    assert [c.name for c in connector.check(fb) if not c.ok] == ["token"]


@respx.mock
def test_rate_limits_from_usage_headers_pause_the_account(connector, fb):
    usage = json.dumps(
        {
            PAGE: [
                {
                    "type": "pages",
                    "call_count": 100,
                    "total_cputime": 12,
                    "total_time": 20,
                    "estimated_time_to_regain_access": 7,
                }
            ]
        }
    )
    route = respx.get(f"{GRAPH}/{PAGE}").respond(
        json={"followers_count": 1},
        headers={
            "X-Business-Use-Case-Usage": usage,
            "X-App-Usage": json.dumps({"call_count": 12, "total_cputime": 3, "total_time": 4}),
        },
    )
    connector.fetch_metrics(fb)
    assert 400 < graph.paused_for(fb.id) <= 420
    with pytest.raises(ConnectorError) as error:
        connector.fetch_metrics(fb)
    assert not error.value.permanent and error.value.retry_after > 400
    assert route.call_count == 1  # no call while paused


@respx.mock
def test_rate_limit_error_and_server_errors_are_transient(connector, fb):
    respx.get(f"{GRAPH}/{PAGE}").respond(400, json=fixture("facebook", "error_rate_limit.json"))
    with pytest.raises(ConnectorError) as error:
        connector.fetch_metrics(fb)
    assert not error.value.permanent and error.value.retry_after
    graph.reset()
    respx.get(f"{GRAPH}/{PAGE}").mock(side_effect=httpx.ConnectError("down"))
    with pytest.raises(ConnectorError) as error:
        connector.fetch_metrics(fb)
    assert not error.value.permanent


@respx.mock
def test_oauth_flow(connector, monkeypatch):
    monkeypatch.setenv("DANDELION_META_APP_ID", "42")
    monkeypatch.setenv("DANDELION_META_APP_SECRET", APP_SECRET)
    client = connector.oauth_register(instance="", redirect_uri="https://dandelion.example/oauth/callback/")
    assert client.credentials == {"client_id": "42", "client_secret": APP_SECRET}
    url = connector.oauth_authorize_url(client, state="signed.state")
    assert url.startswith("https://www.facebook.com/v21.0/dialog/oauth?client_id=42&")
    assert "state=signed.state" in url and "pages_messaging" in url
    tokens = respx.get(f"{GRAPH}/oauth/access_token")
    tokens.side_effect = [
        httpx.Response(200, json=fixture("facebook", "oauth_short_token.json")),
        httpx.Response(200, json=fixture("facebook", "oauth_long_token.json")),
    ]
    respx.get(f"{GRAPH}/me/accounts").respond(json=fixture("facebook", "me_accounts.json"))
    grant = connector.oauth_exchange(client, code="AQDcode")
    assert (grant.external_id, grant.display_name) == (PAGE, "Brand FR")
    assert grant.credentials == {"page_access_token": "EAApage", "app_secret": APP_SECRET}
    assert tokens.calls[1].request.url.params["fb_exchange_token"] == "EAAshort"


def test_oauth_needs_the_app(connector, monkeypatch):
    monkeypatch.delenv("DANDELION_META_APP_ID", raising=False)
    with pytest.raises(ConnectorError) as error:
        connector.oauth_register(instance="", redirect_uri="https://x/")
    assert error.value.permanent
    with pytest.raises(ConnectorError):
        connector.oauth_exchange(OAuthClient("https://www.facebook.com", "https://x/", {}), code="")


@respx.mock
def test_post_metrics_connector_reads_each_post_and_leaves_out_deleted_ones(connector, fb):
    from dandelion.connectors.base import PostMetricsConnector

    assert isinstance(connector, PostMetricsConnector)
    respx.get(f"{GRAPH}/{PAGE}_900").respond(json={
        "id": f"{PAGE}_900", "comments": {"data": [], "summary": {"total_count": 12}},
        "reactions": {"data": [], "summary": {"total_count": 40}}})  # no "shares": none yet
    respx.get(f"{GRAPH}/{PAGE}_901").respond(400, json={"error": {
        "message": "Unsupported get request. Object with ID '1234567890_901' does not exist", "type":
        "GraphMethodException", "code": 100, "error_subcode": 33}})
    [post] = connector.fetch_post_metrics(fb, [f"{PAGE}_900", f"{PAGE}_901", f"{PAGE}_900"])
    assert (post.external_id, post.likes, post.replies, post.reposts) == (f"{PAGE}_900", 40, 12, 0)
    respx.get(f"{GRAPH}/{PAGE}_902").respond(400, json=fixture("facebook", "error_190.json"))
    with pytest.raises(ConnectorError) as error:  # a revoked token fails the batch, not one post
        connector.fetch_post_metrics(fb, [f"{PAGE}_902"])
    assert error.value.permanent
