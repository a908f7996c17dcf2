"""The listening app's domain events: alerts opened, updated (a continuing spike) and closed.

Outgoing webhooks (``dandelion.webhooks``) deliver them signed, like every event; notifications show them."""

from __future__ import annotations

from typing import Any

from dandelion.core.events import Event, register_type

SUBJECT = "listening.alert"

_EXAMPLE = {
    "alert": {"id": 7, "url": "/listening/alerts/7/", "state": "open", "severity": 6, "peak_count": 48,
              "expected": 2.5, "window_minutes": 15, "started_at": "2026-01-05T09:30:00+00:00"},
    "query": {"id": 3, "name": "Brand", "text": "acme OR #acme"},
    "text": "Spike on 'Brand': 48 mentions in 15 min (2.5 expected), severity 6/10",
}

ALERT_OPENED = register_type("listening.alert_opened", "Listening spike detected", subject_type=SUBJECT,
                             description="A query's volume rose far above its baseline.", example=_EXAMPLE)
ALERT_UPDATED = register_type("listening.alert_updated", "Listening spike growing", subject_type=SUBJECT,
                              description="A continuing spike grew (its severity rose).", example=_EXAMPLE)
ALERT_CLOSED = register_type("listening.alert_closed", "Listening spike over", subject_type=SUBJECT,
                             description="A spike has passed (no significant window for a while).",
                             example=_EXAMPLE)


def alert_event(name: str, alert, *, actor=None) -> Event:
    query = alert.query
    data: dict[str, Any] = {
        "alert": {"id": alert.pk, "url": alert.get_absolute_url(), "state": alert.state, "severity": alert.severity,
                  "peak_count": alert.peak_count, "expected": round(alert.expected, 2),
                  "window_minutes": alert.window_minutes, "started_at": alert.started_at.isoformat()},
        "query": {"id": query.pk, "name": query.name, "text": query.text[:300]},
        # "text" is what Slack and Teams incoming webhooks display
        "text": (f"Spike on '{query.name}': {alert.peak_count} mentions in {alert.window_minutes} min "
                 f"({alert.expected:.1f} expected), severity {alert.severity}/10")[:500],
    }
    return Event.create(name, unit=query.unit_id, subject=alert, subject_type=SUBJECT, actor=actor, data=data)
