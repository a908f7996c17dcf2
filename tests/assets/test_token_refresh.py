"""Refreshed OAuth tokens written back to the account's encrypted credentials (``connectors/tokens.py`` →
``assets.services.store_refreshed_credentials``): the refresh happens, is persisted, survives a worker restart (a new
connector instance, an empty process cache), an older concurrent write never wins, and a revoked refresh token shows
on the account's health in the registry.

The networks are recorded responses shaped as X's, LinkedIn's and Google's documentation (``responses``, ``respx``,
``HttpMockSequence``), not the live services; the database, the encryption and the audit trail are the real ones.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import responses
import respx
from django.urls import reverse
from django.utils import timezone
from googleapiclient.http import HttpMockSequence
from responses import matchers

from dandelion.assets.models import SocialAccount
from dandelion.assets.services import set_account_credentials, store_refreshed_credentials
from dandelion.connectors import registry
from dandelion.connectors.errors import ConnectorError
from dandelion.connectors.linkedin import api as linkedin_api
from dandelion.connectors.x import api as x_api
from dandelion.connectors.youtube import client as yt
from dandelion.core.models import AuditEvent
from dandelion.inbox.connect import account_ref
from tests.connectors.meta_helpers import fixture
from tests.factories import SocialAccountFactory

pytestmark = pytest.mark.django_db

ME = "1500000000000000000"
ME_URL = "https://api.twitter.com/2/users/me"
TOKEN_URL = "https://api.x.com/2/oauth2/token"
X_CREDENTIALS = {"access_token": "user-token", "refresh_token": "refresh-1", "client_id": "cid",
                 "client_secret": "csecret"}


@pytest.fixture(autouse=True)
def _fresh_processes():
    x_api.reset()
    linkedin_api.forget()
    yt.forget()
    yield
    x_api.reset()
    linkedin_api.forget()
    yt.forget()


def restart() -> None:
    """What a worker restart loses: every token refreshed in memory."""
    x_api.reset()
    linkedin_api.forget()
    yt.forget()


@pytest.fixture
def x_account(org):
    account = SocialAccountFactory(network="x", connector="x", external_id=ME, handle="brand_fr",
                                   owner_unit=org.france)
    set_account_credentials(account, credentials=dict(X_CREDENTIALS), expires_at=None, actor=org.users.hub_admin)
    return SocialAccount.objects.get(pk=account.pk)


def token_answer(access: str, refresh: str) -> dict:
    return {"token_type": "bearer", "expires_in": 7200, "access_token": access, "scope": "tweet.read offline.access",
            "refresh_token": refresh}


def bearer(token: str):
    return [matchers.header_matcher({"Authorization": f"Bearer {token}"})]


def reload(account) -> SocialAccount:
    return SocialAccount.objects.get(pk=account.pk)


@responses.activate
def test_refreshed_x_tokens_are_stored_encrypted_and_survive_a_restart(x_account):
    version = x_account.credentials_version
    responses.get(ME_URL, json=fixture("x", "error_401.json"), status=401, match=bearer("user-token"))
    token = responses.post(TOKEN_URL, json=token_answer("fresh-token", "refresh-2"))
    responses.get(ME_URL, json=fixture("x", "me.json"), match=bearer("fresh-token"))

    metrics = registry.get("x").fetch_metrics(account_ref(x_account))
    assert metrics.followers == 8800 and token.call_count == 1

    stored = reload(x_account)
    assert stored.credentials == {**X_CREDENTIALS, "access_token": "fresh-token", "refresh_token": "refresh-2"}
    assert stored.credentials_version == version + 1
    assert "fresh-token" not in stored.credentials_encrypted and "refresh-2" not in stored.credentials_encrypted
    expected_expiry = timezone.now() + dt.timedelta(hours=2)
    assert abs((stored.credentials_expires_at - expected_expiry).total_seconds()) < 60
    row = AuditEvent.objects.filter(action="assets.account.refresh_credentials").get()
    assert row.actor_id is None and row.actor_repr == "system"
    dumped = json.dumps(row.changes) + row.summary
    assert row.changes["credentials_keys"][1] == ["access_token", "refresh_token"]
    assert "fresh-token" not in dumped and "refresh-2" not in dumped

    # a restarted worker: nothing in memory, a new connector instance; the stored token is used, no refresh
    restart()
    fresh_connector = type(registry.get("x"))()
    assert fresh_connector.fetch_metrics(account_ref(reload(x_account))).followers == 8800
    assert token.call_count == 1
    # and the next refresh uses the rotated refresh token
    responses.replace(responses.GET, ME_URL, json=fixture("x", "error_401.json"), status=401)
    responses.get(ME_URL, json=fixture("x", "me.json"), match=bearer("third-token"))
    second = responses.post(TOKEN_URL, json=token_answer("third-token", "refresh-3"))
    restart()
    fresh_connector.fetch_metrics(account_ref(reload(x_account)))
    assert "refresh_token=refresh-2" in second.calls[-1].request.body
    assert reload(x_account).credentials["refresh_token"] == "refresh-3"


@responses.activate
def test_an_older_concurrent_refresh_does_not_overwrite_a_newer_token(x_account):
    # two workers built their refs from the same stored version; both get a 401 and refresh
    worker_a, worker_b = account_ref(x_account), account_ref(reload(x_account))
    responses.get(ME_URL, json=fixture("x", "error_401.json"), status=401, match=bearer("user-token"))
    responses.get(ME_URL, json=fixture("x", "me.json"), match=bearer("token-a"))
    responses.get(ME_URL, json=fixture("x", "me.json"), match=bearer("token-b"))
    responses.post(TOKEN_URL, json=token_answer("token-a", "refresh-a"))
    registry.get("x").fetch_metrics(worker_a)
    assert reload(x_account).credentials["access_token"] == "token-a"

    restart()  # worker B is another process
    responses.replace(responses.POST, TOKEN_URL, json=token_answer("token-b", "refresh-b"))
    registry.get("x").fetch_metrics(worker_b)  # B's call goes through with the token it got...
    stored = reload(x_account)  # ...but its write, based on the old version, is refused
    assert (stored.credentials["access_token"], stored.credentials["refresh_token"]) == ("token-a", "refresh-a")
    assert AuditEvent.objects.filter(action="assets.account.refresh_credentials").count() == 1

    # the service itself: a write based on an older version returns False and writes nothing
    assert not store_refreshed_credentials(x_account.pk, values={"access_token": "stale"}, expires_at=None,
                                           based_on=worker_b.credentials_version)
    assert reload(x_account).credentials["access_token"] == "token-a"


@responses.activate
def test_a_revoked_refresh_token_is_a_permanent_error_shown_in_the_registry(x_account, client_for, org):
    responses.get(ME_URL, json=fixture("x", "error_401.json"), status=401)
    responses.post(TOKEN_URL, status=400, json={"error": "invalid_request",
                                                "error_description": "Value passed for the token was invalid."})
    with pytest.raises(ConnectorError) as caught:
        registry.get("x").fetch_metrics(account_ref(x_account))
    assert caught.value.permanent
    stored = reload(x_account)
    assert stored.last_error.startswith("Token refresh: X refused to refresh the token (HTTP 400")
    assert "connector_error" in stored.health_flags()
    assert AuditEvent.objects.filter(action="assets.account.refresh_refused", object_id=str(x_account.pk)).exists()
    page = client_for(org.users.hub_admin).get(reverse("assets:account-list"), {"network": "x"})
    assert 'data-flag="connector_error"' in page.content.decode()

    # reconnecting (new credentials) and a successful refresh clear it
    set_account_credentials(stored, credentials=dict(X_CREDENTIALS), expires_at=None, actor=org.users.hub_admin)
    restart()
    responses.replace(responses.POST, TOKEN_URL, json=token_answer("fresh-token", "refresh-2"))
    responses.replace(responses.GET, ME_URL, json=fixture("x", "error_401.json"), status=401)
    responses.get(ME_URL, json=fixture("x", "me.json"), match=bearer("fresh-token"))
    registry.get("x").fetch_metrics(account_ref(reload(x_account)))
    assert reload(x_account).last_error == ""


@responses.activate
def test_a_refused_refresh_is_transient_when_another_worker_stored_a_newer_token(x_account):
    stale = account_ref(x_account)  # built before another worker rotated the refresh token
    store_refreshed_credentials(x_account.pk, values={"access_token": "token-a", "refresh_token": "refresh-a"},
                                expires_at=None, based_on=x_account.credentials_version)
    responses.get(ME_URL, json=fixture("x", "error_401.json"), status=401)
    responses.post(TOKEN_URL, status=400, json={"error": "invalid_request"})  # refresh-1 was rotated away
    with pytest.raises(ConnectorError) as caught:
        registry.get("x").fetch_metrics(stale)
    assert not caught.value.permanent and caught.value.retry_after
    assert reload(x_account).last_error == ""


def test_linkedin_refresh_is_written_back(org):
    account = SocialAccountFactory(network="linkedin", connector="linkedin", external_id="urn:li:organization:2414183",
                                   owner_unit=org.france, connector_config={"page_size": 2, "posts_watched": 5})
    set_account_credentials(account, credentials={
        "access_token": "AQV-stored", "expires_at": "2020-01-01T00:00:00+00:00", "refresh_token": "AQX-refresh",
        "client_id": "78abc", "client_secret": "WPL_AP1.x"}, expires_at=None, actor=org.users.hub_admin)
    account = reload(account)
    sizes_url = f"https://api.linkedin.com/rest/networkSizes/{linkedin_api.urn(account.external_id)}"
    with respx.mock(assert_all_called=False) as mock:
        token = mock.post(linkedin_api.TOKEN_URL).respond(json={
            "access_token": "AQV-refreshed", "expires_in": 5184000, "refresh_token": "AQX-refresh"})
        sizes = mock.get(sizes_url).respond(json={"firstDegreeSize": 1234})
        registry.get("linkedin").fetch_metrics(account_ref(account))
        restart()
        registry.get("linkedin").fetch_metrics(account_ref(reload(account)))
    assert token.call_count == 1
    assert [c.request.headers["Authorization"] for c in sizes.calls] == ["Bearer AQV-refreshed"] * 2
    stored = reload(account)
    assert stored.credentials["access_token"] == "AQV-refreshed"
    assert stored.credentials_expires_at > timezone.now() + dt.timedelta(days=59)


def test_youtube_refresh_is_written_back(org, monkeypatch):
    from tests.connectors.test_youtube import CHANNEL, ok

    account = SocialAccountFactory(network="youtube", connector="youtube", external_id=CHANNEL, owner_unit=org.france)
    set_account_credentials(account, credentials={
        "access_token": "ya29.stored", "expires_at": "2020-01-01T00:00:00+00:00",
        "refresh_token": "1//0gRefreshToken", "client_id": "123.apps.googleusercontent.com",
        "client_secret": "GOCSPX-secret"}, expires_at=None, actor=org.users.hub_admin)
    mock = HttpMockSequence([ok("token_refresh.json"), ok("channels_statistics.json"),
                             ok("channels_statistics.json")])
    monkeypatch.setattr(yt, "new_http", lambda timeout=20.0: mock)
    registry.get("youtube").fetch_metrics(account_ref(reload(account)))
    stored = reload(account)
    assert stored.credentials["access_token"] == "ya29.a0AfH6SMBrefreshed"
    assert stored.credentials["refresh_token"] == "1//0gRefreshToken"
    restart()
    registry.get("youtube").fetch_metrics(account_ref(reload(account)))  # no second token call: the sequence holds
    assert [r[0] == yt.TOKEN_URI for r in mock.request_sequence] == [True, False, False]
    assert mock.request_sequence[2][3]["authorization"] == "Bearer ya29.a0AfH6SMBrefreshed"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_storing_at_once_one_wins_the_row_lock(org):
    """PostgreSQL: two workers write refreshed tokens based on the same version at the same moment; the row lock
    serialises them and only the first is stored (the second sees the moved version and writes nothing)."""
    import threading

    from django.db import connections

    account = SocialAccountFactory(network="x", connector="x", external_id=ME, owner_unit=org.france)
    set_account_credentials(account, credentials=dict(X_CREDENTIALS), expires_at=None, actor=org.users.hub_admin)
    based_on = reload(account).credentials_version
    start = threading.Barrier(2)
    results: dict[str, bool] = {}

    def worker(name: str) -> None:
        try:
            start.wait(10)
            results[name] = store_refreshed_credentials(
                account.pk, values={"access_token": f"token-{name}", "refresh_token": f"refresh-{name}"},
                expires_at=None, based_on=based_on)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert sorted(results.values()) == [False, True]
    winner = next(name for name, won in results.items() if won)
    stored = reload(account)
    assert stored.credentials["access_token"] == f"token-{winner}"
    assert stored.credentials["refresh_token"] == f"refresh-{winner}"
    assert stored.credentials_version == based_on + 1
