"""The REST API of invited guests (``/api/v1/community-guest-invitations/``): only the gathering's organisers
(``community.change_gathering`` on its unit) list, invite and revoke, through the same services as the gathering's
page (``community.guest_access``); the permission matrix, then the whole flow: invited by the API, the e-mail's
link sets a password, the guest sees the gathering, the revocation shuts them out."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from dandelion.community import guest_access, services
from dandelion.community.models import GuestGrant
from dandelion.core.actors import SYSTEM
from dandelion.core.models import AuditEvent
from tests.permission_matrix import ADMINS_OF_FRANCE, MISSING, PEOPLE, Case, check, outcome

pytestmark = pytest.mark.django_db

API = "/api/v1/community-guest-invitations/"
#: who organises a gathering of France: ``community.change_gathering`` there
ORGANISERS = ADMINS_OF_FRANCE | {"fr_cm"}
#: who organises a gathering somewhere (may ask to invite; told which gatherings are not theirs as "unknown")
ORGANISE_SOMEWHERE = ORGANISERS | {"es_admin"}


def _gathering(unit, title="Community day", days=5):
    start = timezone.now() + dt.timedelta(days=days)
    return services.create_gathering(actor=SYSTEM, unit=unit, title=title, starts_at=start,
                                     ends_at=start + dt.timedelta(hours=3), place="Paris", capacity=40)


@pytest.fixture
def world(org):
    gathering = _gathering(org.france, "Journée des CM")
    grant = guest_access.invite_guest(gathering, actor=SYSTEM, email="ada@peer.example", name="Ada Peer",
                                      language="fr")
    return SimpleNamespace(**vars(org), gathering=gathering, grant=grant)


def _invite(w):
    return {"gathering": w.gathering.pk, "email": "grace@peer.example", "name": "Grace Hopper",
            "role": "attendee", "language": "en"}


CASES = [
    Case("api list guests", lambda w: API, outcome(ok=PEOPLE), api=True),
    Case("api guest detail", lambda w: f"{API}{w.grant.pk}/", outcome(ok=ORGANISERS, visible=()), api=True,
         missing_url=lambda w: f"{API}{MISSING}/"),
    Case("api invite guest", lambda w: API,
         outcome(ok=ORGANISERS, ok_status=201, visible=PEOPLE - {"es_admin"}, es_admin=400),
         method="post", api=True, data=_invite, missing_data=lambda w: {**_invite(w), "gathering": MISSING}),
    Case("api revoke guest", lambda w: f"{API}{w.grant.pk}/revoke/", outcome(ok=ORGANISERS, visible=()),
         method="post", api=True, missing_url=lambda w: f"{API}{MISSING}/revoke/"),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_matrix(case, world):
    check(case, world)


def _api(user):
    c = APIClient()
    c.force_authenticate(user)
    return c


def test_lists_show_only_the_gatherings_one_organises(world):
    spain = _gathering(world.spain, "Jornada")
    guest_access.invite_guest(spain, actor=SYSTEM, email="bob@peer.example", name="Bob Peer")
    u = world.users
    emails = {who: sorted(g["email"] for g in _api(getattr(u, who)).get(API).json()["results"])
              for who in ("hub_admin", "fr_cm", "es_admin", "fr_agent", "analyst")}
    assert emails == {"hub_admin": ["ada@peer.example", "bob@peer.example"], "fr_cm": ["ada@peer.example"],
                      "es_admin": ["bob@peer.example"], "fr_agent": [], "analyst": []}
    only = _api(u.hub_admin).get(API, {"gathering": spain.pk}).json()["results"]
    assert [g["email"] for g in only] == ["bob@peer.example"] and only[0]["gathering_title"] == "Jornada"


def test_invite_by_api_then_the_guest_logs_in_sees_the_gathering_and_is_revoked(
        world, mailoutbox, django_capture_on_commit_callbacks):
    u, g = world.users, world.gathering
    with django_capture_on_commit_callbacks(execute=True):
        made = _api(u.fr_cm).post(API, {**_invite(world), "role": "speaker", "affiliation": "Navy"},
                                  format="json")
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["email"], body["name"], body["role"], body["active"], body["activated_at"]) == (
        "grace@peer.example", "Grace Hopper", "speaker", True, None)
    assert body["gathering"] == g.pk and body["expires_at"] == (g.ends_at + guest_access.grace()).isoformat(
        ).replace("+00:00", "Z")
    assert AuditEvent.objects.filter(action="community.guest.invite", actor=u.fr_cm).count() == 1
    assert "Grace Hopper" in [s.name for s in g.speakers.all()]
    # the e-mail's link: set a password, land on the gathering's page
    mail = mailoutbox[-1]
    assert mail.to == ["grace@peer.example"]
    path = next(line for line in mail.body.splitlines() if "/guests/welcome/" in line)
    path = path[path.index("/community"):].strip()
    guest = Client()
    done = guest.post(path, {"new_password1": "a-Long-guest-pass-42", "new_password2": "a-Long-guest-pass-42"})
    assert done.status_code == 302 and done["Location"] == g.get_absolute_url()
    assert guest.get(g.get_absolute_url()).status_code == 200
    assert guest.get("/community/").status_code == 403
    # the layout's background fragments (the bell) get an empty answer, not a 403 toast nor an audit row;
    # a page asked for, even by HTMX's boost, is the 403 page
    denied = AuditEvent.objects.filter(action="community.guest.denied").count()
    assert guest.get("/notifications/bell/", HTTP_HX_REQUEST="true").status_code == 204
    assert AuditEvent.objects.filter(action="community.guest.denied").count() == denied
    assert guest.get("/community/", HTTP_HX_REQUEST="true", HTTP_HX_BOOSTED="true").status_code == 403
    listed = _api(u.fr_cm).get(API, {"gathering": g.pk}).json()["results"]
    assert {r["email"]: r["activated_at"] is not None for r in listed} == {
        "ada@peer.example": False, "grace@peer.example": True}
    # revoked: the page is closed at once; revoking again changes and audits nothing
    revoked = _api(u.fr_admin).post(f"{API}{body['id']}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["active"] is False and revoked.json()["revoked_at"]
    assert guest.get(g.get_absolute_url()).status_code == 403
    again = _api(u.fr_admin).post(f"{API}{body['id']}/revoke/")
    assert again.status_code == 200 and again.json()["revoked_at"] == revoked.json()["revoked_at"]
    assert AuditEvent.objects.filter(action="community.guest.revoke").count() == 1


@pytest.mark.parametrize("change,field", [
    ({"email": "not-an-address"}, "email"),
    ({"email": "fradmin@example.com"}, "email"),  # a member's address: members log in as themselves
    ({"role": "keynote"}, "role"),
    ({"name": ""}, "name"),
    ({"gathering": "x"}, "gathering"),
])
def test_bad_invitations_are_refused_with_the_field_and_nothing_saved(world, change, field):
    world.users.fr_admin.email = "fradmin@example.com"
    world.users.fr_admin.save(update_fields=["email"])
    before = GuestGrant.objects.count()
    answer = _api(world.users.fr_cm).post(API, {**_invite(world), **change}, format="json")
    assert answer.status_code == 400, answer.content
    assert field in str(answer.json())
    assert GuestGrant.objects.count() == before


def test_a_cancelled_gathering_takes_no_guest(world):
    type(world.gathering).objects.filter(pk=world.gathering.pk).update(is_cancelled=True)
    answer = _api(world.users.fr_cm).post(API, _invite(world), format="json")
    assert answer.status_code == 400 and "cancelled or over" in str(answer.json())
