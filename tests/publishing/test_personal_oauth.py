"""Employee advocacy: a person connects their OWN account through the network's OAuth consent (the same OAuth apps
and connector Protocol as the registry's "Connect an account"), end to end against the MOCK Mastodon instance
(``tests/connectors/mastodon_mock.py``: a local HTTP server implementing Mastodon's app registration,
``/oauth/authorize``, ``/oauth/token``, ``verify_credentials`` and ``POST /api/v1/statuses``; it is not Mastodon).
The account belongs to the person (not a unit), its token is stored encrypted, shares go through it with that
token, and only its owner may disconnect it (the token is erased; audited)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.urls import reverse

from dandelion.assets.models import OAuthApp, SocialAccount
from dandelion.connectors.mastodon import client as mastodon_clients
from dandelion.core.models import AuditEvent
from dandelion.publishing import advocacy
from dandelion.publishing.choices import ShareState
from dandelion.publishing.exceptions import InvalidPost
from dandelion.publishing.models import PersonalAccount
from tests.connectors.mastodon_mock import mastodon_mock  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

LIST = reverse("publishing:advocacy-list")
CONNECT = reverse("publishing:advocacy-connect")
CALLBACK = reverse("publishing:advocacy-connect-callback")


@pytest.fixture(autouse=True)
def _fresh_clients():
    mastodon_clients.forget()
    yield
    mastodon_clients.forget()


@pytest.fixture
def camille(mastodon_mock):
    """Camille's own account on the instance (signed in there when she consents)."""
    account = mastodon_mock.account("camille", "Camille Perso")
    mastodon_mock.authorize_as = account.id
    return account


def start(client, mock, unit):
    return client.post(CONNECT, {"network": "mastodon", "instance": mock.url, "unit": unit.pk})


def consent(mock, response) -> str:
    assert response.status_code == 302 and response["Location"].startswith(f"{mock.url}/oauth/authorize?")
    answer = requests.get(response["Location"], allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    back = urlsplit(answer.headers["Location"])
    assert back.path == CALLBACK
    return f"{back.path}?{back.query}"


def _item(pub):
    return advocacy.create_item(actor=pub.users.hub_admin, unit=pub.hub, title="Summer sale",
                                url="https://shop.example.com/summer",
                                suggested_texts={"fr": "Les soldes d'été !"})


def test_the_page_offers_the_networks_with_a_consent_screen(pub, client_for):
    page = client_for(pub.users.fr_agent).get(LIST).content.decode()
    assert 'id="personal-connect"' in page and 'value="mastodon"' in page


def test_connect_share_through_it_and_disconnect(pub, client_for, mastodon_mock, camille):
    mock, client = mastodon_mock, client_for(pub.users.fr_agent)
    back = consent(mock, start(client, mock, pub.france))
    response = client.get(back)
    assert response.status_code == 302 and response["Location"] == LIST
    account = PersonalAccount.objects.get()
    # the person's, not a unit's: no registry account was made
    assert account.user == pub.users.fr_agent and account.unit == pub.france and account.is_active
    assert not SocialAccount.objects.filter(network="mastodon").exists()
    assert (account.network, account.external_id, account.handle) == ("mastodon", camille.id,
                                                                      f"camille@{mock.host}")
    assert account.connector_config == {"instance": mock.url} and account.instance == mock.url
    token = account.credentials["access_token"]
    assert mock.tokens[token] == camille.id and token not in account.credentials_encrypted
    row = AuditEvent.objects.get(action="publishing.advocacy.account_connect")
    assert row.actor == pub.users.fr_agent and token not in str(row.changes)
    assert OAuthApp.objects.get().redirect_uri.endswith(CALLBACK)  # the same registry of OAuth apps
    page = client.get(LIST).content.decode()
    assert f"camille@{mock.host}" in page and "Disconnect" in page
    # a share goes through it: the status is Camille's on the instance, posted with her token
    item = _item(pub)
    shared = client.post(item.get_absolute_url(), {"account": account.pk, "text": "Regardez ça"})
    assert shared.status_code == 302
    share = account.shares.get()
    assert share.state == ShareState.SENT and share.external_id
    status = mock.statuses[share.external_id]
    assert status["account"] == camille.id and "Regardez ça" in status["text"]
    # only its owner may disconnect it; another person's account is a 404 and stays connected
    other = client_for(pub.users.fr_agent2).post(reverse("publishing:advocacy-account-revoke", args=[account.pk]))
    assert other.status_code == 404
    done = client.post(reverse("publishing:advocacy-account-revoke", args=[account.pk]))
    assert done.status_code == 302
    account.refresh_from_db()
    assert not account.is_active and account.revoked_at and account.credentials_encrypted == ""
    assert AuditEvent.objects.filter(action="publishing.advocacy.account_revoke", actor=pub.users.fr_agent).count() == 1
    with pytest.raises(InvalidPost):
        advocacy.share_item(_item(pub), actor=pub.users.fr_agent, account=account, text="Encore")
    # connecting again reactivates it with a fresh token
    client.get(consent(mock, start(client, mock, pub.france)))
    account.refresh_from_db()
    assert account.is_active and account.revoked_at is None and mock.tokens[account.credentials["access_token"]]
    assert PersonalAccount.objects.count() == 1


def test_an_account_linked_by_someone_else_is_refused(pub, client_for, mastodon_mock, camille):
    mock = mastodon_mock
    first = client_for(pub.users.fr_agent)
    first.get(consent(mock, start(first, mock, pub.france)))
    second = client_for(pub.users.fr_agent2)
    response = second.get(consent(mock, start(second, mock, pub.france)), follow=True)
    assert "already linked by someone else" in response.content.decode()
    assert PersonalAccount.objects.get().user == pub.users.fr_agent


def test_forged_foreign_and_denied_callbacks_connect_nothing(pub, client_for, mastodon_mock, camille):
    mock = mastodon_mock
    me = client_for(pub.users.fr_agent)
    back = consent(mock, start(me, mock, pub.france))
    query = parse_qs(urlsplit(back).query)
    # someone else's session cannot complete it, even with a valid state
    assert client_for(pub.users.fr_agent2).get(back)["Location"] == LIST
    assert me.get(CALLBACK, {"code": query["code"][0], "state": query["state"][0] + "A"})["Location"] == LIST
    denied = consent(mock, start(me, mock, pub.france))
    state = parse_qs(urlsplit(denied).query)["state"][0]
    response = me.get(CALLBACK, {"error": "access_denied", "state": state}, follow=True)
    assert "access_denied" in response.content.decode()
    assert not PersonalAccount.objects.exists()
    assert not AuditEvent.objects.filter(action="publishing.advocacy.account_connect").exists()


def test_who_may_connect(pub, client_for, mastodon_mock, camille):
    # a unit where one may not share: refused before anything is registered on the instance
    response = start(client_for(pub.users.fr_agent), mastodon_mock, pub.spain)
    assert response.status_code == 302 and response["Location"] == LIST
    assert not mastodon_mock.apps and not OAuthApp.objects.exists()
    # no role anywhere: 403
    assert start(client_for(pub.users.nobody), mastodon_mock, pub.france).status_code == 403
    # a network without a consent screen is not offered
    response = client_for(pub.users.fr_agent).post(CONNECT, {"network": "facebook", "instance": mastodon_mock.url,
                                                             "unit": pub.france.pk})
    assert response.status_code == 302 and not mastodon_mock.apps


def test_revoke_service_only_for_the_owner(pub, mastodon_mock, camille):
    from dandelion.core.exceptions import PermissionDeniedError

    account = advocacy.register_personal_account(actor=pub.users.fr_agent, unit=pub.france, network="bluesky",
                                                 handle="me.test", external_id="did:plc:me")
    with pytest.raises(PermissionDeniedError):
        advocacy.revoke_personal_account(account, actor=pub.users.hub_admin)
    advocacy.revoke_personal_account(account, actor=pub.users.fr_agent)
    advocacy.revoke_personal_account(account, actor=pub.users.fr_agent)  # again: nothing more
    assert AuditEvent.objects.filter(action="publishing.advocacy.account_revoke").count() == 1


def test_api_lists_ones_own_and_revokes(pub, api_for):
    account = advocacy.register_personal_account(actor=pub.users.fr_agent, unit=pub.france, network="bluesky",
                                                 handle="me.test", external_id="did:plc:me")
    mine = api_for(pub.users.fr_agent).get("/api/v1/personal-accounts/").json()["results"]
    assert [(a["id"], a["is_connected"], a["revoked_at"]) for a in mine] == [(account.pk, False, None)]
    assert "credentials" not in str(mine)
    url = f"/api/v1/personal-accounts/{account.pk}/revoke/"
    assert api_for(pub.users.fr_agent2).post(url).status_code == 404
    done = api_for(pub.users.fr_agent).post(url)
    assert done.status_code == 200 and done.json()["is_active"] is False and done.json()["revoked_at"]
