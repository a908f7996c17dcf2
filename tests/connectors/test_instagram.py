"""The ``instagram`` connector (Instagram Graph API), verified against recorded responses shaped like Meta's
documentation (respx at the httpx seam), not the live network."""

from __future__ import annotations

import pytest
import respx
from tests.connectors.meta_helpers import APP_SECRET, GRAPH, fixture, meta_signed

from dandelion.connectors import registry
from dandelion.connectors.base import AccountRef, OutboundPost, OutboundReply
from dandelion.connectors.errors import ConnectorError, PayloadError, SignatureError
from dandelion.connectors.meta import graph

IG = "17841400000000000"


@pytest.fixture(autouse=True)
def _reset_graph():
    graph.reset()
    yield
    graph.reset()


@pytest.fixture
def ig() -> AccountRef:
    return AccountRef(
        id=32,
        network="instagram",
        external_id=IG,
        handle="brand_fr",
        connector="instagram",
        credentials={"page_access_token": "EAApage", "app_secret": APP_SECRET},
        config={"page_id": "1234567890"},
        webhook_secret="verify-me",
    )


@pytest.fixture
def connector():
    return registry.get("instagram")


def test_webhook_comment(connector, ig):
    [event] = connector.parse_webhook(ig, *meta_signed(fixture("instagram", "webhook_comments.json")))
    assert (event.external_id, event.kind, event.in_reply_to) == (
        "17865799348089039",
        "comment",
        "17900000000000001",
    )
    assert event.author.handle == "client_test" and event.text == "Où est ma commande ?"


@respx.mock
def test_webhook_mention_is_read_back(connector, ig):
    read = respx.get(f"{GRAPH}/{IG}").respond(json=fixture("instagram", "mentioned_comment.json"))
    [event] = connector.parse_webhook(ig, *meta_signed(fixture("instagram", "webhook_mentions.json")))
    assert (event.external_id, event.kind, event.in_reply_to) == (
        "17887498072083521",
        "mention",
        "17887498072083520",
    )
    assert event.text == "@brand_fr regardez ça" and event.author.external_id == "9090"
    assert "mentioned_comment.comment_id(17887498072083521)" in read.calls[0].request.url.params["fields"]


def test_webhook_checks(connector, ig):
    body, _headers = meta_signed(fixture("instagram", "webhook_comments.json"))
    with pytest.raises(SignatureError):
        connector.parse_webhook(ig, body, {"X-Hub-Signature-256": "sha256=00"})
    payload = fixture("instagram", "webhook_comments.json")
    payload["entry"][0]["changes"][0]["value"].pop("id")
    with pytest.raises(PayloadError):
        connector.parse_webhook(ig, *meta_signed(payload))
    payload = fixture("instagram", "webhook_comments.json")
    payload["entry"][0]["changes"][0]["field"] = "story_insights"  # unknown to the inbox: ignored
    assert connector.parse_webhook(ig, *meta_signed(payload)) == []
    assert connector.answer_challenge(
        ig, {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "42"}
    ) == ("text/plain", "42")


@respx.mock
def test_poll_reads_comments_and_replies_and_quarantines(connector, ig):
    respx.get(f"{GRAPH}/{IG}/media").respond(json=fixture("instagram", "media.json"))
    respx.get(f"{GRAPH}/17900000000000001/comments").respond(json=fixture("instagram", "comments.json"))
    result = connector.poll_cursor(ig, {"since": 1764950000})
    assert [(e.external_id, e.in_reply_to, e.from_account) for e in result.events] == [
        ("17865799348089039", "17900000000000001", False),
        ("17865799348089040", "17865799348089039", True),
    ]
    assert [r.ref for r in result.rejected] == ["comment 17865799348089041"]
    assert result.cursor == {"since": int(result.events[-1].created_at.timestamp())}


@respx.mock
def test_reply_hide_delete(connector, ig):
    route = respx.post(f"{GRAPH}/17865799348089039/replies").respond(json={"id": "17865799348089050"})
    sent = connector.send_reply(ig, OutboundReply(text="Merci !", in_reply_to="17865799348089039"))
    assert sent.external_id == "17865799348089050" and b"message=Merci" in route.calls[0].request.content
    with pytest.raises(ConnectorError):
        connector.send_reply(ig, OutboundReply(text="x", kind="dm", recipient_external_id="1"))
    hide = respx.post(f"{GRAPH}/17865799348089039").respond(json={"success": True})
    connector.hide(ig, "17865799348089039")
    connector.unhide(ig, "17865799348089039")
    assert [c.request.content for c in hide.calls] == [b"hide=true", b"hide=false"]
    respx.delete(f"{GRAPH}/17865799348089039").respond(json={"success": True})
    assert connector.delete(ig, "17865799348089039").action == "delete"
    with pytest.raises(ConnectorError) as error:
        connector.ban_author(ig, "232323232")
    assert error.value.permanent


@respx.mock
def test_publish_container_then_publish(connector, ig):
    with pytest.raises(ConnectorError):
        connector.publish(ig, OutboundPost(text="no image"))
    media = respx.post(f"{GRAPH}/{IG}/media").respond(json={"id": "17889455560051444"})
    publish = respx.post(f"{GRAPH}/{IG}/media_publish").respond(json={"id": "17920238422030506"})
    sent = connector.publish(
        ig, OutboundPost(text="Nouveau", media_urls=["https://cdn.example/a.jpg"], link="https://example.org")
    )
    assert sent.external_id == "17920238422030506"
    assert b"image_url=https" in media.calls[0].request.content
    assert b"creation_id=17889455560051444" in publish.calls[0].request.content
    connector.publish(
        ig, OutboundPost(text="Deux", media_urls=["https://cdn.example/a.jpg", "https://cdn.example/b.jpg"])
    )
    assert b"is_carousel_item=true" in media.calls[1].request.content
    assert b"media_type=CAROUSEL" in media.calls[3].request.content
    with pytest.raises(ConnectorError) as error:
        connector.delete_post(ig, "17920238422030506")
    assert error.value.permanent


@respx.mock
def test_metrics_and_insights(connector, ig):
    respx.get(f"{GRAPH}/{IG}").respond(
        json={"followers_count": 5000, "follows_count": 12, "media_count": 340, "id": IG}
    )
    respx.get(f"{GRAPH}/{IG}/insights").respond(json=fixture("instagram", "account_insights.json"))
    metrics = connector.fetch_metrics(ig)
    assert (metrics.followers, metrics.following, metrics.posts) == (5000, 12, 340)
    assert metrics.extra == {"reach_day": 412.0}
    respx.get(f"{GRAPH}/17900000000000001/insights").respond(json=fixture("instagram", "media_insights.json"))
    assert connector.post_metrics(ig, "17900000000000001") == {
        "reach": 1204,
        "likes": 87,
        "comments": 3,
        "shares": 5,
        "saved": 9,
    }


@respx.mock
def test_oauth_picks_the_linked_instagram_account(connector, monkeypatch):
    import httpx

    monkeypatch.setenv("DANDELION_META_APP_ID", "42")
    monkeypatch.setenv("DANDELION_META_APP_SECRET", APP_SECRET)
    client = connector.oauth_register(instance="", redirect_uri="https://dandelion.example/cb/")
    assert "instagram_manage_comments" in connector.oauth_authorize_url(client, state="s")
    respx.get(f"{GRAPH}/oauth/access_token").side_effect = [
        httpx.Response(200, json=fixture("facebook", "oauth_short_token.json")),
        httpx.Response(200, json=fixture("facebook", "oauth_long_token.json")),
    ]
    respx.get(f"{GRAPH}/me/accounts").respond(json=fixture("facebook", "me_accounts.json"))
    grant = connector.oauth_exchange(client, code="c")
    assert (grant.external_id, grant.handle, grant.config) == (IG, "brand_fr", {"page_id": "1234567890", "app_id": "42"})


@respx.mock
def test_post_metrics_connector_maps_media_insights(connector, ig):
    from dandelion.connectors.base import PostMetricsConnector

    assert isinstance(connector, PostMetricsConnector)
    respx.get(f"{GRAPH}/17900000000000001/insights").respond(json=fixture("instagram", "media_insights.json"))
    respx.get(f"{GRAPH}/17900000000000002/insights").respond(400, json={"error": {
        "message": "Object with ID '17900000000000002' does not exist", "code": 100, "error_subcode": 33}})
    [media] = connector.fetch_post_metrics(ig, ["17900000000000001", "17900000000000002"])
    assert (media.likes, media.replies, media.reposts, media.quotes) == (87, 3, 5, None)
