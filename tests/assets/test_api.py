"""``/api/v1/accounts/``: the permission matrix for every endpoint, filters, import/export, no secrets out."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from dandelion.assets.models import SocialAccount
from dandelion.core.models import AuditEvent
from tests.assets.conftest import PLAINTEXT, csv_bytes, row, upload
from tests.assets.test_views import ADD, ADMIN, CHANGE, READ, matrix
from tests.factories import SocialAccountFactory

pytestmark = pytest.mark.django_db

LIST = reverse("api:socialaccount-list")


def detail(pk, action=None):
    if action is None:
        return reverse("api:socialaccount-detail", args=[pk])
    return reverse(f"api:socialaccount-{action}", args=[pk])


@pytest.mark.parametrize("who,handles", [
    ("hub_admin", ["@brand_fr", "@brand_es"]), ("fr_admin", ["@brand_fr"]), ("es_admin", ["@brand_es"]),
    ("europe_admin", ["@brand_fr", "@brand_es"]), ("analyst", ["@brand_fr", "@brand_es"]), ("fr_cm", ["@brand_fr"]),
    ("moderator", []), ("nobody", []),
])
def test_list_scope(org, api_for, who, handles):
    response = api_for(getattr(org.users, who)).get(LIST)
    assert response.status_code == 200
    assert [a["handle"] for a in response.json()["results"]] == handles


def test_anonymous_gets_401(org):
    client = APIClient()
    assert client.get(LIST).status_code == 401
    assert client.get(detail(org.fr_account.pk)).status_code == 401
    assert client.post(detail(org.fr_account.pk, "rotate-webhook-secret")).status_code == 401
    assert client.post(reverse("api:socialaccount-import")).status_code == 401


@matrix(READ)
def test_retrieve(org, api_for, who, expected):
    response = api_for(getattr(org.users, who)).get(detail(org.fr_account.pk))
    assert response.status_code == expected
    if expected == 200:
        body = response.json()
        assert {"has_credentials", "credentials_keys", "credentials_expires_at", "health_flags"} <= set(body)
        assert not {"credentials", "credentials_encrypted", "webhook_secret", "webhook_secret_encrypted"} & set(body)


@matrix(CHANGE)
def test_partial_update(org, api_for, who, expected):
    response = api_for(getattr(org.users, who)).patch(detail(org.fr_account.pk), {"display_name": "Nouveau"})
    assert response.status_code == expected, response.content
    org.fr_account.refresh_from_db()
    assert (org.fr_account.display_name == "Nouveau") == (expected == 200)


def test_update_validates_and_cannot_move_unit(org, api_for):
    api = api_for(org.users.fr_admin)
    response = api.patch(detail(org.fr_account.pk), {"languages": ["fr", "xx"], "country": "France"})
    assert response.status_code == 400 and set(response.json()) == {"languages", "country"}
    response = api.patch(detail(org.fr_account.pk), {"owner_unit": org.spain.pk, "followers": 9})
    assert response.status_code == 200
    org.fr_account.refresh_from_db()
    assert org.fr_account.owner_unit == org.france and org.fr_account.followers == 9
    response = api.patch(detail(org.fr_account.pk), {"status": "archived"})
    assert response.status_code == 400
    response = api.put(detail(org.fr_account.pk), {"network": "instagram", "handle": "@brand_fr",
                                                   "external_id": "ig-es", "owner_unit": org.france.pk})
    assert response.status_code == 409 and response.json()["code"] == "duplicate_account"


@matrix(ADD)
def test_create(org, api_for, who, expected):
    unit = org.spain if who == "es_admin" else org.france
    response = api_for(getattr(org.users, who)).post(LIST, {
        "network": "tiktok", "handle": "@tt", "external_id": f"tt-{who}", "owner_unit": unit.pk,
        "languages": "fr en", "owner": org.users.fr_cm.pk})
    assert response.status_code == (201 if expected == 200 else expected), response.content
    if expected == 200:
        body = response.json()
        assert body["connector"] == "generic" and body["languages"] == ["fr", "en"]
        assert body["owner_username"] == "frcm" and body["health_flags"] == []


def test_create_errors(org, api_for):
    api = api_for(org.users.fr_admin)
    base = {"network": "x", "handle": "@a", "external_id": "x-a", "owner_unit": org.france.pk}
    outside = api.post(LIST, {**base, "owner_unit": org.spain.pk})  # outside the subtree: as if it did not exist
    assert outside.status_code == 400 and "owner_unit" in outside.json()
    response = api.post(LIST, {**base, "network": "myspace"})
    assert response.status_code == 400 and "network" in response.json()
    response = api.post(LIST, {**base, "connector": "nope"})
    assert response.status_code == 400 and response.json()["field"] == "connector"
    assert api.post(LIST, base).status_code == 201
    response = api.post(LIST, base)
    assert response.status_code == 409 and "already registered" in response.json()["detail"]


def test_no_hard_delete(org, api_for):
    assert api_for(org.users.hub_admin).delete(detail(org.fr_account.pk)).status_code == 405
    assert SocialAccount.objects.filter(pk=org.fr_account.pk).exists()


@matrix(ADMIN)
def test_archive(org, api_for, who, expected):
    response = api_for(getattr(org.users, who)).post(detail(org.fr_account.pk, "archive"), {"reason": "gone"})
    assert response.status_code == expected, response.content
    org.fr_account.refresh_from_db()
    assert org.fr_account.is_archived == (expected == 200)
    if expected == 200:
        assert response.json()["status"] == "archived"
        again = api_for(getattr(org.users, who)).post(detail(org.fr_account.pk, "archive"))
        assert again.status_code == 409
        restored = api_for(getattr(org.users, who)).post(detail(org.fr_account.pk, "restore"))
        assert restored.status_code == 200 and restored.json()["status"] == "active"


@pytest.mark.parametrize("who,to,expected", [
    ("hub_admin", "spain", 200), ("europe_admin", "spain", 200),
    ("fr_admin", "spain", 400), ("fr_cm", "spain", 400),  # Spain is outside their scope: "does not exist" ("analyst", "spain", 403), ("es_admin", "spain", 404), ("moderator", "spain", 404),
    ("fr_admin", "france", 400),  # already there
])
def test_transfer(org, api_for, who, to, expected):
    response = api_for(getattr(org.users, who)).post(detail(org.fr_account.pk, "transfer"),
                                                     {"to_unit": getattr(org, to).pk, "reason": "reorg"})
    assert response.status_code == expected, response.content
    org.fr_account.refresh_from_db()
    assert (org.fr_account.owner_unit == org.spain) == (expected == 200)


def test_transfer_requires_reason(org, api_for):
    response = api_for(org.users.hub_admin).post(detail(org.fr_account.pk, "transfer"), {"to_unit": org.spain.pk})
    assert response.status_code == 400 and "reason" in response.json()


@matrix(ADMIN)
def test_rotate_webhook_secret(org, api_for, who, expected):
    response = api_for(getattr(org.users, who)).post(detail(org.fr_account.pk, "rotate-webhook-secret"))
    assert response.status_code == expected
    fresh = SocialAccount.objects.get(pk=org.fr_account.pk)
    if expected == 200:
        assert response.json() == {"webhook_secret": fresh.webhook_secret}
        assert "no-store" in response["Cache-Control"]
        assert fresh.webhook_secret not in api_for(org.users.hub_admin).get(detail(fresh.pk)).content.decode()
    else:
        assert fresh.webhook_secret == "test-webhook-secret"


@matrix(CHANGE)
def test_set_credentials(org, api_for, who, expected):
    response = api_for(getattr(org.users, who)).post(
        detail(org.fr_account.pk, "credentials"),
        {"credentials": {"access_token": PLAINTEXT}, "expires_at": "2030-01-01T00:00:00Z"}, format="json")
    assert response.status_code == expected, response.content
    fresh = SocialAccount.objects.get(pk=org.fr_account.pk)
    if expected == 200:
        assert PLAINTEXT not in response.content.decode()
        body = response.json()
        assert body["has_credentials"] and body["credentials_keys"] == ["access_token"]
        assert body["credentials_expires_at"].startswith("2030-01-01")
        assert fresh.credentials == {"access_token": PLAINTEXT}
    else:
        assert not fresh.has_credentials


@pytest.mark.parametrize("params,count", [
    ({"network": "youtube"}, 3), ({"owner_unit": "spain"}, 3), ({"status": "dormant"}, 1),
    ({"owner_missing": "true"}, 4), ({"owner_missing": "false"}, 1), ({"search": "needle"}, 1),
    ({"q": "needle"}, 1), ({"health": "dormant"}, 1), ({"unit": "europe"}, 5),
])
def test_filters(org, api_for, params, count):
    SocialAccountFactory.create_batch(2, owner_unit=org.spain, network="youtube")
    SocialAccountFactory(owner_unit=org.france, network="youtube", status="dormant", external_id="needle-1",
                         owner=org.users.fr_cm)
    params = {k: (getattr(org, v).pk if k in ("owner_unit", "unit") else v) for k, v in params.items()}
    response = api_for(org.users.hub_admin).get(LIST, params)
    assert response.status_code == 200 and response.json()["count"] == count


def test_pagination(org, api_for, django_assert_max_num_queries):
    SocialAccountFactory.create_batch(120, owner_unit=org.france)
    api = api_for(org.users.hub_admin)
    api.get(LIST)
    with django_assert_max_num_queries(5):  # token, grants, count, page: independent of the rows
        body = api.get(LIST).json()
    assert body["count"] == 122 and len(body["results"]) == 50 and body["next"]
    assert len(api.get(LIST, {"page": 3}).json()["results"]) == 22


def test_import_endpoint(org, api_for):
    api = api_for(org.users.fr_admin)
    url = reverse("api:socialaccount-import")
    bad = csv_bytes([row(1), row(2, owner_unit="spain"), row(3, network="myspace")])
    response = api.post(url, {"file": upload(bad)}, format="multipart")
    assert response.status_code == 400
    body = response.json()
    assert body["ok"] is False and body["created"] == 0
    assert [(e["line"], e["column"]) for e in body["errors"]] == [(3, "owner_unit"), (4, "network")]
    assert not SocialAccount.objects.filter(external_id__startswith="imp-").exists()
    response = api.post(url, {"file": upload(csv_bytes([row(n) for n in range(1, 11)]))}, format="multipart")
    assert response.status_code == 201 and response.json()["created"] == 10
    assert AuditEvent.objects.filter(action="assets.account.import").count() == 1
    assert api.post(url, {}, format="multipart").status_code == 400
    assert api_for(org.users.analyst).post(url, {"file": upload(bad)}, format="multipart").status_code == 403


def test_import_endpoint_refuses_oversized(org, api_for, settings):
    settings.DANDELION_MAX_IMPORT_BYTES = 100
    response = api_for(org.users.hub_admin).post(reverse("api:socialaccount-import"),
                                                 {"file": upload(csv_bytes([row(n) for n in range(5)]))},
                                                 format="multipart")
    assert response.status_code == 400 and "too large" in response.json()["errors"][0]["reason"]


@pytest.mark.parametrize("accept", [None, "text/csv"])
def test_export_endpoint(org, api_for, accept):
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = api_for(org.users.fr_admin).get(reverse("api:socialaccount-export"), **headers)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0].startswith("network,handle,external_id") and len(lines) == 2 and "fb-fr" in lines[1]


def test_schema_builds(org, client_for):
    response = client_for(org.users.hub_admin).get(reverse("schema"))
    assert response.status_code == 200
    assert b"/api/v1/accounts/{id}/rotate-webhook-secret/" in response.content


def test_archived_accounts_leave_lists_and_exports_unless_asked_for(org, api_for):
    api = api_for(org.users.hub_admin)
    assert api.post(detail(org.fr_account.pk, "archive"), {"reason": "brand retired"}).status_code == 200
    listed = [a["id"] for a in api.get("/api/v1/accounts/").json()["results"]]
    assert org.fr_account.pk not in listed and org.es_account.pk in listed
    archived = [a["id"] for a in api.get("/api/v1/accounts/", {"status": "archived"}).json()["results"]]
    assert archived == [org.fr_account.pk]
    export = api.get("/api/v1/accounts/export/", HTTP_ACCEPT="text/csv")
    body = b"".join(export.streaming_content).decode() if export.streaming else export.content.decode()
    assert "@brand_es" in body and "@brand_fr" not in body
    assert api.get(detail(org.fr_account.pk)).json()["status"] == "archived"  # still reachable by id
