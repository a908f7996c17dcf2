"""Login throttling (django-axes): wrong passwords for one username from one address lock that pair out for the
cool-off period, with a clear 429 page; the right password is refused meanwhile; other people and API tokens are
unaffected; an administrator can unlock."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def _login(client, username, password, ip="203.0.113.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_fifty_wrong_passwords_are_refused_and_lock_the_account(client, settings):
    settings.AXES_FAILURE_LIMIT = 5
    UserFactory(username="victim")
    statuses = [_login(client, "victim", f"guess-{i}").status_code for i in range(50)]
    assert statuses[:4] == [200] * 4  # the form again, "didn't match"
    assert set(statuses[4:]) == {429}  # the fifth failure locks; every later try is refused unseen
    locked = _login(client, "victim", "pw-test-123")
    assert locked.status_code == 429  # even the right password, during the cool-off
    text = locked.content.decode()
    assert "Too many failed logins" in text and "15 minutes" in text
    assert "_auth_user_id" not in client.session

    from axes.models import AccessAttempt

    attempt = AccessAttempt.objects.get(username="victim")
    assert attempt.failures_since_start >= 5


def test_lockout_is_per_username_and_address(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="victim")
    UserFactory(username="colleague")
    for i in range(3):
        _login(client, "victim", f"guess-{i}")
    assert _login(client, "victim", "pw-test-123").status_code == 429
    # someone else from the same address, and the victim from their own address, still log in
    assert _login(Client(), "colleague", "pw-test-123").status_code == 302
    assert _login(Client(), "victim", "pw-test-123", ip="198.51.100.20").status_code == 302


def test_cool_off_expires(client, settings):
    import datetime as dt

    settings.AXES_FAILURE_LIMIT = 2
    UserFactory(username="victim")
    for i in range(2):
        _login(client, "victim", f"guess-{i}")
    assert _login(client, "victim", "pw-test-123").status_code == 429
    from axes.models import AccessAttempt

    AccessAttempt.objects.update(attempt_time=dt.datetime.now(dt.UTC) - settings.AXES_COOLOFF_TIME
                                 - dt.timedelta(minutes=1))
    assert _login(client, "victim", "pw-test-123").status_code == 302


def test_success_resets_the_failure_count(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="typo")
    for _ in range(2):
        _login(client, "typo", "wrong")
    assert _login(client, "typo", "pw-test-123").status_code == 302
    client.post(reverse("logout"))
    for _ in range(2):
        _login(client, "typo", "wrong")
    assert _login(client, "typo", "pw-test-123").status_code == 302


def test_admin_unlocks_with_the_command(client, settings):
    settings.AXES_FAILURE_LIMIT = 2
    UserFactory(username="victim")
    for i in range(2):
        _login(client, "victim", f"guess-{i}")
    assert _login(client, "victim", "pw-test-123").status_code == 429
    call_command("axes_reset_username", "victim")
    assert _login(client, "victim", "pw-test-123").status_code == 302


def test_admin_login_is_throttled_too(client, settings):
    settings.AXES_FAILURE_LIMIT = 2
    UserFactory(username="root", is_staff=True, is_superuser=True)
    for i in range(2):
        client.post("/admin/login/", {"username": "root", "password": f"guess-{i}"}, REMOTE_ADDR="203.0.113.7")
    resp = client.post("/admin/login/", {"username": "root", "password": "pw-test-123"}, REMOTE_ADDR="203.0.113.7")
    assert resp.status_code == 429


def test_api_tokens_are_unaffected_by_a_lockout(client, settings, api_for):
    settings.AXES_FAILURE_LIMIT = 2
    user = UserFactory(username="integration")
    for i in range(2):
        _login(client, "integration", f"guess-{i}")
    assert _login(client, "integration", "pw-test-123").status_code == 429
    resp = api_for(user).get("/api/v1/guidelines/")
    assert resp.status_code == 200
