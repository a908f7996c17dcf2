"""The YouTube connector against recorded responses (not the live network).

The responses under ``fixtures/youtube/`` are shaped as the YouTube Data API v3 reference documents them
(commentThreads, comments, channels, videos, search resources and Google's error format); they are replayed with the
client library's own test tooling (``googleapiclient.http.HttpMockSequence``) at the httplib2 seam, which also serves
the OAuth token endpoint. The service is built from the library's bundled discovery document: nothing is downloaded.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from googleapiclient.http import HttpMockSequence

from dandelion.connectors import registry
from dandelion.connectors.base import AccountRef, OAuthClient, OutboundReply, poll_with_cursor
from dandelion.connectors.errors import ConnectorError
from dandelion.connectors.youtube import client as yt

FIXTURES = Path(__file__).parent / "fixtures" / "youtube"
CHANNEL = "UCbrandChannel0000000000"
FUTURE = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def ok(name: str) -> tuple[dict, str]:
    return {"status": "200", "content-type": "application/json"}, fixture(name)


def error(status: int, name: str) -> tuple[dict, str]:
    return {"status": str(status), "content-type": "application/json"}, fixture(name)


@pytest.fixture
def http(monkeypatch):
    """One recorded sequence serving every request of the test (API and token endpoint)."""
    mock = HttpMockSequence([])
    monkeypatch.setattr(yt, "new_http", lambda timeout=20.0: mock)
    yt.forget()
    yield mock
    yt.forget()


def make_account(**credentials) -> AccountRef:
    creds = {
        "access_token": "ya29.stored",
        "expires_at": FUTURE,
        "refresh_token": "1//0gRefreshToken",
        "client_id": "123.apps.googleusercontent.com",
        "client_secret": "GOCSPX-secret",
    }
    creds.update(credentials)
    return AccountRef(
        id=41,
        network="youtube",
        external_id=CHANNEL,
        handle="@brand",
        credentials=creds,
        config={"page_size": 2, "max_pages": 3},
        connector="youtube",
    )


def query(request) -> dict[str, list[str]]:
    return parse_qs(urlsplit(request[0]).query)


connector = registry.get("youtube")


def test_registered_as_the_youtube_default_with_its_capabilities():
    assert registry.get_network("youtube").default_connector == "youtube"
    assert connector.capabilities == {"poll", "reply", "moderation", "metrics", "search"}


def test_first_poll_reads_the_latest_page_of_threads_and_replies(http):
    http._iterable += [ok("commentThreads_page1.json")]
    result = poll_with_cursor(connector, make_account(), None)
    ids = [e.external_id for e in result.events]
    assert ids == ["UgzOlder0002", "UgzNewest0001", "UgzNewest0001.9xBrand", "UgzNewest0001.9xReplyB"]
    by_id = {e.external_id: e for e in result.events}
    top = by_id["UgzNewest0001"]
    assert (
        top.kind == "comment" and top.in_reply_to == "dQw4w9WgXcQ" and top.text.startswith("Your app crashed")
    )
    assert top.author.external_id == "UCcustomerA00000000000"
    reply = by_id["UgzNewest0001.9xReplyB"]
    assert reply.kind == "reply" and reply.in_reply_to == "UgzNewest0001"
    assert by_id["UgzNewest0001.9xBrand"].from_account  # the brand's own reply: an echo
    params = query(http.request_sequence[0])
    assert params["allThreadsRelatedToChannelId"] == [CHANNEL] and params["order"] == ["time"]
    assert http.request_sequence[0][3]["authorization"] == "Bearer ya29.stored"
    assert result.cursor["since"] == "2026-12-06T10:07:00+00:00" and not result.more


def test_next_poll_walks_pages_until_the_watermark(http):
    http._iterable += [ok("commentThreads_page1.json"), ok("commentThreads_page2.json")]
    cursor = {"since": "2026-12-05T12:00:00+00:00", "seen": []}
    result = connector.poll_cursor(make_account(), cursor)
    ids = [e.external_id for e in result.events]
    assert "UgzOlder0002" in ids and "UgzOldest0003" not in ids  # page 2 reached the watermark: stop there
    assert query(http.request_sequence[1])["pageToken"] == ["QURTSl9pM"] and not result.more
    # nothing new the third time: the same page, all under the watermark
    http._iterable += [ok("commentThreads_page1.json")]
    again = connector.poll_cursor(make_account(), result.cursor)
    assert list(again.events) == [] and again.cursor["since"] == result.cursor["since"]


def test_hostile_threads_are_rejected_alone(http):
    http._iterable += [ok("commentThreads_hostile.json")]
    result = connector.poll_cursor(make_account(), None)
    good = {e.external_id: e for e in result.events}
    assert "UgzHuge0004" in good and len(good["UgzHuge0004"].text) <= 10_000
    assert "\x00" not in good["UgzHuge0004"].text
    assert good["UgzBadDate"].created_at <= dt.datetime.now(dt.UTC)  # an unreadable date: the reception time
    refs = " ".join(r.ref for r in result.rejected)
    assert "UgzNoTop" in refs and len(result.rejected) == 3  # no top-level comment, not an object, no id


def test_reply_inserts_a_comment_under_the_thread(http):
    http._iterable += [ok("comments_insert.json")]
    sent = connector.send_reply(
        make_account(), OutboundReply("Thanks, a fix ships today", in_reply_to="UgzNewest0001.9xReplyB")
    )
    assert sent.external_id == "UgzNewest0001.9xOurReply"
    uri, method, body, _headers = http.request_sequence[0]
    assert method == "POST" and "/youtube/v3/comments" in uri
    assert json.loads(body) == {
        "snippet": {"parentId": "UgzNewest0001", "textOriginal": "Thanks, a fix ships today"}
    }


def test_reply_refuses_dms_and_empty_text(http):
    with pytest.raises(ConnectorError) as dm:
        connector.send_reply(make_account(), OutboundReply("hi", kind="dm", recipient_external_id="UC1"))
    assert dm.value.permanent
    with pytest.raises(ConnectorError):
        connector.send_reply(make_account(), OutboundReply("  ", in_reply_to="Ugz1"))
    assert http.request_sequence == []


@pytest.mark.parametrize(
    ("method", "status"), [("hide", "heldForReview"), ("unhide", "published"), ("delete", "rejected")]
)
def test_moderation_sets_the_comment_status(http, method, status):
    http._iterable += [({"status": "204"}, "")]
    result = getattr(connector, method)(make_account(), "UgzNewest0001")
    assert result.action == method
    params = query(http.request_sequence[0])
    assert params["id"] == ["UgzNewest0001"] and params["moderationStatus"] == [status]
    assert params["banAuthor"] == ["false"]


def test_ban_author_rejects_their_latest_comment_with_ban(http):
    http._iterable += [ok("commentThreads_page1.json"), ({"status": "204"}, "")]
    result = connector.ban_author(make_account(), "UCcustomerC00000000000")
    assert "UgzOlder0002" in result.detail
    params = query(http.request_sequence[1])
    assert params["id"] == ["UgzOlder0002"] and params["banAuthor"] == ["true"]
    assert params["moderationStatus"] == ["rejected"]


def test_metrics_subscribers_and_video_statistics(http):
    http._iterable += [ok("channels_statistics.json"), ok("videos_statistics.json")]
    metrics = connector.fetch_metrics(make_account())
    assert (metrics.followers, metrics.posts, metrics.extra["views"]) == (45600, 321, 1234567.0)
    assert connector.post_metrics(make_account(), "dQw4w9WgXcQ") == {
        "view": 98765,
        "like": 4321,
        "comment": 210,
    }


def test_search_returns_videos_and_the_next_page_token(http):
    http._iterable += [ok("search_list.json")]
    found = connector.search(make_account(), "brand app", limit=10)
    assert [e.external_id for e in found.events] == ["abcDEF12345"] and found.cursor == "CBkQAA"
    assert found.events[0].kind == "mention" and "Brand app review" in found.events[0].text
    params = query(http.request_sequence[0])
    assert params["q"] == ["brand app"] and params["type"] == ["video"]


def test_quota_exceeded_is_transient_until_the_reset(http):
    http._iterable += [error(403, "error_quota.json")]
    with pytest.raises(ConnectorError) as caught:
        connector.poll_cursor(make_account(), None)
    assert not caught.value.permanent
    assert 60 <= caught.value.retry_after <= 25 * 3600
    assert "quota" in str(caught.value)


def test_quota_reset_is_midnight_pacific():
    noon_utc = dt.datetime(2026, 12, 6, 20, 0, tzinfo=dt.UTC)  # 12:00 in Los Angeles (PST, UTC-8)
    assert yt.seconds_to_quota_reset(noon_utc) == 12 * 3600


def test_other_403_is_permanent(http):
    http._iterable += [error(403, "error_comments_disabled.json")]
    with pytest.raises(ConnectorError) as caught:
        connector.send_reply(make_account(), OutboundReply("hello", in_reply_to="Ugz1"))
    assert caught.value.permanent and "commentsDisabled" in str(caught.value)


def test_expired_access_token_is_refreshed_once_and_kept(http):
    account = make_account(expires_at="2020-01-01T00:00:00+00:00")
    http._iterable += [
        ok("token_refresh.json"),
        ok("channels_statistics.json"),
        ok("channels_statistics.json"),
    ]
    connector.fetch_metrics(account)
    connector.fetch_metrics(account)
    token_uri, _method, body, _headers = http.request_sequence[0]
    assert token_uri == yt.TOKEN_URI and b"grant_type=refresh_token" in body
    assert [r[3]["authorization"] for r in http.request_sequence[1:]] == [
        "Bearer ya29.a0AfH6SMBrefreshed"
    ] * 2


def test_revoked_refresh_token_is_permanent(http):
    account = make_account(expires_at="2020-01-01T00:00:00+00:00")
    http._iterable += [error(400, "token_invalid_grant.json")]
    with pytest.raises(ConnectorError) as caught:
        connector.fetch_metrics(account)
    assert caught.value.permanent and "Connect the account again" in str(caught.value)


def test_401_after_a_refresh_is_permanent(http):
    # the stored token is refused: google-auth refreshes once, and the API still refuses: revoked
    http._iterable += [
        error(401, "error_unauthorized.json"),
        ok("token_refresh.json"),
        error(401, "error_unauthorized.json"),
        ok("token_refresh.json"),
        error(401, "error_unauthorized.json"),
    ]
    with pytest.raises(ConnectorError) as caught:
        connector.fetch_metrics(make_account())
    assert caught.value.permanent


def test_missing_refresh_token_is_permanent(http):
    with pytest.raises(ConnectorError) as caught:
        connector.fetch_metrics(make_account(refresh_token=""))
    assert caught.value.permanent


def test_oauth_flow_offline_access_and_exchange(http, monkeypatch):
    monkeypatch.setenv("DANDELION_YOUTUBE_CLIENT_ID", "123.apps.googleusercontent.com")
    monkeypatch.setenv("DANDELION_YOUTUBE_CLIENT_SECRET", "GOCSPX-secret")
    client = connector.oauth_register(instance="google", redirect_uri="https://dandelion.example/oauth/back/")
    url = connector.oauth_authorize_url(client, state="st4te")
    params = parse_qs(urlsplit(url).query)
    assert url.startswith("https://accounts.google.com/o/oauth2/v2/auth?")
    assert (
        params["access_type"] == ["offline"]
        and params["prompt"] == ["consent"]
        and params["state"] == ["st4te"]
    )
    assert params["scope"] == ["https://www.googleapis.com/auth/youtube.force-ssl"]
    http._iterable += [ok("token.json"), ok("channels_mine.json")]
    grant = connector.oauth_exchange(client, code="4/0Acode")
    assert (grant.external_id, grant.handle, grant.display_name) == (CHANNEL, "@brand", "Brand")
    assert grant.credentials["refresh_token"] == "1//0gRefreshToken"
    assert "code=4%2F0Acode" in http.request_sequence[0][2]
    assert http.request_sequence[1][3]["authorization"] == "Bearer ya29.a0AfH6SMBfresh"


def test_oauth_register_without_a_client_configured(monkeypatch):
    monkeypatch.delenv("DANDELION_YOUTUBE_CLIENT_ID", raising=False)
    with pytest.raises(ConnectorError):
        connector.oauth_register(instance="", redirect_uri="https://x/")
    with pytest.raises(ConnectorError):
        connector.oauth_exchange(OAuthClient("https://accounts.google.com", "https://x/"), code="")


def test_check_reads_the_channel(http):
    http._iterable += [ok("channels_mine.json")]
    lines = connector.check(make_account())
    assert [line.ok for line in lines] == [True, True]


def test_post_metrics_connector_reads_videos_in_one_call(http):
    from dandelion.connectors.base import PostMetricsConnector

    assert isinstance(connector, PostMetricsConnector)
    http._iterable += [ok("videos_statistics.json")]
    [video] = connector.fetch_post_metrics(make_account(), ["dQw4w9WgXcQ", "deletedVid0"])  # one is gone
    assert (video.external_id, video.likes, video.replies, video.reposts) == ("dQw4w9WgXcQ", 4321, 210, None)
    assert query(http.request_sequence[-1])["id"] == ["dQw4w9WgXcQ,deletedVid0"]
