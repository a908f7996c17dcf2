"""Connecting an account through its network's OAuth consent (``assets:account-connect``), end to end against a
MOCK Mastodon instance (``tests/connectors/mastodon_mock.py``: a local HTTP server implementing Mastodon's app
registration, ``/oauth/authorize``, ``/oauth/token`` and ``verify_credentials``; it is not Mastodon). The view
registers Dandelion on the instance (client credentials stored encrypted), sends the admin to consent, and the
callback checks the state, stores the token encrypted and creates or links the account, audited."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.urls import reverse

from dandelion.assets.models import OAuthApp, SocialAccount
from dandelion.connectors import registry
from dandelion.connectors.mastodon import client as mastodon_clients
from dandelion.core.models import AuditEvent
from dandelion.inbox import connect
from tests.connectors.mastodon_mock import mastodon_mock  # noqa: F401 - the fixture
from tests.factories import SocialAccountFactory

pytestmark = pytest.mark.django_db

CONNECT = reverse("assets:account-connect")
CALLBACK = reverse("assets:account-connect-callback")
# who may open the page (registering accounts somewhere); what each may connect is checked per unit
ADD = {"hub_admin": 200, "fr_admin": 200, "europe_admin": 200, "es_admin": 200, "fr_cm": 200, "fr_agent": 403,
       "analyst": 403, "pr": 403, "moderator": 403, "nobody": 403}


@pytest.fixture(autouse=True)
def _fresh_clients():
    mastodon_clients.forget()
    yield
    mastodon_clients.forget()


@pytest.fixture
def brand(mastodon_mock):
    account = mastodon_mock.account("acme", "Acme France")
    mastodon_mock.authorize_as = account.id  # who is signed in on the instance's consent screen
    return account


def start(client, mock, unit, network="mastodon"):
    return client.post(CONNECT, {"network": network, "instance": mock.url, "owner_unit": unit.pk})


def consent(mock, response) -> str:
    """Follow the redirect to the (mock) instance's consent screen; the callback path and query it sends back."""
    assert response.status_code == 302 and response["Location"].startswith(f"{mock.url}/oauth/authorize?")
    answer = requests.get(response["Location"], allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    back = urlsplit(answer.headers["Location"])
    assert back.path == CALLBACK
    return f"{back.path}?{back.query}"


@pytest.mark.parametrize("who,expected", sorted(ADD.items()))
def test_connect_page_permission(org, client_for, who, expected):
    response = client_for(getattr(org.users, who)).get(CONNECT)
    assert response.status_code == expected
    if expected == 200:
        assert "mastodon" in response.content.decode()  # offered: its connector connects through OAuth


def test_connect_registers_the_app_consents_and_stores_the_account(org, client_for, mastodon_mock, brand):
    mock, client = mastodon_mock, client_for(org.users.fr_admin)
    back = consent(mock, start(client, mock, org.france))
    # Dandelion registered itself once on the instance; its client secret is stored encrypted
    assert len(mock.apps) == 1
    registered = next(iter(mock.apps.values()))
    app = OAuthApp.objects.get()
    assert app.instance == mock.url and app.redirect_uri == registered["redirect_uri"]
    assert app.redirect_uri.endswith(CALLBACK)
    assert registered["client_secret"] not in app.credentials_encrypted
    assert app.credentials == {"client_id": registered["client_id"], "client_secret": registered["client_secret"]}
    assert AuditEvent.objects.filter(action="assets.oauth_app.register").count() == 1

    response = client.get(back)
    account = SocialAccount.objects.get(network="mastodon", external_id=brand.id)
    assert response.status_code == 302 and response["Location"] == account.get_absolute_url()
    assert account.handle == f"acme@{mock.host}" and account.owner_unit == org.france
    assert account.owner == org.users.fr_admin and account.display_name == "Acme France"
    assert account.connector_config == {"instance": mock.url}
    token = account.credentials["access_token"]
    assert mock.tokens[token] == brand.id and token not in account.credentials_encrypted
    row = AuditEvent.objects.get(action="assets.account.oauth_connect")
    assert token not in str(row.changes) and row.changes["credentials_keys"][1] == sorted(account.credentials)
    # the stored token works for the connector
    ref = connect.account_ref(account)
    assert registry.connector_for(ref).fetch_metrics(ref).posts == 0
    # the state is used once: replaying the callback is refused and connects nothing more
    replay = client.get(back)
    assert replay.status_code == 302 and replay["Location"] == CONNECT
    assert SocialAccount.objects.filter(network="mastodon").count() == 1


def test_reconnecting_reuses_the_app_and_links_the_existing_account(org, client_for, mastodon_mock, brand):
    mock, client = mastodon_mock, client_for(org.users.fr_admin)
    existing = SocialAccountFactory(owner_unit=org.france, network="mastodon", handle="old@handle",
                                    external_id=brand.id, last_error="The access token was revoked")
    client.get(consent(mock, start(client, mock, org.france)))
    client.get(consent(mock, start(client, mock, org.france)))
    assert len(mock.apps) == 1 and OAuthApp.objects.count() == 1  # registered once per instance
    existing.refresh_from_db()
    assert SocialAccount.objects.filter(network="mastodon").count() == 1
    assert existing.handle == f"acme@{mock.host}" and existing.last_error == ""
    assert mock.tokens[existing.credentials["access_token"]] == brand.id
    assert AuditEvent.objects.filter(action="assets.account.oauth_connect", object_id=str(existing.pk)).count() == 2


def test_linking_an_account_of_another_unit_is_refused(org, client_for, mastodon_mock, brand):
    mock = mastodon_mock
    spanish = SocialAccountFactory(owner_unit=org.spain, network="mastodon", handle="acme", external_id=brand.id)
    client = client_for(org.users.fr_admin)
    response = client.get(consent(mock, start(client, mock, org.france)))
    assert response.status_code == 403
    spanish.refresh_from_db()
    assert not spanish.has_credentials


def test_a_unit_outside_ones_grants_is_refused(org, client_for, mastodon_mock, brand):
    response = start(client_for(org.users.es_admin), mastodon_mock, org.france)
    assert response.status_code == 400 and not mastodon_mock.apps and not OAuthApp.objects.exists()


def test_forged_foreign_and_denied_callbacks_connect_nothing(org, client_for, mastodon_mock, brand):
    mock = mastodon_mock
    admin = client_for(org.users.fr_admin)
    back = consent(mock, start(admin, mock, org.france))
    query = parse_qs(urlsplit(back).query)
    # another session (an attacker's link opened by someone else) cannot complete it, even with a valid state
    other = client_for(org.users.europe_admin)
    assert other.get(back)["Location"] == CONNECT
    # a forged or altered state
    assert admin.get(CALLBACK, {"code": query["code"][0], "state": "x.y"})["Location"] == CONNECT
    assert admin.get(CALLBACK, {"code": query["code"][0], "state": query["state"][0] + "A"})["Location"] == CONNECT
    # the user refused on the network's screen
    denied = consent(mock, start(admin, mock, org.france))
    state = parse_qs(urlsplit(denied).query)["state"][0]
    response = admin.get(CALLBACK, {"error": "access_denied", "state": state}, follow=True)
    assert "access_denied" in response.content.decode()
    assert not SocialAccount.objects.filter(network="mastodon").exists()
    assert not AuditEvent.objects.filter(action="assets.account.oauth_connect").exists()


def test_a_refused_code_and_an_unreachable_instance_are_shown(org, client_for, mastodon_mock, brand):
    mock, client = mastodon_mock, client_for(org.users.fr_admin)
    back = consent(mock, start(client, mock, org.france))
    query = parse_qs(urlsplit(back).query)
    mock.codes.clear()  # the code expired on the instance
    response = client.get(CALLBACK, {"code": query["code"][0], "state": query["state"][0]}, follow=True)
    assert "The network answered" in response.content.decode()
    assert not SocialAccount.objects.filter(network="mastodon").exists()
    unreachable = client.post(CONNECT, {"network": "mastodon", "instance": "http://127.0.0.1:9",
                                        "owner_unit": org.france.pk})
    assert unreachable.status_code == 400 and "The network answered" in unreachable.content.decode()


def test_networks_without_oauth_are_not_offered(org, client_for, mastodon_mock):
    response = client_for(org.users.fr_admin).post(CONNECT, {"network": "facebook", "instance": mastodon_mock.url,
                                                             "owner_unit": org.france.pk})
    assert response.status_code == 400 and not mastodon_mock.apps
