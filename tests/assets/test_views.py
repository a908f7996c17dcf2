"""The registry's pages: the permission matrix for every view, filters, pagination, health chips, query count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from dandelion.assets.models import SocialAccount
from dandelion.core.models import AuditEvent
from tests.assets.conftest import PLAINTEXT
from tests.factories import SocialAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

# who → expected status, for the French account. 404: cannot see it; 403: sees it, may not do this.
READ = {"hub_admin": 200, "fr_admin": 200, "europe_admin": 200, "es_admin": 404, "fr_cm": 200, "fr_agent": 200,
        "analyst": 200, "pr": 200, "moderator": 404, "nobody": 404}
CHANGE = {**READ, "analyst": 403, "pr": 403, "fr_agent": 403}
ADMIN = {**CHANGE, "fr_cm": 403}  # archive and rotate-secret: admins of the unit only
ADD = {"hub_admin": 200, "fr_admin": 200, "europe_admin": 200, "es_admin": 200, "fr_cm": 200, "fr_agent": 403,
       "analyst": 403, "pr": 403, "moderator": 403, "nobody": 403}


def matrix(table):
    return pytest.mark.parametrize("who,expected", sorted(table.items()))


# The status of every role on every page is in test_matrix.py (the shared permission-matrix helper); the tables
# above are kept for the API tests' content checks.


@matrix({**ADMIN, "hub_admin": 200, "fr_admin": 200, "europe_admin": 200})
def test_rotate_secret(org, client_for, who, expected):
    url = reverse("assets:account-rotate-secret", args=[org.fr_account.pk])
    response = client_for(getattr(org.users, who)).post(url)
    assert response.status_code == expected
    fresh = SocialAccount.objects.get(pk=org.fr_account.pk)
    if expected == 200:
        assert "no-store" in response["Cache-Control"]
        assert fresh.webhook_secret in response.content.decode()  # shown once, in this response
        assert fresh.webhook_secret != "test-webhook-secret"
        # …and never again
        assert fresh.webhook_secret not in client_for(getattr(org.users, who)).get(fresh.get_absolute_url()).content.decode()
    else:
        assert fresh.webhook_secret == "test-webhook-secret"


def test_rotate_secret_htmx_returns_the_partial(org, client_for):
    url = reverse("assets:account-rotate-secret", args=[org.fr_account.pk])
    response = client_for(org.users.fr_admin).post(url, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body and "new-webhook-secret" in body


@matrix({**CHANGE, **{k: 302 for k, v in CHANGE.items() if v == 200}})
def test_credentials_post(org, client_for, who, expected):
    url = reverse("assets:account-credentials", args=[org.fr_account.pk])
    response = client_for(getattr(org.users, who)).post(url, {"credentials": f"access_token = {PLAINTEXT}"})
    assert response.status_code == expected
    assert SocialAccount.objects.get(pk=org.fr_account.pk).has_credentials == (expected == 302)


def test_credentials_form_errors_never_echo_the_value(org, client_for):
    url = reverse("assets:account-credentials", args=[org.fr_account.pk])
    response = client_for(org.users.fr_admin).post(url, {"credentials": f"{{bad json {PLAINTEXT}"})
    assert response.status_code == 400 and PLAINTEXT not in response.content.decode()


@pytest.mark.parametrize("name,args", [
    ("assets:account-list", []), ("assets:account-detail", [1]), ("assets:account-create", []),
    ("assets:account-edit", [1]), ("assets:account-transfer", [1]), ("assets:account-archive", [1]),
    ("assets:account-import", []), ("assets:account-export", []), ("assets:account-rotate-secret", [1]),
    ("assets:account-credentials", [1]),
])
def test_anonymous_is_sent_to_login(org, client, name, args):
    response = client.post(reverse(name, args=args)) if "rotate" in name or "credentials" in name else client.get(
        reverse(name, args=args))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_list_scope(org, client_for):
    def handles(user):
        response = client_for(user).get(reverse("assets:account-list"))
        assert response.status_code == 200
        return [a.handle for a, _ in response.context["rows"]]

    assert handles(org.users.hub_admin) == ["@brand_fr", "@brand_es"]
    assert handles(org.users.fr_admin) == ["@brand_fr"]
    assert handles(org.users.es_admin) == ["@brand_es"]
    assert handles(org.users.analyst) == ["@brand_fr", "@brand_es"]
    # a team-scoped role's world is its queue: the registry answers a clear 403, not an empty page
    assert client_for(org.users.moderator).get(reverse("assets:account-list")).status_code == 403


def test_create_edit_transfer_archive_flow(org, client_for):
    client = client_for(org.users.europe_admin)
    response = client.post(reverse("assets:account-create"), {
        "network": "x", "handle": "@brand_eu", "external_id": "x-eu", "owner_unit": org.france.pk,
        "status": "active", "languages": "fr en", "country": "fr", "followers": "5",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    account = SocialAccount.objects.get(external_id="x-eu")
    assert account.languages == ["fr", "en"] and account.country == "FR"
    # duplicate: a clear form error
    response = client.post(reverse("assets:account-create"), {
        "network": "x", "handle": "@dup", "external_id": "x-eu", "owner_unit": org.france.pk, "status": "active"})
    assert response.status_code == 400 and "already registered" in response.content.decode()
    # the French admin cannot register for Spain (not a choice)
    response = client_for(org.users.fr_admin).post(reverse("assets:account-create"), {
        "network": "x", "handle": "@s", "external_id": "x-s", "owner_unit": org.spain.pk, "status": "active"})
    assert response.status_code == 400 and not SocialAccount.objects.filter(external_id="x-s").exists()
    response = client.post(reverse("assets:account-edit", args=[account.pk]), {
        "network": "x", "handle": "@brand_eu", "external_id": "x-eu", "status": "active", "display_name": "EU",
        "languages": "fr", "followers": "5"})
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.display_name == "EU" and account.languages == ["fr"]
    response = client.post(reverse("assets:account-transfer", args=[account.pk]),
                           {"to_unit": org.spain.pk, "reason": "moved"})
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.owner_unit == org.spain
    response = client.post(reverse("assets:account-archive", args=[account.pk]), {"reason": "closed"})
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.is_archived
    # archived accounts leave the default list but stay reachable through the status filter
    listed = client.get(reverse("assets:account-list")).context["rows"]
    assert account not in [a for a, _ in listed]
    listed = client.get(reverse("assets:account-list"), {"status": "archived"}).context["rows"]
    assert [a for a, _ in listed] == [account]
    response = client.post(reverse("assets:account-archive", args=[account.pk]), {"action": "restore"})
    account.refresh_from_db()
    assert response.status_code == 302 and account.status == "active"
    actions = set(AuditEvent.objects.filter(object_id=str(account.pk)).values_list("action", flat=True))
    assert actions == {"assets.account.create", "assets.account.update", "assets.account.transfer",
                       "assets.account.archive", "assets.account.restore"}


def test_spoke_admin_cannot_transfer_outside_subtree(org, client_for):
    response = client_for(org.users.fr_admin).post(reverse("assets:account-transfer", args=[org.fr_account.pk]),
                                                   {"to_unit": org.spain.pk, "reason": "x"})
    assert response.status_code == 400  # Spain is not among the choices
    org.fr_account.refresh_from_db()
    assert org.fr_account.owner_unit == org.france


def test_detail_shows_masked_credentials_and_health(org, client_for):
    from dandelion.assets import services

    services.set_account_credentials(org.fr_account, credentials={"access_token": PLAINTEXT},
                                     expires_at=timezone.now() + dt.timedelta(days=2), actor=org.users.fr_admin)
    body = client_for(org.users.fr_admin).get(org.fr_account.get_absolute_url()).content.decode()
    assert "access_token" in body and PLAINTEXT not in body
    assert 'data-flag="credentials_expiring"' in body and 'data-flag="no_owner"' in body
    assert "Rotate webhook secret" in body
    body = client_for(org.users.fr_cm).get(org.fr_account.get_absolute_url()).content.decode()
    assert "Rotate webhook secret" not in body and "Save credentials" in body
    body = client_for(org.users.analyst).get(org.fr_account.get_absolute_url()).content.decode()
    assert "Save credentials" not in body and "Rotate webhook secret" not in body


# --- filters and pagination ---------------------------------------------------------------------------------


@pytest.fixture
def many(org):
    now = timezone.now()
    owner = UserFactory(username="owner1")
    SocialAccountFactory.create_batch(60, owner_unit=org.france, network="facebook", owner=owner,
                                      last_activity_at=now)
    SocialAccountFactory.create_batch(5, owner_unit=org.spain, network="youtube", owner=None,
                                      display_name="Spanish Tube", last_activity_at=now)
    SocialAccountFactory(owner_unit=org.spain, network="x", owner=owner, last_error="rate limited",
                         external_id="needle-123", last_activity_at=now)
    return org


def listed(client, **params):
    response = client.get(reverse("assets:account-list"), params)
    assert response.status_code == 200
    return response


@pytest.mark.parametrize("params,count", [
    ({}, 68),
    ({"network": "youtube"}, 5),
    ({"unit": "europe"}, 68),
    ({"unit": "spain"}, 7),
    ({"status": "active"}, 68),
    ({"owner_missing": "true"}, 7),  # 5 YouTube + the two fixture accounts
    ({"health": "connector_error"}, 1),
    ({"health": "no_owner"}, 7),
    ({"q": "needle"}, 1),
    ({"q": "spanish tube"}, 5),
    ({"q": "@brand_fr"}, 1),
])
def test_filters(many, client_for, params, count):
    params = {k: (getattr(many, v).pk if k == "unit" else v) for k, v in params.items()}
    response = listed(client_for(many.users.hub_admin), **params)
    assert response.context["page"].paginator.count == count


def test_unit_filter_cannot_reach_outside_scope(many, client_for):
    response = listed(client_for(many.users.fr_admin), unit=many.spain.pk)
    assert response.context["page"].paginator.count == 0
    assert listed(client_for(many.users.fr_admin), unit=many.france.pk).context["page"].paginator.count == 61


def test_pagination_and_htmx_partial(many, client_for):
    client = client_for(many.users.hub_admin)
    first = listed(client)
    assert len(first.context["rows"]) == 50 and first.context["page"].paginator.num_pages == 2
    second = listed(client, page=2)
    assert len(second.context["rows"]) == 18
    partial = client.get(reverse("assets:account-list"), {"network": "youtube"}, HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert "<html" not in body and body.count("Spanish Tube") == 5


def test_health_chips_in_list(many, client_for):
    body = listed(client_for(many.users.hub_admin), network="x").content.decode()
    assert 'class="chip bad" data-flag="connector_error"' in body


def test_list_query_count_is_pinned(many, client_for, django_assert_num_queries):
    client = client_for(many.users.hub_admin)
    listed(client)  # warm caches (content types, sessions)
    # session, user, grants, count, page rows (owner + unit joined), unit choices of the filter, and the
    # orgs context processor's pending-guideline lookup: the same for 50 rows as for 18, whatever the filters
    with django_assert_num_queries(7):
        listed(client)
    with django_assert_num_queries(7):
        listed(client, page=2)
    with django_assert_num_queries(8):  # + validating the unit filter's choice
        listed(client, health="no_owner", unit=many.europe.pk)
    with django_assert_num_queries(7):
        listed(client, network="youtube", q="tube")
