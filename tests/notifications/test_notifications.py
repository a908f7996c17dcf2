"""In-app notifications: who is told about what, once; the bell; the page (HTMX mark read / mark all read),
scoped to the recipient and paginated."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from dandelion.assets import services as assets
from dandelion.assets.events import account_changed
from dandelion.core.events import Event, dispatch
from dandelion.inbox.events import conversation_event
from dandelion.notifications.models import Notification
from dandelion.notifications.services import notify_for_events

pytestmark = pytest.mark.django_db


@pytest.fixture
def conv(org):
    from dandelion.inbox.models import Contact, Conversation

    return Conversation.objects.create(account=org.fr_account, contact=Contact.objects.create(name="C"),
                                       thread_key="t", team=org.fr_team, assignee=org.users.fr_agent)


def recipients(event_type=None):
    qs = Notification.objects.all()
    if event_type:
        qs = qs.filter(event_type=event_type)
    return sorted(qs.values_list("recipient__username", flat=True))


def test_assignee_is_told_not_the_one_who_assigned_themself(org, conv):
    notify_for_events([conversation_event("conversation.assigned", conv, actor=org.users.fr_agent2)])
    assert recipients() == ["fragent"]
    n = Notification.objects.get()
    assert n.url == conv.get_absolute_url() and n.unit_id == org.france.pk and n.actor_repr == "fragent2"
    assert n.title == f"Conversation #{conv.pk} on @brand_fr was assigned to you"
    Notification.objects.all().delete()
    notify_for_events([conversation_event("conversation.assigned", conv, actor=org.users.fr_agent)])
    assert recipients() == []


def test_sla_breach_tells_the_team_and_the_escalation_team(org, conv):
    notify_for_events([conversation_event("conversation.sla_breached", conv, metric="first_response",
                                          notify_team_id=org.vendor_team.pk)])
    assert recipients() == ["fragent", "fragent2", "moderator"]
    assert "first response" in Notification.objects.first().title


def test_account_change_tells_the_owner_and_the_unit_admins(org):
    org.fr_account.owner = org.users.fr_cm
    org.fr_account.save()
    notify_for_events([account_changed(org.fr_account, actor=org.users.hub_admin, change="update")])
    assert recipients() == ["fradmin", "frcm"]  # not the Europe admin, not the actor
    Notification.objects.all().delete()
    notify_for_events([account_changed(org.fr_account, actor=org.users.fr_admin, change="archive")])
    assert recipients() == ["frcm"]


def test_inactive_people_are_not_told(org, conv):
    org.users.fr_agent.is_active = False
    org.users.fr_agent.save()
    notify_for_events([conversation_event("conversation.assigned", conv, actor=org.users.fr_agent2)])
    assert recipients() == []


def test_once_per_person_and_event(org, conv):
    event = conversation_event("conversation.assigned", conv, actor=org.users.fr_agent2)
    dispatch([event])
    dispatch([event])
    assert Notification.objects.count() == 1


def test_end_to_end_from_the_service(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assets.update_account(org.fr_account, actor=org.users.europe_admin, notes="changed")
    assert recipients("account.changed") == ["fradmin"]


def test_events_without_a_rule_notify_nobody(org, conv):
    notify_for_events([conversation_event("conversation.created", conv),
                       Event.create("webhook.test", unit=org.france, subject=conv, data={})])
    assert not Notification.objects.exists()


def make(user, n=1, *, read=False, **fields):
    from django.utils import timezone

    rows = [Notification(recipient=user, event_type="account.changed", event_id=f"{user.pk}-{i}-{read}",
                         data={"handle": "@brand_fr", "change": "update"}, url="/assets/accounts/1/",
                         read_at=timezone.now() if read else None, **fields) for i in range(n)]
    return Notification.objects.bulk_create(rows)


def test_bell_shows_the_unread_count(org, client_for):
    make(org.users.fr_admin, 3)
    make(org.users.fr_admin, 2, read=True)
    make(org.users.es_admin, 5)
    page = client_for(org.users.fr_admin).get(reverse("notifications:list")).content.decode()
    # the page's bell loads its count right after the page (no query in every page's rendering)
    assert 'id="notification-bell"' in page and 'hx-trigger="load, every 60s' in page
    bell = client_for(org.users.fr_admin).get(reverse("notifications:bell")).content.decode()
    assert 'data-unread="3"' in bell and "<html" not in bell
    none = client_for(org.users.analyst).get(reverse("notifications:bell")).content.decode()
    assert "data-unread" not in none


def test_page_lists_only_the_recipients_own_paginated(org, client_for):
    make(org.users.fr_admin, 35)
    make(org.users.es_admin, 1)
    client = client_for(org.users.fr_admin)
    first = client.get(reverse("notifications:list")).content.decode()
    assert first.count('<li id="notification-') == 30 and "Next" in first
    assert client.get(reverse("notifications:list") + "?page=2").content.decode().count('<li id="notification-') == 5
    other = client_for(org.users.es_admin).get(reverse("notifications:list")).content.decode()
    assert other.count('<li id="notification-') == 1


def test_mark_read_htmx_and_scope(org, client_for):
    [mine] = make(org.users.fr_admin)
    [theirs] = make(org.users.es_admin)
    client = client_for(org.users.fr_admin)
    response = client.post(reverse("notifications:read", args=[mine.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Trigger"] == "notifications-changed"
    assert "Mark read" not in response.content.decode() and "<html" not in response.content.decode()
    mine.refresh_from_db()
    assert mine.is_read
    assert client.post(reverse("notifications:read", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("notifications:open", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert not theirs.is_read
    assert client.get(reverse("notifications:read", args=[mine.pk])).status_code == 405


def test_mark_all_read(org, client_for):
    make(org.users.fr_admin, 4)
    make(org.users.es_admin, 2)
    response = client_for(org.users.fr_admin).post(reverse("notifications:read-all"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'id="notification-list"' in response.content.decode()
    assert not Notification.objects.filter(recipient=org.users.fr_admin, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=org.users.es_admin, read_at__isnull=True).count() == 2
    from dandelion.core.models import AuditEvent

    assert AuditEvent.objects.filter(action="notifications.mark_all_read", actor=org.users.fr_admin).count() == 1


def test_open_marks_read_and_goes_to_the_subject(org, client_for):
    [n] = make(org.users.fr_admin)
    response = client_for(org.users.fr_admin).get(n.get_absolute_url())
    assert response.status_code == 302 and response["Location"] == "/assets/accounts/1/"
    n.refresh_from_db()
    assert n.is_read
    Notification.objects.filter(pk=n.pk).update(url="https://evil.example.org/")
    response = client_for(org.users.fr_admin).get(n.get_absolute_url())
    assert response["Location"] == reverse("notifications:list")


def test_anonymous_is_sent_to_login(client):
    assert client.get(reverse("notifications:list")).status_code == 302


def test_retention_keeps_unread(org):
    from django.utils import timezone

    from dandelion.core.retention import purge

    old = timezone.now() - dt.timedelta(days=91)
    [read] = make(org.users.fr_admin, read=True)
    [unread] = make(org.users.fr_admin)
    Notification.objects.filter(pk=read.pk).update(read_at=old, created_at=old)
    Notification.objects.filter(pk=unread.pk).update(created_at=old)
    [outcome] = purge(only=["notifications.read"])
    assert outcome.deleted == 1 and list(Notification.objects.values_list("pk", flat=True)) == [unread.pk]
