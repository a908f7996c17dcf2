"""E-mail alerts of the crisis room: when an incident opens or escalates, each person it alerts
(``data.incident.notify_user_ids``: its owner, the hub admins, spoke admins and PR managers over its unit) receives
one e-mail through Django's e-mail backend (``EMAIL_URL``: SMTP in production).

Run by the ``crisis`` event subscriber once the incident's transaction has committed: a mail server that fails is
logged by the event dispatcher and changes nothing in the room (the bell and the webhooks are other subscribers)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection

logger = logging.getLogger(__name__)

_SUBJECTS = {
    "crisis.incident_opened": "Crisis room opened: {title} (severity {severity}/10)",
    "crisis.incident_escalated": "Crisis escalated: {title} (severity {severity}/10)",
}


def build_messages(events: Sequence) -> list[EmailMessage]:
    wanted = {int(u) for e in events for u in (e.data.get("incident") or {}).get("notify_user_ids", [])}
    emails = dict(get_user_model().objects.filter(pk__in=wanted, is_active=True).exclude(email="")
                  .values_list("pk", "email"))
    base = getattr(settings, "DANDELION_BASE_URL", "")
    messages = []
    for event in events:
        incident = event.data.get("incident") or {}
        to = sorted({emails[int(u)] for u in incident.get("notify_user_ids", []) if int(u) in emails})
        if not to or event.name not in _SUBJECTS:
            continue
        subject = settings.EMAIL_SUBJECT_PREFIX + _SUBJECTS[event.name].format(
            title=incident.get("title", ""), severity=incident.get("severity", ""))
        body = "\n".join([
            event.data.get("text", ""),
            "",
            f"Unit: {incident.get('unit', '')}",
            f"Status: {incident.get('status', '')}",
            f"PR owner: {incident.get('owner') or 'not assigned yet'}",
            "",
            f"Open the crisis room: {base}{incident.get('url', '')}",
        ])
        spike = event.data.get("spike") or []
        if spike:  # what is being said: the spike's widest-reaching messages
            body += "\n\nWhat is being said:\n" + "\n".join(
                f"- {m.get('author') or '?'}: {m.get('text', '')}" + (f" <{m['url']}>" if m.get("url") else "")
                for m in spike)
        for address in to:  # one message each: recipients do not see who else was told
            messages.append(EmailMessage(subject=subject[:200], body=body, to=[address]))
    return messages


def send_incident_emails(events: Sequence) -> int:
    """E-mail the people the incident events alert; returns how many messages the backend accepted."""
    messages = build_messages(events)
    if not messages:
        return 0
    with get_connection() as connection:
        return connection.send_messages(messages) or 0


def build_stakeholder_messages(update) -> list[EmailMessage]:
    """One message per recipient of a :class:`~dandelion.crisis.models.StakeholderUpdate`: the update, then where
    the incident stands (status, severity, the checklist's progress), in the site's language."""
    from django.utils import translation
    from django.utils.translation import gettext as _

    from dandelion.crisis.services import progress

    incident = update.incident
    with translation.override(settings.LANGUAGE_CODE):
        state = progress(incident.checklist.all())
        lines = [update.body, "", "—", _("Incident: %(title)s") % {"title": incident.title},
                 _("Status: %(status)s · severity %(severity)s/10") % {
                     "status": incident.get_status_display(), "severity": incident.severity}]
        if state["total"]:
            lines.append(_("Playbook: %(done)s of %(total)s steps done") % state)
        if update.sent_by_id:
            lines.append(_("Sent by %(name)s from the crisis room.") % {"name": update.sent_by.get_username()})
        subject = settings.EMAIL_SUBJECT_PREFIX + _("Crisis update: %(subject)s") % {"subject": update.subject}
    body = "\n".join(str(line) for line in lines)
    return [EmailMessage(subject=subject[:200], body=body, to=[address]) for address in update.recipients]


def send_stakeholder_emails(update_id: int) -> int:
    """Send a stakeholder update once its transaction has committed. A mail server that fails is logged and written
    to the room's log (so PR sees it was not delivered); the update itself stays."""
    from dandelion.crisis.choices import LogKind
    from dandelion.crisis.models import LogEntry, StakeholderUpdate

    update = StakeholderUpdate.objects.select_related("incident", "sent_by").filter(pk=update_id).first()
    if update is None:
        return 0
    try:
        with get_connection() as connection:
            return connection.send_messages(build_stakeholder_messages(update)) or 0
    except Exception as exc:  # the room must learn it; nothing else to undo
        logger.exception("stakeholder update %s was not e-mailed", update_id)
        LogEntry.objects.create(incident=update.incident, at=update.sent_at, kind=LogKind.SYSTEM, actor_repr="system",
                                text=f"Stakeholder update '{update.subject}' could not be e-mailed: "
                                     f"{type(exc).__name__}.")
        return 0
