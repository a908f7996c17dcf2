"""Connecting a YouTube channel, a Reddit account and a LinkedIn page through the registry's OAuth views
(``assets:account-connect`` and its callback), end to end in Dandelion, against recorded responses (not the live
networks): the consent URL, the state checked on the way back, the code exchanged, the credentials stored encrypted
and usable by the connector."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import responses
import respx
from django.urls import reverse
from googleapiclient.http import HttpMockSequence

from dandelion.assets.models import SocialAccount
from dandelion.connectors import registry
from dandelion.connectors.linkedin import api as linkedin_api
from dandelion.connectors.reddit import client as reddit_clients
from dandelion.connectors.youtube import client as yt
from dandelion.inbox import connect

pytestmark = pytest.mark.django_db

CONNECT = reverse("assets:account-connect")
CALLBACK = reverse("assets:account-connect-callback")
FIXTURES = Path(__file__).parent / "fixtures"


def fixture(network: str, name: str) -> str:
    return (FIXTURES / network / name).read_text()


def start(client, unit, network: str, instance: str) -> dict[str, list[str]]:
    response = client.post(CONNECT, {"network": network, "instance": instance, "owner_unit": unit.pk})
    assert response.status_code == 302, response.content[:500]
    return parse_qs(urlsplit(response["Location"]).query)


def back(client, consent: dict[str, list[str]], code: str):
    assert urlsplit(consent["redirect_uri"][0]).path == CALLBACK
    return client.get(f"{CALLBACK}?{urlencode({'code': code, 'state': consent['state'][0]})}")


def test_connect_a_youtube_channel(org, client_for, monkeypatch):
    monkeypatch.setenv("DANDELION_YOUTUBE_CLIENT_ID", "123.apps.googleusercontent.com")
    monkeypatch.setenv("DANDELION_YOUTUBE_CLIENT_SECRET", "GOCSPX-secret")
    ok = {"status": "200", "content-type": "application/json"}
    mock = HttpMockSequence(
        [
            (ok, fixture("youtube", "token.json")),
            (ok, fixture("youtube", "channels_mine.json")),
            (ok, fixture("youtube", "channels_statistics.json")),
        ]
    )
    monkeypatch.setattr(yt, "new_http", lambda timeout=20.0: mock)
    yt.forget()
    client = client_for(org.users.fr_admin)
    consent = start(client, org.france, "youtube", "accounts.google.com")
    assert consent["access_type"] == ["offline"]
    response = back(client, consent, "4/0Acode")
    account = SocialAccount.objects.get(network="youtube")
    assert response.status_code == 302 and response["Location"] == account.get_absolute_url()
    assert (account.external_id, account.handle, account.connector) == (
        "UCbrandChannel0000000000",
        "@brand",
        "youtube",
    )
    assert account.credentials["refresh_token"] == "1//0gRefreshToken"
    assert "1//0gRefreshToken" not in account.credentials_encrypted
    ref = connect.account_ref(account)
    assert registry.connector_for(ref).fetch_metrics(ref).followers == 45600
    yt.forget()


def test_connect_a_reddit_account(org, client_for, monkeypatch):
    monkeypatch.setenv("DANDELION_REDDIT_CLIENT_ID", "p-jcoLKBynTLew")
    monkeypatch.setenv("DANDELION_REDDIT_CLIENT_SECRET", "gko_LXELoV07ZBNUXrvWZfzE3aI")
    reddit_clients.forget()
    client = client_for(org.users.fr_admin)
    consent = start(client, org.france, "reddit", "www.reddit.com")
    assert consent["duration"] == ["permanent"]
    with responses.RequestsMock() as mock:
        mock.add(
            responses.POST,
            "https://www.reddit.com/api/v1/access_token",
            json=json.loads(fixture("reddit", "token_authorization_code.json")),
        )
        mock.add(
            responses.GET, "https://oauth.reddit.com/api/v1/me", json=json.loads(fixture("reddit", "me.json"))
        )
        response = back(client, consent, "abcCODE")
    account = SocialAccount.objects.get(network="reddit")
    assert response.status_code == 302
    assert (account.external_id, account.handle, account.connector) == ("t2_1w72", "brand_official", "reddit")
    assert account.credentials["refresh_token"] == "123456789-refreshAbC"
    reddit_clients.forget()


def test_connect_a_linkedin_page(org, client_for, monkeypatch):
    monkeypatch.setenv("DANDELION_LINKEDIN_CLIENT_ID", "78abc")
    monkeypatch.setenv("DANDELION_LINKEDIN_CLIENT_SECRET", "WPL_AP1.x")
    linkedin_api.forget()
    client = client_for(org.users.fr_admin)
    consent = start(client, org.france, "linkedin", "www.linkedin.com")
    with respx.mock(assert_all_called=False) as mock:
        mock.post(linkedin_api.TOKEN_URL).respond(json=json.loads(fixture("linkedin", "token.json")))
        mock.get(f"{linkedin_api.API}/organizationAcls").respond(
            json=json.loads(fixture("linkedin", "organization_acls.json"))
        )
        mock.get(f"{linkedin_api.API}/organizations/2414183").respond(
            json=json.loads(fixture("linkedin", "organization.json"))
        )
        mock.get(
            f"{linkedin_api.API}/networkSizes/{linkedin_api.urn('urn:li:organization:2414183')}"
        ).respond(json=json.loads(fixture("linkedin", "network_size.json")))
        response = back(client, consent, "AQTcode")
        account = SocialAccount.objects.get(network="linkedin")
        assert response.status_code == 302
        assert (account.external_id, account.handle, account.display_name) == (
            "urn:li:organization:2414183",
            "brand-inc",
            "Brand Inc.",
        )
        assert account.credentials_expires_at is not None
        ref = connect.account_ref(account)
        assert registry.connector_for(ref).fetch_metrics(ref).followers == 48210
    linkedin_api.forget()
