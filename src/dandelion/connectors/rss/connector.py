"""The ``rss`` connector: an RSS or Atom feed polled for new entries (news and blogs, for listening). See
docs/connectors/rss.md.

Account: ``external_id`` is the feed's URL (or any unique name), ``config["feed_url"]`` the URL fetched.

Poll (``poll_cursor``): a conditional GET (``If-None-Match`` / ``If-Modified-Since`` from the cursor's ``etag`` and
``modified``); a 304 answer costs no parse and returns nothing. Redirects are followed (at most 5); a permanent one
(301/308) moves the cursor's ``url`` so the next polls go straight there. The body is read up to ``max_bytes`` (a
larger feed is an error on the account's health), gzip is inflated within the same bound, and at most
``max_entries`` entries are read. Entries already seen are recognised by their digest in the cursor's ``seen`` list
(the last ``SEEN_KEEP``), so an entry arrives once however often the feed is fetched; the inbox also deduplicates by
external id. An entry that cannot be read is returned in ``rejected``.

Errors: 404, 410, 401, 403 and a body that is not a feed are permanent (shown on the account's health); 429, 5xx,
timeouts and connection failures are transient (retried with backoff, ``Retry-After`` honoured).
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import re
import urllib.error
import urllib.request
import zlib
from collections.abc import Mapping
from typing import Any, ClassVar

import feedparser

from dandelion.connectors.base import (
    AccountRef,
    Capability,
    CheckResult,
    ConfigField,
    Connector,
    InboundAuthor,
    InboundEvent,
    PollResult,
    RejectedItem,
    utcnow,
)
from dandelion.connectors.errors import ConfigError, ConnectorError
from dandelion.connectors.generic.outbound import parse_retry_after
from dandelion.connectors.registry import register
from dandelion.connectors.tolerant import bounded_id, clamp_date, clean_text, digest, html_to_text
from dandelion.connectors.validation import rejected_item

logger = logging.getLogger(__name__)

USER_AGENT = "Dandelion-Feeds/1 (+https://github.com/dandelion)"
SEEN_KEEP = 1000
MAX_REDIRECTS = 5
MIN_POLL_INTERVAL_S = 60
PERMANENT_STATUSES = frozenset({400, 401, 403, 404, 405, 406, 410, 451})


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follows at most ``MAX_REDIRECTS`` redirects, remembering whether all of them were permanent."""

    max_redirections = MAX_REDIRECTS

    def __init__(self) -> None:
        self.permanent_to: str | None = None
        self.all_permanent = True

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        self.all_permanent = self.all_permanent and code in (301, 308)
        self.permanent_to = newurl if self.all_permanent else None
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _read_bounded(response: Any, limit: int) -> bytes:
    body = response.read(limit + 1)
    if len(body) > limit:
        raise ConnectorError(f"the feed is larger than the limit of {limit} bytes", permanent=True)
    if (response.headers.get("Content-Encoding") or "").lower() in ("gzip", "x-gzip", "deflate"):
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header
        try:
            body = inflater.decompress(body, limit + 1)
        except zlib.error as exc:
            raise ConnectorError(f"the feed's compressed body is corrupt: {exc}", permanent=True) from exc
        if len(body) > limit or inflater.unconsumed_tail:
            raise ConnectorError(f"the feed inflates beyond the limit of {limit} bytes", permanent=True)
    return body


def _entry_date(entry: Mapping[str, Any]) -> dt.datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            try:
                return dt.datetime.fromtimestamp(calendar.timegm(parsed), tz=dt.UTC)
            except (OverflowError, ValueError, OSError, TypeError):
                continue
    return None


_CHARREF_RE = re.compile(rb"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));?")


def _charref_ok(match: re.Match[bytes]) -> bytes:
    hex_digits, digits = match.group(1), match.group(2)
    digits_text = (hex_digits or digits or b"").lstrip(b"0") or b"0"
    if len(digits_text) > 8:
        return b"&#xFFFD;"
    value = int(digits_text, 16 if hex_digits else 10)
    if value == 0 or 0xD800 <= value <= 0xDFFF or value > 0x10FFFF:
        return b"&#xFFFD;"
    return match.group(0)


def neutralise_charrefs(body: bytes) -> bytes:
    """``body`` with the numeric character references no text may hold (a lone surrogate ``&#xD800;``, NUL, a code
    point beyond U+10FFFF or an absurdly long one) replaced by U+FFFD: feedparser's loose parser raises on them
    (``chr()`` / UTF-8 encoding), which would stop the feed for good."""
    if b"&#" not in body:
        return body
    return _CHARREF_RE.sub(_charref_ok, body)


@register
class RssConnector(Connector):
    """An RSS/Atom feed: each new entry is an inbound ``mention`` of the account (for listening)."""

    key = "rss"
    label = "RSS/Atom feed"
    capabilities = frozenset({Capability.POLL})
    poll_interval_s = 900
    config_schema: ClassVar[Mapping[str, ConfigField]] = {
        "feed_url": ConfigField(str, True, "The feed's http(s) URL."),
        "timeout_s": ConfigField(float, False, "Network timeout, seconds.", 20.0),
        "max_bytes": ConfigField(int, False, "Largest feed body read (bytes).", 5_242_880),
        "max_entries": ConfigField(int, False, "Most entries read from one fetch.", 200),
        "poll_interval_s": ConfigField(int, False, "Seconds between polls (at least 60).", 900),
    }

    def validate_config(self, config: Mapping[str, Any] | None) -> dict[str, Any]:
        clean = super().validate_config(config)
        errors: dict[str, str] = {}
        if not clean["feed_url"].startswith(("https://", "http://")):
            errors["feed_url"] = "must start with https:// or http://"
        if clean["timeout_s"] <= 0:
            errors["timeout_s"] = "must be positive"
        if not 1024 <= clean["max_bytes"] <= 50 * 1024 * 1024:
            errors["max_bytes"] = "must be between 1 KB and 50 MB"
        if not 1 <= clean["max_entries"] <= 5000:
            errors["max_entries"] = "must be between 1 and 5000"
        if clean["poll_interval_s"] < MIN_POLL_INTERVAL_S:
            errors["poll_interval_s"] = f"must be at least {MIN_POLL_INTERVAL_S}"
        if errors:
            raise ConfigError(errors)
        return clean

    # --- fetching -------------------------------------------------------------------------------------------------
    def fetch(self, url: str, config: Mapping[str, Any], cursor: Mapping[str, Any]) -> tuple[int, bytes, dict]:
        """``(status, body, info)``: status 304 with an empty body when the feed did not change. ``info`` holds
        the answer's ``etag``, ``modified``, ``content_type`` and ``moved_to`` (a permanent redirect's target)."""
        headers = {"User-Agent": USER_AGENT, "Accept": "application/rss+xml, application/atom+xml, "
                   "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5", "Accept-Encoding": "gzip"}
        if cursor.get("etag"):
            headers["If-None-Match"] = str(cursor["etag"])
        if cursor.get("modified"):
            headers["If-Modified-Since"] = str(cursor["modified"])
        redirects = _Redirects()
        opener = urllib.request.build_opener(redirects)
        request = urllib.request.Request(url, headers=headers)
        try:
            with opener.open(request, timeout=config["timeout_s"]) as response:
                body = _read_bounded(response, config["max_bytes"])
                info = {"etag": response.headers.get("ETag"), "modified": response.headers.get("Last-Modified"),
                        "content_type": response.headers.get("Content-Type") or "",
                        "moved_to": redirects.permanent_to}
                return response.status, body, info
        except urllib.error.HTTPError as exc:
            retry_after = parse_retry_after(exc.headers.get("Retry-After") if exc.headers else None)
            exc.close()
            if exc.code == 304:
                return 304, b"", {"etag": cursor.get("etag"), "modified": cursor.get("modified"),
                                  "content_type": "", "moved_to": redirects.permanent_to}
            if exc.code in PERMANENT_STATUSES:
                what = "gone" if exc.code == 410 else ("not found" if exc.code == 404 else "refused")
                raise ConnectorError(f"feed {url} {what} (HTTP {exc.code})", permanent=True) from exc
            raise ConnectorError(f"feed {url} answered HTTP {exc.code}", retry_after=retry_after,
                                 permanent=False) from exc
        except urllib.error.URLError as exc:
            raise ConnectorError(f"could not reach feed {url}: {exc.reason}") from exc
        except (TimeoutError, ConnectionError, OSError) as exc:
            raise ConnectorError(f"could not read feed {url}: {exc}") from exc

    # --- polling --------------------------------------------------------------------------------------------------
    def poll(self, account: AccountRef, since: dt.datetime | None) -> list[InboundEvent]:
        events = self.poll_cursor(account, None).events
        return [e for e in events if since is None or e.created_at > since]

    def poll_cursor(self, account: AccountRef, cursor: Mapping[str, Any] | None) -> PollResult:
        config = self.validate_config(account.config)
        cursor = dict(cursor or {})
        if cursor.get("feed_url") != config["feed_url"]:  # the feed changed: start afresh (seen ids kept)
            cursor = {"feed_url": config["feed_url"], "seen": list(cursor.get("seen") or [])}
        url = cursor.get("url") or config["feed_url"]
        status, body, info = self.fetch(url, config, cursor)
        if info.get("moved_to"):
            cursor["url"] = info["moved_to"]
        cursor["last_status"] = status
        if status == 304:
            return PollResult(cursor=cursor)
        cursor["etag"], cursor["modified"] = info.get("etag"), info.get("modified")
        try:
            parsed = feedparser.parse(neutralise_charrefs(body),
                                      response_headers={"content-type": info.get("content_type") or ""},
                                      sanitize_html=True, resolve_relative_uris=False)
        except Exception as exc:
            raise ConnectorError(f"{url} could not be parsed: {type(exc).__name__}: {clean_text(str(exc), 200)}",
                                 permanent=False) from exc
        if parsed.get("bozo") and not parsed.get("entries") and not parsed.get("feed", {}).get("title"):
            reason = parsed.get("bozo_exception")
            raise ConnectorError(f"{url} is not a readable RSS or Atom feed: {clean_text(str(reason), 200)}",
                                 permanent=True)
        return self._events(account, config, parsed, cursor)

    def _events(self, account: AccountRef, config: Mapping[str, Any], parsed: Any,
                cursor: dict[str, Any]) -> PollResult:
        now = utcnow()
        feed = parsed.get("feed") or {}
        feed_title = clean_text(feed.get("title") or "", 200)
        feed_link = clean_text(feed.get("link") or config["feed_url"], 500)
        seen: list[str] = list(cursor.get("seen") or [])
        seen_set = set(seen)
        events: list[InboundEvent] = []
        rejected: list[RejectedItem] = []
        entries = list(parsed.get("entries") or [])
        for index, entry in enumerate(entries[: config["max_entries"]]):
            try:
                event = self._event(entry, feed_title=feed_title, feed_link=feed_link, now=now)
            except Exception as exc:  # noqa: BLE001 - one broken entry never costs the others
                ref = entry.get("id") or entry.get("link") or f"entry {index}"
                rejected.append(rejected_item(ref, exc, dict(entry), excerpt_chars=2000, name_type=True))
                continue
            key = digest(event.external_id)
            if key in seen_set:
                continue
            seen_set.add(key)
            seen.append(key)
            events.append(event)
        cursor["seen"] = seen[-SEEN_KEEP:]
        events.sort(key=lambda e: e.created_at)
        return PollResult(events=events, cursor=cursor, rejected=rejected,
                          more=False)

    def _event(self, entry: Mapping[str, Any], *, feed_title: str, feed_link: str,
               now: dt.datetime) -> InboundEvent:
        link = clean_text(entry.get("link") or "", 1000)
        title = clean_text(html_to_text(entry.get("title") or ""), 500)
        summary = entry.get("summary") or ""
        if not summary and entry.get("content"):
            summary = (entry["content"][0] or {}).get("value") or ""
        body = html_to_text(summary, 8000)
        raw_id = entry.get("id") or link or digest(title, body, entry.get("published") or "")
        if not (title or body):
            raise ValueError("the entry has no title or text")
        author = clean_text(entry.get("author") or "", 200)
        text = clean_text("\n\n".join(part for part in (title, body, link) if part))
        return InboundEvent(
            external_id=bounded_id(str(raw_id), prefix="rss:"),
            kind="mention",
            text=text,
            created_at=clamp_date(_entry_date(entry), now=now),
            author=InboundAuthor(external_id=bounded_id(f"{feed_link}#{author}" if author else feed_link),
                                 name=author or feed_title, handle=feed_title),
            raw={"link": link, "title": title, "feed": feed_title},
        )

    # --- check ----------------------------------------------------------------------------------------------------
    def check(self, account: AccountRef) -> list[CheckResult]:
        try:
            config = self.validate_config(account.config)
        except ConfigError as exc:
            return [CheckResult("config", False, str(exc))]
        results = [CheckResult("config", True, "valid")]
        try:
            status, body, info = self.fetch(config["feed_url"], config, {})
        except ConnectorError as exc:
            return [*results, CheckResult("fetch", False, f"{exc}{' (permanent)' if exc.permanent else ''}")]
        results.append(CheckResult("fetch", True, f"HTTP {status}, {len(body)} bytes"
                                   + (f", moved permanently to {info['moved_to']}" if info.get("moved_to") else "")))
        parsed = feedparser.parse(body, response_headers={"content-type": info.get("content_type") or ""})
        entries = len(parsed.get("entries") or [])
        ok = bool(entries or (parsed.get("feed") or {}).get("title"))
        results.append(CheckResult("parse", ok, f"{parsed.get('version') or 'unknown format'}, {entries} entries"
                                   + (f" (malformed: {parsed.get('bozo_exception')})" if parsed.get("bozo") else "")))
        conditional = [h for h in ("etag", "modified") if info.get(h)]
        results.append(CheckResult("conditional GET", bool(conditional),
                                   ("supported: " + ", ".join(conditional)) if conditional
                                   else "no ETag or Last-Modified: every poll downloads and parses the feed"))
        return results
