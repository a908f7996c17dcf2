"""/healthz, the console script's commands, and the audit log browser (UI + read-only API)."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from dandelion.cli import main as cli_main
from dandelion.core import jobs
from dandelion.core.audit import record
from dandelion.core.models import AuditEvent, PeriodicJobRun, WorkerHeartbeat

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_worker(client):
    body = client.get("/healthz").json()
    assert body["database"]["status"] == "ok"
    assert body["worker"]["status"] == "down" and body["status"] == "degraded"
    now = timezone.now()
    WorkerHeartbeat.objects.create(name="w1", started_at=now, last_seen_at=now)
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["worker"]["alive"] == 1


def test_healthz_stale_worker_counts_as_down(client):
    old = timezone.now() - dt.timedelta(minutes=5)
    WorkerHeartbeat.objects.create(name="w1", started_at=old, last_seen_at=old)
    assert client.get("/healthz").json()["worker"]["status"] == "down"


def test_healthz_reports_the_inbound_backlog_and_failed_deliveries(org, client):
    from dandelion.inbox.models import InboundDelivery

    assert client.get("/healthz").json()["inbound"] == {"backlog": 0, "failed": 0, "oldest_backlog_seconds": 0.0,
                                                           "answers_waiting_for_their_message": 0}
    old = InboundDelivery.objects.create(account=org.fr_account, body="{}", state="pending")
    InboundDelivery.objects.filter(pk=old.pk).update(received_at=timezone.now() - dt.timedelta(minutes=3))
    InboundDelivery.objects.create(account=org.fr_account, body="{}", state="processing")
    InboundDelivery.objects.create(account=org.fr_account, body="{}", state="failed", error="boom")
    InboundDelivery.objects.create(account=org.fr_account, body="{}", state="done")
    inbound = client.get("/healthz").json()["inbound"]
    assert inbound["backlog"] == 2 and inbound["failed"] == 1
    assert 175 <= inbound["oldest_backlog_seconds"] <= 600


def test_admin_inbox_pages_are_read_only_inspection(org, client):
    from django.contrib.auth import get_user_model

    from dandelion.inbox.models import InboundDelivery

    InboundDelivery.objects.create(account=org.fr_account, body="{}", state="failed", error="unreadable calendar")
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.org", "pw-test-123"))
    page = client.get("/admin/inbox/inbounddelivery/?state__exact=failed")
    assert page.status_code == 200 and "unreadable calendar" in page.content.decode()
    for model in ("conversation", "message", "contact", "authoridentity", "conversationevent", "cannedresponse", "tag"):
        assert client.get(f"/admin/inbox/{model}/").status_code == 200, model
    assert client.get("/admin/inbox/conversation/add/").status_code == 403


def test_create_token_prints_a_working_token(org, client):
    out = io.StringIO()
    call_command("create_token", "fradmin", stdout=out)
    token = out.getvalue().strip()
    assert len(token) == 40
    resp = client.get("/api/v1/audit-events/", HTTP_AUTHORIZATION=f"Token {token}")
    assert resp.status_code == 200
    again = io.StringIO()
    call_command("create_token", "fradmin", stdout=again)
    assert again.getvalue().strip() == token


def test_create_token_unknown_user_is_a_clear_error(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No user named"):
        call_command("create_token", "ghost")


def test_cli_maps_dashes_to_management_commands(org, capsys):
    cli_main(["dandelion", "create-token", "hubadmin"])
    assert len(capsys.readouterr().out.strip()) == 40


def test_audit_ui_is_scoped_and_filterable(org, client_for):
    record(actor=org.users.fr_admin, action="assets.account.update", obj=org.fr_account, summary="renamed FR")
    record(actor=org.users.es_admin, action="assets.account.update", obj=org.es_account, summary="renamed ES")
    page = client_for(org.users.fr_admin).get("/audit/").content.decode()
    assert "renamed FR" in page and "renamed ES" not in page
    page = client_for(org.users.hub_admin).get("/audit/?q=renamed+ES").content.decode()
    assert "renamed ES" in page and "renamed FR" not in page
    assert client_for(org.users.moderator).get("/audit/").content.decode().count("renamed") == 0


def test_audit_detail_outside_scope_is_404(org, client_for):
    ev = record(actor=org.users.es_admin, action="x.y", obj=org.es_account, summary="es")
    assert client_for(org.users.fr_admin).get(f"/audit/{ev.pk}/").status_code == 404
    assert client_for(org.users.es_admin).get(f"/audit/{ev.pk}/").status_code == 200


def test_audit_requires_login(client):
    resp = client.get("/audit/")
    assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]


def test_audit_api_is_read_only_and_scoped(org, api_for):
    ev = record(actor=org.users.fr_admin, action="x.fr", obj=org.fr_account, summary="fr")
    record(actor=org.users.es_admin, action="x.es", obj=org.es_account, summary="es")
    api = api_for(org.users.fr_admin)
    data = api.get("/api/v1/audit-events/").json()
    assert [r["action"] for r in data["results"]] == ["x.fr"]
    assert api.post("/api/v1/audit-events/", {"action": "forged"}).status_code == 405
    assert api.patch(f"/api/v1/audit-events/{ev.pk}/", {"summary": "forged"}).status_code == 405
    assert api.delete(f"/api/v1/audit-events/{ev.pk}/").status_code == 405
    assert AuditEvent.objects.filter(pk=ev.pk, summary="fr").exists()
    hub = api_for(org.users.hub_admin).get("/api/v1/audit-events/?action=x.es").json()
    assert hub["count"] == 1


def test_api_requires_authentication(client):
    assert client.get("/api/v1/audit-events/").status_code in (401, 403)


def test_openapi_schema_and_docs_served_without_cdn(org, client_for):
    c = client_for(org.users.hub_admin)
    schema = c.get("/api/schema/")
    assert schema.status_code == 200 and b"openapi" in schema.content
    docs = c.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs
    # every script and stylesheet from this server (a page's random CSRF token once spelled "cdn": look at URLs)
    import re

    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", docs) + re.findall(r"https?://[^\s\"'<>]+", docs)
    assert urls and not [u for u in urls if u.startswith(("http://", "https://", "//"))
                         and "testserver" not in u], urls


def test_periodic_jobs_run_once_per_period_across_workers(db):
    calls = []

    class FakeTask:
        def enqueue(self):
            calls.append(1)

    jobs.periodic("test.every_minute", every=60)(FakeTask())
    try:
        now = timezone.now()
        assert "test.every_minute" in jobs.tick(now, worker="w1")
        assert "test.every_minute" not in jobs.tick(now, worker="w2")  # same period, another worker
        assert "test.every_minute" in jobs.tick(now + dt.timedelta(seconds=61), worker="w2")
        assert len(calls) == 2
        assert PeriodicJobRun.objects.filter(name="test.every_minute").count() == 2
    finally:
        jobs._PERIODIC.pop("test.every_minute", None)
