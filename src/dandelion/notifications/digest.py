"""The daily e-mail digest of what waits on a person: their unread notifications, the open conversations assigned to
them, and the open conversations of theirs or of their teams' unassigned queue whose SLA is breached or due within
:data:`SLA_SOON` — in the person's language and time zone.

The periodic job ``notifications.digest`` (:mod:`dandelion.notifications.jobs`, hourly) calls
:func:`send_daily_digests`. A person's digest is due from :data:`DIGEST_HOUR` o'clock in their time zone. Each is
claimed by inserting a :class:`~dandelion.notifications.models.DigestSent` row (unique per person and local day) in
the transaction that sends it: a second run, or a second worker, finds the claim and sends nothing; a failed send
rolls its claim back and the next run retries. A day when nothing waits is claimed without an e-mail. People opt
out on the notifications page (:class:`~dandelion.notifications.models.DigestPreference`); the e-mail links to it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dandelion.core import i18n
from dandelion.core.digests import send_claimed
from dandelion.core.permissions import get_grants
from dandelion.notifications.models import DigestPreference, DigestSent, Notification

DIGEST_HOUR = 8
SLA_SOON = dt.timedelta(hours=2)
MAX_ITEMS = 10


@dataclass
class Digest:
    """What waits on one person: lists cut to :data:`MAX_ITEMS`, with the full counts beside them."""

    notifications: list = field(default_factory=list)
    unread: int = 0
    assigned: list = field(default_factory=list)
    assigned_count: int = 0
    sla: list = field(default_factory=list)
    sla_count: int = 0
    sla_unassigned: int = 0  # of ``sla_count``, those not assigned to the person (the others are in ``assigned``)

    def __len__(self) -> int:
        """What waits: unread notifications and distinct conversations."""
        return self.unread + self.assigned_count + self.sla_unassigned


def _url(path: str) -> str:
    return settings.DANDELION_BASE_URL + path


def recipients():
    """Active people with an active role somewhere and an e-mail address, who did not opt out."""
    return (
        get_user_model().objects.filter(is_active=True, memberships__is_active=True)
        .exclude(email="")
        .exclude(pk__in=DigestPreference.objects.filter(email_digest=False).values("user_id"))
        .select_related("profile")
        .distinct()
        .order_by("pk")
    )


def build_digest(user, *, now: dt.datetime) -> Digest:
    """What waits on ``user`` at ``now``, read through the same restrictions as the pages."""
    from dandelion.inbox.choices import ConversationStatus
    from dandelion.inbox.models import Conversation

    unread = Notification.objects.for_recipient(user).unread()
    open_ = Conversation.objects.restrict(user, "view").filter(status=ConversationStatus.OPEN).select_related(
        "account", "contact")
    assigned = open_.filter(assignee=user).order_by("sla_due_at", "-last_activity_at", "id")
    teams = {g.team_id for g in get_grants(user) if g.team_id}
    sla = open_.filter(Q(assignee=user) | Q(assignee__isnull=True, team_id__in=teams),
                       sla_due_at__lt=now + SLA_SOON).order_by("sla_due_at", "id")
    return Digest(notifications=list(unread[:MAX_ITEMS]), unread=unread.count(),
                  assigned=list(assigned[:MAX_ITEMS]), assigned_count=assigned.count(),
                  sla=list(sla[:MAX_ITEMS]), sla_count=sla.count(),
                  sla_unassigned=sla.filter(assignee__isnull=True).count())


def _conversation_line(conversation, now: dt.datetime) -> str:
    who = (conversation.contact.name if conversation.contact_id else "") or _("unknown author")
    line = f"- #{conversation.pk} {conversation.account.handle} — {who[:80]}"
    if conversation.sla_due_at is not None:
        when = date_format(timezone.localtime(conversation.sla_due_at), "DATETIME_FORMAT")
        line += " — " + (_("SLA missed since %(when)s") if conversation.sla_due_at < now
                         else _("SLA due %(when)s")) % {"when": when}
    return f"{line}\n  {_url(conversation.get_absolute_url())}"


def render_digest(user, digest: Digest, *, now: dt.datetime) -> tuple[str, str]:
    """The subject and the plain-text body, in the active language and time zone."""
    lines = [_("Hello %(name)s,") % {"name": user.get_full_name() or user.get_username()}, "",
             _("This is what waits on you in Dandelion:"), ""]
    if digest.sla:
        lines.append(ngettext("%(count)d conversation with its SLA missed or due within two hours",
                              "%(count)d conversations with their SLA missed or due within two hours",
                              digest.sla_count) % {"count": digest.sla_count})
        lines += [_conversation_line(c, now) for c in digest.sla] + [""]
    if digest.assigned:
        lines.append(ngettext("%(count)d open conversation assigned to you",
                              "%(count)d open conversations assigned to you",
                              digest.assigned_count) % {"count": digest.assigned_count})
        lines += [_conversation_line(c, now) for c in digest.assigned] + [""]
    if digest.notifications:
        lines.append(ngettext("%(count)d unread notification", "%(count)d unread notifications", digest.unread)
                     % {"count": digest.unread})
        lines += [f"- {n.title}\n  {_url(n.get_absolute_url())}" for n in digest.notifications] + [""]
    lines.append(_("You receive this digest each morning when something waits on you. To stop it, untick it on "
                   "your notifications settings: %(url)s") % {"url": _url(reverse("notifications:settings"))})
    subject = ngettext("Dandelion: %(count)d item waits on you", "Dandelion: %(count)d items wait on you",
                       len(digest)) % {"count": len(digest)}
    return subject, "\n".join(lines)


def send_daily_digests(now: dt.datetime | None = None) -> int:
    """Send the digests due now that no run has claimed yet. Returns how many e-mails left."""
    now = now or timezone.now()
    sent = 0
    for user in recipients():
        language, zone = i18n.person_preferences(user)
        local = timezone.localtime(now, zone)
        if local.hour < DIGEST_HOUR:
            continue  # due from 08:00 in the person's time zone (yesterday's was claimed before)
        day = local.date()
        if DigestSent.objects.filter(user=user, day=day).exists():
            continue
        sent += send_claimed(
            user, language=language, zone=zone, label="notifications digest",
            build=partial(build_digest, user, now=now),
            claim=partial(DigestSent.objects.create, user=user, day=day, sent_at=now),
            render=partial(render_digest, user, now=now))
    return sent
