"""Deliveries that failed for good: seen on the deliveries page, on the account's page link, retried by those who
manage the account (page, service, command), then processed: the customer's message arrives after all."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.models import AuditEvent
from dandelion.inbox import jobs, pipeline
from dandelion.inbox.models import InboundDelivery, Message
from dandelion.inbox.services import retry_failed_deliveries
from tests.inbox.conftest import event

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed(inbox, post_hook, monkeypatch):
    """``failed(account, event_id)``: a delivery posted through the webhook whose processing failed for good (the
    pipeline broke on its last attempt)."""

    def make(account, event_id, text="Bonjour, ma commande n'est jamais arrivée", language="fr"):
        response = post_hook(account, {"events": [event(text, id=event_id, author=f"u-{event_id}",
                                                        language=language)]})
        assert response.status_code == 202
        pk = response.json()["delivery"]
        InboundDelivery.objects.filter(pk=pk).update(attempts=jobs.MAX_ATTEMPTS - 1)

        def broken(*args, **kwargs):
            raise RuntimeError("routing calendar unreadable")

        with monkeypatch.context() as m:
            m.setattr(pipeline, "ingest_batch", broken)
            jobs.process_pending_deliveries.call()
        delivery = InboundDelivery.objects.get(pk=pk)
        assert delivery.state == "failed" and "routing calendar unreadable" in delivery.error
        return delivery

    return make


def test_a_failed_delivery_is_shown_retried_from_the_page_and_its_message_arrives(inbox, failed, client_for,
                                                                                    django_capture_on_commit_callbacks):
    delivery = failed(inbox.fr_account, "lost-1")
    admin = client_for(inbox.users.fr_admin)
    page = admin.get(f"/inbox/deliveries/?account={inbox.fr_account.pk}").content.decode()
    assert f'data-delivery="{delivery.pk}" data-state="failed"' in page
    assert "routing calendar unreadable" in page and 'data-action="retry"' in page
    assert "Retry 1 failed delivery of @brand_fr" in page
    assert 'data-count="failed">1 failed' in page
    # the account's page links to its deliveries
    detail = admin.get(f"/assets/accounts/{inbox.fr_account.pk}/").content.decode()
    assert f"/inbox/deliveries/?account={inbox.fr_account.pk}" in detail

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin.post("/inbox/deliveries/retry/", {"account": inbox.fr_account.pk}, follow=True)
    assert response.status_code == 200 and "1 failed delivery queued for processing again" in response.content.decode()
    assert callbacks  # processing enqueued once committed
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("pending", 0)
    row = AuditEvent.objects.get(action="inbox.delivery.retry")
    assert row.actor == inbox.users.fr_admin and row.unit == inbox.france
    assert row.changes == {"deliveries": [delivery.pk], "count": 1}

    jobs.process_pending_deliveries.call()  # the worker, the cause fixed
    delivery.refresh_from_db()
    assert delivery.state == "done" and delivery.error == ""
    assert Message.objects.get(external_id="lost-1").conversation.team == inbox.fr_team


def test_who_sees_and_who_may_retry(inbox, failed, client_for, client):
    fr = failed(inbox.fr_account, "lost-fr")
    es = failed(inbox.es_account, "lost-es", text="Hola, mi pedido no ha llegado", language="es")
    users = inbox.users

    def listed(user):
        html = client_for(user).get("/inbox/deliveries/").content.decode()
        return {pk for pk in (fr.pk, es.pk) if f'data-delivery="{pk}"' in html}, 'data-action="retry"' in html

    assert listed(users.hub_admin) == ({fr.pk, es.pk}, True)
    assert listed(users.fr_admin) == ({fr.pk}, True)
    assert listed(users.fr_cm) == ({fr.pk}, True)  # community managers manage the account's connection
    assert listed(users.fr_agent) == ({fr.pk}, False)  # sees the failure, may not retry
    assert listed(users.analyst) == ({fr.pk, es.pk}, False)
    assert listed(users.moderator) == (set(), False)  # an external vendor sees no account's deliveries
    assert client.get("/inbox/deliveries/").status_code == 302  # anonymous: to the login page

    assert client_for(users.fr_agent).post("/inbox/deliveries/retry/", {"account": inbox.fr_account.pk}).status_code \
        == 403
    assert client_for(users.fr_agent).post("/inbox/deliveries/retry/").status_code == 403
    assert client_for(users.es_admin).post("/inbox/deliveries/retry/", {"account": inbox.fr_account.pk}).status_code \
        == 404  # another subtree's account does not exist for them
    assert client_for(users.es_admin).get(f"/inbox/deliveries/?account={inbox.fr_account.pk}").status_code == 404
    assert InboundDelivery.objects.filter(state="failed").count() == 2
    # without an account: every account with failed deliveries that the user manages, one audit row each
    assert client_for(users.es_admin).post("/inbox/deliveries/retry/").status_code == 302
    assert set(InboundDelivery.objects.filter(state="failed").values_list("pk", flat=True)) == {fr.pk}
    client_for(users.hub_admin).post("/inbox/deliveries/retry/")
    assert not InboundDelivery.objects.filter(state="failed").exists()
    assert AuditEvent.objects.filter(action="inbox.delivery.retry").count() == 2


def test_the_service_is_idempotent_selective_and_permission_checked(inbox, failed):
    first, second = failed(inbox.fr_account, "f1"), failed(inbox.fr_account, "f2")
    with pytest.raises(PermissionDeniedError):
        retry_failed_deliveries(inbox.fr_account, actor=inbox.users.fr_agent)
    assert retry_failed_deliveries(inbox.fr_account, actor=inbox.users.fr_admin, ids=[second.pk]) == 1
    assert InboundDelivery.objects.get(pk=first.pk).state == "failed"
    assert retry_failed_deliveries(inbox.fr_account, actor=inbox.users.fr_admin, ids=[second.pk]) == 0
    assert retry_failed_deliveries(inbox.fr_account, actor=inbox.users.fr_admin) == 1
    assert retry_failed_deliveries(inbox.fr_account, actor=inbox.users.fr_admin) == 0
    assert AuditEvent.objects.filter(action="inbox.delivery.retry").count() == 2  # nothing retried, nothing audited


def test_the_page_filters_by_state_and_paginates(inbox, failed, client_for):
    failed(inbox.fr_account, "p1")
    admin = client_for(inbox.users.hub_admin)
    assert "No deliveries in this state" in admin.get("/inbox/deliveries/?state=pending").content.decode()
    assert 'data-state="failed"' in admin.get("/inbox/deliveries/?state=nonsense").content.decode()  # the default
    assert 'data-state="failed"' in admin.get("/inbox/deliveries/?state=").content.decode()  # any state
    assert admin.get("/inbox/deliveries/?account=abc").status_code == 404
    InboundDelivery.objects.bulk_create([InboundDelivery(account=inbox.fr_account, body="{}", state="done")
                                         for _ in range(30)])
    page = admin.get("/inbox/deliveries/?state=done").content.decode()
    assert page.count('data-state="done"') == 25 and "Next" in page
    partial = admin.get("/inbox/deliveries/?state=done&page=2", HTTP_HX_REQUEST="true").content.decode()
    assert partial.count('data-state="done"') == 5 and "<html" not in partial


def test_the_command_retries_what_it_is_told(inbox, failed):
    fr, es = failed(inbox.fr_account, "c1"), failed(inbox.es_account, "c2", text="Hola", language="es")
    with pytest.raises(CommandError, match="Say which deliveries"):
        call_command("retry_deliveries")
    with pytest.raises(CommandError, match="No delivery with id 999999"):
        call_command("retry_deliveries", "--id", "999999")
    with pytest.raises(CommandError, match="No account with id 999999"):
        call_command("retry_deliveries", "--account", "999999")
    out = io.StringIO()
    call_command("retry_deliveries", "--id", str(fr.pk), stdout=out)
    assert "1 failed delivery queued for processing again" in out.getvalue()
    assert InboundDelivery.objects.get(pk=es.pk).state == "failed"
    out = io.StringIO()
    call_command("retry_deliveries", "--all", stdout=out)
    assert "@brand_es" in out.getvalue() and InboundDelivery.objects.get(pk=es.pk).state == "pending"
    assert AuditEvent.objects.filter(action="inbox.delivery.retry", actor__isnull=True).count() == 2


def test_the_navigation_offers_deliveries_to_the_organisation_not_to_vendors(inbox, client_for):
    admin = client_for(inbox.users.fr_admin)
    assert 'href="/inbox/deliveries/"' in admin.get("/inbox/").content.decode()
    page = admin.get("/inbox/deliveries/").content.decode()
    # one current item: the page's own, not also the inbox whose address is a prefix of it
    assert page.count('aria-current="page"') == 1
    assert '<a href="/inbox/deliveries/" class="active" aria-current="page">' in page
    assert '<a href="/inbox/" class="active"' in admin.get("/inbox/").content.decode()
    assert 'href="/inbox/deliveries/"' not in client_for(inbox.users.moderator).get("/inbox/").content.decode()


def test_the_api_lists_and_retries_within_the_callers_scope(inbox, failed, api_for):
    fr = failed(inbox.fr_account, "api-fr")
    failed(inbox.es_account, "api-es", text="Hola", language="es")
    users = inbox.users
    body = api_for(users.fr_admin).get("/api/v1/inbound-deliveries/?state=failed").json()
    assert [d["id"] for d in body["results"]] == [fr.pk]
    assert body["results"][0]["error"].startswith("RuntimeError: routing calendar unreadable")
    assert "body" not in body["results"][0] and "payload" not in body["results"][0]
    assert len(api_for(users.hub_admin).get("/api/v1/inbound-deliveries/?state=failed").json()["results"]) == 2
    assert api_for(users.moderator).get("/api/v1/inbound-deliveries/").json()["results"] == []
    assert api_for(users.es_admin).get(f"/api/v1/inbound-deliveries/{fr.pk}/").status_code == 404

    url = "/api/v1/inbound-deliveries/retry/"
    assert api_for(users.fr_admin).post(url, {}, format="json").status_code == 400
    assert api_for(users.fr_agent).post(url, {"account": inbox.fr_account.pk}, format="json").status_code == 403
    assert api_for(users.es_admin).post(url, {"account": inbox.fr_account.pk}, format="json").status_code == 404
    response = api_for(users.fr_admin).post(url, {"account": inbox.fr_account.pk, "deliveries": [fr.pk]},
                                            format="json")
    assert response.status_code == 200 and response.json() == {"queued": 1, "remaining": False}
    assert api_for(users.fr_admin).get(f"/api/v1/inbound-deliveries/{fr.pk}/").json()["state"] == "pending"
    assert api_for(users.fr_admin).post(url, {"account": inbox.fr_account.pk}, format="json").json() == {
        "queued": 0, "remaining": False}


def test_a_backlog_is_retried_in_bounded_transactions_and_requests(inbox, failed, client_for, monkeypatch):
    from dandelion.inbox import services

    made = [failed(inbox.fr_account, f"b{i}").pk for i in range(5)]
    monkeypatch.setattr(services, "RETRY_CHUNK", 2)
    monkeypatch.setattr(services, "RETRY_REQUEST_LIMIT", 3)
    admin = client_for(inbox.users.fr_admin)
    page = admin.post("/inbox/deliveries/retry/", {"account": inbox.fr_account.pk}, follow=True).content.decode()
    assert "3 failed deliveries queued for processing again" in page and "More failed deliveries remain" in page
    rows = AuditEvent.objects.filter(action="inbox.delivery.retry").order_by("pk")
    assert [r.changes["count"] for r in rows] == [2, 1]  # one transaction and audit row per chunk
    assert sorted(InboundDelivery.objects.filter(state="pending").values_list("pk", flat=True)) == sorted(made)[:3]
    page = admin.post("/inbox/deliveries/retry/", {"account": inbox.fr_account.pk}, follow=True).content.decode()
    assert "2 failed deliveries queued" in page and "More failed deliveries remain" not in page
    assert not InboundDelivery.objects.filter(state="failed").exists()
    with pytest.raises(Exception, match="at least 1"):
        services.retry_failed_deliveries(inbox.fr_account, actor=None, limit=0)


def test_the_button_counts_what_it_would_retry(inbox, failed, client_for, settings):
    from dandelion.orgs.choices import Role
    from tests.factories import MembershipFactory

    failed(inbox.fr_account, "m1")
    failed(inbox.es_account, "m2", text="Hola", language="es")
    # an analyst of the whole organisation who also administers France: sees both failures, may retry France's only
    MembershipFactory(user=inbox.users.analyst, unit=inbox.france, role=Role.SPOKE_ADMIN)
    page = client_for(inbox.users.analyst).get("/inbox/deliveries/").content.decode()
    assert 'data-count="failed">2 failed' in page and "Retry 1 failed delivery</button>" in page
    client_for(inbox.users.analyst).post("/inbox/deliveries/retry/")
    assert set(InboundDelivery.objects.filter(state="failed").values_list("account_id", flat=True)) == {
        inbox.es_account.pk}
    # past the screen's count bound the label says so, and the word stays plural
    failed(inbox.fr_account, "m3")
    failed(inbox.fr_account, "m4")
    failed(inbox.fr_account, "m5")
    settings.DANDELION_SCREEN_COUNT_LIMIT = 2
    page = client_for(inbox.users.fr_admin).get("/inbox/deliveries/").content.decode()
    assert "Retry 2+ failed deliveries</button>" in page


def test_the_api_account_filter_does_not_tell_other_subtrees_accounts_from_missing_ones(inbox, failed, api_for):
    failed(inbox.fr_account, "x1")
    es = api_for(inbox.users.es_admin)
    other = es.get(f"/api/v1/inbound-deliveries/?account={inbox.fr_account.pk}")
    missing = es.get("/api/v1/inbound-deliveries/?account=999999")
    assert other.status_code == missing.status_code == 200
    assert other.json()["results"] == missing.json()["results"] == []
    assert es.get("/api/v1/inbound-deliveries/?state=bogus").status_code == 400
