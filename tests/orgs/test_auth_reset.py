"""Password reset: asked for by username or e-mail, never revealing whether an account exists; a token link;
the new password passes Django's validators; the change is audited and lifts a login lockout."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from dandelion.core.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^\s]+/accounts/reset/[^\s]+/")
NEW_PASSWORD = "Copper-kettle-93-harbour"


def _request(client, login):
    return client.post(reverse("password_reset"), {"login": login})


def _link_path(body):
    match = LINK.search(body)
    assert match, body
    return re.sub(r"^https?://[^/]+", "", match.group(0))


def test_pages_render_in_the_login_style(client):
    login = client.get(reverse("login")).content.decode()
    assert reverse("password_reset") in login
    page = client.get(reverse("password_reset"))
    assert page.status_code == 200 and 'class="login-card"' in page.content.decode()
    assert 'name="login"' in page.content.decode()


@pytest.mark.parametrize("login", ["carla", "CARLA@example.org", "carla@example.org"])
def test_reset_by_username_or_email_changes_the_password(client, login):
    user = UserFactory(username="carla", email="carla@example.org")
    resp = _request(client, login)
    assert resp.status_code == 302 and resp["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["carla@example.org"]
    path = _link_path(mail.outbox[0].body)
    c = Client()
    step = c.get(path)
    assert step.status_code == 302 and step["Location"].endswith("/set-password/")  # token out of the URL
    done = c.post(step["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == reverse("password_reset_complete")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(action="auth.password.reset", actor=user).count() == 1
    # the link works once
    again = Client().get(path)
    assert again.status_code == 200 and b"new_password1" not in again.content
    # and the person logs in with the new password through the real login form
    resp = Client().post(reverse("login"), {"username": "carla", "password": NEW_PASSWORD})
    assert resp.status_code == 302 and resp["Location"] == reverse("home")


def test_unknown_account_gets_the_same_answer_and_no_mail(client):
    UserFactory(username="carla", email="carla@example.org")
    known = _request(client, "carla")
    unknown = _request(client, "nobody-here@example.org")
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert len(mail.outbox) == 1
    done = client.get(reverse("password_reset_done")).content.decode()
    assert "If an account matches" in done


def test_inactive_and_passwordless_accounts_get_no_mail(client):
    UserFactory(username="gone", email="gone@example.org", is_active=False)
    invited = UserFactory(username="invited", email="invited@example.org")
    invited.set_unusable_password()
    invited.save()
    for login in ("gone", "invited"):
        assert _request(client, login).status_code == 302
    assert mail.outbox == []


def test_reset_refuses_username_and_weak_passwords(client):
    UserFactory(username="carla.mendes", email="carla@example.org", first_name="Carla", last_name="Mendes")
    _request(client, "carla.mendes")
    c = Client()
    url = c.get(_link_path(mail.outbox[0].body))["Location"]
    for weak in ("carla.mendes", "carla@example.org", "Mendes1234", "qwertyuiop", "8675309123", "Abc-12"):
        resp = c.post(url, {"new_password1": weak, "new_password2": weak})
        assert resp.status_code == 200, weak
        assert resp.context["form"].errors, weak


def test_tampered_link_is_refused(client):
    UserFactory(username="carla", email="carla@example.org")
    _request(client, "carla")
    path = _link_path(mail.outbox[0].body)
    bad = path[:-3] + ("a" if path[-3] != "a" else "b") + path[-2:]
    resp = Client().get(bad)
    assert resp.status_code == 200 and b"invalid" in resp.content and b"new_password1" not in resp.content


def test_reset_lifts_a_lockout(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="carla", email="carla@example.org")
    for _ in range(3):
        client.post(reverse("login"), {"username": "carla", "password": "wrong"})
    assert client.post(reverse("login"), {"username": "carla", "password": "pw-test-123"}).status_code == 429
    _request(client, "carla")
    c = Client()
    url = c.get(_link_path(mail.outbox[0].body))["Location"]
    c.post(url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    resp = client.post(reverse("login"), {"username": "carla", "password": NEW_PASSWORD})
    assert resp.status_code == 302
