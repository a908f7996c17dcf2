"""``/api/v1/webhooks/`` and ``/api/v1/webhook-deliveries/``: the permission matrix, CRUD through services, the
secret returned once, the delivery log and redelivery."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from dandelion.core.models import AuditEvent
from dandelion.webhooks import services
from dandelion.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.webhooks.test_views import LIST, MANAGE, matrix

pytestmark = pytest.mark.django_db

URL = reverse("api:webhooksubscription-list")


def detail(pk, action=None):
    name = "api:webhooksubscription-detail" if action is None else f"api:webhooksubscription-{action}"
    return reverse(name, args=[pk])


@pytest.fixture
def sub(org, settings):
    settings.DANDELION_WEBHOOK_ALLOW_PRIVATE = True
    sub, _ = services.create_subscription(actor=org.users.fr_admin, unit=org.france, name="FR CRM",
                                          url="http://127.0.0.1:9/hook", event_types=["account.changed"])
    return sub


def test_anonymous_gets_401(sub):
    assert APIClient().get(URL).status_code == 401
    assert APIClient().get(detail(sub.pk)).status_code == 401


@matrix(LIST)
def test_list(org, sub, api_for, who, expected):
    response = api_for(getattr(org.users, who)).get(URL)
    assert response.status_code == expected
    if expected == 200:
        names = [s["name"] for s in response.json()["results"]]
        assert names == (["FR CRM"] if MANAGE[who] == 200 else [])


@matrix(MANAGE)
def test_retrieve_never_shows_the_secret(org, sub, api_for, who, expected):
    response = api_for(getattr(org.users, who)).get(detail(sub.pk))
    assert response.status_code == expected
    if expected == 200:
        body = response.json()
        assert body["unit"] == org.france.pk and body["state"] == "active"
        assert not {"secret", "secret_encrypted"} & set(body)


@matrix({**MANAGE, "hub_admin": 200, "fr_admin": 200, "europe_admin": 200})
def test_update(org, sub, api_for, who, expected):
    response = api_for(getattr(org.users, who)).patch(detail(sub.pk), {"name": "Renamed", "unit": org.spain.pk})
    assert response.status_code == expected, response.content
    sub.refresh_from_db()
    assert (sub.name == "Renamed") == (expected == 200)
    assert sub.unit == org.france  # never moved


@matrix({**MANAGE, "hub_admin": 204, "fr_admin": 204, "europe_admin": 204})
def test_delete(org, sub, api_for, who, expected):
    response = api_for(getattr(org.users, who)).delete(detail(sub.pk))
    assert response.status_code == expected
    assert WebhookSubscription.objects.filter(pk=sub.pk).exists() == (expected != 204)


@pytest.mark.parametrize("who,unit,expected", [
    ("hub_admin", "spain", 201), ("fr_admin", "france", 201), ("fr_admin", "spain", 403),
    ("europe_admin", "spain", 201), ("fr_agent", "france", 403), ("moderator", "france", 403),
    ("fr_cm", "france", 403),
])
def test_create(org, api_for, settings, who, unit, expected):
    settings.DANDELION_WEBHOOK_ALLOW_PRIVATE = False
    response = api_for(getattr(org.users, who)).post(URL, {
        "unit": getattr(org, unit).pk, "name": "CRM", "url": "https://crm.example.org/hook",
        "event_types": ["conversation.assigned", "account.changed"]}, format="json")
    assert response.status_code == expected, response.content
    if expected == 201:
        body = response.json()
        sub = WebhookSubscription.objects.get(pk=body["id"])
        assert body["secret"] == sub.secret and "no-store" in response["Cache-Control"]
        assert AuditEvent.objects.filter(action="webhooks.subscription.create").count() == 1
    else:
        assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize("data,field", [
    ({"url": "http://10.0.0.5/"}, "url"), ({"url": "gopher://x.example.org/"}, "url"),
    ({"event_types": ["bogus.type"]}, "event_types"), ({"event_types": []}, "event_types"),
    ({"event_types": "account.changed"}, "event_types"), ({"name": ""}, "name"),
])
def test_create_validation(org, api_for, settings, data, field):
    settings.DANDELION_WEBHOOK_ALLOW_PRIVATE = False
    body = {"unit": org.france.pk, "name": "CRM", "url": "https://crm.example.org/hook",
            "event_types": ["account.changed"], **data}
    response = api_for(org.users.fr_admin).post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json() or response.json().get("field") == field
    assert not WebhookSubscription.objects.exists()


def test_actions(org, sub, api_for):
    client = api_for(org.users.fr_admin)
    test = client.post(detail(sub.pk, "test"))
    assert test.status_code == 202 and test.json()["event_type"] == "webhook.test"
    rotated = client.post(detail(sub.pk, "rotate-secret"))
    sub.refresh_from_db()
    assert rotated.status_code == 200 and rotated.json()["secret"] == sub.secret
    assert client.post(detail(sub.pk, "enable")).status_code == 400  # already active
    services.disable_subscription(sub, actor=org.users.fr_admin, reason="maintenance")
    enabled = client.post(detail(sub.pk, "enable"))
    assert enabled.status_code == 200 and enabled.json()["state"] == "active"
    log = client.get(detail(sub.pk, "deliveries"))
    assert log.status_code == 200 and [d["event_type"] for d in log.json()["results"]] == ["webhook.test"]
    assert api_for(org.users.es_admin).get(detail(sub.pk, "deliveries")).status_code == 404


@matrix({**MANAGE, "hub_admin": 202, "fr_admin": 202, "europe_admin": 202})
def test_redeliver(org, sub, api_for, who, expected):
    row = WebhookDelivery.objects.create(subscription=sub, event_id="e1", event_type="account.changed",
                                         payload={"x": 1}, status="failed")
    response = api_for(getattr(org.users, who)).post(reverse("api:webhookdelivery-redeliver", args=[row.pk]))
    assert response.status_code == expected
    assert WebhookDelivery.objects.filter(redelivery_of=row).exists() == (expected == 202)


def test_redeliver_refuses_work_in_progress(org, sub, api_for):
    row = WebhookDelivery.objects.create(subscription=sub, event_id="e1", event_type="account.changed",
                                         payload={}, status="pending")
    response = api_for(org.users.fr_admin).post(reverse("api:webhookdelivery-redeliver", args=[row.pk]))
    assert response.status_code == 409


def test_delivery_list_is_scoped(org, sub, api_for, settings):
    es_sub, _ = services.create_subscription(actor=org.users.es_admin, unit=org.spain, name="ES",
                                             url="http://127.0.0.1:9/es", event_types=["account.changed"])
    services.send_test_event(sub, actor=org.users.fr_admin)
    services.send_test_event(es_sub, actor=org.users.es_admin)
    url = reverse("api:webhookdelivery-list")
    assert [d["subscription"] for d in api_for(org.users.fr_admin).get(url).json()["results"]] == [sub.pk]
    assert len(api_for(org.users.hub_admin).get(url).json()["results"]) == 2
    assert api_for(org.users.fr_agent).get(url).status_code == 403
