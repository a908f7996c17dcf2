"""Invitations: an admin invites a new person, who receives an e-mail with a link, chooses a password (Django's
validators apply) and is signed in. Resending voids earlier links; links expire; each step is permission-checked
and audited. One test runs the whole flow through a real SMTP server (aiosmtpd) started by the test."""

from __future__ import annotations

import re
import socket
from email import message_from_bytes, policy

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from dandelion.core.models import AuditEvent
from dandelion.orgs import services
from dandelion.orgs.choices import Role
from dandelion.orgs.exceptions import InvitationNotPending
from dandelion.orgs.invitations import TokenState, invitation_path, invitation_tokens
from dandelion.orgs.models import Membership

# Real commits: the invitation e-mail leaves on commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

LINK = re.compile(r"https?://[^\s]+/accounts/invitation/[^\s]+/")
GOOD_PASSWORD = "Lantern-orbit-47-quay"


def _invite(client, org, username="nina", email="nina@example.org"):
    return client.post(reverse("orgs:member-invite", args=[org.france.pk]), {
        "username": username, "email": email, "first_name": "Nina", "last_name": "Roux",
        "role": Role.COMMUNITY_MANAGER, "team": "",
    })


def _link_path(body: str) -> str:
    match = LINK.search(body)
    assert match, body
    return re.sub(r"^https?://[^/]+", "", match.group(0))


def _accept(client: Client, path: str, password: str):
    """Follow the link (token moves to the session), then post the password form."""
    first = client.get(path)
    assert first.status_code == 302 and first["Location"].endswith("/set-password/")
    form_page = client.get(first["Location"])
    assert form_page.status_code == 200 and b"new_password1" in form_page.content
    return client.post(first["Location"], {"new_password1": password, "new_password2": password})


def test_invite_sends_link_and_the_person_sets_a_password_and_is_logged_in(org, client_for):
    admin = client_for(org.users.fr_admin)
    resp = _invite(admin, org)
    assert resp.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["nina@example.org"]
    assert "nina" in message.body and "France" in message.body
    path = _link_path(message.body)

    newcomer = Client()
    resp = _accept(newcomer, path, GOOD_PASSWORD)
    assert resp.status_code == 302 and resp["Location"] == reverse("home")
    home = newcomer.get(reverse("orgs:tree"))
    assert home.status_code == 200 and home.wsgi_request.user.username == "nina"
    nina = Membership.objects.get(user__username="nina").user
    assert nina.check_password(GOOD_PASSWORD)
    actions = list(AuditEvent.objects.filter(action__startswith="orgs.membership.invite").values_list(
        "action", flat=True).order_by("id"))
    assert actions == ["orgs.membership.invite", "orgs.membership.invite_accept"]
    # the link is spent: a second use says so instead of showing the form
    again = Client().get(path)
    assert again.status_code == 200 and b"already been used" in again.content


def test_invitation_refuses_weak_passwords(org, client_for):
    _invite(client_for(org.users.fr_admin), org)
    path = _link_path(mail.outbox[0].body)
    c = Client()
    for weak in ("nina", "nina.roux", "password123", "12345678901", "short"):
        resp = _accept(c, path, weak) if weak == "nina" else c.post(
            path.rsplit("/", 2)[0] + "/set-password/", {"new_password1": weak, "new_password2": weak})
        assert resp.status_code == 200, weak
        assert resp.context["form"].errors["new_password2"], weak
    nina = Membership.objects.get(user__username="nina").user
    nina.refresh_from_db()
    assert not nina.has_usable_password()


def test_invitation_expires(org, client_for, settings, monkeypatch):
    settings.DANDELION_INVITATION_DAYS = 2
    _invite(client_for(org.users.fr_admin), org)
    path = _link_path(mail.outbox[0].body)
    user = Membership.objects.get(user__username="nina").user
    token = path.rstrip("/").rsplit("/", 1)[1]
    assert invitation_tokens.state(user, token) is TokenState.VALID
    later = invitation_tokens._now().timestamp() + 2 * 86400 + 60
    import datetime as dt

    monkeypatch.setattr(type(invitation_tokens), "_now", lambda self: dt.datetime.fromtimestamp(later))
    assert invitation_tokens.state(user, token) is TokenState.EXPIRED
    resp = Client().get(path)
    assert resp.status_code == 200 and b"expired" in resp.content and b"new_password1" not in resp.content


def test_resend_voids_earlier_links_and_is_audited(org, client_for):
    admin = client_for(org.users.fr_admin)
    _invite(admin, org)
    old_path = _link_path(mail.outbox[0].body)
    m = Membership.objects.get(user__username="nina")
    resp = admin.post(reverse("orgs:membership-resend-invitation", args=[m.pk]))
    assert resp.status_code == 302
    assert len(mail.outbox) == 2
    new_path = _link_path(mail.outbox[1].body)
    assert new_path != old_path
    stale = Client().get(old_path)
    assert stale.status_code == 200 and b"new_password1" not in stale.content and b"not valid" in stale.content
    assert AuditEvent.objects.filter(action="orgs.membership.invite_resend", actor=org.users.fr_admin).count() == 1
    assert _accept(Client(), new_path, GOOD_PASSWORD).status_code == 302
    # once the person has a password there is nothing to resend: a clear message, no e-mail
    resp = admin.post(reverse("orgs:membership-resend-invitation", args=[m.pk]), follow=True)
    assert len(mail.outbox) == 2
    assert "already set a password" in resp.content.decode()


def test_members_table_shows_pending_invitation_with_resend_button(org, client_for):
    admin = client_for(org.users.fr_admin)
    _invite(admin, org)
    m = Membership.objects.get(user__username="nina")
    page = admin.get(reverse("orgs:unit-detail", args=[org.france.pk])).content.decode()
    assert "invitation pending" in page
    assert reverse("orgs:membership-resend-invitation", args=[m.pk]) in page


@pytest.mark.parametrize("who, expected", [("hub_admin", 302), ("europe_admin", 302), ("fr_admin", 302),
                                           ("es_admin", 404), ("analyst", 403), ("fr_agent", 403),
                                           ("moderator", 403)])
def test_resend_permission_matrix(org, client_for, who, expected):
    services.invite_member(actor=org.users.hub_admin, unit=org.france, username="nina", email="nina@example.org",
                           role=Role.COMMUNITY_MANAGER)
    mail.outbox.clear()
    m = Membership.objects.get(user__username="nina")
    resp = client_for(getattr(org.users, who)).post(reverse("orgs:membership-resend-invitation", args=[m.pk]))
    assert resp.status_code == expected
    assert len(mail.outbox) == (1 if expected == 302 else 0)


def test_resend_requires_login(org, client):
    m = services.invite_member(actor=org.users.hub_admin, unit=org.france, username="nina",
                               email="nina@example.org", role=Role.COMMUNITY_MANAGER)
    resp = client.post(reverse("orgs:membership-resend-invitation", args=[m.pk]))
    assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]


def test_api_invite_sends_mail_and_resend_endpoint(org, api_for):
    api = api_for(org.users.fr_admin)
    resp = api.post("/api/v1/memberships/invite/", {"username": "nina", "email": "nina@example.org",
                                                    "role": Role.COMMUNITY_MANAGER, "unit": org.france.pk})
    assert resp.status_code == 201, resp.content
    assert len(mail.outbox) == 1
    pk = resp.json()["id"]
    resp = api.post(f"/api/v1/memberships/{pk}/resend-invitation/")
    assert resp.status_code == 200 and len(mail.outbox) == 2
    assert api_for(org.users.analyst).post(f"/api/v1/memberships/{pk}/resend-invitation/").status_code == 403


def test_service_refuses_resend_for_people_with_a_password(org):
    m = Membership.objects.get(user=org.users.fr_cm)
    with pytest.raises(InvitationNotPending):
        services.resend_invitation(actor=org.users.hub_admin, membership=m)


def test_mail_failure_is_reported_not_raised(org, client_for, settings):
    settings.EMAIL_BACKEND = "tests.orgs.test_auth_invitation.FailingBackend"
    admin = client_for(org.users.fr_admin)
    resp = _invite(admin, org)
    assert resp.status_code == 302
    page = admin.get(resp["Location"]).content.decode()
    assert "could not be sent" in page
    assert Membership.objects.filter(user__username="nina").exists()  # nothing lost: the invitation can be resent


class FailingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("mail server unreachable")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_end_to_end_through_a_real_smtp_server(org, client_for, settings):
    """The invitation leaves through Django's SMTP backend to an aiosmtpd server; the link read from the received
    message completes the flow."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received = []

    class Collect(Message):
        def handle_message(self, message):
            received.append(message)

        def prepare_message(self, session, envelope):
            return message_from_bytes(envelope.content, policy=policy.default)

    port = _free_port()
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.DEFAULT_FROM_EMAIL = "Dandelion <noreply@example.org>"
        resp = _invite(client_for(org.users.hub_admin), org, username="omar", email="omar@example.org")
        assert resp.status_code == 302
    finally:
        controller.stop()
    assert len(received) == 1
    msg = received[0]
    assert msg["To"] == "omar@example.org" and "noreply@example.org" in msg["From"]
    assert "invited" in msg["Subject"]
    body = msg.get_body(preferencelist=("plain",)).get_content()
    newcomer = Client()
    assert _accept(newcomer, _link_path(body), GOOD_PASSWORD).status_code == 302
    assert newcomer.get(reverse("home")).wsgi_request.user.username == "omar"


def test_invitation_path_is_for_that_user_only(org):
    m = services.invite_member(actor=org.users.hub_admin, unit=org.france, username="nina",
                               email="nina@example.org", role=Role.COMMUNITY_MANAGER)
    other = services.invite_member(actor=org.users.hub_admin, unit=org.france, username="omar",
                                   email="omar@example.org", role=Role.COMMUNITY_MANAGER)
    token = invitation_path(m.user).rstrip("/").rsplit("/", 1)[1]
    assert invitation_tokens.state(m.user, token) is TokenState.VALID
    assert invitation_tokens.state(other.user, token) is TokenState.INVALID
    # a password-reset token is no invitation
    from django.contrib.auth.tokens import default_token_generator

    assert invitation_tokens.state(m.user, default_token_generator.make_token(m.user)) is TokenState.INVALID
