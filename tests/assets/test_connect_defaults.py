"""Facebook, Instagram and X default to their API connectors for accounts connected or registered from now on;
existing accounts keep the connector they were registered with. The "Connect an account" page and the registration
form say which connectors send replies. The Graph API answers are recorded responses shaped as Meta documents them,
not the live network."""

from __future__ import annotations

import importlib
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import respx
from django.apps import apps as django_apps
from django.urls import reverse

from dandelion.assets import services
from dandelion.assets.forms import AccountForm
from dandelion.assets.models import SocialAccount
from dandelion.connectors import registry
from tests.connectors.meta_helpers import APP_SECRET, GRAPH, fixture
from tests.factories import SocialAccountFactory

pytestmark = pytest.mark.django_db

CONNECT = reverse("assets:account-connect")
CALLBACK = reverse("assets:account-connect-callback")


@pytest.mark.parametrize("network", ["facebook", "instagram", "x"])
def test_the_api_connector_is_the_default_of_new_accounts(org, network):
    assert registry.get_network(network).default_connector == network
    account = services.register_account(actor=org.users.fr_admin, network=network, handle="brand",
                                        external_id=f"{network}-1", owner_unit=org.france)
    assert account.connector == network


def test_existing_accounts_keep_their_connector(org):
    kept = SocialAccountFactory(network="facebook", connector="generic", owner_unit=org.france)
    unset = SocialAccountFactory(network="x", connector="generic", owner_unit=org.france)
    SocialAccount.objects.filter(pk=unset.pk).update(connector="")  # a row written outside the services
    other = SocialAccountFactory(network="linkedin", connector="", owner_unit=org.france)
    migration = importlib.import_module("dandelion.assets.migrations.0006_keep_connectors_of_existing_accounts")
    migration.pin_previous_defaults(django_apps, None)
    assert SocialAccount.objects.get(pk=kept.pk).connector == "generic"
    assert SocialAccount.objects.get(pk=unset.pk).connector == "generic"  # its default when it was registered
    assert SocialAccount.objects.get(pk=other.pk).connector == ""  # a network whose default did not change
    # editing an existing account without touching its connector keeps it
    services.update_account(kept, actor=org.users.fr_admin, handle="renamed")
    assert SocialAccount.objects.get(pk=kept.pk).connector == "generic"


def test_connect_page_lists_the_networks_and_says_which_send_replies(org, client_for):
    body = client_for(org.users.fr_admin).get(CONNECT).content.decode()
    for network, label in (("facebook", "Facebook Page (Graph API)"), ("instagram", "Instagram (Graph API)"),
                           ("x", "X (API v2)")):
        row = body.split(f'<tr data-network="{network}">', 1)[1].split("</tr>", 1)[0]
        assert label in row and 'data-replies="yes"' in row and "Not needed" in row
        assert f'<option value="{network}"' in body
    mastodon = body.split('<tr data-network="mastodon">', 1)[1].split("</tr>", 1)[0]
    assert "Type the account&#x27;s server" in mastodon or "Type the account's server" in mastodon


def test_registration_form_says_which_connectors_send_replies(org):
    form = AccountForm(user=org.users.fr_admin)
    labels = dict(form.fields["connector"].choices)
    assert labels["facebook"].endswith("— sends replies")
    assert labels["x"].endswith("— sends replies")
    assert "cannot send replies" in labels["replay"]
    help_text = str(form.fields["connector"].help_text)
    assert "Facebook: Facebook Page (Graph API)" in help_text and "X (Twitter): X (API v2)" in help_text


@respx.mock
def test_connecting_a_facebook_page_needs_no_instance_and_uses_the_graph_connector(org, client_for, monkeypatch):
    monkeypatch.setenv("DANDELION_META_APP_ID", "42")
    monkeypatch.setenv("DANDELION_META_APP_SECRET", APP_SECRET)
    client = client_for(org.users.fr_admin)
    response = client.post(CONNECT, {"network": "facebook", "instance": "", "owner_unit": org.france.pk})
    assert response.status_code == 302, response.content[:500]
    consent = parse_qs(urlsplit(response["Location"]).query)
    assert response["Location"].startswith("https://www.facebook.com/")
    respx.get(f"{GRAPH}/oauth/access_token").side_effect = [
        httpx.Response(200, json=fixture("facebook", "oauth_short_token.json")),
        httpx.Response(200, json=fixture("facebook", "oauth_long_token.json")),
    ]
    respx.get(f"{GRAPH}/me/accounts").respond(json=fixture("facebook", "me_accounts.json"))
    back = client.get(f"{CALLBACK}?{urlencode({'code': 'AQDcode', 'state': consent['state'][0]})}")
    account = SocialAccount.objects.get(network="facebook", external_id="1234567890")
    assert back["Location"] == account.get_absolute_url()
    assert account.connector == "facebook" and account.owner_unit == org.france
    assert account.credentials["page_access_token"] == "EAApage"
