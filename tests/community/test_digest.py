"""The weekly digest, through a real SMTP server (aiosmtpd): per member, their scope, language and time zone; once a
week (claim rows); opt-out in the directory entry."""

import datetime as dt
import socket
import zoneinfo
from email import message_from_bytes, policy

import pytest
from django.urls import reverse
from django.utils import timezone

from dandelion.community import digest, services
from dandelion.community.models import DigestSent
from dandelion.core import digests as core_digests
from dandelion.core.actors import SYSTEM
from dandelion.core.models import UserProfile

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(settings):
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received = []

    class Collect(Message):
        def handle_message(self, message):
            received.append(message)

        def prepare_message(self, session, envelope):
            return message_from_bytes(envelope.content, policy=policy.default)

    port = _free_port()
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "Dandelion <noreply@example.org>"
    yield received
    controller.stop()


def _due_now():
    now = timezone.now()
    local = timezone.localtime(now, PARIS)
    return now + dt.timedelta(hours=9) if local.weekday() == 0 and local.hour < 9 else now


@pytest.fixture
def news(org):
    u = org.users
    fr = services.create_article(
        actor=SYSTEM, unit=org.france, title="Répondre aux avis", body="Remercier.", language="fr"
    )
    es = services.create_article(actor=SYSTEM, unit=org.spain, title="Spanish giveaway rules", body="Notary.")
    q = services.ask_question(actor=u.fr_cm, title="Trolls on live videos?", body="Spam.")
    a = services.answer_question(q, actor=u.es_agent, body="Pin a moderation comment.")
    services.accept_answer(a, actor=u.fr_cm)
    start = timezone.now() + dt.timedelta(days=10)
    g = services.create_gathering(
        actor=SYSTEM,
        unit=org.hub,
        title="Community day",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=3),
        place="Paris",
    )
    UserProfile.objects.update_or_create(
        user=u.fr_cm, defaults={"language": "fr", "time_zone": "Europe/Paris"}
    )
    services.update_profile(actor=u.fr_agent2, user=u.fr_agent2, unit=org.france, weekly_digest=False)
    return fr, es, q, g


def _for(received, email):
    return [m for m in received if m["To"] == email]


def test_digest_per_member_scope_language_once_a_week(org, news, smtp):
    u = org.users
    now = _due_now()
    sent = digest.send_weekly_digests(now)
    assert sent >= 2
    fr_mail = _for(smtp, u.fr_cm.email)
    assert len(fr_mail) == 1
    body = fr_mail[0].get_body(preferencelist=("plain",)).get_content()
    assert "Bonjour" in body and "Répondre aux avis" in body and "Spanish giveaway" not in body
    assert "Trolls on live videos?" in body and "Community day" in body
    assert "cette semaine" in fr_mail[0]["Subject"]
    es_body = _for(smtp, u.es_agent.email)[0].get_body(preferencelist=("plain",)).get_content()
    assert "Spanish giveaway rules" in es_body and "Répondre aux avis" not in es_body and "Hello" in es_body
    # opted out; an external moderator sees nothing of the community; a person without a role gets nothing
    assert _for(smtp, u.fr_agent2.email) == [] and _for(smtp, u.moderator.email) == []
    assert _for(smtp, u.nobody.email) == []
    assert DigestSent.objects.filter(user=u.moderator, items=0).exists()
    assert not DigestSent.objects.filter(user=u.fr_agent2).exists()
    # once a week: a second run (or a second worker) sends nothing
    assert digest.send_weekly_digests(now + dt.timedelta(hours=1)) == 0
    assert len(_for(smtp, u.fr_cm.email)) == 1


def test_not_before_monday_morning_in_the_member_zone(org, news, smtp):
    now = timezone.now()
    local = timezone.localtime(now, PARIS)
    monday_7 = (local + dt.timedelta(days=(7 - local.weekday()) % 7 or 7)).replace(hour=7, minute=0)
    digest.send_weekly_digests(monday_7.astimezone(dt.UTC))
    assert not DigestSent.objects.filter(user=org.users.fr_cm).exists()


def test_a_failed_send_is_retried(org, news, monkeypatch, mailoutbox):
    def boom(**kw):
        raise OSError("smtp down")

    monkeypatch.setattr(core_digests, "send_mail", boom)
    now = _due_now()
    assert digest.send_weekly_digests(now) == 0
    assert not DigestSent.objects.filter(user=org.users.fr_cm).exists()
    monkeypatch.undo()
    assert digest.send_weekly_digests(now) >= 1
    assert DigestSent.objects.filter(user=org.users.fr_cm).exists()


def test_opt_out_in_the_profile_page(org, client_for):
    u = org.users
    c = client_for(u.fr_cm)
    page = c.get(reverse("community:member-edit"))
    assert b"weekly_digest" in page.content
    c.post(reverse("community:member-edit"), {"unit": org.france.pk, "visibility": "unit"})
    assert u.fr_cm.community_profile.weekly_digest is False


def test_the_periodic_job_is_registered(org):
    from dandelion.community import jobs  # noqa: F401
    from dandelion.core.jobs import periodic_jobs

    assert periodic_jobs()["community.digest"].every == 3600


class _Story:
    title = "How Senegal doubled its reply rate"

    def get_absolute_url(self):
        return "/analytics/stories/1/"


def _stories(user, since):
    return [_Story()]


def test_featured_stories_come_from_an_app_that_offers_them(org, news, mailoutbox, monkeypatch):
    from django.apps import apps

    monkeypatch.setattr(
        apps.get_app_config("community"),
        "community_digest_stories",
        "tests.community.test_digest._stories",
        raising=False,
    )
    digest.send_weekly_digests(_due_now())
    body = next(m.body for m in mailoutbox if m.to == [org.users.es_agent.email])
    assert "How Senegal doubled its reply rate" in body and "/analytics/stories/1/" in body


def test_the_digest_lists_the_success_stories_the_hub_featured_this_week(org, news, mailoutbox):
    """Analytics offers its featured stories through ``community_digest_stories``: a member reads those the hub
    featured this week (shared with every spoke), not a story still waiting for the hub."""
    from dandelion.analytics import services as analytics

    today = timezone.localdate()
    windows = {"before_start": today - dt.timedelta(days=14), "before_end": today - dt.timedelta(days=8),
               "after_start": today - dt.timedelta(days=7), "after_end": today - dt.timedelta(days=1)}
    hub = org.users.hub_admin
    featured = analytics.create_story(actor=hub, unit=org.france, title="Evenings answered in an hour",
                                      body="We staffed the evenings.", **windows)
    analytics.submit_story(featured, actor=hub)
    analytics.feature_story(featured, actor=hub)
    waiting = analytics.create_story(actor=hub, unit=org.france, title="Still a draft story", body="…", **windows)
    analytics.submit_story(waiting, actor=hub)
    digest.send_weekly_digests(_due_now())
    body = next(m.body for m in mailoutbox if m.to == [org.users.es_admin.email])  # a reader of stories
    assert "Evenings answered in an hour" in body and f"/analytics/stories/{featured.pk}/" in body
    assert "Still a draft story" not in body
    # a helper agent reads no stories (no analytics.view_successstory): the section is absent from their digest
    assert "Evenings answered" not in next(m.body for m in mailoutbox if m.to == [org.users.es_agent.email])
