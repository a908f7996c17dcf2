"""Invited guests' logins: limited to one gathering's page, .ics and materials; every other URL is a 403."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dandelion.community import guest_access, services
from dandelion.community.exceptions import InvalidCommunityData
from dandelion.community.models import GuestAccount, GuestGrant, Speaker
from dandelion.core.actors import SYSTEM
from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.models import AuditEvent

PDF = b"%PDF-1.4 slides"


def _gathering(org, unit=None, days=5, title="Community day"):
    start = timezone.now() + dt.timedelta(days=days)
    return services.create_gathering(
        actor=SYSTEM,
        unit=unit or org.hub,
        title=title,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=3),
        place="Paris",
    )


def _link_path(body: str) -> str:
    line = next(line for line in body.splitlines() if "/guests/welcome/" in line)
    return line[line.index("/community") :].strip()


@pytest.fixture
def invited(org, mailoutbox, django_capture_on_commit_callbacks):
    g = _gathering(org)
    with django_capture_on_commit_callbacks(execute=True):
        grant = guest_access.invite_guest(
            g,
            actor=org.users.hub_admin,
            email="Ada@Peer.example",
            name="Ada Peer",
            affiliation="PeerCo",
            role="speaker",
            language="fr",
        )
    return g, grant


def _guest_client(org, invited, mailoutbox):
    client = Client()
    path = _link_path(mailoutbox[-1].body)
    assert client.get(path).status_code == 200
    response = client.post(
        path, {"new_password1": "a-Long-guest-pass-42", "new_password2": "a-Long-guest-pass-42"}
    )
    assert response.status_code == 302 and response["Location"] == invited[0].get_absolute_url()
    return client


def test_invitation_makes_a_flagged_login_a_speaker_and_a_french_email(org, invited, mailoutbox):
    g, grant = invited
    user = get_user_model().objects.get(email="ada@peer.example")
    assert GuestAccount.objects.filter(user=user).exists() and not user.has_usable_password()
    assert grant.expires_at == g.ends_at + guest_access.grace()
    assert Speaker.objects.filter(gathering=g, user=user, is_guest=True, affiliation="PeerCo").exists()
    assert mailoutbox[-1].to == ["ada@peer.example"]
    assert AuditEvent.objects.filter(action="community.guest.invite").exists()


def test_guest_sets_password_once_and_sees_only_their_gathering(org, invited, mailoutbox, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    g, _grant = invited
    other = _gathering(org, title="Other day")
    client = _guest_client(org, invited, mailoutbox)
    # the link is single use
    assert Client().get(_link_path(mailoutbox[-1].body)).status_code == 400
    assert AuditEvent.objects.filter(action="community.guest.activate").exists()
    page = client.get(g.get_absolute_url())
    assert page.status_code == 200 and b"Community day" in page.content and b'id="guest-note"' in page.content
    assert b'id="register"' not in page.content
    # the sidebar offers their gathering only: no member pages (each a 403), no bell, no profile
    nav = page.content.split(b'class="sidebar"')[1].split(b"</nav>")[0]
    assert g.get_absolute_url().encode() in nav and b"Community day" in nav
    for member_page in (b'href="/inbox/', b'href="/orgs/', f'href="{reverse("community:home")}"'.encode(), b"/profile/",
                        b"notification"):
        assert member_page not in nav, member_page
    assert client.get(reverse("community:gathering-ics", args=[g.pk])).status_code == 200
    # the home page leads to the gathering
    assert client.get("/")["Location"] == g.get_absolute_url()
    # materials of their gathering, after it started
    GuestGrant.objects.filter(gathering=g).update(expires_at=timezone.now() + dt.timedelta(days=3))
    g.starts_at, g.ends_at = timezone.now() - dt.timedelta(hours=2), timezone.now() - dt.timedelta(hours=1)
    g.save()
    m = services.add_material(g, actor=SYSTEM, title="Slides", file=SimpleUploadedFile("s.pdf", PDF))
    response = client.get(reverse("community:material-download", args=[m.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    past_other = _gathering(org, title="Elsewhere", days=-2)
    other_m = services.add_material(
        past_other, actor=SYSTEM, title="Secret", file=SimpleUploadedFile("t.pdf", PDF)
    )
    walk = [
        other.get_absolute_url(),
        reverse("community:gathering-ics", args=[other.pk]),
        reverse("community:material-download", args=[other_m.pk]),
        reverse("community:home"),
        reverse("community:article-list"),
        reverse("community:question-list"),
        reverse("community:gathering-list"),
        reverse("community:member-list"),
        reverse("community:my-calendar"),
        reverse("community:enablement"),
        "/inbox/",
        "/orgs/",
        "/api/v1/",
        "/api/v1/community-gatherings/",
        f"/api/v1/community-gatherings/{g.pk}/",
        "/admin/",
        "/no/such/page/",
    ]
    for url in walk:
        response = client.get(url)
        assert response.status_code == 403, url
        assert b"guest access" in response.content.lower(), url
    assert client.post(reverse("community:gathering-register", args=[g.pk])).status_code == 403
    assert AuditEvent.objects.filter(action="community.guest.denied").count() >= len(walk)


def test_access_ends_after_the_event(org, invited, mailoutbox):
    g, grant = invited
    client = _guest_client(org, invited, mailoutbox)
    GuestGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = client.get(g.get_absolute_url())
    assert response.status_code == 403 and b"ended" in response.content


def test_revoked_access(org, invited, mailoutbox):
    g, grant = invited
    client = _guest_client(org, invited, mailoutbox)
    guest_access.revoke_guest(grant, actor=org.users.hub_admin)
    assert client.get(g.get_absolute_url()).status_code == 403
    assert AuditEvent.objects.filter(action="community.guest.revoke").exists()


def test_members_are_unaffected_and_a_member_address_is_refused(org, client_for):
    g = _gathering(org)
    assert client_for(org.users.fr_cm).get(reverse("community:article-list")).status_code == 200
    org.users.fr_cm.email = "fr.cm@dandelion.example"
    org.users.fr_cm.save()
    with pytest.raises(InvalidCommunityData, match="member"):
        guest_access.invite_guest(g, actor=SYSTEM, email="FR.CM@dandelion.example", name="Fr CM")


def test_only_organisers_invite_and_bad_input(org):
    g = _gathering(org)
    with pytest.raises(PermissionDeniedError):
        guest_access.invite_guest(g, actor=org.users.fr_agent, email="x@y.example", name="X")
    with pytest.raises(InvalidCommunityData):
        guest_access.invite_guest(g, actor=SYSTEM, email="not-an-address", name="X")
    with pytest.raises(InvalidCommunityData):
        guest_access.invite_guest(g, actor=SYSTEM, email="x@y.example", name="X", role="boss")


def test_a_forged_link_is_refused(client):
    assert client.get(reverse("community:guest-welcome", args=["forged"])).status_code == 400


def test_invite_view_for_organisers(org, client_for, mailoutbox, django_capture_on_commit_callbacks):
    g = _gathering(org)
    url = reverse("community:guest-invite", args=[g.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(org.users.hub_admin).post(
            url, {"name": "Bo Peer", "email": "bo@peer.example", "role": "attendee"}
        )
    assert response.status_code == 302
    assert GuestGrant.objects.get().role == "attendee" and mailoutbox[-1].to == ["bo@peer.example"]
    # an invited attendee holds a place; a full gathering refuses the next invitation
    assert g.guests.get(email="bo@peer.example").status == "going"
    g.capacity = 1
    g.save()
    with pytest.raises(InvalidCommunityData, match="full"):
        guest_access.invite_guest(g, actor=SYSTEM, email="cy@peer.example", name="Cy", role="attendee")
    assert (
        client_for(org.users.fr_agent)
        .post(url, {"name": "X", "email": "x@y.example", "role": "speaker"})
        .status_code
        == 403
    )
    assert b"guest-invite" in client_for(org.users.hub_admin).get(g.get_absolute_url()).content
