"""The Bluesky connector without a network: hostile notifications, grapheme limits, config, and the error and
rate-limit paths that the local network cannot produce (it sends no rate-limit headers in dev mode), driven by
RECORDED-SHAPE RESPONSES served by an httpx MockTransport (not the live network)."""

from __future__ import annotations

import datetime as dt
import json
import time

import httpx
import pytest

from dandelion.connectors import fake, registry
from dandelion.connectors.base import AccountRef, Capability, SearchConnector
from dandelion.connectors.bluesky import connector as bsky
from dandelion.connectors.bluesky import session as sessions
from dandelion.connectors.errors import ConfigError, ConnectorError

DID = "did:plc:brandbrandbrandbrandbran"
NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _fresh():
    sessions.forget()
    yield
    sessions.forget()


def notification(**over):
    base = {"reason": "mention", "uri": "at://did:plc:cust/app.bsky.feed.post/3k1", "cid": "bafy1",
            "author": {"did": "did:plc:cust", "handle": "cust.test", "displayName": "Cust"},
            "record": {"text": "hello @brand", "createdAt": "2026-05-01T11:00:00.000Z"},
            "indexedAt": "2026-05-01T11:00:01.000Z"}
    base.update(over)
    return base


def test_notifications_become_events_and_hostile_ones_are_refused():
    make = bsky.BlueskyConnector.event_from_notification
    event = make(notification(), own_did=DID, now=NOW)
    assert event.kind == "mention" and event.author.handle == "cust.test" and event.in_reply_to is None
    reply = make(notification(reason="reply", record={"text": "re", "createdAt": "2026-05-01T11:00:00Z",
                                                      "reply": {"root": {"uri": "at://x/app.bsky.feed.post/1"},
                                                                "parent": {"uri": "at://x/app.bsky.feed.post/2"}}}),
                 own_did=DID, now=NOW)
    assert reply.kind == "comment" and reply.in_reply_to == "at://x/app.bsky.feed.post/2"
    future = make(notification(record={"text": "x", "createdAt": "2099-01-01T00:00:00Z"}), own_did=DID, now=NOW)
    assert future.created_at == NOW  # a lying clock is clamped
    huge = make(notification(record={"text": "a\x00b\ud800" + "z" * 50_000}), own_did=DID, now=NOW)
    assert len(huge.text) <= 3000 and "\x00" not in huge.text
    for bad in (notification(reason="like"), notification(uri="https://not-at"), notification(record={}),
                notification(author={"handle": "nodid"}), notification(record={"text": 42})):
        with pytest.raises((ValueError, ConnectorError)):
            make(bad, own_did=DID, now=NOW)


def test_graphemes_count_what_people_see():
    assert bsky.graphemes("👍🏽") == 1 and bsky.graphemes("🇫🇷") == 1 and bsky.graphemes("e\u0301") == 1
    assert bsky.graphemes("abc") == 3


def test_config_is_checked():
    connector = registry.get("bluesky")
    with pytest.raises(ConfigError) as exc:
        connector.validate_config({"service": "ftp://x", "page_size": 500, "poll_interval_s": 1})
    assert set(exc.value.errors) == {"service", "page_size", "poll_interval_s"}
    assert connector.validate_config({})["service"] == "https://bsky.social"
    assert registry.get_network("bluesky").default_connector == "bluesky"
    assert Capability.SEARCH in connector.capabilities and isinstance(connector, SearchConnector)


def test_fake_connector_searches_too():
    fake.FakeConnector.index_for_search([fake.make_event(text="Acme rocks"), fake.make_event(text="other")])
    account = AccountRef(id=1, network="x", external_id="x", handle="x")
    found = registry.get("fake").search(account, "acme")
    assert [e.text for e in found.events] == ["Acme rocks"] and found.cursor is None


# --- recorded-shape responses (MockTransport) ----------------------------------------------------------------------

def _jwt(exp: int) -> str:
    import base64

    def part(d):
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'HS256'})}.{part({'sub': DID, 'exp': exp, 'iat': exp - 3600, 'scope': 'x'})}.c2ln"


def _session_body():
    exp = int(time.time()) + 3600
    return {"did": DID, "handle": "brand.test", "accessJwt": _jwt(exp), "refreshJwt": _jwt(exp + 3600),
            "active": True}


def _account(**config) -> AccountRef:
    return AccountRef(id=99, network="bluesky", external_id=DID, handle="brand.test",
                      credentials={"app_password": "abcd-efgh-ijkl-mnop"},
                      config={"service": "https://pds.example.test", **config}, connector="bluesky")


@pytest.fixture
def served(monkeypatch):
    """``served(handler)``: the connector's HTTP goes to ``handler(request) -> httpx.Response``."""
    def install(handler):
        real = sessions._WatchedRequest.__init__

        def init(self, window, **kwargs):
            real(self, window, **{**kwargs, "transport": httpx.MockTransport(handler)})
        monkeypatch.setattr(sessions._WatchedRequest, "__init__", init)
    return install


def test_rate_limit_headers_stop_calls_until_the_window_resets(served):
    calls = []
    reset = int(time.time()) + 120

    def handler(request):
        calls.append(request.url.path)
        if request.url.path.endswith("createSession"):
            return httpx.Response(200, json=_session_body())
        return httpx.Response(200, json={"notifications": []},
                              headers={"ratelimit-limit": "3000", "ratelimit-remaining": "0",
                                       "ratelimit-reset": str(reset), "ratelimit-policy": "3000;w=300"})
    served(handler)
    connector = registry.get("bluesky")
    connector.poll_cursor(_account(), None)
    with pytest.raises(ConnectorError) as exc:
        connector.poll_cursor(_account(), None)
    assert not exc.value.permanent and 100 < exc.value.retry_after <= 120
    assert calls.count("/xrpc/app.bsky.notification.listNotifications") == 1  # the spent window cost no call


def test_429_is_transient_with_the_reset_and_5xx_transient_401_login_permanent(served):
    state = {"mode": "429"}

    def handler(request):
        if request.url.path.endswith("createSession"):
            if state["mode"] == "revoked":
                return httpx.Response(401, json={"error": "AuthenticationRequired",
                                                 "message": "Invalid identifier or password"})
            return httpx.Response(200, json=_session_body())
        if state["mode"] == "429":
            return httpx.Response(429, json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                                  headers={"ratelimit-remaining": "0", "ratelimit-reset": str(int(time.time()) + 30)})
        return httpx.Response(503, json={"error": "InternalServerError"})
    served(handler)
    connector = registry.get("bluesky")
    with pytest.raises(ConnectorError) as limited:
        connector.poll_cursor(_account(), None)
    assert not limited.value.permanent and 0 < limited.value.retry_after <= 30
    sessions.forget()
    state["mode"] = "503"
    with pytest.raises(ConnectorError) as down:
        connector.poll_cursor(_account(), None)
    assert not down.value.permanent
    sessions.forget()
    state["mode"] = "revoked"
    with pytest.raises(ConnectorError) as revoked:
        connector.poll_cursor(_account(), None)
    assert revoked.value.permanent and "app password" in str(revoked.value)


def test_a_poll_quarantines_unreadable_notifications_and_keeps_the_rest(served):
    good = notification(uri="at://did:plc:cust/app.bsky.feed.post/good")
    broken = notification(uri="at://did:plc:cust/app.bsky.feed.post/bad", record={"$type": "app.bsky.feed.post"})

    def handler(request):
        if request.url.path.endswith("createSession"):
            return httpx.Response(200, json=_session_body())
        return httpx.Response(200, json={"notifications": [dict(good, isRead=False), dict(broken, isRead=False)]})
    served(handler)
    result = registry.get("bluesky").poll_cursor(_account(), None)
    assert [e.external_id for e in result.events] == [good["uri"]]
    assert [r.ref for r in result.rejected] == [broken["uri"]] and "no text" in result.rejected[0].error
    assert result.cursor["seen_at"].startswith("2026-05-01T11:00:01")


def test_dms_are_refused_clearly_and_image_urls_checked_before_any_call():
    from dandelion.connectors.base import OutboundPost, OutboundReply

    connector = registry.get("bluesky")
    with pytest.raises(ConnectorError) as dm:
        connector.send_reply(_account(), OutboundReply(text="hi", kind="dm", recipient_external_id="did:plc:x"))
    assert dm.value.permanent and "chat" in str(dm.value)
    with pytest.raises(ConnectorError) as images:  # images themselves: test_bluesky_images.py, on the local network
        connector.publish(_account(), OutboundPost(text="hi", media_urls=["file:///etc/passwd"]))
    assert images.value.permanent and "not an http(s) URL" in str(images.value)
