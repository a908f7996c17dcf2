"""The webhooks' pages: the permission matrix (hub admin, spoke admins of the unit / of another unit, helper agent,
external moderator...), the secret shown once, validation errors, confirmation, audit, pagination."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dandelion.core.models import AuditEvent
from dandelion.webhooks import services
from dandelion.webhooks.models import WebhookDelivery, WebhookSubscription

pytestmark = pytest.mark.django_db

# who → status for a subscription on France. 403: may manage webhooks nowhere; 404: not on this unit.
MANAGE = {"hub_admin": 200, "fr_admin": 200, "europe_admin": 200, "es_admin": 404, "fr_cm": 403, "fr_agent": 403,
          "analyst": 403, "pr": 403, "moderator": 403, "nobody": 403}
LIST = {who: (200 if code in (200, 404) else 403) for who, code in MANAGE.items()}


def matrix(table):
    return pytest.mark.parametrize("who,expected", sorted(table.items()))


@pytest.fixture
def sub(org, settings):
    settings.DANDELION_WEBHOOK_ALLOW_PRIVATE = True
    sub, _secret = services.create_subscription(actor=org.users.fr_admin, unit=org.france, name="FR CRM",
                                                url="http://127.0.0.1:9/hook", event_types=["account.changed"])
    return sub


@matrix(LIST)
def test_list(org, sub, client_for, who, expected):
    response = client_for(getattr(org.users, who)).get(reverse("webhooks:subscription-list"))
    assert response.status_code == expected
    if expected == 200:
        assert ("FR CRM" in response.content.decode()) == (MANAGE[who] == 200)


@matrix(MANAGE)
@pytest.mark.parametrize("name", ["subscription-detail", "subscription-edit", "subscription-delete",
                                  "delivery-list"])
def test_pages(org, sub, client_for, who, expected, name):
    response = client_for(getattr(org.users, who)).get(reverse(f"webhooks:{name}", args=[sub.pk]))
    assert response.status_code == expected


@matrix(MANAGE)
def test_delivery_detail(org, sub, client_for, who, expected):
    row = services.send_test_event(sub, actor=org.users.hub_admin)
    response = client_for(getattr(org.users, who)).get(reverse("webhooks:delivery-detail", args=[row.pk]))
    assert response.status_code == expected


@matrix({**MANAGE, "hub_admin": 302, "fr_admin": 302, "europe_admin": 302})
@pytest.mark.parametrize("name", ["subscription-test", "subscription-disable"])
def test_actions(org, sub, client_for, who, expected, name):
    response = client_for(getattr(org.users, who)).post(reverse(f"webhooks:{name}", args=[sub.pk]))
    assert response.status_code == expected
    done = {"subscription-test": WebhookDelivery.objects.filter(event_type="webhook.test").exists(),
            "subscription-disable": WebhookSubscription.objects.get(pk=sub.pk).state == "disabled"}[name]
    assert done == (expected == 302)


@matrix({**MANAGE, "hub_admin": 302, "fr_admin": 302, "europe_admin": 302})
def test_delete_needs_confirmation_and_permission(org, sub, client_for, who, expected):
    client = client_for(getattr(org.users, who))
    response = client.post(reverse("webhooks:subscription-delete", args=[sub.pk]))
    assert response.status_code == expected
    assert WebhookSubscription.objects.filter(pk=sub.pk).exists() == (expected != 302)
    if expected == 302:
        assert AuditEvent.objects.filter(action="webhooks.subscription.delete").count() == 1


def test_delete_page_confirms_first(org, sub, client_for):
    response = client_for(org.users.fr_admin).get(reverse("webhooks:subscription-delete", args=[sub.pk]))
    assert "No more events will be sent" in response.content.decode()
    assert WebhookSubscription.objects.filter(pk=sub.pk).exists()


def test_create_shows_the_secret_once(org, client_for, settings):
    settings.DANDELION_WEBHOOK_ALLOW_PRIVATE = False
    client = client_for(org.users.fr_admin)
    form = client.get(reverse("webhooks:subscription-create")).content.decode()
    assert f'value="{org.france.pk}"' in form and f'value="{org.spain.pk}"' not in form  # only their units
    response = client.post(reverse("webhooks:subscription-create"), {
        "unit": org.france.pk, "name": "CRM", "url": "https://crm.example.org/hooks",
        "event_types": ["account.changed", "conversation.assigned"]})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    sub = WebhookSubscription.objects.get(name="CRM")
    page = response.content.decode()
    assert sub.secret in page and sub.secret.startswith("whsec_")
    assert sub.secret not in sub.secret_encrypted
    assert sub.event_types == ["account.changed", "conversation.assigned"] and sub.created_by == org.users.fr_admin
    detail = client.get(sub.get_absolute_url()).content.decode()
    assert sub.secret not in detail and "never shown again" in detail
    audit = AuditEvent.objects.get(action="webhooks.subscription.create")
    assert sub.secret not in str(audit.changes) and audit.unit_id == org.france.pk


@pytest.mark.parametrize("data,error", [
    ({"url": "http://169.254.169.254/latest"}, "public addresses"),
    ({"url": "ftp://crm.example.org/"}, "http"),
    ({"event_types": ["nope.never"]}, "nope.never"),
    ({"event_types": []}, "required"),
    ({"unit": "SPAIN"}, "valid choice"),
])
def test_create_refuses_bad_input(org, client_for, settings, data, error):
    settings.DANDELION_WEBHOOK_ALLOW_PRIVATE = False
    base = {"unit": org.france.pk, "name": "CRM", "url": "https://crm.example.org/hooks",
            "event_types": ["account.changed"]}
    base.update({k: (org.spain.pk if v == "SPAIN" else v) for k, v in data.items()})
    response = client_for(org.users.fr_admin).post(reverse("webhooks:subscription-create"), base)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_edit(org, sub, client_for):
    response = client_for(org.users.fr_admin).post(reverse("webhooks:subscription-edit", args=[sub.pk]), {
        "name": "Renamed", "url": sub.url, "event_types": ["conversation.sla_breached"]})
    assert response.status_code == 302
    sub.refresh_from_db()
    assert sub.name == "Renamed" and sub.event_types == ["conversation.sla_breached"] and sub.unit == org.france
    assert AuditEvent.objects.filter(action="webhooks.subscription.update").count() == 1


def test_rotate_secret_shows_the_new_one_once(org, sub, client_for):
    old = sub.secret
    response = client_for(org.users.fr_admin).post(reverse("webhooks:subscription-rotate-secret", args=[sub.pk]))
    sub.refresh_from_db()
    assert response.status_code == 200 and sub.secret != old and sub.secret in response.content.decode()
    assert client_for(org.users.es_admin).post(
        reverse("webhooks:subscription-rotate-secret", args=[sub.pk])).status_code == 404


def test_delivery_log_filters_and_pages(org, sub, client_for):
    rows = [WebhookDelivery(subscription=sub, event_id=f"e{i}", event_type="account.changed", payload={"n": i},
                            status="failed" if i % 2 else "succeeded") for i in range(60)]
    WebhookDelivery.objects.bulk_create(rows)
    client = client_for(org.users.fr_admin)
    url = reverse("webhooks:delivery-list", args=[sub.pk])
    first = client.get(url).content.decode()
    assert first.count('data-status="') == 50 and "Next" in first
    assert client.get(url + "?page=2").content.decode().count('data-status="') == 10
    failed = client.get(url + "?status=failed", HTTP_HX_REQUEST="true").content.decode()
    assert failed.count('data-status="failed"') == 30 and 'data-status="succeeded"' not in failed
    assert "<html" not in failed  # the partial


def test_redeliver_from_the_log(org, sub, client_for):
    row = WebhookDelivery.objects.create(subscription=sub, event_id="e1", event_type="account.changed",
                                         payload={"x": 1}, status="failed")
    response = client_for(org.users.fr_admin).post(reverse("webhooks:delivery-redeliver", args=[row.pk]))
    assert response.status_code == 302
    again = WebhookDelivery.objects.get(redelivery_of=row)
    assert again.status == "pending" and again.payload == {"x": 1}
    assert client_for(org.users.es_admin).post(
        reverse("webhooks:delivery-redeliver", args=[row.pk])).status_code == 404
    assert client_for(org.users.fr_agent).post(
        reverse("webhooks:delivery-redeliver", args=[row.pk])).status_code == 403


def test_nav_and_bell_in_the_header(org, sub, client_for):
    page = client_for(org.users.fr_admin).get(reverse("webhooks:subscription-list")).content.decode()
    assert 'id="notification-bell"' in page and ">Webhooks<" in page
