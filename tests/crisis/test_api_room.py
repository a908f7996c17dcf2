"""The room's REST API: open by hand, PR owner, status, severity, pause and resume publishing, close, through the
same services (audited, logged); the permission matrix of every write; 409 once closed."""

from __future__ import annotations

import pytest

from dandelion.core.models import AuditEvent
from dandelion.crisis.models import Incident, LogEntry
from dandelion.publishing.models import CrisisPause

pytestmark = pytest.mark.django_db

#: who may act on the French room: PR, the hub and French admins; the analyst sees it (403), the others do not (404)
MATRIX = [("pr", 200), ("hub_admin", 200), ("fr_admin", 200), ("analyst", 403), ("fr_cm", 403),
          ("fr_agent", 404), ("es_admin", 404), ("nobody", 404)]


def _url(incident, action):
    return f"/api/v1/crisis-incidents/{incident.pk}/{action}/"


@pytest.mark.parametrize(("who", "expected"), MATRIX)
def test_write_matrix(world, api_for, who, expected):
    api = api_for(getattr(world.users, who))
    incident = world.incident
    calls = [("owner", {"owner": world.users.fr_admin.pk}), ("status", {"status": "monitoring"}),
             ("severity", {"severity": 8, "reason": "Press pick-up"}), ("pause", {"reason": "Storm"}),
             ("resume", {}), ("close", {"summary": "Over."})]
    for action, body in calls:
        r = api.post(_url(incident, action), body, format="json")
        assert r.status_code == expected, (action, r.status_code, r.content)
    if expected == 200:
        incident.refresh_from_db()
        assert incident.is_closed and incident.owner == world.users.fr_admin and incident.severity == 8
        assert CrisisPause.objects.get(pk=incident.pause_id).ended_at is not None
        actions = set(AuditEvent.objects.values_list("action", flat=True))
        assert {"crisis.incident.owner", "crisis.incident.status", "crisis.incident.severity",
                "crisis.incident.pause", "crisis.incident.resume", "crisis.incident.close",
                "publishing.pause.start", "publishing.pause.end"} <= actions
        # a closed room is read-only
        assert api.post(_url(incident, "status"), {"status": "open"}, format="json").status_code == 409
    else:
        assert not Incident.objects.filter(pk=incident.pk, status="closed").exists()


def test_bad_input_is_refused_with_a_reason(world, api_for):
    api = api_for(world.users.pr)
    incident = world.incident
    r = api.post(_url(incident, "owner"), {"owner": world.users.es_admin.pk}, format="json")
    assert r.status_code == 400 and r.json()["field"] == "owner"  # Spain's admin may not act on France
    assert api.post(_url(incident, "owner"), {"owner": 999999}, format="json").status_code == 400
    assert api.post(_url(incident, "status"), {"status": "closed"}, format="json").status_code == 400
    assert api.post(_url(incident, "severity"), {"severity": 11}, format="json").status_code == 400
    assert api.post(_url(incident, "close"), {}, format="json").status_code == 400
    r = api.post(_url(incident, "resume"), format="json")
    assert r.status_code == 400 and "not paused" in str(r.json())
    assert api.post(_url(incident, "pause"), {}, format="json").status_code == 200
    assert api.post(_url(incident, "pause"), {}, format="json").status_code == 400  # already paused
    r = api.post(_url(incident, "resume"), format="json")
    assert r.status_code == 200 and r.json() == {"resumed": 0, "fell_due": 0}
    assert LogEntry.objects.filter(incident=incident, text__startswith="Publishing resumed").count() == 1


@pytest.mark.parametrize(("who", "unit", "expected"), [
    ("pr", "europe", 201), ("fr_admin", "france", 201), ("fr_admin", "spain", 403), ("analyst", "france", 403),
    ("fr_agent", "france", 403), ("nobody", "france", 403)])
def test_open_by_hand(world, api_for, who, unit, expected):
    r = api_for(getattr(world.users, who)).post("/api/v1/crisis-incidents/", {
        "unit": getattr(world, unit).pk, "title": "Recall rumour", "severity": 6, "kind": "product"},
        format="json")
    assert r.status_code == expected, r.content
    if expected == 201:
        assert r.json()["kind"] == "product" and r.json()["status"] == "open"
        assert Incident.objects.get(pk=r.json()["id"]).log.filter(text__contains="opened by hand").exists()
