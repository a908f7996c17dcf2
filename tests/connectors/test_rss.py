"""The RSS/Atom connector against a local HTTP feed server: conditional GET (a 304 costs no parse), entries once,
redirects, errors permanent or transient, malformed and huge feeds bounded, and the polling job end to end."""

from __future__ import annotations

import datetime as dt

import feedparser
import pytest
from django.utils import timezone
from tests.connectors.feedserver import FeedServer, Route, rss
from tests.inbox.conftest import _analyzer, _fake_store, inbox  # noqa: F401 - fixtures shared with the inbox tests

from dandelion.connectors import registry
from dandelion.connectors.base import AccountRef, poll_with_cursor
from dandelion.connectors.errors import ConfigError, ConnectorError
from dandelion.connectors.rss import connector as rss_module

MODIFIED = "Thu, 03 Dec 2026 12:00:00 GMT"


@pytest.fixture(scope="module")
def server():
    s = FeedServer().start()
    yield s
    s.stop()


@pytest.fixture
def feed(server, request):
    path = f"/{request.node.name}.xml"
    server.routes[path] = Route(rss([("a2", "Acme launches"), ("a1", "Acme hires")]), etag='"v1"', modified=MODIFIED)
    return path


@pytest.fixture
def parses(monkeypatch):
    calls = []
    real = feedparser.parse

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(rss_module.feedparser, "parse", counting)
    return calls


def account(url: str, **config) -> AccountRef:
    return AccountRef(id=3, network="rss", external_id=url, handle="Tech News", connector="rss",
                      config={"feed_url": url, **config})


def test_entries_arrive_once_and_a_304_costs_no_parse(server, feed, parses):
    connector = registry.get("rss")
    ref = account(server.url(feed))
    first = poll_with_cursor(connector, ref, None)
    assert [e.external_id for e in first.events] == ["a1", "a2"]  # oldest first
    event = first.events[1]
    assert event.kind == "mention" and event.text.startswith("Acme launches\n\nAbout Acme Acme launches")
    assert "evil" not in event.text and "<" not in event.text and event.text.endswith("https://news.test/a2")
    assert event.created_at == dt.datetime(2026, 12, 3, 20, tzinfo=dt.UTC)
    assert first.cursor["etag"] == '"v1"' and first.cursor["modified"] == MODIFIED and len(parses) == 1

    unchanged = poll_with_cursor(connector, ref, dict(first.cursor))
    assert list(unchanged.events) == [] and server.not_modified[feed] == 1 and len(parses) == 1  # no parse
    assert unchanged.cursor["etag"] == '"v1"' and unchanged.cursor["last_status"] == 304

    server.routes[feed] = Route(rss([("a3", "Acme again"), ("a2", "Acme launches"), ("a1", "Acme hires")]),
                                etag='"v2"')
    changed = poll_with_cursor(connector, ref, dict(unchanged.cursor))
    assert [e.external_id for e in changed.events] == ["a3"] and changed.cursor["etag"] == '"v2"'
    # a server without validators: the feed is downloaded again, but nothing already seen comes back
    server.routes[feed] = Route(server.routes[feed].body)
    again = poll_with_cursor(connector, ref, dict(changed.cursor))
    assert list(again.events) == [] and len(parses) == 3


def test_last_modified_alone_is_honoured(server, feed):
    server.routes[feed] = Route(rss([("m1", "x")]), modified=MODIFIED)
    connector = registry.get("rss")
    first = poll_with_cursor(connector, account(server.url(feed)), None)
    poll_with_cursor(connector, account(server.url(feed)), dict(first.cursor))
    assert server.not_modified[feed] == 1


def test_permanent_redirect_moves_the_cursor(server, feed):
    server.routes["/old.xml"] = Route(status=301, location=server.url(feed))
    connector = registry.get("rss")
    result = poll_with_cursor(connector, account(server.url("/old.xml")), None)
    assert len(result.events) == 2 and result.cursor["url"] == server.url(feed)
    before = server.hits["/old.xml"]
    poll_with_cursor(connector, account(server.url("/old.xml")), dict(result.cursor))
    assert server.hits["/old.xml"] == before  # straight to the new address
    server.routes["/temp.xml"] = Route(status=302, location=server.url(feed))
    temp = poll_with_cursor(connector, account(server.url("/temp.xml")), None)
    assert "url" not in temp.cursor  # a temporary redirect is followed, not remembered


@pytest.mark.parametrize(("status", "permanent"), [(404, True), (410, True), (403, True), (500, False),
                                                   (503, False), (429, False)])
def test_http_errors(server, status, permanent):
    server.routes[f"/e{status}.xml"] = Route(status=status, retry_after="120" if status in (429, 503) else None)
    with pytest.raises(ConnectorError) as exc:
        poll_with_cursor(registry.get("rss"), account(server.url(f"/e{status}.xml")), None)
    assert exc.value.permanent is permanent
    if status in (429, 503):
        assert exc.value.retry_after == 120


def test_unreachable_is_transient():
    with pytest.raises(ConnectorError) as exc:
        poll_with_cursor(registry.get("rss"), account("http://127.0.0.1:1/feed.xml", timeout_s=2.0), None)
    assert not exc.value.permanent


def test_malformed_hostile_and_huge_feeds_are_bounded(server):
    connector = registry.get("rss")
    server.routes["/html.xml"] = Route(b"<html><body>Not a feed at all</body></html>", content_type="text/html")
    with pytest.raises(ConnectorError, match="not a readable RSS or Atom feed") as exc:
        poll_with_cursor(connector, account(server.url("/html.xml")), None)
    assert exc.value.permanent
    server.routes["/huge.xml"] = Route(rss([(f"h{i}", "x" * 2000) for i in range(600)]))
    with pytest.raises(ConnectorError, match="larger than the limit"):
        poll_with_cursor(connector, account(server.url("/huge.xml"), max_bytes=100_000), None)
    bomb = rss([("b1", "y")]) + b" " * 5_000_000
    server.routes["/bomb.xml"] = Route(bomb, gzip=True)
    with pytest.raises(ConnectorError, match="inflates beyond the limit"):
        poll_with_cursor(connector, account(server.url("/bomb.xml"), max_bytes=100_000), None)
    # broken pieces inside a readable feed: bad bytes, a NUL, an entry with nothing in it, a far-future date
    hostile = rss([("ok1", "Fine \u00e9t\u00e9"), ("x" * 400, "long id")],
                  extra_item="<item><guid>empty</guid></item><item><guid>future</guid><title>t</title>"
                             "<pubDate>Thu, 03 Dec 2099 10:00:00 GMT</pubDate></item>").replace(
        b"Fine", b"Fi\xffne\x01")
    server.routes["/hostile.xml"] = Route(hostile, gzip=True)
    result = poll_with_cursor(connector, account(server.url("/hostile.xml"), max_entries=50), None)
    ids = {e.external_id for e in result.events}
    assert "ok1" in ids and "future" in ids and len(result.events) == 3
    assert any(i.startswith("rss:sha256:") for i in ids)  # an id too long for the inbox: a stable digest
    assert [r.ref for r in result.rejected] == ["empty"] and "no title" in result.rejected[0].error
    future = next(e for e in result.events if e.external_id == "future")
    assert future.created_at <= timezone.now() + dt.timedelta(hours=1)
    assert all("\x01" not in e.text for e in result.events)
    many = Route(rss([(f"n{i}", "n") for i in range(30)]))
    server.routes["/many.xml"] = many
    assert len(poll_with_cursor(connector, account(server.url("/many.xml"), max_entries=10), None).events) == 10


def test_config_and_check(server, feed):
    connector = registry.get("rss")
    with pytest.raises(ConfigError):
        connector.validate_config({"feed_url": "ftp://x"})
    with pytest.raises(ConfigError):
        connector.validate_config({"feed_url": "https://x", "poll_interval_s": 5})
    lines = {r.name: r for r in connector.check(account(server.url(feed)))}
    assert lines["fetch"].ok and lines["parse"].ok and "rss20" in lines["parse"].detail
    assert lines["conditional GET"].ok and "etag" in lines["conditional GET"].detail
    gone = {r.name: r for r in connector.check(account(server.url("/nowhere.xml")))}
    assert not gone["fetch"].ok and "permanent" in gone["fetch"].detail


# --- through the polling job -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_polling_job_stores_entries_once_and_shows_a_gone_feed_on_health(inbox, server, feed, parses):
    from dandelion.assets.services import register_account
    from dandelion.inbox.jobs import poll_accounts, process_pending_deliveries
    from dandelion.inbox.models import Conversation, InboundDelivery, Message

    account = register_account(actor=inbox.users.hub_admin, owner_unit=inbox.fr_account.owner_unit, network="rss",
                               handle="Tech News", external_id=server.url(feed),
                               connector_config={"feed_url": server.url(feed)})
    assert account.connector == "rss"
    assert poll_accounts.call()["events"] == 2
    process_pending_deliveries.call()
    assert Message.objects.filter(conversation__account=account).count() == 2
    assert InboundDelivery.objects.get(account=account).source == "poll"
    account.refresh_from_db()
    assert account.poll_state["etag"] == '"v1"'
    assert account.next_poll_at >= timezone.now() + dt.timedelta(seconds=890)  # the connector's 15 minutes
    assert poll_accounts.call()["accounts"] == 0  # not due yet

    type(account).objects.filter(pk=account.pk).update(next_poll_at=None)
    assert poll_accounts.call()["events"] == 0 and len(parses) == 1  # 304: nothing parsed, nothing stored
    server.routes[feed] = Route(rss([("a3", "Acme news"), ("a2", "Acme launches"), ("a1", "Acme hires")]),
                                etag='"v2"')
    type(account).objects.filter(pk=account.pk).update(next_poll_at=None)
    assert poll_accounts.call()["events"] == 1
    process_pending_deliveries.call()
    assert Message.objects.filter(conversation__account=account).count() == 3
    assert Conversation.objects.filter(account=account).count() == 3  # one public thread per article

    server.routes[feed] = Route(status=410)
    type(account).objects.filter(pk=account.pk).update(next_poll_at=None)
    assert poll_accounts.call()["failed"] == 1
    account.refresh_from_db()
    assert account.last_error.startswith("Polling: feed") and "gone (HTTP 410)" in account.last_error
    assert account.poll_state["etag"] == '"v2"'  # the cursor survives a failure


@pytest.mark.django_db
def test_rejected_entries_are_quarantined_and_the_others_stored(inbox, server):
    from dandelion.assets.services import register_account
    from dandelion.inbox.models import InboundDelivery
    from dandelion.inbox.polling import poll_account

    server.routes["/q.xml"] = Route(rss([("q1", "fine")], extra_item="<item><guid>bad</guid></item>"))
    account = register_account(actor=inbox.users.hub_admin, owner_unit=inbox.fr_account.owner_unit, network="rss",
                               handle="Q", external_id=server.url("/q.xml"),
                               connector_config={"feed_url": server.url("/q.xml")})
    outcome = poll_account(account.pk)
    assert outcome.events == 1 and outcome.rejected == 1 and not outcome.error
    failed = InboundDelivery.objects.get(account=account, state="failed")
    assert failed.error.startswith("bad: ValueError") and failed.source == "poll"
    assert InboundDelivery.objects.filter(account=account, state="pending").count() == 1


def test_character_references_feedparser_cannot_hold_are_neutralised(server):
    """``&#xD800;`` (a lone surrogate), ``&#x110000;``, a 12-digit reference and ``&#0;`` make feedparser's loose
    parser raise (UnicodeEncodeError, ValueError, OverflowError): replaced before parsing, the feed still reads."""
    connector = registry.get("rss")
    for ref in (b"&#xD800;", b"&#55296;", b"&#x110000;", b"&#99999999999;", b"&#0;"):
        body = rss([("s1", "Before AFTER")]).replace(b"AFTER", ref + b" after")
        server.routes["/surrogate.xml"] = Route(body)
        result = poll_with_cursor(connector, account(server.url("/surrogate.xml")), None)
        assert [e.external_id for e in result.events] == ["s1"], ref
        assert "Before" in result.events[0].text and "after" in result.events[0].text
        result.events[0].text.encode("utf-8")
    assert rss_module.neutralise_charrefs(b"&#233;&#x41;&#xd800;") == b"&#233;&#x41;&#xFFFD;"
