"""The permission matrix of every page: hub admin / spoke admin in scope / spoke admin elsewhere (404) /
analyst (read-only: 403 on writes) / external moderator (nothing but the guidelines) / anonymous (login)."""

import pytest
from django.urls import reverse

from dandelion.core.models import AuditEvent
from dandelion.orgs.models import Membership, OrgUnit, Team

pytestmark = pytest.mark.django_db

OK, FORBIDDEN, NOT_FOUND = 200, 403, 404

# page → (hub_admin, fr_admin, es_admin, analyst, moderator)
MATRIX = {
    "tree": (OK, OK, OK, OK, "moderator"),
    "unit-detail": (OK, OK, NOT_FOUND, OK, FORBIDDEN),
    "unit-create": (OK, OK, NOT_FOUND, FORBIDDEN, FORBIDDEN),
    "unit-edit": (OK, OK, NOT_FOUND, FORBIDDEN, FORBIDDEN),
    "unit-move": (OK, FORBIDDEN, NOT_FOUND, FORBIDDEN, FORBIDDEN),  # France admin lacks rights on Europe
    "team-list": (OK, OK, OK, OK, FORBIDDEN),
    "team-detail": (OK, OK, NOT_FOUND, OK, FORBIDDEN),
    "team-create": (OK, OK, NOT_FOUND, FORBIDDEN, FORBIDDEN),
    "team-edit": (OK, OK, NOT_FOUND, FORBIDDEN, FORBIDDEN),
    "membership-list": (OK, OK, OK, OK, FORBIDDEN),
    "membership-create": (OK, OK, NOT_FOUND, FORBIDDEN, FORBIDDEN),
    "member-invite": (OK, OK, NOT_FOUND, FORBIDDEN, FORBIDDEN),
    "membership-edit": (OK, OK, NOT_FOUND, FORBIDDEN, FORBIDDEN),
    "guideline-list": (OK, OK, OK, OK, OK),
    "guideline-detail": (OK, OK, OK, OK, OK),
    "guideline-create": (OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "guideline-report": (OK, OK, OK, FORBIDDEN, FORBIDDEN),
}
ROLES = ("hub_admin", "fr_admin", "es_admin", "analyst", "moderator")


def url_for(name, org, guideline):
    france_args = {"unit-detail", "unit-create", "unit-edit", "unit-move", "team-create", "membership-create",
                   "member-invite"}
    if name in france_args:
        return reverse(f"orgs:{name}", args=[org.france.pk])
    if name in ("team-detail", "team-edit"):
        return reverse(f"orgs:{name}", args=[org.fr_team.pk])
    if name == "membership-edit":
        return reverse(f"orgs:{name}", args=[Membership.objects.get(user=org.users.fr_agent).pk])
    if name in ("guideline-detail", "guideline-report"):
        return reverse(f"orgs:{name}", args=[guideline.pk])
    return reverse(f"orgs:{name}")


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_page_permission_matrix(name, org, guideline, client_for, anon_client):
    url = url_for(name, org, guideline)
    for role, expected in zip(ROLES, MATRIX[name]):
        resp = client_for(getattr(org.users, role)).get(url)
        if expected == "moderator":  # sent to their queue, or refused when the inbox is not installed
            assert resp.status_code in (302, 403), (role, resp.status_code)
        else:
            assert resp.status_code == expected, (name, role, resp.status_code)
    resp = anon_client.get(url)
    assert resp.status_code == 302 and "/accounts/login/" in resp.url


def test_unit_detail_shows_children_teams_members_accounts_issues(org, client_for):
    body = client_for(org.users.hub_admin).get(reverse("orgs:unit-detail", args=[org.europe.pk])).content.decode()
    assert "France" in body and "Spain" in body
    assert f"/assets/accounts/?unit={org.europe.pk}" in body
    assert "euadmin" in body and "without an owner" in body
    body = client_for(org.users.hub_admin).get(
        reverse("orgs:unit-detail", args=[org.france.pk]) + "?subtree=1").content.decode()
    assert "FR helpers" in body and "fragent2" in body and "@brand_fr" in body


def test_members_filter_partial(org, client_for):
    url = reverse("orgs:unit-detail", args=[org.france.pk]) + "?role=helper_agent"
    resp = client_for(org.users.fr_admin).get(url, HTTP_HX_REQUEST="true")
    body = resp.content.decode()
    assert "<html" not in body and "fragent" in body and "fradmin" not in body


def test_create_edit_move_deactivate_unit_through_pages(org, client_for):
    hub = client_for(org.users.hub_admin)
    resp = hub.post(reverse("orgs:unit-create", args=[org.europe.pk]),
                    {"name": "Italy", "kind": "country", "country": "it", "languages": "it", "timezone": "Europe/Rome"})
    italy = OrgUnit.objects.get(name="Italy")
    assert resp.status_code == 302 and resp.url == italy.get_absolute_url()
    assert italy.country == "IT" and italy.languages == ["it"] and italy.parent == org.europe
    resp = hub.post(reverse("orgs:unit-edit", args=[italy.pk]),
                    {"name": "Italia", "slug": "", "kind": "country", "country": "IT", "languages": "it, fr",
                     "timezone": "Europe/Rome"})
    italy.refresh_from_db()
    assert resp.status_code == 302 and italy.name == "Italia" and italy.languages == ["it", "fr"]
    resp = hub.post(reverse("orgs:unit-move", args=[italy.pk]), {"parent": org.hub.pk})
    italy.refresh_from_db()
    assert resp.status_code == 302 and italy.parent == org.hub and italy.depth == 1
    resp = hub.post(reverse("orgs:unit-move", args=[org.europe.pk]), {"parent": org.france.pk})
    assert resp.status_code == 400  # own descendant: not even offered
    resp = hub.post(reverse("orgs:unit-deactivate", args=[italy.pk]))
    italy.refresh_from_db()
    assert resp.status_code == 302 and not italy.is_active
    assert AuditEvent.objects.filter(action__startswith="orgs.orgunit.").count() == 4


def test_form_errors_are_400_with_messages(org, client_for):
    resp = client_for(org.users.fr_admin).post(reverse("orgs:unit-create", args=[org.france.pk]),
                                               {"name": "", "kind": "country", "timezone": "Mars/Olympus"})
    assert resp.status_code == 400
    assert b"not a known time zone" in resp.content


def test_writes_outside_scope_404_and_read_only_403(org, client_for):
    es = client_for(org.users.es_admin)
    assert es.post(reverse("orgs:unit-create", args=[org.france.pk]), {"name": "X"}).status_code == 404
    assert es.post(reverse("orgs:unit-deactivate", args=[org.france.pk])).status_code == 404
    analyst = client_for(org.users.analyst)
    assert analyst.post(reverse("orgs:unit-deactivate", args=[org.france.pk])).status_code == 403
    assert analyst.post(reverse("orgs:team-deactivate", args=[org.fr_team.pk])).status_code == 403
    m = Membership.objects.get(user=org.users.fr_agent)
    assert analyst.post(reverse("orgs:membership-revoke", args=[m.pk])).status_code == 403
    assert client_for(org.users.moderator).post(reverse("orgs:membership-revoke", args=[m.pk])).status_code == 403
    assert not AuditEvent.objects.exists()


def test_team_and_membership_pages(org, client_for):
    fr = client_for(org.users.fr_admin)
    resp = fr.post(reverse("orgs:team-create", args=[org.france.pk]),
                   {"name": "FR community", "kind": "community", "languages": "fr", "timezone": ""})
    team = Team.objects.get(name="FR community")
    assert resp.status_code == 302 and resp.url == team.get_absolute_url()
    resp = fr.post(reverse("orgs:membership-create", args=[org.france.pk]),
                   {"person": "fragent2", "role": "community_manager", "team": team.pk, "capacity": 5,
                    "is_available": "on"})
    assert resp.status_code == 302
    assert Membership.objects.filter(user=org.users.fr_agent2, team=team, role="community_manager").exists()
    resp = fr.post(reverse("orgs:membership-create", args=[org.france.pk]),
                   {"person": "nobody-here", "role": "analyst", "capacity": 5})
    assert resp.status_code == 400 and b"invite them instead" in resp.content
    resp = fr.post(reverse("orgs:member-invite", args=[org.france.pk]),
                   {"username": "lea", "email": "lea@example.org", "role": "helper_agent", "team": org.fr_team.pk})
    assert resp.status_code == 302 and Membership.objects.filter(user__username="lea", unit=org.france).exists()
    m = Membership.objects.get(user__username="lea")
    resp = fr.post(reverse("orgs:membership-edit", args=[m.pk]),
                   {"role": "external_moderator", "team": "", "capacity": 3})
    assert resp.status_code == 400  # moderator without team
    resp = fr.post(reverse("orgs:membership-revoke", args=[m.pk]))
    m.refresh_from_db()
    assert resp.status_code == 302 and not m.is_active
    resp = fr.post(reverse("orgs:team-deactivate", args=[org.fr_team.pk]))
    org.fr_team.refresh_from_db()
    assert resp.status_code == 302 and org.fr_team.is_active  # refused: still has members (message shown)
    body = fr.get(reverse("orgs:team-detail", args=[org.fr_team.pk]), follow=True).content.decode()
    assert "fragent" in body


def test_team_list_filters(org, client_for):
    body = client_for(org.users.hub_admin).get(reverse("orgs:team-list") + "?language=es").content.decode()
    assert "ES helpers" in body and "FR helpers" not in body


def test_unit_and_team_pages_link_to_their_own_history(org, client_for):
    from dandelion.orgs import services

    services.update_unit(actor=org.users.hub_admin, unit=org.france, name="France (FR)")
    services.update_team(actor=org.users.fr_admin, team=org.fr_team, name="FR helpers team")
    services.update_unit(actor=org.users.hub_admin, unit=org.spain, name="España")
    c = client_for(org.users.hub_admin)
    page = c.get(reverse("orgs:unit-detail", args=[org.france.pk])).content.decode()
    link = f"/audit/?object_id={org.france.pk}&action=orgs.orgunit."
    assert link in page
    history = c.get(link).content.decode()
    rows = history.split("<tbody")[1].split("</tbody>")[0]  # the entries (the filters' unit list names every unit)
    assert "France (FR)" in rows and "España" not in rows and "FR helpers team" not in rows
    team_page = c.get(reverse("orgs:team-detail", args=[org.fr_team.pk])).content.decode()
    assert f"/audit/?object_id={org.fr_team.pk}&action=orgs.team." in team_page
