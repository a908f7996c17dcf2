"""Playbooks as data: choosing the one that fits, its steps validated, copied into a room's checklist when the room
opens (by hand or from a spike), ticked off by PR and the spokes (audited, logged, permission-checked), the
progress; stakeholder updates e-mailed; the spike's messages in the alert e-mails; the post-mortem's HTML export."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.core import mail

from dandelion.core.actors import SYSTEM
from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.models import AuditEvent
from dandelion.crisis import playbooks, postmortem, services
from dandelion.crisis.exceptions import CrisisError, IncidentClosed
from dandelion.crisis.models import ChecklistItem, StakeholderUpdate
from dandelion.listening import services as listening
from dandelion.listening.models import Alert
from tests.crisis.conftest import T0, mention

pytestmark = pytest.mark.django_db

STEPS = [{"title": "Draft the holding statement", "owner_role": "owner", "due_minutes": 15},
         {"title": "Legal review", "owner_role": "legal", "due_minutes": 60},
         {"title": "Brief the spokes' teams", "owner_role": "spoke_lead", "due_minutes": 0}]


def _pb(pk, path, kind="any", min_severity=1, active=True):
    return SimpleNamespace(pk=pk, unit=SimpleNamespace(path=path), kind=kind, min_severity=min_severity,
                           is_active=active)


def test_choose_prefers_the_kind_then_the_nearest_unit_then_the_highest_threshold():
    hub_any, hub_outage = _pb(1, "/hub/"), _pb(2, "/hub/", "outage")
    fr_any, fr_outage_8 = _pb(3, "/hub/eu/fr/"), _pb(4, "/hub/eu/fr/", "outage", 8)
    es_outage, off = _pb(5, "/hub/eu/es/", "outage"), _pb(6, "/hub/eu/fr/", "outage", active=False)
    every = [hub_any, hub_outage, fr_any, fr_outage_8, es_outage, off]
    assert playbooks.choose(every, unit_path="/hub/eu/fr/", kind="outage", severity=9) is fr_outage_8
    assert playbooks.choose(every, unit_path="/hub/eu/fr/", kind="outage", severity=5) is hub_outage  # kind first
    assert playbooks.choose(every, unit_path="/hub/eu/fr/", kind="data", severity=5) is fr_any  # nearest unit
    assert playbooks.choose(every, unit_path="/hub/eu/es/", kind="outage", severity=2) is es_outage
    assert playbooks.choose([es_outage, off], unit_path="/hub/eu/fr/", kind="outage", severity=9) is None


def test_steps_are_validated_and_read_from_text_with_the_line_at_fault():
    assert playbooks.steps_from_text("owner | 15 | Draft\n\nlegal|60|Review") == [
        {"title": "Draft", "owner_role": "owner", "due_minutes": 15},
        {"title": "Review", "owner_role": "legal", "due_minutes": 60}]
    assert playbooks.steps_from_text(playbooks.steps_to_text(STEPS)) == STEPS
    for text, says in [("owner | 15", "Line 1"), ("owner | 15 | ok\nceo | 5 | x", "unknown role 'ceo'"),
                       ("owner | soon | x", "'soon' is not a number"), ("owner | -5 | x", "due time"),
                       ("owner | 5 | ", "needs a title")]:
        with pytest.raises(CrisisError, match=says):
            playbooks.steps_from_text(text)
    with pytest.raises(CrisisError):
        playbooks.clean_steps([{"title": "x", "due_minutes": True}])
    with pytest.raises(CrisisError):
        playbooks.clean_steps("not a list")


@pytest.fixture
def books(world):
    u = world.users
    world.hub_book = services.create_playbook(actor=u.pr, unit=world.hub, name="Any crisis", steps=STEPS[:1],
                                              holding_statement="We are aware and looking into it.")
    world.outage_book = services.create_playbook(actor=u.hub_admin, unit=world.hub, name="Outage", kind="outage",
                                                 steps=STEPS, min_severity=3)
    return world


def test_who_defines_playbooks(world):
    u = world.users
    with pytest.raises(PermissionDeniedError):
        services.create_playbook(actor=u.fr_cm, unit=world.france, name="x", steps=STEPS)
    with pytest.raises(PermissionDeniedError):
        services.create_playbook(actor=u.es_admin, unit=world.france, name="x", steps=STEPS)
    book = services.create_playbook(actor=u.fr_admin, unit=world.france, name="FR", steps=STEPS)  # its subtree
    assert AuditEvent.objects.filter(action="crisis.playbook.create", object_id=str(book.pk)).count() == 1
    with pytest.raises(CrisisError):
        services.create_playbook(actor=u.pr, unit=world.hub, name="bad", steps=STEPS, kind="weather")


def test_opening_an_incident_copies_the_fitting_playbook_into_its_checklist(books):
    u = books.users
    incident = services.open_incident(actor=u.fr_admin, unit=books.france, title="Outage", severity=5, kind="outage")
    items = list(incident.checklist.all())
    assert incident.playbook == books.outage_book
    assert [(i.position, i.title, i.owner_role) for i in items] == [
        (1, "Draft the holding statement", "owner"), (2, "Legal review", "legal"),
        (3, "Brief the spokes' teams", "spoke_lead")]
    assert items[0].due_at == incident.opened_at + dt.timedelta(minutes=15) and items[2].due_at is None
    assert incident.holding_statement == ""  # the outage playbook has none
    assert "Playbook 'Outage': 3 step(s)" in incident.log.order_by("pk").last().text
    # below the outage playbook's threshold, the hub's generic one; its statement starts the draft
    small = services.open_incident(actor=u.fr_admin, unit=books.france, title="Small", severity=2, kind="outage")
    assert small.playbook == books.hub_book and small.checklist.count() == 1
    assert small.holding_statement == "We are aware and looking into it."
    # a playbook changed later leaves running rooms as they are
    services.update_playbook(books.outage_book, actor=u.pr, name="Outage v2", kind="outage", steps=STEPS[:1],
                             min_severity=3)
    assert incident.checklist.count() == 3


def test_a_spike_room_gets_the_hub_playbook(books):
    alert = Alert.objects.create(query=books.query, started_at=T0 + dt.timedelta(hours=1),
                                 last_seen_at=T0 + dt.timedelta(hours=1), severity=6, peak_count=30, expected=2.0,
                                 window_minutes=15)
    incident, created = services.open_incident_for_alert(alert, actor=SYSTEM)
    assert created and incident.playbook == books.hub_book and incident.checklist.count() == 1


def test_ticking_steps_is_permission_checked_logged_and_audited(books):
    u = books.users
    incident = services.open_incident(actor=u.pr, unit=books.france, title="Outage", severity=5, kind="outage")
    first, second, _third = incident.checklist.all()
    assert incident.first_response_at is not None  # the PR manager opened it: that was a person's act
    done = services.tick_item(first, actor=u.fr_cm, done=True)  # a spoke's community manager ticks it
    assert done.done_by == u.fr_cm and done.done_at is not None
    assert services.tick_item(first, actor=u.fr_cm, done=True).done_at == done.done_at  # twice: unchanged
    for outsider in (u.es_admin, u.fr_agent, u.analyst):
        with pytest.raises(PermissionDeniedError):
            services.tick_item(second, actor=outsider)
    with pytest.raises(CrisisError):
        services.tick_item(second, actor=SYSTEM)
    assert services.progress(incident.checklist.all())["done"] == 1
    services.tick_item(first, actor=u.pr, done=False)
    assert ChecklistItem.objects.get(pk=first.pk).done_at is None
    lines = list(incident.log.filter(text__startswith="Step 1").values_list("text", flat=True))
    assert lines == ["Step 1 done: Draft the holding statement", "Step 1 reopened: Draft the holding statement"]
    assert AuditEvent.objects.filter(action="crisis.checklist.tick", object_id=str(incident.pk)).count() == 2
    # a step ticked after its due time says how late
    ChecklistItem.objects.filter(pk=second.pk).update(due_at=incident.opened_at - dt.timedelta(minutes=30))
    services.tick_item(second, actor=u.pr)
    assert "min late)" in incident.log.filter(text__startswith="Step 2 done").get().text
    services.close_incident(incident, actor=u.pr, summary="Over.")
    with pytest.raises(IncidentClosed):
        services.tick_item(first, actor=u.pr)


def test_progress_counts_done_and_overdue():
    now = dt.datetime.now(dt.UTC)
    items = [SimpleNamespace(is_done=True, due_at=now - dt.timedelta(hours=1)),
             SimpleNamespace(is_done=False, due_at=now - dt.timedelta(minutes=1)),
             SimpleNamespace(is_done=False, due_at=now + dt.timedelta(hours=1)),
             SimpleNamespace(is_done=False, due_at=None)]
    assert services.progress(items) == {"done": 1, "total": 4, "percent": 25, "overdue": 1}
    assert services.progress([])["percent"] == 0


def test_apply_a_playbook_to_a_room_that_has_none(books):
    u = books.users
    assert books.incident.playbook is None  # opened before any playbook existed
    with pytest.raises(PermissionDeniedError):
        services.apply_playbook(books.incident, actor=u.es_admin, kind="outage")
    incident = services.apply_playbook(books.incident, actor=u.pr, kind="outage")
    assert incident.kind == "outage" and incident.playbook == books.outage_book and incident.checklist.count() == 3
    with pytest.raises(CrisisError, match="already follows"):
        services.apply_playbook(incident, actor=u.pr, kind="outage")


def test_a_stakeholder_update_is_emailed_once_committed(books, django_capture_on_commit_callbacks):
    u = books.users
    incident = services.open_incident(actor=u.pr, unit=books.france, title="Outage", severity=5, kind="outage",
                                      owner=u.pr)
    services.join_incident(incident, actor=u.fr_admin, role="comms")
    mail.outbox.clear()
    with pytest.raises(CrisisError, match="not an e-mail"):
        services.send_stakeholder_update(incident, actor=u.pr, subject="x", body="y", recipients="ceo@, a@b.example")
    with pytest.raises(PermissionDeniedError):
        services.send_stakeholder_update(incident, actor=u.es_admin, subject="x", body="y", recipients="a@b.example")
    with pytest.raises(CrisisError, match="at least one recipient"):
        services.send_stakeholder_update(incident, actor=u.pr, subject="x", body="y", include_responders=False)
    with django_capture_on_commit_callbacks(execute=True):
        update = services.send_stakeholder_update(
            incident, actor=u.pr, subject="Situation at 10:00", body="Service restored in Lyon.",
            recipients="ceo@acme.example; PR@example.org, ceo@acme.example")
    assert update.recipients == ["ceo@acme.example", "PR@example.org", "fradmin@example.org"]
    assert sorted(m.to[0] for m in mail.outbox) == sorted(update.recipients)
    message = mail.outbox[0]
    assert message.subject.endswith("Crisis update: Situation at 10:00")
    assert "Service restored in Lyon." in message.body and "0 of 3 steps done" in message.body
    assert "e-mailed to 3 recipient(s)" in incident.log.order_by("pk").last().text
    assert StakeholderUpdate.objects.filter(incident=incident).count() == 1


def test_a_stakeholder_update_that_cannot_be_mailed_says_so_in_the_room(books, settings,
                                                                       django_capture_on_commit_callbacks):
    from tests.connectors.mailserver import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    with django_capture_on_commit_callbacks(execute=True):
        services.send_stakeholder_update(books.incident, actor=books.users.pr, subject="Hello", body="Update.",
                                         recipients=["ceo@acme.example"])
    assert "could not be e-mailed" in books.incident.log.order_by("pk").last().text


def test_a_stakeholder_update_through_a_real_smtp_server(books, settings, django_capture_on_commit_callbacks):
    import warnings

    from tests.connectors.mailserver import SmtpSink

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning)
        sink = SmtpSink(username="dandelion@example.test", password="smtp-secret").start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = "dandelion@example.test", "smtp-secret"
        with django_capture_on_commit_callbacks(execute=True):
            services.send_stakeholder_update(books.incident, actor=books.users.pr, subject="Board briefing",
                                             body="Contained.", recipients=["board@acme.example"])
        assert {r for m in sink.received for r in m.rcpt_tos} == {"board@acme.example"}
        assert "Contained." in sink.received[0].message.get_body().get_content()
    finally:
        sink.stop()


def test_the_alert_emails_carry_the_spikes_widest_reaching_messages(world, django_capture_on_commit_callbacks):
    query = listening.create_query(actor=SYSTEM, unit=world.france, name="Globex FR", text="globex")
    now = T0 + dt.timedelta(hours=1)
    listening.evaluate_queries(now=now - dt.timedelta(minutes=1))
    listening.ingest_mentions([mention(world.hub, f"g{i}", f"globex outage number {i}",
                                       at=now - dt.timedelta(seconds=30), author=f"@user{i}", author_reach=i * 10)
                               for i in range(40)])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        listening.evaluate_queries(now=now)
    assert Alert.objects.filter(query=query).exists()
    body = mail.outbox[0].body
    assert "What is being said:" in body and "@user39: globex outage number 39" in body
    assert "@user0:" not in body  # five messages, the widest reach first


def test_the_postmortem_exports_as_a_printable_html_document(books, client_for):
    u = books.users
    incident = services.apply_playbook(books.incident, actor=u.pr, kind="outage")
    services.tick_item(incident.checklist.first(), actor=u.pr)
    services.send_stakeholder_update(incident, actor=u.pr, subject="Board", body="Contained.",
                                     recipients=["board@acme.example"])
    services.close_incident(incident, actor=u.pr, summary="A rumour, denied.")
    incident.refresh_from_db()
    assert "## Playbook: Outage (1/3 done)" in incident.postmortem
    assert "- [x] Draft the holding statement (owner" in incident.postmortem
    assert "## Stakeholder updates" in incident.postmortem
    chart = postmortem.volume_chart(incident)
    assert chart["total"] == 12 and sum(b["count"] for b in chart["bars"]) == 12
    response = client_for(u.fr_cm).get(f"/crisis/{incident.pk}/postmortem/?format=html")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="postmortem-{incident.pk}.html"'
    html = response.content.decode()
    assert f'data-chart-bars="{len(chart["bars"])}"' in html and html.count("<rect ") == len(chart["bars"])
    assert "Draft the holding statement" in html and "A rumour, denied." in html and "Board" in html
    assert client_for(u.es_admin).get(f"/crisis/{incident.pk}/postmortem/?format=html").status_code == 404
    assert "<style>" in html and "<script" not in html
    assert response["Content-Security-Policy"].startswith("default-src 'none'; style-src 'unsafe-inline'")


def test_the_postmortem_downloads_as_a_pdf(books, client_for):
    import io

    from pypdf import PdfReader

    u = books.users
    incident = services.apply_playbook(books.incident, actor=u.pr, kind="outage")
    services.tick_item(incident.checklist.first(), actor=u.pr)
    services.send_stakeholder_update(incident, actor=u.pr, subject="Board briefing", body="Contained.",
                                     recipients=["board@acme.example"])
    services.close_incident(incident, actor=u.pr, summary="A rumour, denied.")
    response = client_for(u.fr_cm).get(f"/crisis/{incident.pk}/postmortem/?format=pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="postmortem-{incident.pk}.pdf"'
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    for expected in ("Post-mortem", "A rumour, denied.", "Response times", "Draft the holding statement",
                     "Board briefing", "Mentions per"):
        assert expected in text, expected
    assert client_for(u.es_admin).get(f"/crisis/{incident.pk}/postmortem/?format=pdf").status_code == 404
