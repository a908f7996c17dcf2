"""Writes made in the Django admin (a superuser's safety net) are audited like every other write."""

import pytest

from dandelion.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw-test-123")
    client.force_login(user)
    return client


def test_calendar_and_holiday_created_and_changed_in_the_admin_are_audited(org, superuser_client):
    from dandelion.routing.models import BusinessCalendar, Holiday

    data = {"unit": org.france.pk, "team": "", "name": "France office hours", "timezone": "Europe/Paris",
            "weekly_hours": "{}", "holidays-TOTAL_FORMS": "1", "holidays-INITIAL_FORMS": "0",
            "holidays-MIN_NUM_FORMS": "0", "holidays-MAX_NUM_FORMS": "1000",
            "holidays-0-date": "2026-12-25", "holidays-0-name": "Noël"}
    response = superuser_client.post("/admin/routing/businesscalendar/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    calendar = BusinessCalendar.objects.get(name="France office hours")
    assert Holiday.objects.filter(calendar=calendar, name="Noël").exists()
    created = AuditEvent.objects.get(action="routing.businesscalendar.create")
    assert created.actor_repr == "root" and created.object_id == str(calendar.pk)
    assert created.changes["timezone"] == [None, "Europe/Paris"]
    assert AuditEvent.objects.filter(action="routing.holiday.create", summary__contains="Noël").exists()

    data.update({"timezone": "Europe/Brussels", "holidays-TOTAL_FORMS": "1", "holidays-INITIAL_FORMS": "1",
                 "holidays-0-id": str(calendar.holidays.get().pk), "holidays-0-calendar": str(calendar.pk),
                 "holidays-0-DELETE": "on"})
    response = superuser_client.post(f"/admin/routing/businesscalendar/{calendar.pk}/change/", data)
    assert response.status_code == 302
    changed = AuditEvent.objects.get(action="routing.businesscalendar.update")
    assert changed.changes == {"timezone": ["Europe/Paris", "Europe/Brussels"]}
    assert AuditEvent.objects.filter(action="routing.holiday.delete").count() == 1
    assert not calendar.holidays.exists()


def test_deleting_in_the_admin_is_audited(org, superuser_client):
    from dandelion.orgs.models import Team

    team = Team.objects.create(unit=org.spain, name="Spain night shift", kind="helpers")
    response = superuser_client.post(f"/admin/orgs/team/{team.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="orgs.team.delete")
    assert event.object_repr == str(team) and event.actor_repr == "root"
