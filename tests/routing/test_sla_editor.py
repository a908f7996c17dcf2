"""Issue 16: SLA policies edited in the UI by unit admins, with human durations (no more "172800 s")."""

import pytest
from django.urls import reverse

from dandelion.core.models import AuditEvent
from dandelion.routing.durations import format_duration, parse_duration
from dandelion.routing.models import SlaPolicy

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("text, seconds", [("45m", 2700), ("2h 30m", 9000), ("2h30m", 9000), ("1d 4h", 100800),
                                           ("2D", 172800), ("", None), ("  ", None)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text, message", [("abc", "like 45m"), ("90", "like 45m"), ("0m", "longer than zero"),
                                           ("2h 3h", "appears twice"), ("400d", "longer than a year"),
                                           ("-5m", "like 45m")])
def test_parse_duration_refuses(text, message):
    with pytest.raises(ValueError, match=message):
        parse_duration(text)


def test_format_duration_round_trips():
    assert [format_duration(s) for s in (None, 0, 2700, 9000, 172800, 100800, 30)] == [
        "", "", "45m", "2h 30m", "2d", "1d 4h", "0m"]
    for s in (60, 2700, 9000, 172800, 100800, 3 * 86400 + 61 * 60):
        assert parse_duration(format_duration(s)) == s


def _post(org, **overrides):
    data = {"team": org.fr_team.pk, "priority": "high", "first_response_seconds": "30m",
            "next_response_seconds": "2h", "resolution_seconds": "1d 4h", "business_hours": "on",
            "escalate_priority": "urgent", "is_active": "on"}
    data.update(overrides)
    return data


@pytest.mark.parametrize("who, status", [
    ("hub_admin", 302), ("fr_admin", 302), ("europe_admin", 302),
    ("es_admin", 403),  # no team of theirs is France's... they may create for Spain only: France's team refused
    ("fr_cm", 403), ("fr_agent", 403), ("analyst", 403), ("moderator", 403),
])
def test_create_matrix(org, client_for, who, status):
    response = client_for(getattr(org.users, who)).post(reverse("routing:sla-create"), _post(org))
    if who == "es_admin":  # may create policies, but not on France's team: the choice is refused
        assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    else:
        assert response.status_code == status
    policy = SlaPolicy.objects.filter(team=org.fr_team, priority="high").first()
    if status == 302:
        assert (policy.first_response_seconds, policy.next_response_seconds, policy.resolution_seconds) == (
            1800, 7200, 100800)
        assert policy.business_hours and policy.escalation == {"set_priority": "urgent"}
        assert AuditEvent.objects.get(action="routing.sla_policy.create").actor == getattr(org.users, who)
    else:
        assert policy is None


def test_edit_shows_human_durations_and_keeps_other_escalation_keys(org, client_for):
    policy = SlaPolicy.objects.create(team=org.fr_team, priority="", first_response_seconds=172800,
                                      escalation={"notify_team": org.fr_team.pk})
    c = client_for(org.users.fr_admin)
    listing = c.get(reverse("routing:sla-list")).content.decode()
    assert "172800" not in listing and ">2d<" in listing
    page = c.get(reverse("routing:sla-edit", args=[policy.pk])).content.decode()
    assert 'value="2d"' in page
    response = c.post(reverse("routing:sla-edit", args=[policy.pk]),
                      _post(org, priority="", first_response_seconds="1h 30m", escalate_priority="high"))
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.first_response_seconds == 5400
    assert policy.escalation == {"notify_team": org.fr_team.pk, "set_priority": "high"}
    entry = AuditEvent.objects.get(action="routing.sla_policy.update")
    assert entry.changes["first_response_seconds"] == [172800, 5400]
    assert client_for(org.users.es_admin).get(reverse("routing:sla-edit", args=[policy.pk])).status_code == 404
    assert client_for(org.users.fr_agent).post(reverse("routing:sla-edit", args=[policy.pk]),
                                               _post(org)).status_code == 403


def test_clear_errors(org, client_for):
    c = client_for(org.users.fr_admin)
    response = c.post(reverse("routing:sla-create"), _post(org, first_response_seconds="soon"))
    assert response.status_code == 400 and "Write a duration like 45m, 2h 30m or 1d 4h." in response.content.decode()
    response = c.post(reverse("routing:sla-create"), _post(org, first_response_seconds="", next_response_seconds="",
                                                          resolution_seconds=""))
    assert response.status_code == 400 and "Set at least one target" in response.content.decode()
    SlaPolicy.objects.create(team=org.fr_team, priority="high", first_response_seconds=60)
    response = c.post(reverse("routing:sla-create"), _post(org))
    assert response.status_code == 400 and "already has a policy" in response.content.decode()


def test_delete(org, client_for):
    policy = SlaPolicy.objects.create(team=org.fr_team, priority="low", first_response_seconds=60)
    response = client_for(org.users.fr_admin).post(reverse("routing:sla-edit", args=[policy.pk]), {"delete": "1"})
    assert response.status_code == 302 and not SlaPolicy.objects.filter(pk=policy.pk).exists()
    assert AuditEvent.objects.filter(action="routing.sla_policy.delete").count() == 1
