"""The crisis app's domain events: an incident opened, escalated (its severity rose) and closed.

Outgoing webhooks (``dandelion.webhooks``) deliver them signed, like every event; ``data.text`` is the line Slack and
Teams incoming webhooks display. Notifications tell ``data.incident.notify_user_ids`` (the owner, the PR managers
and admins over the unit); the crisis app's own subscriber e-mails the same people (``crisis.alerts``)."""

from __future__ import annotations

from typing import Any

from dandelion.core.events import Event, register_type

SUBJECT = "crisis.incident"

_EXAMPLE = {
    "incident": {"id": 4, "url": "/crisis/4/", "title": "Spike on 'Brand'", "severity": 7, "status": "open",
                 "unit": "France", "owner": "pr", "opened_at": "2026-01-05T09:31:00+00:00",
                 "notify_user_ids": [3, 9]},
    "spike": [{"author": "@someone", "text": "acme is down again #acme", "url": "https://bsky.app/profile/x/post/y",
               "posted_at": "2026-01-05T09:20:00+00:00", "reach": 1200}],
    "text": "Crisis room opened: Spike on 'Brand' (France), severity 7/10 https://dandelion.example/crisis/4/",
}

INCIDENT_OPENED = register_type("crisis.incident_opened", "Crisis room opened", subject_type=SUBJECT,
                                description="An incident was opened (from a listening spike or by hand).",
                                example=_EXAMPLE)
INCIDENT_ESCALATED = register_type("crisis.incident_escalated", "Crisis escalated", subject_type=SUBJECT,
                                   description="An incident's severity rose.", example=_EXAMPLE)
INCIDENT_CLOSED = register_type("crisis.incident_closed", "Crisis room closed", subject_type=SUBJECT,
                                description="An incident was closed with its post-mortem.", example=_EXAMPLE)

_VERBS = {
    INCIDENT_OPENED.name: "Crisis room opened",
    INCIDENT_ESCALATED.name: "Crisis escalated",
    INCIDENT_CLOSED.name: "Crisis room closed",
}


def incident_event(name: str, incident, *, actor=None, notify: list[int] | None = None, base_url: str = "",
                   spike: list[dict] | None = None) -> Event:
    url = incident.get_absolute_url()
    data: dict[str, Any] = {
        "incident": {"id": incident.pk, "url": url, "title": incident.title[:200], "severity": incident.severity,
                     "status": incident.status, "unit": incident.unit.name[:120],
                     "owner": incident.owner.get_username() if incident.owner_id else "",
                     "opened_at": incident.opened_at.isoformat(), "notify_user_ids": sorted(notify or [])[:200]},
        # "text" is what Slack and Teams incoming webhooks display
        # the spike's first messages (author, text, link), for the PR managers told: what is being said
        "spike": (spike or [])[:5],
        "text": (f"{_VERBS[name]}: {incident.title} ({incident.unit.name}), severity {incident.severity}/10 "
                 f"{base_url}{url}")[:500],
    }
    return Event.create(name, unit=incident.unit, subject=incident, subject_type=SUBJECT, actor=actor, data=data)
