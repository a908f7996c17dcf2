"""The crisis room's services: one incident per spike (through the real detector and the event bus), alerts in the
bell, by e-mail and to webhooks, the room's actions (owner, responders, log, status, pause, statement), scoping and
the post-mortem's figures."""

from __future__ import annotations

import datetime as dt
import warnings

import pytest
from django.core import mail

from dandelion.core.actors import SYSTEM
from dandelion.core.events import subscribe, unsubscribe
from dandelion.core.exceptions import AppendOnlyError, PermissionDeniedError
from dandelion.core.models import AuditEvent
from dandelion.crisis import postmortem, services
from dandelion.crisis.choices import IncidentStatus
from dandelion.crisis.exceptions import CrisisError, IncidentClosed
from dandelion.crisis.models import Incident, LogEntry
from dandelion.listening import events as listening_events
from dandelion.listening import services as listening
from dandelion.listening.models import Alert
from dandelion.notifications.models import Notification
from tests.crisis.conftest import T0, mention

pytestmark = pytest.mark.django_db


def test_an_alert_opens_one_incident_on_its_query_unit(world):
    incident = world.incident
    assert incident.unit == world.france and incident.query == world.query and incident.source == "alert"
    assert incident.severity == 5 and incident.status == IncidentStatus.OPEN
    assert incident.detected_at == T0
    assert incident.spike_started_at == T0 - dt.timedelta(minutes=12)  # the first mention of the 15-min window
    assert postmortem.figures(incident)["time_to_detect_minutes"] == 12.0
    # the same spike again (a redelivered event, a second worker): the same incident, nothing new
    event = listening_events.alert_event(listening_events.ALERT_OPENED.name, world.alert)
    services.on_events([event])
    services.on_events([event])
    again, created = services.open_incident_for_alert(world.alert, actor=SYSTEM)
    assert again == incident and not created
    assert Incident.objects.filter(alert=world.alert).count() == 1
    assert incident.log.count() == 1 and "listening spike" in incident.log.get().text


def test_the_real_detector_opens_a_room_and_alerts_the_right_people(world, django_capture_on_commit_callbacks):
    """Mentions → the listening minute tick → listening.alert_opened → the crisis subscriber opens the room →
    crisis.incident_opened → the bell and the e-mails of the people over France (not Spain's, not the agents)."""
    from dandelion.webhooks import services as webhooks
    from dandelion.webhooks.models import WebhookDelivery

    hook, _secret = webhooks.create_subscription(actor=world.users.hub_admin, unit=world.france, name="Slack",
                                                 url="https://hooks.slack.example.com/services/T0/B0/x",
                                                 event_types=["crisis.incident_opened"])
    query = listening.create_query(actor=SYSTEM, unit=world.france, name="Globex FR", text="globex")
    now = T0 + dt.timedelta(hours=1)
    listening.evaluate_queries(now=now - dt.timedelta(minutes=1))
    listening.ingest_mentions([mention(world.hub, f"g{i}", "globex outage", at=now - dt.timedelta(seconds=30))
                               for i in range(40)])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        listening.evaluate_queries(now=now)
    alert = Alert.objects.get(query=query)
    incident = Incident.objects.get(alert=alert)
    assert incident.unit == world.france and incident.severity == alert.severity
    told = set(Notification.objects.filter(event_type="crisis.incident_opened", subject_id=str(incident.pk))
               .values_list("recipient__username", flat=True))
    assert told == {"hubadmin", "euadmin", "fradmin", "pr"}
    note = Notification.objects.filter(event_type="crisis.incident_opened", subject_id=str(incident.pk)).first()
    assert note.title.startswith("Crisis room opened: Spike on 'Globex FR'") and note.url == incident.get_absolute_url()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"{u}@example.org" for u in told)
    assert "Crisis room opened" in mail.outbox[0].subject and incident.get_absolute_url() in mail.outbox[0].body
    delivery = WebhookDelivery.objects.get(subscription=hook, event_type="crisis.incident_opened")
    text = delivery.payload["data"]["text"]  # the field Slack and Teams incoming webhooks display
    assert text.startswith("Crisis room opened: Spike on 'Globex FR' (France), severity") and "/crisis/" in text


def test_a_growing_spike_escalates_its_incident_and_tells_again(world, django_capture_on_commit_callbacks):
    received: list = []
    subscribe("test-crisis", received.extend)
    try:
        world.alert.severity, world.alert.peak_count = 8, 90
        world.alert.save()
        with django_capture_on_commit_callbacks(execute=True):
            services.on_events([listening_events.alert_event(listening_events.ALERT_UPDATED.name, world.alert)])
    finally:
        unsubscribe("test-crisis")
    incident = Incident.objects.get(pk=world.incident.pk)
    assert incident.severity == 8
    escalated = [e for e in received if e.name == "crisis.incident_escalated"]
    assert len(escalated) == 1 and "severity 8/10" in escalated[0].data["text"]
    assert Notification.objects.filter(event_type="crisis.incident_escalated", recipient=world.users.pr).exists()
    # a smaller update changes nothing; a closed incident is not escalated
    world.alert.severity = 6
    world.alert.save()
    assert services.escalate_for_alert(world.alert).severity == 8


def test_who_may_open_and_act(world):
    for user in (world.users.fr_agent, world.users.moderator, world.users.analyst, world.users.fr_cm,
                 world.users.es_admin):
        with pytest.raises(PermissionDeniedError):
            services.open_incident(actor=user, unit=world.france, title="Boycott", severity=4)
        with pytest.raises(PermissionDeniedError):
            services.add_log_entry(world.incident, actor=user, text="x")
    for user in (world.users.pr, world.users.hub_admin, world.users.fr_admin, world.users.europe_admin):
        incident = services.open_incident(actor=user, unit=world.france, title="Boycott", severity=4)
        assert incident.opened_by == user and incident.unit == world.france
    with pytest.raises(CrisisError):
        services.open_incident(actor=world.users.pr, unit=world.france, title=" ", severity=4)
    with pytest.raises(CrisisError):
        services.open_incident(actor=world.users.pr, unit=world.france, title="x", severity=11)
    with pytest.raises(CrisisError):  # an owner who may not act on the unit
        services.assign_owner(world.incident, actor=world.users.pr, owner=world.users.es_admin)


def test_reads_are_scoped_and_fail_closed(world):
    def seen(user):
        return set(Incident.objects.restrict(user, "view").values_list("pk", flat=True))

    both = {world.incident.pk, world.es_incident.pk}
    assert seen(world.users.pr) == both and seen(world.users.hub_admin) == both
    assert seen(world.users.fr_admin) == {world.incident.pk} and seen(world.users.es_admin) == {world.es_incident.pk}
    for user in (world.users.fr_agent, world.users.moderator, world.users.nobody):
        assert seen(user) == set()
        assert not LogEntry.objects.restrict(user, "view").exists()
    assert not Incident.objects.restrict(None, "view").exists()


def test_the_room_owner_responders_log_status_statement(world):
    pr, fr_admin = world.users.pr, world.users.fr_admin
    incident = world.incident
    assert incident.first_response_at is None
    services.assign_owner(incident, actor=fr_admin, owner=pr)
    incident.refresh_from_db()
    assert incident.owner == pr and incident.first_response_at is not None  # a person acted: the first response
    first = incident.first_response_at
    services.join_incident(incident, actor=fr_admin, role="spoke_lead")
    services.join_incident(incident, actor=fr_admin, role="spoke_lead")  # twice: nothing new
    assert {(r.user.username, r.role) for r in incident.responders.all()} == {("pr", "owner"),
                                                                              ("fradmin", "spoke_lead")}
    services.add_log_entry(incident, actor=pr, kind="decision", text="No comment on social until 11:00.")
    services.set_status(incident, actor=pr, status="monitoring")
    with pytest.raises(CrisisError):
        services.set_status(incident, actor=pr, status="closed")  # closing needs the post-mortem
    services.save_holding_statement(incident, actor=pr, text="We are looking into it.")
    services.escalate_incident(incident, actor=pr, severity=7, reason="TV coverage")
    incident.refresh_from_db()
    assert incident.status == "open" and incident.severity == 7  # grew again: back to open
    assert incident.first_response_at == first
    texts = list(incident.log.values_list("text", flat=True))
    assert any("PR owner" in t for t in texts) and any("monitoring" in t.lower() for t in texts)
    assert any("Holding statement drafted" in t for t in texts)
    # every line of the log is an audit row too
    assert AuditEvent.objects.filter(action__startswith="crisis.incident").count() >= incident.log.count()


def test_the_log_is_append_only(world):
    entry = services.add_log_entry(world.incident, actor=world.users.pr, text="Called legal.", kind="action")
    entry.text = "rewritten"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    assert LogEntry.objects.get(pk=entry.pk).text == "Called legal."
    with pytest.raises(CrisisError):
        services.add_log_entry(world.incident, actor=world.users.pr, text="x", kind="system")


def test_pause_publishing_calls_the_publishing_service(world):
    from dandelion.publishing.models import CrisisPause

    with pytest.raises(PermissionDeniedError):
        services.pause_publishing(world.incident, actor=world.users.fr_cm)
    services.pause_publishing(world.incident, actor=world.users.pr, reason="Derailment")
    pause = CrisisPause.objects.get(unit=world.france, ended_at__isnull=True)
    incident = Incident.objects.get(pk=world.incident.pk)
    assert incident.pause == pause and pause.reason == "Derailment"
    assert AuditEvent.objects.filter(action="publishing.pause.start").exists()  # publishing's own audit row
    assert any("Publishing paused" in t for t in incident.log.values_list("text", flat=True))
    with pytest.raises(CrisisError):
        services.pause_publishing(incident, actor=world.users.pr)


def test_close_writes_the_postmortem_from_real_timestamps(world, django_capture_on_commit_callbacks):
    pr = world.users.pr
    incident = world.incident
    services.add_log_entry(incident, actor=pr, text="Statement sent to the spokes.", kind="action")
    with django_capture_on_commit_callbacks(execute=True):
        services.close_incident(incident, actor=pr, summary="A false rumour of an outage, denied within the hour.")
    incident = Incident.objects.get(pk=incident.pk)
    assert incident.status == "closed" and incident.closed_at is not None
    f = postmortem.figures(incident)
    assert f["time_to_detect_minutes"] == 12.0
    expected_respond = round((incident.first_response_at - incident.opened_at).total_seconds() / 60, 1)
    assert f["time_to_respond_minutes"] == expected_respond
    assert f["time_to_close_minutes"] == round((incident.closed_at - incident.opened_at).total_seconds() / 60, 1)
    md = incident.postmortem
    assert md.startswith("# Post-mortem: Spike on 'Brand FR'")
    assert "A false rumour of an outage" in md and "| time to detect (first mention of the spike → alert) | 12 min |" in md
    assert "Statement sent to the spokes." in md and "Incident closed." in md
    with pytest.raises(IncidentClosed):
        services.add_log_entry(incident, actor=pr, text="late")
    with pytest.raises(IncidentClosed):
        services.close_incident(incident, actor=pr, summary="again")


def test_incident_emails_through_a_real_smtp_server(world, settings, django_capture_on_commit_callbacks):
    """The opening's e-mails leave through Django's SMTP backend (authenticated) to a real aiosmtpd server."""
    from tests.connectors.mailserver import SmtpSink

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS", category=UserWarning)
        sink = SmtpSink(username="dandelion@example.test", password="smtp-secret").start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = "dandelion@example.test", "smtp-secret"
        with django_capture_on_commit_callbacks(execute=True):
            incident = services.open_incident(actor=world.users.fr_admin, unit=world.france, title="Boycott call",
                                              severity=6)
        got = {r for m in sink.received for r in m.rcpt_tos}
        assert got == {"hubadmin@example.org", "euadmin@example.org", "fradmin@example.org", "pr@example.org"}
        message = sink.received[0].message
        assert message["Subject"] == "[Dandelion] Crisis room opened: Boycott call (severity 6/10)"
        assert incident.get_absolute_url() in message.get_body().get_content()
    finally:
        sink.stop()
