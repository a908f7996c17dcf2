"""The daily e-mail digest of what waits on a person, through a real SMTP server (aiosmtpd): unread notifications,
conversations assigned to them, SLAs missed or due soon in their queues; in their language and time zone; once a day
(claim rows); nothing when nothing waits; opt-out on the notifications settings page."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from dandelion.core import digests as core_digests
from dandelion.core.models import AuditEvent as AuditLog
from dandelion.core.models import UserProfile
from dandelion.inbox.models import Contact, Conversation
from dandelion.notifications import digest
from dandelion.notifications.models import DigestSent, Notification
from tests.community.test_digest import smtp  # noqa: F401  (the real SMTP server fixture)

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def _ten_in_paris() -> dt.datetime:
    return timezone.localtime(timezone.now(), PARIS).replace(hour=10, minute=0, second=0, microsecond=0)


@pytest.fixture
def waiting(org):
    u, now = org.users, _ten_in_paris()

    def conv(key, *, assignee=None, due=None, name="Client"):
        return Conversation.objects.create(account=org.fr_account, contact=Contact.objects.create(name=name),
                                           thread_key=key, team=org.fr_team, assignee=assignee, sla_due_at=due)

    mine_late = conv("a", assignee=u.fr_agent, due=now - dt.timedelta(hours=1), name="Marie Curie")
    mine_later = conv("b", assignee=u.fr_agent, due=now + dt.timedelta(days=1))
    team_soon = conv("c", due=now + dt.timedelta(minutes=30))
    conv("d", due=now + dt.timedelta(days=2))  # unassigned, not urgent: waits on nobody in particular
    Notification.objects.create(recipient=u.fr_agent, event_type="conversation.assigned", event_id="e1",
                                data={"conversation": mine_late.pk, "handle": "@brand_fr"})
    Notification.objects.create(recipient=u.fr_agent, event_type="conversation.assigned", event_id="e2",
                                data={"conversation": mine_later.pk, "handle": "@brand_fr"},
                                read_at=timezone.now())
    UserProfile.objects.update_or_create(user=u.fr_agent, defaults={"language": "fr", "time_zone": "Europe/Paris"})
    return now, mine_late, mine_later, team_soon


def _for(received, email):
    return [m for m in received if m["To"] == email]


def _body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_digest_of_what_waits_in_the_person_language_once_a_day(org, waiting, smtp):
    u = org.users
    now, mine_late, mine_later, team_soon = waiting
    assert digest.send_daily_digests(now) == 2  # fr_agent and fr_agent2; nothing waits on anyone else
    (fr_mail,) = _for(smtp, u.fr_agent.email)
    body = _body(fr_mail)
    assert "Bonjour" in body and "attendent" in fr_mail["Subject"] and "4" in fr_mail["Subject"]
    # the missed SLA (hers) and the team's unassigned one due in 30 minutes; both of hers; one unread notification
    assert f"#{mine_late.pk} @brand_fr — Marie Curie" in body and f"#{team_soon.pk}" in body
    assert f"#{mine_later.pk}" in body
    assert "1 notification non lue" in body
    assert f"/inbox/conversations/{mine_late.pk}/" in body and reverse("notifications:settings") in body
    # Paris time: the breach was at 09:00 local
    assert "09:00" in body or "9:00" in body
    (team_mail,) = _for(smtp, u.fr_agent2.email)
    team_body = _body(team_mail)
    assert "Hello" in team_body and f"#{team_soon.pk}" in team_body and f"#{mine_late.pk}" not in team_body
    # nothing waits: claimed, no e-mail; the external moderator never sees the French conversations
    assert _for(smtp, u.es_agent.email) == [] and _for(smtp, u.moderator.email) == []
    assert DigestSent.objects.filter(user=u.es_agent, items=0).exists()
    assert not DigestSent.objects.filter(user=u.nobody).exists()  # no role anywhere
    # once a day: a second run (or a second worker) sends nothing
    assert digest.send_daily_digests(now + dt.timedelta(hours=1)) == 0
    assert len(_for(smtp, u.fr_agent.email)) == 1
    # the next morning it comes again
    assert digest.send_daily_digests(now + dt.timedelta(days=1)) >= 1
    assert len(_for(smtp, u.fr_agent.email)) == 2


def test_not_before_eight_in_the_person_zone(org, waiting, smtp):
    now = waiting[0].replace(hour=7)
    digest.send_daily_digests(now)
    assert not DigestSent.objects.filter(user=org.users.fr_agent).exists() and _for(smtp, org.users.fr_agent.email) == []


def test_opt_out_on_the_settings_page_is_audited_and_honoured(org, waiting, smtp, client_for):
    c = client_for(org.users.fr_agent)
    page = c.get(reverse("notifications:settings"))
    assert page.status_code == 200 and b'name="email_digest" checked' in page.content
    assert c.post(reverse("notifications:settings"), {}).status_code == 302
    assert b'name="email_digest" checked' not in c.get(reverse("notifications:settings")).content
    log = AuditLog.objects.get(action="notifications.email_digest")
    assert log.changes == {"email_digest": [True, False]} and log.actor_id == org.users.fr_agent.pk
    digest.send_daily_digests(waiting[0])
    assert _for(smtp, org.users.fr_agent.email) == [] and _for(smtp, org.users.fr_agent2.email)
    c.post(reverse("notifications:settings"), {"email_digest": "on"})
    assert AuditLog.objects.filter(action="notifications.email_digest").count() == 2
    assert c.get(reverse("notifications:settings")).status_code == 200
    assert client_for(org.users.nobody).get(reverse("notifications:settings")).status_code == 200  # own settings only


def test_a_failed_send_is_retried(org, waiting, monkeypatch, mailoutbox):
    def refuse(*args, **kwargs):
        raise OSError("SMTP down")

    monkeypatch.setattr(core_digests, "send_mail", refuse)
    assert digest.send_daily_digests(waiting[0]) == 0
    assert not DigestSent.objects.filter(user=org.users.fr_agent).exists()
    monkeypatch.undo()
    assert digest.send_daily_digests(waiting[0]) == 2 and len(mailoutbox) == 2


def test_the_periodic_job_is_registered():
    from dandelion.core.jobs import autodiscover, periodic_jobs

    autodiscover()
    assert "notifications.digest" in periodic_jobs()


def test_old_claims_go_with_retention_todays_stays(org, waiting, smtp):
    from dandelion.core.retention import purge

    digest.send_daily_digests(waiting[0])
    claims = DigestSent.objects.count()
    assert claims >= 2
    old = DigestSent.objects.filter(user=org.users.es_agent)
    old.update(sent_at=timezone.now() - dt.timedelta(days=31))
    [outcome] = purge(only=["notifications.digest_claims"])
    assert outcome.deleted == 1 and DigestSent.objects.count() == claims - 1
