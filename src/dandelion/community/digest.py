"""The weekly digest: one e-mail per member and ISO week with what is new in their scope — articles published in the
last seven days, answers accepted, the coming gatherings and the featured success stories (when an app offers them
through its ``AppConfig.community_digest_stories``) — in the member's language and time zone.

The periodic job ``community.digest`` (:mod:`dandelion.community.jobs`, hourly) calls :func:`send_weekly_digests`.
A member's digest is due from Monday :data:`DIGEST_HOUR` o'clock in their time zone. Each is claimed by inserting a
:class:`~dandelion.community.models.DigestSent` row (unique per member and week) in the transaction that sends it:
a second run, or a second worker, finds the claim and sends nothing; a failed send rolls its claim back and the next
run retries. A week with nothing new for a member is claimed without an e-mail. Members opt out in their directory
entry (``MemberProfile.weekly_digest``).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from dandelion.community.models import (
    Answer,
    Article,
    DigestSent,
    Gathering,
    GuestAccount,
    MemberProfile,
)
from dandelion.core.digests import send_claimed

DIGEST_HOUR = 8
LOOKBACK = dt.timedelta(days=7)
EVENTS_AHEAD = dt.timedelta(days=28)
MAX_ITEMS = 10


@dataclass
class Digest:
    articles: list = field(default_factory=list)
    answers: list = field(default_factory=list)
    events: list = field(default_factory=list)
    stories: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.articles) + len(self.answers) + len(self.events) + len(self.stories)


def week_label(moment: dt.datetime) -> str:
    year, week, _day = moment.isocalendar()
    return f"{year}-W{week:02d}"


def _zone(name: str) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name) if name else zoneinfo.ZoneInfo(settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def recipients():
    """Active members (an active role somewhere) with an e-mail address, not guests, not opted out."""
    User = get_user_model()
    return (
        User.objects.filter(is_active=True, memberships__is_active=True)
        .exclude(email="")
        .exclude(pk__in=GuestAccount.objects.values("user_id"))
        .exclude(pk__in=MemberProfile.objects.filter(weekly_digest=False).values("user_id"))
        .select_related("profile")
        .distinct()
        .order_by("pk")
    )


def _featured_stories(user, since: dt.datetime) -> list:
    """Featured success stories from the apps that offer them: an installed app's ``AppConfig`` may name
    ``community_digest_stories = "module.function"``, ``function(user, since=)`` returning objects with a ``title``
    (and ``get_absolute_url``) the person may read. The community app sits below analytics in the import layers, so
    it asks, it never imports (analytics offers its featured success stories)."""
    from django.apps import apps
    from django.utils.module_loading import import_string

    stories: list = []
    for config in apps.get_app_configs():
        dotted = getattr(config, "community_digest_stories", None)
        if dotted:
            stories += list(import_string(dotted)(user, since=since))
    return stories[:MAX_ITEMS]


def build_digest(user, *, now: dt.datetime) -> Digest:
    """What is new for ``user`` in the week before ``now`` (read through the same restrictions as the pages)."""
    since = now - LOOKBACK
    articles = list(
        Article.objects.restrict(user, "view")
        .published()
        .filter(created_at__gte=since)
        .order_by("-created_at")[:MAX_ITEMS]
    )
    answers = list(
        Answer.objects.restrict(user, "view")
        .filter(is_accepted=True, question__accepted_at__gte=since)
        .select_related("question", "author")
        .order_by("-question__accepted_at")[:MAX_ITEMS]
    )
    events = list(
        Gathering.objects.restrict(user, "view")
        .filter(is_cancelled=False, starts_at__gte=now, starts_at__lt=now + EVENTS_AHEAD)
        .order_by("starts_at")[:MAX_ITEMS]
    )
    return Digest(articles=articles, answers=answers, events=events, stories=_featured_stories(user, since))


def render_digest(user, digest: Digest) -> tuple[str, str]:
    """The subject and the plain-text body, in the active language and time zone."""
    from dandelion.community.services import _site_url

    lines = [
        _("Hello %(name)s,") % {"name": user.get_full_name() or user.get_username()},
        "",
        _("What is new in the community this week:"),
        "",
    ]
    if digest.articles:
        lines.append(_("New articles"))
        lines += [f"- {a.title}: {_site_url(a.get_absolute_url())}" for a in digest.articles]
        lines.append("")
    if digest.answers:
        lines.append(_("Accepted answers"))
        lines += [f"- {a.question.title}: {_site_url(a.get_absolute_url())}" for a in digest.answers]
        lines.append("")
    if digest.events:
        lines.append(_("Coming gatherings"))
        lines += [
            f"- {date_format(timezone.localtime(g.starts_at), 'DATETIME_FORMAT')} — {g.title}: "
            f"{_site_url(g.get_absolute_url())}"
            for g in digest.events
        ]
        lines.append("")
    if digest.stories:
        lines.append(_("Featured success stories"))
        lines += [
            f"- {getattr(s, 'title', s)}"
            + (f": {_site_url(s.get_absolute_url())}" if hasattr(s, "get_absolute_url") else "")
            for s in digest.stories
        ]
        lines.append("")
    lines.append(
        _("You receive this digest once a week. To stop it, untick it in your directory entry: %(url)s")
        % {"url": _site_url("/community/members/me/")}
    )
    return _("The community this week: %(n)d new items") % {"n": len(digest)}, "\n".join(lines)


def send_weekly_digests(now: dt.datetime | None = None) -> int:
    """Send the digests due now that no run has claimed yet. Returns how many e-mails left."""
    now = now or timezone.now()
    sent = 0
    for user in recipients():
        profile = getattr(user, "profile", None)
        zone = _zone(getattr(profile, "time_zone", "") or "")
        local = timezone.localtime(now, zone)
        if local.weekday() == 0 and local.hour < DIGEST_HOUR:
            continue  # due from Monday 08:00 in the member's time zone (last week's was claimed before)
        week = week_label(local)
        if DigestSent.objects.filter(user=user, week=week).exists():
            continue
        language = getattr(profile, "language", "") or settings.LANGUAGE_CODE
        sent += send_claimed(
            user, language=language, zone=zone, label="community digest",
            build=partial(build_digest, user, now=now),
            claim=partial(DigestSent.objects.create, user=user, week=week, sent_at=now),
            render=partial(render_digest, user))
    return sent
