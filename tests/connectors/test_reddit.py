"""The Reddit connector against recorded responses (not the live network).

The responses under ``fixtures/reddit/`` follow Reddit's documented API (reddit.com/dev/api: Listings of ``t1`` /
``t3`` / ``t4`` things, ``api_type=json`` answers, ``/api/v1/me``, the OAuth token endpoint) and its ``x-ratelimit-*``
headers; they are replayed at the requests seam with the ``responses`` package while PRAW (update check off) does
the real work: token requests, rate-limit bookkeeping, error classes.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from dandelion.connectors import registry
from dandelion.connectors.base import AccountRef, OAuthClient, OutboundPost, OutboundReply, poll_with_cursor
from dandelion.connectors.errors import ConnectorError
from dandelion.connectors.reddit import client as rd

FIXTURES = Path(__file__).parent / "fixtures" / "reddit"
TOKEN_URL = "https://www.reddit.com/api/v1/access_token"
API = "https://oauth.reddit.com"
CALM = {"x-ratelimit-used": "5", "x-ratelimit-remaining": "595.0", "x-ratelimit-reset": "300"}

connector = registry.get("reddit")


def fixture(name: str):
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def api():
    rd.forget()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.POST, TOKEN_URL, json=fixture("token_refresh.json"))
        yield mock
    rd.forget()


def make_account(**config) -> AccountRef:
    return AccountRef(
        id=52,
        network="reddit",
        external_id="t2_1w72",
        handle="brand_official",
        credentials={
            "client_id": "p-jcoLKBynTLew",
            "client_secret": "gko_LXELoV07ZBNUXrvWZfzE3aI",
            "refresh_token": "123456789-refreshAbC",
        },
        config={"subreddit": "BrandCommunity", "page_size": 3, **config},
        connector="reddit",
    )


def api_calls(mock) -> list:
    return [c for c in mock.calls if c.request.url.startswith(API)]


def params(call) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


def form(call) -> dict[str, list[str]]:
    """The form PRAW posted (less the ``api_type=json`` prawcore adds to every form)."""
    body = parse_qs(call.request.body if isinstance(call.request.body, str) else call.request.body.decode())
    body.pop("api_type", None)
    return body


def test_registered_with_its_network_and_capabilities():
    assert registry.get_network("reddit").default_connector == "reddit"
    assert (
        registry.get_network("reddit").profile_url("brand_official")
        == "https://www.reddit.com/user/brand_official/"
    )
    assert connector.capabilities_for({"subreddit": "BrandCommunity"}) == {
        "poll",
        "reply",
        "moderation",
        "metrics",
        "publishing",
        "search",
    }
    assert connector.capabilities_for({}) == {"poll", "reply", "metrics", "search"}


def test_client_never_checks_for_updates(api):
    own = connector.client(make_account())
    assert own.reddit.config.check_for_updates is False
    assert "dandelion" in own.reddit.config.user_agent


def test_first_poll_reads_mentions_replies_and_messages(api):
    api.add(responses.GET, f"{API}/message/inbox", json=fixture("inbox_page1.json"), headers=CALM)
    result = poll_with_cursor(connector, make_account(), None)
    by_id = {e.external_id: e for e in result.events}
    assert [e.external_id for e in result.events] == ["t1_mq2b7", "t1_mq2c3", "t4_2k9m1"]  # oldest first
    assert by_id["t4_2k9m1"].kind == "dm" and by_id["t4_2k9m1"].text.startswith("Refund")
    assert by_id["t1_mq2c3"].kind == "mention" and by_id["t1_mq2c3"].in_reply_to == "t3_abc123"
    assert by_id["t1_mq2b7"].kind == "reply" and by_id["t1_mq2b7"].in_reply_to == "t1_mq1zz"
    assert by_id["t1_mq2c3"].author.external_id == "helpful_user"
    call = api_calls(api)[0]
    assert call.request.headers["Authorization"] == "bearer eyJhbGciOiJSUzI1NiJ9.refreshed"
    assert params(call)["limit"] == ["3"] and params(call)["raw_json"] == ["1"]
    assert result.cursor["since"] == 1765015800.0 and result.cursor["seen"] == ["t4_2k9m1"]


def test_next_poll_pages_back_to_the_watermark_and_skips_what_was_seen(api):
    api.add(responses.GET, f"{API}/message/inbox", json=fixture("inbox_page1.json"), headers=CALM)
    api.add(responses.GET, f"{API}/message/inbox", json=fixture("inbox_page2.json"), headers=CALM)
    result = connector.poll_cursor(make_account(), {"since": 1764950000.0, "seen": []})
    assert len(result.events) == 3 and not result.more
    assert params(api_calls(api)[1])["after"] == ["t1_mq2b7"]
    api.add(responses.GET, f"{API}/message/inbox", json=fixture("inbox_page1.json"), headers=CALM)
    again = connector.poll_cursor(make_account(), result.cursor)
    assert list(again.events) == []


def test_hostile_inbox_items_are_rejected_alone(api):
    api.add(responses.GET, f"{API}/message/inbox", json=fixture("inbox_hostile.json"), headers=CALM)
    result = connector.poll_cursor(make_account(), None)
    assert [e.external_id for e in result.events] == ["t4_big1"]
    big = result.events[0]
    assert len(big.text) <= 10_000 and "\x00" not in big.text
    assert len(result.rejected) == 4


def test_reply_answers_a_message_or_comment_by_fullname(api):
    api.add(responses.POST, f"{API}/api/comment", json=fixture("comment_created.json"), headers=CALM)
    sent = connector.send_reply(
        make_account(), OutboundReply("We are sorry, refund sent.", in_reply_to="t4_2k9m1")
    )
    assert sent.external_id == "t1_mq3zz" and sent.url.startswith("https://www.reddit.com/r/BrandCommunity/")
    body = form(api_calls(api)[0])
    assert body["thing_id"] == ["t4_2k9m1"] and body["text"] == ["We are sorry, refund sent."]
    with pytest.raises(ConnectorError):
        connector.send_reply(make_account(), OutboundReply("hi", in_reply_to="<script>"))


def test_reddit_ratelimit_error_is_transient(api):
    api.add(responses.POST, f"{API}/api/comment", json=fixture("ratelimit_error.json"), headers=CALM)
    with pytest.raises(ConnectorError) as caught:
        connector.send_reply(make_account(), OutboundReply("again", in_reply_to="t1_mq2c3"))
    assert not caught.value.permanent and caught.value.retry_after == 301


def test_spent_rate_window_postpones_the_next_call(api):
    api.add(
        responses.GET,
        f"{API}/api/v1/me",
        json=fixture("me.json"),
        headers={"x-ratelimit-used": "600", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "120"},
    )
    api.add(responses.GET, f"{API}/r/BrandCommunity/about", json=fixture("subreddit_about.json"))
    with pytest.raises(ConnectorError) as caught:
        connector.fetch_metrics(make_account())
    assert not caught.value.permanent and 100 < caught.value.retry_after <= 120
    assert [c.request.url.split("?")[0] for c in api_calls(api)] == [
        f"{API}/api/v1/me"
    ]  # about was not called


def test_429_is_transient_with_retry_after(api):
    api.add(
        responses.GET,
        f"{API}/message/inbox",
        status=429,
        json={"message": "Too Many Requests", "error": 429},
        headers={"retry-after": "42"},
    )
    with pytest.raises(ConnectorError) as caught:
        connector.poll_cursor(make_account(), None)
    assert not caught.value.permanent and caught.value.retry_after == 42


@pytest.mark.parametrize("status", [200, 400])
def test_revoked_refresh_token_is_permanent(status):
    rd.forget()
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, TOKEN_URL, status=status, json=fixture("token_invalid_grant.json"))
        with pytest.raises(ConnectorError) as caught:
            connector.poll_cursor(make_account(), None)
    assert caught.value.permanent and "connect the account again" in str(caught.value)
    rd.forget()


def test_403_not_a_moderator_is_permanent(api):
    api.add(responses.POST, f"{API}/api/remove", status=403, json={"message": "Forbidden", "error": 403})
    with pytest.raises(ConnectorError) as caught:
        connector.hide(make_account(), "t1_mq2c3")
    assert caught.value.permanent and "moderators" in str(caught.value)


def test_moderation_remove_approve_delete_and_ban(api):
    for path in ("remove", "approve", "remove"):
        api.add(responses.POST, f"{API}/api/{path}", json={}, headers=CALM)
    api.add(responses.GET, f"{API}/api/info", json=fixture("info_comment_other.json"), headers=CALM)
    api.add(responses.POST, f"{API}/r/BrandCommunity/api/friend", json=fixture("ban_ok.json"), headers=CALM)
    account = make_account()
    assert connector.hide(account, "t1_mq2c3").detail == "removed by a moderator on Reddit"
    assert connector.unhide(account, "t1_mq2c3").action == "unhide"
    assert (
        "removed" in connector.delete(account, "t1_mq2c3").detail
    )  # someone else's comment: removed, not deleted
    assert connector.ban_author(account, "u/angry_customer").target_external_id == "angry_customer"
    calls = api_calls(api)
    assert form(calls[0]) == {"id": ["t1_mq2c3"], "spam": ["false"]}
    assert form(calls[-1])["type"] == ["banned"] and form(calls[-1])["name"] == ["angry_customer"]


def test_delete_own_comment_uses_del(api):
    own = fixture("info_comment_other.json")
    own["data"]["children"][0]["data"]["author"] = "brand_official"
    api.add(responses.GET, f"{API}/api/info", json=own, headers=CALM)
    api.add(responses.POST, f"{API}/api/del", json={}, headers=CALM)
    assert connector.delete(make_account(), "t1_mq2c3").detail == "deleted on Reddit"


def test_publish_text_and_link_posts_then_delete(api):
    api.add(responses.POST, f"{API}/api/submit", json=fixture("submit_created.json"), headers=CALM)
    api.add(responses.POST, f"{API}/api/submit", json=fixture("submit_created.json"), headers=CALM)
    api.add(responses.POST, f"{API}/api/del", json={}, headers=CALM)
    account = make_account()
    sent = connector.publish(account, OutboundPost("Release notes v2\nEverything that changed."))
    assert sent.external_id == "t3_1h8new" and sent.url.endswith("/release_notes_v2/")
    connector.publish(account, OutboundPost("Read the announcement", link="https://brand.example/v2"))
    connector.delete_post(account, "t3_1h8new")
    calls = api_calls(api)
    assert form(calls[0])["kind"] == ["self"] and form(calls[0])["text"] == ["Everything that changed."]
    assert form(calls[0])["sr"] == ["BrandCommunity"] and form(calls[0])["title"] == ["Release notes v2"]
    assert form(calls[1])["kind"] == ["link"] and form(calls[1])["url"] == ["https://brand.example/v2"]
    assert form(calls[2]) == {"id": ["t3_1h8new"]}


def test_publish_refusals(api):
    api.add(responses.POST, f"{API}/api/submit", json=fixture("submit_error.json"), headers=CALM)
    with pytest.raises(ConnectorError) as refused:
        connector.publish(make_account(), OutboundPost("Title\nbody"))
    assert refused.value.permanent and "SUBREDDIT_NOTALLOWED" in str(refused.value)
    with pytest.raises(ConnectorError):
        connector.publish(make_account(), OutboundPost("Photo", media_urls=["https://x/y.png"]))
    with pytest.raises(ConnectorError):
        connector.publish(make_account(subreddit=""), OutboundPost("No subreddit"))


def test_metrics_and_post_metrics(api):
    api.add(responses.GET, f"{API}/api/v1/me", json=fixture("me.json"), headers=CALM)
    api.add(
        responses.GET, f"{API}/r/BrandCommunity/about", json=fixture("subreddit_about.json"), headers=CALM
    )
    api.add(responses.GET, f"{API}/api/info", json=fixture("info_post.json"), headers=CALM)
    metrics = connector.fetch_metrics(make_account())
    assert metrics.followers == 2450
    assert metrics.extra == {
        "total_karma": 10350.0,
        "link_karma": 1520.0,
        "comment_karma": 8830.0,
        "subreddit_subscribers": 18250.0,
    }
    assert connector.post_metrics(make_account(), "t3_1h8new") == {
        "score": 412,
        "comments": 57,
        "upvote_ratio_pct": 94,
    }


def test_search_the_subreddit(api):
    api.add(responses.GET, f"{API}/r/BrandCommunity/search", json=fixture("search.json"), headers=CALM)
    found = connector.search(make_account(), "brand app", limit=10)
    assert [e.external_id for e in found.events] == ["t3_1h7xyz"] and found.cursor == "t3_1h7xyz"
    assert found.events[0].text.startswith("Is the Brand app any good?")
    query = params(api_calls(api)[0])
    assert query["q"] == ["brand app"] and query["restrict_sr"] == ["1"] and query["sort"] == ["new"]


def test_oauth_web_app_flow(monkeypatch):
    monkeypatch.setenv("DANDELION_REDDIT_CLIENT_ID", "p-jcoLKBynTLew")
    monkeypatch.setenv("DANDELION_REDDIT_CLIENT_SECRET", "gko_LXELoV07ZBNUXrvWZfzE3aI")
    client = connector.oauth_register(
        instance="reddit.com", redirect_uri="https://dandelion.example/oauth/back/"
    )
    url = connector.oauth_authorize_url(client, state="st4te")
    query = parse_qs(urlsplit(url).query)
    assert url.startswith("https://www.reddit.com/api/v1/authorize?")
    assert (
        query["duration"] == ["permanent"]
        and query["state"] == ["st4te"]
        and query["response_type"] == ["code"]
    )
    assert set(query["scope"][0].split()) == set(rd.SCOPES)
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, TOKEN_URL, json=fixture("token_authorization_code.json"))
        mock.add(responses.GET, f"{API}/api/v1/me", json=fixture("me.json"), headers=CALM)
        grant = connector.oauth_exchange(client, code="abcCODE")
        assert "code=abcCODE" in mock.calls[0].request.body
    assert (grant.external_id, grant.handle) == ("t2_1w72", "brand_official")
    assert grant.credentials["refresh_token"] == "123456789-refreshAbC"


def test_oauth_without_an_app_configured(monkeypatch):
    monkeypatch.delenv("DANDELION_REDDIT_CLIENT_ID", raising=False)
    with pytest.raises(ConnectorError):
        connector.oauth_register(instance="", redirect_uri="https://x/")
    with pytest.raises(ConnectorError):
        connector.oauth_exchange(OAuthClient("https://www.reddit.com", "https://x/"), code="")


def test_script_app_uses_the_password_grant():
    rd.forget()
    account = AccountRef(
        id=53,
        network="reddit",
        external_id="t2_1w72",
        handle="brand_official",
        credentials={
            "client_id": "id",
            "client_secret": "secret",
            "username": "brand_official",
            "password": "hunter2",
        },
        config={},
        connector="reddit",
    )
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, TOKEN_URL, json=fixture("token_refresh.json"))
        mock.add(responses.GET, f"{API}/api/v1/me", json=fixture("me.json"), headers=CALM)
        lines = connector.check(account)
        assert "grant_type=password" in mock.calls[0].request.body
    assert all(line.ok for line in lines)
    rd.forget()


def test_missing_credentials_are_permanent():
    account = AccountRef(
        id=54,
        network="reddit",
        external_id="t2_x",
        handle="x",
        credentials={"client_id": "a", "client_secret": "b"},
        config={},
        connector="reddit",
    )
    with pytest.raises(ConnectorError) as caught:
        connector.poll_cursor(account, None)
    assert caught.value.permanent
