"""The LinkedIn organisation-page connector against recorded responses (not the live network).

The responses under ``fixtures/linkedin/`` follow LinkedIn's Community Management API documentation (Posts API,
Social Actions comments and counts, Organization Access Control, Organizations, Network Sizes, Images
``initializeUpload``, the OAuth 2 token endpoint, and LinkedIn's error bodies); they are served at the httpx seam by
``respx``, which also checks the versioned headers every call must carry.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest
import respx

from dandelion.connectors import registry
from dandelion.connectors.base import AccountRef, OAuthClient, OutboundPost, OutboundReply, poll_with_cursor
from dandelion.connectors.errors import ConnectorError
from dandelion.connectors.linkedin import api

FIXTURES = Path(__file__).parent / "fixtures" / "linkedin"
ORG = "urn:li:organization:2414183"
A1 = "urn:li:activity:7270000000000000001"
POST1 = "urn:li:share:7270000000000000001"
POST2 = "urn:li:ugcPost:7260000000000000002"
REST = "https://api.linkedin.com/rest"
FUTURE = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()

connector = registry.get("linkedin")


def fixture(name: str):
    return json.loads((FIXTURES / name).read_text())


def make_account(**credentials) -> AccountRef:
    creds = {
        "access_token": "AQV-stored",
        "expires_at": FUTURE,
        "client_id": "78abc",
        "client_secret": "WPL_AP1.x",
    }
    creds.update(credentials)
    return AccountRef(
        id=63,
        network="linkedin",
        external_id=ORG,
        handle="brand-inc",
        credentials=creds,
        config={"page_size": 2, "posts_watched": 5},
        connector="linkedin",
    )


@pytest.fixture
def mock():
    api.forget()
    with respx.mock(assert_all_called=False) as router:
        yield router
    api.forget()


def comments_route(mock, post: str):
    return mock.get(f"{REST}/socialActions/{api.urn(post)}/comments")


def test_registered_as_the_linkedin_default():
    assert registry.get_network("linkedin").default_connector == "linkedin"
    assert connector.capabilities == {"poll", "reply", "moderation", "metrics", "publishing"}


def test_poll_reads_comments_on_the_latest_posts_with_paging(mock):
    mock.get(f"{REST}/posts").respond(json=fixture("posts_by_author.json"))
    comments_route(mock, POST1).mock(
        side_effect=[
            httpx.Response(200, json=fixture("comments_post1_page1.json")),
            httpx.Response(200, json=fixture("comments_post1_page2.json")),
        ]
    )
    comments_route(mock, POST2).respond(json=fixture("comments_post2.json"))
    result = poll_with_cursor(connector, make_account(), None)
    ids = [e.external_id for e in result.events]
    assert ids == [
        f"urn:li:comment:({A1},{n})" for n in (7270000000000000101, 7270000000000000102, 7270000000000000103)
    ]
    first, ours, _last = result.events
    assert (
        first.kind == "comment"
        and first.in_reply_to == POST1
        and first.author.external_id == "urn:li:person:Xy12AbC"
    )
    assert ours.kind == "reply" and ours.from_account and ours.in_reply_to == ids[0]
    posts_call = mock.calls[0].request
    assert posts_call.headers["LinkedIn-Version"] == api.DEFAULT_VERSION
    assert posts_call.headers["X-Restli-Protocol-Version"] == "2.0.0"
    assert posts_call.headers["Authorization"] == "Bearer AQV-stored"
    assert "author=urn%3Ali%3Aorganization%3A2414183" in str(posts_call.url)
    page2 = [c.request for c in mock.calls if "comments" in str(c.request.url)][1]
    assert parse_qs(urlsplit(str(page2.url)).query)["start"] == ["2"]
    assert result.cursor["since_ms"] == 1765002000000
    # the next poll brings nothing it already brought
    mock.calls.reset()
    comments_route(mock, POST1).mock(
        side_effect=[
            httpx.Response(200, json=fixture("comments_post1_page1.json")),
            httpx.Response(200, json=fixture("comments_post1_page2.json")),
        ]
    )
    again = connector.poll_cursor(make_account(), result.cursor)
    assert list(again.events) == []


def test_hostile_comments_are_rejected_alone(mock):
    mock.get(f"{REST}/posts").respond(json={"elements": [{"id": POST1}]})
    comments_route(mock, POST1).respond(json=fixture("comments_hostile.json"))
    result = connector.poll_cursor(make_account(), None)
    assert len(result.events) == 1 and len(result.rejected) == 3
    big = result.events[0]
    assert len(big.text) <= 10_000 and "\x00" not in big.text
    assert big.created_at <= dt.datetime.now(dt.UTC)  # a date in year 5138: the reception time


def test_reply_as_the_organisation_under_a_comment(mock):
    target = f"urn:li:comment:({A1},7270000000000000103)"
    route = mock.post(f"{REST}/socialActions/{api.urn(target)}/comments").respond(
        201, json=fixture("comment_created.json")
    )
    sent = connector.send_reply(make_account(), OutboundReply("Thanks for asking!", in_reply_to=target))
    assert sent.external_id == f"urn:li:comment:({A1},7270000000000000199)"
    body = json.loads(route.calls[0].request.content)
    assert body == {
        "actor": ORG,
        "object": A1,
        "parentComment": target,
        "message": {"text": "Thanks for asking!"},
    }


def test_reply_on_a_post_and_refusals(mock):
    route = mock.post(f"{REST}/socialActions/{api.urn(POST1)}/comments").respond(
        201, json={}, headers={"x-restli-id": f"urn:li:comment:({A1},7270000000000000200)"}
    )
    sent = connector.send_reply(make_account(), OutboundReply("Welcome!", in_reply_to=POST1))
    assert sent.external_id.endswith("7270000000000000200)")
    assert json.loads(route.calls[0].request.content)["object"] == POST1
    for bad in (
        OutboundReply("x" * 1300, in_reply_to=POST1),
        OutboundReply("hi", in_reply_to="urn:li:evil:1"),
        OutboundReply("hi", kind="dm", recipient_external_id="urn:li:person:a"),
    ):
        with pytest.raises(ConnectorError) as caught:
            connector.send_reply(make_account(), bad)
        assert caught.value.permanent


def test_publish_text_link_and_image_then_delete(mock):
    posts = mock.post(f"{REST}/posts").mock(
        side_effect=[
            httpx.Response(201, headers={"x-restli-id": "urn:li:share:7270000000000000300"}),
            httpx.Response(201, headers={"x-restli-id": "urn:li:share:7270000000000000301"}),
            httpx.Response(201, headers={"x-restli-id": "urn:li:share:7270000000000000302"}),
        ]
    )
    mock.get("https://cdn.brand.example/v2.png").respond(
        content=b"\x89PNG\r\n\x1a\nfake", headers={"content-type": "image/png"}
    )
    init = mock.post(f"{REST}/images").respond(json=fixture("image_initialize.json"))
    upload = mock.put(fixture("image_initialize.json")["value"]["uploadUrl"]).respond(201)
    deleted = mock.delete(f"{REST}/posts/{api.urn('urn:li:share:7270000000000000300')}").respond(204)
    account = make_account()
    sent = connector.publish(account, OutboundPost("Our v2 is out!"))
    assert sent.external_id == "urn:li:share:7270000000000000300"
    connector.publish(account, OutboundPost("Read the notes", link="https://brand.example/v2"))
    connector.publish(
        account,
        OutboundPost(
            "The new dashboard",
            media_urls=["https://cdn.brand.example/v2.png"],
            alt_texts=["A chart of response times"],
        ),
    )
    connector.delete_post(account, "urn:li:share:7270000000000000300")
    bodies = [json.loads(c.request.content) for c in posts.calls]
    assert (
        bodies[0]["author"] == ORG
        and bodies[0]["commentary"] == "Our v2 is out!"
        and "content" not in bodies[0]
    )
    assert bodies[0]["lifecycleState"] == "PUBLISHED" and bodies[0]["visibility"] == "PUBLIC"
    assert bodies[1]["content"] == {
        "article": {"source": "https://brand.example/v2", "title": "Read the notes"}
    }
    assert bodies[2]["content"] == {
        "media": {"id": "urn:li:image:D4D10AQImage123", "altText": "A chart of response times"}
    }
    assert json.loads(init.calls[0].request.content) == {"initializeUploadRequest": {"owner": ORG}}
    assert "action=initializeUpload" in str(init.calls[0].request.url)
    assert upload.calls[0].request.content.startswith(b"\x89PNG")
    assert deleted.called


def test_delete_comment_as_the_organisation_and_no_ban(mock):
    target = f"urn:li:comment:({A1},7270000000000000101)"
    route = mock.delete(f"{REST}/socialActions/{api.urn(A1)}/comments/7270000000000000101").respond(204)
    assert connector.delete(make_account(), target).detail == "deleted on LinkedIn"
    assert unquote(parse_qs(urlsplit(str(route.calls[0].request.url)).query)["actor"][0]) == ORG
    assert "Dandelion only" in connector.hide(make_account(), target).detail
    with pytest.raises(ConnectorError) as caught:
        connector.ban_author(make_account(), "urn:li:person:Xy12AbC")
    assert caught.value.permanent


def test_followers_and_post_counts(mock):
    sizes = mock.get(f"{REST}/networkSizes/{api.urn(ORG)}").respond(json=fixture("network_size.json"))
    mock.get(f"{REST}/socialActions/{api.urn(POST1)}").respond(json=fixture("social_actions.json"))
    assert connector.fetch_metrics(make_account()).followers == 48210
    assert "edgeType=COMPANY_FOLLOWED_BY_MEMBER" in str(sizes.calls[0].request.url)
    assert connector.post_metrics(make_account(), POST1) == {
        "likes": 240,
        "comments": 19,
        "first_level_comments": 12,
    }


def test_expired_token_is_refreshed_once_and_kept(mock):
    token = mock.post(api.TOKEN_URL).respond(json=fixture("token_refreshed.json"))
    sizes = mock.get(f"{REST}/networkSizes/{api.urn(ORG)}").respond(json=fixture("network_size.json"))
    account = make_account(expires_at="2020-01-01T00:00:00+00:00", refresh_token="AQX-refresh")
    connector.fetch_metrics(account)
    connector.fetch_metrics(account)
    assert token.call_count == 1 and b"grant_type=refresh_token" in token.calls[0].request.content
    assert [c.request.headers["Authorization"] for c in sizes.calls] == ["Bearer AQV-refreshed"] * 2


def test_401_refreshes_then_revoked_is_permanent(mock):
    mock.post(api.TOKEN_URL).respond(400, json=fixture("token_invalid.json"))
    mock.get(f"{REST}/networkSizes/{api.urn(ORG)}").respond(401, json=fixture("error_401.json"))
    with pytest.raises(ConnectorError) as caught:
        connector.fetch_metrics(make_account(refresh_token="AQX-refresh"))
    assert caught.value.permanent and "connect the account again" in str(caught.value)
    api.forget()
    with pytest.raises(ConnectorError) as no_refresh:
        connector.fetch_metrics(make_account())
    assert no_refresh.value.permanent and "revoked" in str(no_refresh.value)


def test_expired_without_refresh_token_is_permanent(mock):
    with pytest.raises(ConnectorError) as caught:
        connector.fetch_metrics(make_account(expires_at="2020-01-01T00:00:00+00:00"))
    assert caught.value.permanent and not mock.calls


def test_throttled_is_transient_and_403_permanent(mock):
    mock.get(f"{REST}/posts").mock(
        side_effect=[
            httpx.Response(429, json=fixture("error_429.json"), headers={"retry-after": "120"}),
            httpx.Response(429, json=fixture("error_429.json")),
            httpx.Response(403, json=fixture("error_403.json")),
            httpx.Response(503, text="upstream down"),
        ]
    )
    errors = []
    for _ in range(4):
        with pytest.raises(ConnectorError) as caught:
            connector.poll_cursor(make_account(), None)
        errors.append(caught.value)
    assert [(e.permanent, e.retry_after) for e in errors] == [
        (False, 120.0),
        (False, api.THROTTLE_RETRY_S),
        (True, None),
        (False, None),
    ]
    assert "administrator" in str(errors[2])


def test_oauth_flow_finds_the_administered_page(mock, monkeypatch):
    monkeypatch.setenv("DANDELION_LINKEDIN_CLIENT_ID", "78abc")
    monkeypatch.setenv("DANDELION_LINKEDIN_CLIENT_SECRET", "WPL_AP1.x")
    client = connector.oauth_register(instance="", redirect_uri="https://dandelion.example/oauth/back/")
    url = connector.oauth_authorize_url(client, state="st4te")
    query = parse_qs(urlsplit(url).query)
    assert url.startswith("https://www.linkedin.com/oauth/v2/authorization?")
    assert query["state"] == ["st4te"] and set(query["scope"][0].split()) == set(api.SCOPES)
    token = mock.post(api.TOKEN_URL).respond(json=fixture("token.json"))
    acls = mock.get(f"{REST}/organizationAcls").respond(json=fixture("organization_acls.json"))
    mock.get(f"{REST}/organizations/2414183").respond(json=fixture("organization.json"))
    grant = connector.oauth_exchange(client, code="AQTcode")
    assert (grant.external_id, grant.handle, grant.display_name) == (ORG, "brand-inc", "Brand Inc.")
    assert grant.credentials["refresh_token"] == "AQX-refresh"
    assert grant.credentials["access_token"] == "AQV-first-token"
    assert b"code=AQTcode" in token.calls[0].request.content
    assert acls.calls[0].request.headers["Authorization"] == "Bearer AQV-first-token"
    assert "role=ADMINISTRATOR" in str(acls.calls[0].request.url)


def test_oauth_without_an_app_or_a_page(mock, monkeypatch):
    monkeypatch.delenv("DANDELION_LINKEDIN_CLIENT_ID", raising=False)
    with pytest.raises(ConnectorError):
        connector.oauth_register(instance="", redirect_uri="https://x/")
    mock.post(api.TOKEN_URL).respond(json=fixture("token.json"))
    mock.get(f"{REST}/organizationAcls").respond(json={"elements": []})
    with pytest.raises(ConnectorError) as caught:
        connector.oauth_exchange(
            OAuthClient("https://www.linkedin.com", "https://x/", {"client_id": "a", "client_secret": "b"}),
            code="c",
        )
    assert caught.value.permanent and "administers no organisation" in str(caught.value)


def test_check_says_whether_the_member_administers_the_page(mock):
    mock.get(f"{REST}/organizationAcls").respond(json=fixture("organization_acls.json"))
    assert [line.ok for line in connector.check(make_account())] == [True, True, True]


def test_post_metrics_connector_reads_social_actions_and_leaves_out_deleted_posts(mock):
    from dandelion.connectors.base import PostMetricsConnector

    assert isinstance(connector, PostMetricsConnector)
    mock.get(f"{REST}/socialActions/{api.urn(POST1)}").respond(json=fixture("social_actions.json"))
    mock.get(f"{REST}/socialActions/{api.urn(POST2)}").respond(404, json={"status": 404, "message": "Not found"})
    [post] = connector.fetch_post_metrics(make_account(), [POST1, POST2])
    assert (post.external_id, post.likes, post.replies, post.reposts) == (POST1, 240, 19, None)
