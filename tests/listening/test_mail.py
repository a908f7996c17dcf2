"""Alerts by e-mail to a query's subscribers: through a real SMTP server (aiosmtpd), in each person's language, only
to people who may still see the query, updates not repeated, and the anti-spam cap; following a query (service,
API, page)."""

from __future__ import annotations

import datetime as dt
import warnings

import pytest

from dandelion.core.actors import SYSTEM
from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.models import AuditEvent, UserProfile
from dandelion.listening import mail, services
from dandelion.listening.exceptions import ListeningError
from dandelion.listening.models import Alert, AlertMail

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def smtp(settings):
    from tests.connectors.mailserver import SmtpSink

    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="Requiring AUTH while not requiring TLS", category=UserWarning
        )
        sink = SmtpSink(username="dandelion@example.test", password="smtp-secret").start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = "dandelion@example.test", "smtp-secret"
    yield sink
    sink.stop()


@pytest.fixture
def world(org):
    org.query = services.create_query(actor=SYSTEM, unit=org.france, name="Brand FR", text="acme OR #acme")
    UserProfile.objects.update_or_create(user=org.users.fr_admin, defaults={"language": "fr"})
    UserProfile.objects.update_or_create(user=org.users.pr, defaults={"language": "en"})
    services.set_subscription(org.query, actor=org.users.fr_admin)
    services.set_subscription(org.query, actor=org.users.pr)
    return org


def alert(world, severity=5, at=NOW):
    return Alert.objects.create(
        query=world.query,
        started_at=at,
        last_seen_at=at,
        severity=severity,
        peak_count=48,
        expected=2.5,
        window_minutes=15,
    )


def test_an_alert_is_emailed_to_each_subscriber_in_their_language(world, smtp):
    a = alert(world)
    assert mail.send_alert_mail(a, kind="opened", now=NOW) == 2
    by_rcpt = {m.rcpt_tos[0]: m.message for m in smtp.received}
    assert set(by_rcpt) == {"fradmin@example.org", "pr@example.org"}
    en, fr = by_rcpt["pr@example.org"], by_rcpt["fradmin@example.org"]
    assert en["Subject"] == "[Dandelion] Listening spike on 'Brand FR' (severity 5/10)"
    assert "48 mentions in 15 minutes (2.5 expected)." in en.get_body().get_content()
    assert a.get_absolute_url() in en.get_body().get_content()
    assert fr["Subject"].strip() == "[Dandelion] Pic d'écoute sur « Brand FR » (gravité 5/10)"
    assert "48 mentions en 15 minutes (2.5 attendues)." in fr.get_body().get_content()
    assert AlertMail.objects.get(alert=a).recipients == 2


def test_who_lost_access_or_has_no_address_is_not_emailed(world, smtp):
    from dandelion.orgs.models import Membership

    Membership.objects.filter(user=world.users.fr_admin).delete()
    world.users.pr.email = ""
    world.users.pr.save()
    assert mail.send_alert_mail(alert(world), kind="opened", now=NOW) == 0
    assert smtp.received == []


def test_a_continuing_spike_is_updated_not_repeated_and_the_cap_holds(world, smtp):
    a = alert(world, severity=4)
    assert mail.send_alert_mail(a, kind="opened", now=NOW) == 2
    a.severity = 5
    assert (
        mail.send_alert_mail(a, kind="updated", now=NOW + dt.timedelta(minutes=40)) == 0
    )  # grew by one only
    a.severity = 7
    assert mail.send_alert_mail(a, kind="updated", now=NOW + dt.timedelta(minutes=10)) == 0  # too soon
    assert mail.send_alert_mail(a, kind="updated", now=NOW + dt.timedelta(minutes=31)) == 2
    assert mail.send_alert_mail(alert(world), kind="opened", now=NOW + dt.timedelta(minutes=35)) == 2
    # three e-mails for this query within the hour: a fourth alert is not e-mailed
    assert mail.send_alert_mail(alert(world), kind="opened", now=NOW + dt.timedelta(minutes=50)) == 0
    assert AlertMail.objects.count() == 3 and len(smtp.received) == 6
    # an hour after the first, there is room again
    assert mail.send_alert_mail(alert(world), kind="opened", now=NOW + dt.timedelta(minutes=61)) == 2


def test_the_detector_tick_emails_through_the_event_subscriber(
    world, smtp, django_capture_on_commit_callbacks
):
    from dandelion.listening import detector as det

    decision = det.Decision(
        action="open", minute=0, severity=6, count=30, expected=1.0, window=15, p_value=1e-9
    )
    with django_capture_on_commit_callbacks(execute=True):
        services._apply_decision(world.query, decision, NOW)
    ours = [m for m in smtp.received if "spike" in m.message["Subject"] or "Pic" in m.message["Subject"]]
    assert {m.rcpt_tos[0] for m in ours} == {"fradmin@example.org", "pr@example.org"}


def test_following_a_query(world, api_for, client_for):
    q = world.query
    with pytest.raises(PermissionDeniedError):
        services.set_subscription(q, actor=world.users.es_admin)  # cannot see a French query
    with pytest.raises(PermissionDeniedError):
        services.set_subscription(q, actor=world.users.analyst, user=world.users.fr_cm)  # may not change it
    with pytest.raises(ListeningError, match="cannot see"):
        services.set_subscription(q, actor=world.users.fr_admin, user=world.users.es_admin)
    assert services.set_subscription(q, actor=world.users.fr_admin, user=world.users.fr_cm) is True
    assert AuditEvent.objects.filter(action="listening.query.subscribe").count() == 3
    api = api_for(world.users.analyst)
    assert api.post(f"/api/v1/listening-queries/{q.pk}/subscription/").json() == {"subscribed": True}
    assert api.delete(f"/api/v1/listening-queries/{q.pk}/subscription/").json() == {"subscribed": False}
    assert (
        api_for(world.users.es_admin).post(f"/api/v1/listening-queries/{q.pk}/subscription/").status_code
        == 404
    )
    page = client_for(world.users.fr_cm)
    assert page.post(f"/listening/{q.pk}/subscription/", {"subscribed": "0"}).status_code == 302
    assert not q.subscribers.filter(pk=world.users.fr_cm.pk).exists()
    assert 'data-subscribed="0"' in page.get(f"/listening/{q.pk}/").content.decode()
