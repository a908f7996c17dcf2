"""Alerts by e-mail: a query's subscribers are told of its spikes, each in their own language.

Run by the ``listening.mail`` event subscriber once the alert's transaction has committed (a mail server that fails
is logged by the event dispatcher and changes nothing else: the alert, the bell and the webhooks stay). What is sent:

* an alert **opened**: one e-mail to each subscriber who may still see the query (active, with an address);
* an alert **updated** (a continuing spike grew): an e-mail only when its severity rose by at least
  :data:`UPDATE_SEVERITY_STEP` since the last e-mail about it and :data:`UPDATE_MIN_GAP` has passed: a continuing
  spike is updated, not repeated;
* **the anti-spam cap**: at most :data:`MAX_MAILS_PER_QUERY_HOUR` e-mails per query in any 60 minutes (the
  detector's own cap on alerts, ``detector.MAX_ALERTS_PER_HOUR``); more are not sent (the alerts stay in the app).

Every e-mail sent is an :class:`~dandelion.listening.models.AlertMail` row (what the cap counts). The language is the
person's profile language, else the site's (``LANGUAGE_CODE``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from dandelion.listening import detector as det
from dandelion.listening import events as ev
from dandelion.listening.models import Alert, AlertMail, ListeningQuery

logger = logging.getLogger(__name__)

MAX_MAILS_PER_QUERY_HOUR = det.MAX_ALERTS_PER_HOUR
UPDATE_SEVERITY_STEP = 2
UPDATE_MIN_GAP = dt.timedelta(minutes=30)


def on_events(events: Iterable) -> None:
    """The ``listening.mail`` event subscriber."""
    for event in events:
        if event.name not in (ev.ALERT_OPENED.name, ev.ALERT_UPDATED.name):
            continue
        alert = Alert.objects.select_related("query__unit").filter(pk=event.subject_id).first()
        if alert is not None:
            kind = "opened" if event.name == ev.ALERT_OPENED.name else "updated"
            send_alert_mail(alert, kind=kind)


def _why_not(alert: Alert, kind: str, now: dt.datetime) -> str:
    """Why no e-mail is due (the cap, an update too small or too soon), or "" when one is."""
    if kind == "updated":
        last = AlertMail.objects.filter(alert=alert).order_by("-sent_at").first()
        if last is not None and (
            alert.severity - last.severity < UPDATE_SEVERITY_STEP or now - last.sent_at < UPDATE_MIN_GAP
        ):
            return "a continuing spike is updated, not repeated"
    recent = AlertMail.objects.filter(query=alert.query, sent_at__gt=now - dt.timedelta(hours=1)).count()
    if recent >= MAX_MAILS_PER_QUERY_HOUR:
        return f"the cap of {MAX_MAILS_PER_QUERY_HOUR} e-mails per query and hour is reached"
    return ""


def recipients(query: ListeningQuery) -> list:
    """The subscribers who are e-mailed: active, with an address, and still allowed to see the query."""
    out = []
    for user in (
        query.subscribers.filter(is_active=True).exclude(email="").select_related("profile").order_by("pk")
    ):
        if ListeningQuery.objects.restrict(user, "view").filter(pk=query.pk).exists():
            out.append(user)
    return out


def build_message(alert: Alert, user, *, kind: str) -> EmailMessage:
    """The e-mail about ``alert`` for ``user``, in their language."""
    profile = getattr(user, "profile", None)
    language = getattr(profile, "language", "") or settings.LANGUAGE_CODE
    query = alert.query
    base = getattr(settings, "DANDELION_BASE_URL", "")
    with translation.override(language):
        values = {
            "name": query.name,
            "severity": alert.severity,
            "count": alert.peak_count,
            "minutes": alert.window_minutes,
            "expected": f"{alert.expected:.1f}",
        }
        if kind == "opened":
            subject = _("Listening spike on '%(name)s' (severity %(severity)s/10)") % values
        else:
            subject = _("Listening spike growing on '%(name)s' (severity %(severity)s/10)") % values
        started = timezone.localtime(alert.started_at, timezone.get_fixed_timezone(0))
        lines = [
            _("%(count)s mentions in %(minutes)s minutes (%(expected)s expected).") % values,
            _("Query: %(text)s") % {"text": query.text[:300]},
            _("Started at %(time)s UTC.") % {"time": f"{started:%Y-%m-%d %H:%M}"},
            "",
            _("See the alert: %(url)s") % {"url": f"{base}{alert.get_absolute_url()}"},
            "",
            _("You receive this e-mail because you follow this query; at most %(n)s such e-mails per hour.")
            % {"n": MAX_MAILS_PER_QUERY_HOUR},
        ]
    return EmailMessage(
        subject=(settings.EMAIL_SUBJECT_PREFIX + subject)[:200], body="\n".join(lines), to=[user.email]
    )


def send_alert_mail(alert: Alert, *, kind: str = "opened", now: dt.datetime | None = None) -> int:
    """E-mail the query's subscribers about ``alert`` unless the cap or the update rule says not to; returns how
    many messages the backend accepted."""
    now = now or timezone.now()
    why = _why_not(alert, kind, now)
    if why:
        logger.info("listening: no e-mail for alert %s (%s): %s", alert.pk, kind, why)
        return 0
    people = recipients(alert.query)
    if not people:
        return 0
    messages = [build_message(alert, user, kind=kind) for user in people]
    with get_connection() as connection:
        sent = connection.send_messages(messages) or 0
    AlertMail.objects.create(
        alert=alert, query=alert.query, sent_at=now, kind=kind, severity=alert.severity, recipients=sent
    )
    return sent
