"""REST API: the same permission matrix (404 outside scope, 403 when visible but not allowed, 401 anonymous)."""

import pytest

from dandelion.core.models import AuditEvent
from dandelion.orgs.models import Membership

pytestmark = pytest.mark.django_db

API = "/api/v1/"


def ids(resp):
    return sorted(row["id"] for row in resp.json()["results"])


def test_anonymous_gets_401(anon_api, org):
    for path in ("org-units/", "teams/", "memberships/", "guidelines/", "org-units/tree/"):
        assert anon_api.get(API + path).status_code == 401


def test_lists_are_restricted(org, api_for):
    assert len(ids(api_for(org.users.hub_admin).get(API + "org-units/"))) == 5
    assert ids(api_for(org.users.fr_admin).get(API + "org-units/")) == [org.france.pk]
    assert ids(api_for(org.users.europe_admin).get(API + "org-units/")) == sorted(
        [org.europe.pk, org.france.pk, org.spain.pk])
    assert ids(api_for(org.users.moderator).get(API + "org-units/")) == []
    assert ids(api_for(org.users.moderator).get(API + "memberships/")) == []
    assert ids(api_for(org.users.moderator).get(API + "teams/")) == [org.vendor_team.pk]  # their own team only
    assert ids(api_for(org.users.fr_admin).get(API + "teams/")) == [org.fr_team.pk]
    fr_members = api_for(org.users.fr_admin).get(API + "memberships/").json()
    assert fr_members["count"] == 4 and {r["username"] for r in fr_members["results"]} >= {"fradmin", "fragent"}


def test_filters(org, api_for):
    c = api_for(org.users.hub_admin)
    assert ids(c.get(API + "org-units/", {"within": org.europe.pk})) == sorted(
        [org.europe.pk, org.france.pk, org.spain.pk])
    assert ids(c.get(API + "org-units/", {"kind": "vendor"})) == [org.vendor.pk]
    assert ids(c.get(API + "teams/", {"language": "ar"})) == [org.vendor_team.pk]
    assert c.get(API + "memberships/", {"role": "helper_agent"}).json()["count"] == 3
    assert c.get(API + "memberships/", {"within": org.spain.pk}).json()["count"] == 2


def test_detail_outside_scope_is_404(org, api_for):
    es = api_for(org.users.es_admin)
    assert es.get(f"{API}org-units/{org.france.pk}/").status_code == 404
    assert es.patch(f"{API}org-units/{org.france.pk}/", {"name": "X"}).status_code == 404
    assert es.get(f"{API}teams/{org.fr_team.pk}/").status_code == 404
    m = Membership.objects.get(user=org.users.fr_agent)
    assert es.post(f"{API}memberships/{m.pk}/revoke/").status_code == 404
    assert api_for(org.users.moderator).get(f"{API}org-units/{org.vendor.pk}/").status_code == 404


def test_read_only_roles_get_403_on_writes(org, api_for):
    analyst = api_for(org.users.analyst)
    assert analyst.get(f"{API}org-units/{org.france.pk}/").status_code == 200
    resp = analyst.patch(f"{API}org-units/{org.france.pk}/", {"name": "X"})
    assert resp.status_code == 403 and resp.json()["code"] == "permission_denied"
    assert analyst.post(API + "org-units/", {"parent": org.france.pk, "name": "X"}).status_code == 403
    assert analyst.post(f"{API}teams/{org.fr_team.pk}/deactivate/").status_code == 403
    m = Membership.objects.get(user=org.users.fr_agent)
    assert analyst.post(f"{API}memberships/{m.pk}/revoke/").status_code == 403
    assert analyst.post(API + "memberships/", {"username": "nobody", "unit": org.france.pk,
                                               "role": "analyst"}).status_code == 403
    assert not AuditEvent.objects.exists()


def test_unit_crud_and_move(org, api_for):
    hub = api_for(org.users.hub_admin)
    resp = hub.post(API + "org-units/", {"parent": org.europe.pk, "name": "Italy", "country": "it",
                                         "languages": ["it"], "timezone": "Europe/Rome"})
    assert resp.status_code == 201, resp.json()
    italy = resp.json()
    assert italy["path"] == f"{org.europe.path}{italy['id']}/" and italy["country"] == "IT"
    resp = hub.patch(f"{API}org-units/{italy['id']}/", {"languages": ["it", "de"]})
    assert resp.status_code == 200 and resp.json()["languages"] == ["it", "de"]
    resp = hub.post(f"{API}org-units/{italy['id']}/move/", {"parent": org.hub.pk})
    assert resp.status_code == 200 and resp.json()["depth"] == 1
    resp = hub.post(f"{API}org-units/{org.europe.pk}/move/", {"parent": org.france.pk})
    assert resp.status_code == 400 and resp.json()["code"] == "invalid_move"
    resp = hub.post(f"{API}org-units/{org.europe.pk}/deactivate/")
    assert resp.status_code == 409 and resp.json()["code"] == "unit_not_empty"
    resp = hub.post(API + "org-units/", {"parent": org.europe.pk, "name": "X", "timezone": "Nowhere/Land",
                                         "languages": ["english"]})
    assert resp.status_code == 400 and set(resp.json()) == {"timezone", "languages"}
    assert hub.delete(f"{API}org-units/{italy['id']}/").status_code == 405


def test_spoke_admin_cannot_create_in_other_subtree(org, api_for):
    fr = api_for(org.users.fr_admin)
    resp = fr.post(API + "org-units/", {"parent": org.spain.pk, "name": "Catalonia"})
    assert resp.status_code == 400 and "parent" in resp.json()  # Spain is invisible: "does not exist"
    assert fr.post(API + "org-units/", {"parent": org.france.pk, "name": "Nord"}).status_code == 201


def test_rollup_endpoint(org, api_for):
    rows = api_for(org.users.hub_admin).get(API + "org-units/tree/").json()
    by_name = {r["name"]: r for r in rows}
    assert by_name["Group hub"]["members"] == 11 and by_name["Europe"]["accounts"] == 2
    assert [r["name"] for r in rows][:2] == ["Group hub", "Europe"]
    rows = api_for(org.users.fr_admin).get(API + "org-units/tree/").json()
    assert [r["name"] for r in rows] == ["France"]
    assert api_for(org.users.fr_admin).get(API + "org-units/tree/", {"within": org.spain.pk}).status_code == 404


def test_team_endpoints(org, api_for):
    fr = api_for(org.users.fr_admin)
    resp = fr.post(API + "teams/", {"unit": org.france.pk, "name": "FR PR", "kind": "pr", "languages": ["fr"]})
    assert resp.status_code == 201
    team_id = resp.json()["id"]
    assert resp.json()["effective_timezone"] == "Europe/Paris"
    assert fr.post(API + "teams/", {"unit": org.france.pk, "name": "FR PR", "kind": "pr"}).status_code == 409
    assert fr.patch(f"{API}teams/{team_id}/", {"email": "pr@example.org"}).json()["email"] == "pr@example.org"
    assert fr.post(f"{API}teams/{team_id}/deactivate/").json()["is_active"] is False
    assert fr.post(f"{API}teams/{org.fr_team.pk}/deactivate/").status_code == 409
    assert api_for(org.users.es_admin).post(API + "teams/", {"unit": org.france.pk, "name": "Y",
                                                             "kind": "pr"}).status_code == 400


def test_membership_endpoints(org, api_for):
    fr = api_for(org.users.fr_admin)
    resp = fr.post(API + "memberships/", {"username": "nobody", "unit": org.france.pk, "role": "analyst"})
    assert resp.status_code == 201
    mid = resp.json()["id"]
    assert fr.post(API + "memberships/", {"username": "nobody", "unit": org.france.pk,
                                          "role": "analyst"}).status_code == 409
    resp = fr.post(API + "memberships/", {"username": "nobody", "unit": org.france.pk,
                                          "role": "external_moderator"})
    assert resp.status_code == 400 and "team" in resp.json()
    resp = api_for(org.users.hub_admin).post(API + "memberships/", {"username": "nobody", "unit": org.france.pk,
                                                                    "role": "hub_admin"})
    assert resp.status_code == 400 and resp.json()["code"] == "invalid_membership"
    assert fr.patch(f"{API}memberships/{mid}/", {"capacity": 3}).json()["capacity"] == 3
    assert fr.post(f"{API}memberships/{mid}/revoke/").json()["is_active"] is False
    resp = fr.post(API + "memberships/invite/", {"username": "paul", "email": "paul@example.org",
                                                 "unit": org.france.pk, "role": "helper_agent",
                                                 "team": org.fr_team.pk})
    assert resp.status_code == 201 and resp.json()["username"] == "paul"


def test_guideline_endpoints(org, api_for):
    hub, fr = api_for(org.users.hub_admin), api_for(org.users.fr_admin)
    resp = hub.post(API + "guidelines/", {"title": "G", "body": "**bold** <script>x</script>"})
    assert resp.status_code == 201 and resp.json()["version"] is None
    gid = resp.json()["id"]
    assert fr.get(f"{API}guidelines/{gid}/").status_code == 404  # drafts are the hub's business
    assert fr.post(API + "guidelines/", {"title": "mine", "body": "x"}).status_code == 403
    assert hub.patch(f"{API}guidelines/{gid}/", {"body": "**bold** again"}).status_code == 200
    resp = hub.post(f"{API}guidelines/{gid}/publish/")
    assert resp.status_code == 200 and resp.json()["version"] == 1
    assert hub.post(f"{API}guidelines/{gid}/publish/").status_code == 409
    assert hub.patch(f"{API}guidelines/{gid}/", {"body": "x"}).status_code == 409
    detail = fr.get(f"{API}guidelines/{gid}/").json()
    assert detail["body_html"] == "<p><strong>bold</strong> again</p>" and detail["acknowledged"] is False
    assert fr.post(f"{API}guidelines/{gid}/acknowledge/").status_code == 200
    assert fr.get(f"{API}guidelines/{gid}/").json()["acknowledged"] is True
    assert api_for(org.users.moderator).post(f"{API}guidelines/{gid}/acknowledge/").status_code == 200
    pending = fr.get(f"{API}guidelines/{gid}/pending/").json()
    assert sorted(p["username"] for p in pending["results"]) == ["fragent", "fragent2", "frcm"]
    assert api_for(org.users.analyst).get(f"{API}guidelines/{gid}/pending/").status_code == 403
    assert api_for(org.users.nobody).get(API + "guidelines/").json()["count"] == 0


def test_openapi_schema_builds(org, api_for):
    resp = api_for(org.users.hub_admin).get("/api/schema/")
    assert resp.status_code == 200
    body = resp.content.decode()
    for path in ("/api/v1/org-units/{id}/move/", "/api/v1/guidelines/{id}/acknowledge/",
                 "/api/v1/guidelines/{id}/publish/", "/api/v1/memberships/invite/"):
        assert path in body
