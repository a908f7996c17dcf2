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
