"""Which follows of a short link count as clicks (``services.follow_short_link`` asks :func:`is_bot` and
:func:`first_in_window`). The rule, documented in docs/publishing.md:

1. a ``HEAD`` request never counts (link previews and uptime checkers ask for headers only);
2. a user agent that is empty or matches :data:`BOT_PATTERNS` never counts: crawlers and the link-preview fetchers
   that networks and messaging apps run when a link is posted (they are not readers);
3. the same client (a keyed hash of its address and user agent: no address is stored) following the same link
   again within :data:`WINDOW` counts once; after the window it counts again.

Pure matching here; the de-duplication row (``ShortLinkVisitor``) is written by :func:`first_in_window` with a
conditional UPDATE or a unique INSERT, so two concurrent clicks of one client count once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re

from django.conf import settings
from django.db import IntegrityError, transaction

WINDOW = dt.timedelta(minutes=30)

#: Substrings (case-insensitive) of user agents that are not readers: generic crawler words, then the documented
#: preview fetchers of social networks and messaging apps, then HTTP libraries and scripted browsers. Headless
#: Chrome is not listed: its user agent is also a real reader's in some embedded browsers (and the browser tests'
#: Chromium follows a short link as a reader).
BOT_PATTERNS: tuple[str, ...] = (
    "bot",
    "crawl",
    "spider",
    "slurp",
    "preview",
    "fetcher",
    "scanner",
    "monitor",
    "facebookexternalhit",
    "facebookcatalog",
    "meta-externalagent",
    "twitterbot",
    "linkedinbot",
    "pinterest",
    "redditbot",
    "slackbot",
    "discordbot",
    "telegrambot",
    "whatsapp",
    "skypeuripreview",
    "embedly",
    "iframely",
    "mastodon",
    "pleroma",
    "misskey",
    "akkoma",
    "cardyb",
    "bluesky",
    "snapchat",
    "vkshare",
    "line-poker",
    "google-inspectiontool",
    "googleother",
    "apis-google",
    "bingpreview",
    "yahoo",
    "yandex",
    "baiduspider",
    "curl/",
    "wget/",
    "python-requests",
    "python-urllib",
    "httpx",
    "aiohttp",
    "go-http-client",
    "java/",
    "okhttp",
    "libwww",
    "http.rb",
    "node-fetch",
    "axios",
    "phantomjs",
    "lighthouse",
)
_BOT_RE = re.compile("|".join(re.escape(p) for p in BOT_PATTERNS), re.IGNORECASE)


def is_bot(user_agent: str | None) -> bool:
    """Whether the user agent is a crawler, a preview fetcher or a library (empty counts as one)."""
    ua = (user_agent or "").strip()
    return not ua or bool(_BOT_RE.search(ua[:1000]))


def client_key(address: str | None, user_agent: str | None) -> str:
    """A keyed hash of the client's address and user agent (the secret key keeps it from being reversed)."""
    raw = f"{address or ''}\0{(user_agent or '')[:1000]}".encode("utf-8", "replace")
    return hmac.new(settings.SECRET_KEY.encode(), raw, hashlib.sha256).hexdigest()[:64]


def first_in_window(link_id: int, client: str, now: dt.datetime) -> bool:
    """Whether this click of ``client`` on the link is its first within the window (and so counts); records it."""
    from dandelion.publishing.models import ShortLinkVisitor

    if ShortLinkVisitor.objects.filter(link_id=link_id, client=client, seen_at__lt=now - WINDOW).update(
        seen_at=now
    ):
        return True  # seen before the window: counts again (the conditional UPDATE lets one concurrent click win)
    try:
        with transaction.atomic():
            ShortLinkVisitor.objects.create(link_id=link_id, client=client, seen_at=now)
    except IntegrityError:
        return False  # seen within the window
    return True


def purge_visitors(now: dt.datetime) -> int:
    """Forget the clients seen before the window (nothing depends on them any more)."""
    from dandelion.publishing.models import ShortLinkVisitor

    return ShortLinkVisitor.objects.filter(seen_at__lt=now - WINDOW).delete()[0]
