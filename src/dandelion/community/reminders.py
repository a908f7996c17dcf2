"""Reminder e-mails before a gathering: a day and an hour before it starts, to every member with a place and every
confirmed guest, in the person's language and time zone.

The periodic job ``community.reminders`` (:mod:`dandelion.community.jobs`, every five minutes, claimed once per
period across workers by :func:`dandelion.core.jobs.periodic`) calls :func:`send_due_reminders`. Each e-mail is
claimed first by inserting a :class:`~dandelion.community.models.ReminderSent` row whose ``key`` is unique (one per
registration and reminder): a second run, or a second worker at the same moment, fails the insert and sends nothing.
A failed send deletes its claim (the transaction rolls back), so the next run tries again.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from dandelion.community.choices import RegistrationStatus
from dandelion.community.models import Gathering, GuestRegistration, Registration, ReminderSent

logger = logging.getLogger(__name__)

#: The reminders, longest first: (kind, how long before the start). A reminder is due once the gathering starts within
#: its lead time but not yet within the next shorter one (which then covers it): nobody gets both at once.
REMINDERS: tuple[tuple[str, dt.timedelta], ...] = (("1d", dt.timedelta(days=1)), ("1h", dt.timedelta(hours=1)))


@dataclass(frozen=True)
class Recipient:
    key: str
    email: str
    name: str
    language: str
    time_zone: str


def _zone(name: str, fallback: str) -> dt.tzinfo:
    for candidate in (name, fallback, settings.TIME_ZONE):
        try:
            if candidate:
                return zoneinfo.ZoneInfo(candidate)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            continue
    return dt.UTC


def _recipients(gathering: Gathering, kind: str) -> list[Recipient]:
    out = []
    regs = (Registration.objects.filter(gathering=gathering, status=RegistrationStatus.GOING)
            .select_related("user", "user__profile"))
    for reg in regs:
        if not reg.user.email or not reg.user.is_active:
            continue
        profile = getattr(reg.user, "profile", None)
        out.append(Recipient(key=f"r:{reg.pk}:{kind}", email=reg.user.email,
                             name=reg.user.get_full_name() or reg.user.get_username(),
                             language=getattr(profile, "language", "") or "",
                             time_zone=getattr(profile, "time_zone", "") or ""))
    for guest in GuestRegistration.objects.filter(gathering=gathering, status=GuestRegistration.Status.GOING):
        out.append(Recipient(key=f"g:{guest.pk}:{kind}", email=guest.email, name=guest.name,
                             language=guest.language, time_zone=""))
    return out


def _message(gathering: Gathering, kind: str, person: Recipient) -> tuple[str, str]:
    from django.urls import reverse

    language = person.language or settings.LANGUAGE_CODE
    with translation.override(language), timezone.override(_zone(person.time_zone, gathering.unit.timezone)):
        local = timezone.localtime(gathering.starts_at)
        when = f"{date_format(local, 'DATETIME_FORMAT')} ({local.tzname()})"
        lead = _("tomorrow") if kind == "1d" else _("in an hour")
        subject = _("Reminder: %(title)s starts %(lead)s") % {"title": gathering.title, "lead": lead}
        where = "\n".join(x for x in (gathering.place, gathering.online_url) if x)
        url = getattr(settings, "SITE_URL", "").rstrip("/") + reverse("community:gathering-detail",
                                                                       args=[gathering.pk])
        body = _("Hello %(name)s,\n\n%(title)s starts %(lead)s: %(when)s.\n\n%(where)s\n\nDetails: %(url)s\n") % {
            "name": person.name, "title": gathering.title, "lead": lead, "when": when, "where": where, "url": url}
    return subject, body


def _send_one(gathering: Gathering, kind: str, person: Recipient, now: dt.datetime) -> bool:
    """Claim and send one reminder; False when it was claimed already (sent by another run or worker)."""
    try:
        with transaction.atomic():
            ReminderSent.objects.create(key=person.key, gathering=gathering, kind=kind, recipient=person.email,
                                        sent_at=now)
            subject, body = _message(gathering, kind, person)
            # inside the claim's transaction: a failed send rolls the claim back and a later run retries
            send_mail(subject=subject, message=body, from_email=None, recipient_list=[person.email],
                      fail_silently=False)
    except IntegrityError:
        return False
    return True


def due(now: dt.datetime) -> list[tuple[str, Gathering]]:
    """(kind, gathering) for every reminder whose window contains ``now``."""
    out = []
    for i, (kind, lead) in enumerate(REMINDERS):
        shorter = REMINDERS[i + 1][1] if i + 1 < len(REMINDERS) else dt.timedelta(0)
        for g in (Gathering.objects.filter(is_cancelled=False, starts_at__gt=now + shorter,
                                           starts_at__lte=now + lead).select_related("unit")):
            out.append((kind, g))
    return out


def send_due_reminders(now: dt.datetime | None = None) -> int:
    """Send every reminder due at ``now`` not sent yet. Returns how many e-mails this run sent. Idempotent."""
    now = now or timezone.now()
    sent = 0
    for kind, gathering in due(now):
        for person in _recipients(gathering, kind):
            try:
                if _send_one(gathering, kind, person, now):
                    sent += 1
            except Exception:
                logger.exception("reminder %s for gathering %s failed", person.key, gathering.pk)
    return sent
