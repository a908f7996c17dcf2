"""SCIM 2.0 with the request shapes of RFC 7644 (§3.3 create, §3.4.2 filter, §3.5.1 replace, §3.5.2 PATCH,
§3.6 delete): each provider with its own bearer token, confined to its own people and its subtree."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from dandelion.assets.models import SocialAccount
from dandelion.core.actors import SYSTEM
from dandelion.core.models import AuditEvent
from dandelion.orgs.choices import Role
from dandelion.orgs.models import Membership
from dandelion.sso import services
from dandelion.sso.models import ExternalIdentity

pytestmark = pytest.mark.django_db
SCIM = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


class Scim:
    def __init__(self, token: str):
        self.client, self.auth = Client(), {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def __call__(self, method: str, path: str, body=None, **params):
        kwargs = {"content_type": SCIM, "data": json.dumps(body)} if body is not None else {"data": params}
        response = getattr(self.client, method.lower())(f"/scim/v2/{path}", **kwargs, **self.auth)
        data = json.loads(response.content) if response.content else None
        return response.status_code, data


@pytest.fixture
def scim(org):
    spain = services.create_provider(actor=SYSTEM, name="Spain IdP", slug="es", issuer="https://es.example",
                                     client_id="c", client_secret="s", bound_unit=org.spain)
    services.create_rule(actor=SYSTEM, provider=spain, value="ES Agents", unit=org.spain, role=Role.HELPER_AGENT,
                         team=org.es_team)
    vendor = services.create_provider(actor=SYSTEM, name="Vendor IdP", slug="vendor", issuer="https://v.example",
                                      client_id="c", client_secret="s", bound_unit=org.vendor)
    return Scim(services.rotate_scim_token(actor=SYSTEM, provider=spain)), Scim(
        services.rotate_scim_token(actor=SYSTEM, provider=vendor)), spain


def new_user(username="bjensen", **extra):
    return {"schemas": [USER], "userName": username, "externalId": f"ext-{username}",
            "name": {"familyName": "Jensen", "givenName": "Barbara"},
            "emails": [{"value": f"{username}@example.com", "type": "work", "primary": True}], **extra}


def test_a_missing_or_wrong_token_is_401(scim):
    assert Client().get("/scim/v2/Users").status_code == 401
    status, body = Scim("scim_wrong")("GET", "Users")
    assert status == 401 and body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


def test_create_get_and_filter_users(scim):
    es, _, provider = scim
    status, created = es("POST", "Users", new_user())
    assert status == 201 and created["userName"] == "bjensen" and created["active"] is True
    assert created["name"] == {"givenName": "Barbara", "familyName": "Jensen"}
    assert created["meta"]["location"].endswith(f"/scim/v2/Users/{created['id']}")
    status, got = es("GET", f"Users/{created['id']}")
    assert status == 200 and got["emails"][0]["value"] == "bjensen@example.com"
    status, listed = es("GET", "Users", filter='userName eq "bjensen"')
    assert listed["totalResults"] == 1 and listed["Resources"][0]["id"] == created["id"]
    assert es("GET", "Users", filter='userName eq "nobody"')[1]["totalResults"] == 0
    status, body = es("GET", "Users", filter='name.familyName co "J"')
    assert status == 400 and body["scimType"] == "invalidFilter"
    status, body = es("POST", "Users", new_user())
    assert status == 409 and body["scimType"] == "uniqueness"
    user = ExternalIdentity.objects.get(provider=provider).user
    assert not user.memberships.exists() and not user.has_usable_password()


def test_paging(scim):
    es, _, _ = scim
    for i in range(3):
        es("POST", "Users", new_user(f"u{i}"))
    _, page = es("GET", "Users", startIndex=2, count=1)
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (3, 2, 1)
    assert page["Resources"][0]["userName"] == "u1"


def test_another_providers_users_are_not_found_and_audited(scim):
    es, vendor, _ = scim
    _, created = es("POST", "Users", new_user())
    for method, body in (("GET", None), ("PUT", new_user()), ("DELETE", None),
                         ("PATCH", {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active",
                                                                          "value": False}]})):
        status, _ = vendor(method, f"Users/{created['id']}", body)
        assert status == 404
    assert vendor("GET", "Users")[1]["totalResults"] == 0
    assert AuditEvent.objects.filter(action="sso.scim.refused").count() == 4
    assert ExternalIdentity.objects.get().user.is_active


def test_groups_grant_the_mapped_roles_and_follow_membership(scim, org):
    es, _, _ = scim
    _, barbara = es("POST", "Users", new_user())
    status, group = es("POST", "Groups", {"schemas": [GROUP], "displayName": "ES Agents",
                                          "members": [{"value": barbara["id"]}]})
    assert status == 201 and group["members"][0]["value"] == barbara["id"]
    user = ExternalIdentity.objects.get().user
    assert list(user.memberships.filter(is_active=True).values_list("unit__slug", "role", "team_id")) == [
        ("spain", Role.HELPER_AGENT, org.es_team.pk)]
    assert es("GET", f"Users/{barbara['id']}")[1]["groups"][0]["display"] == "ES Agents"
    # RFC 7644 §3.5.2.2: remove one member by filter
    status, _ = es("PATCH", f"Groups/{group['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "remove", "path": f'members[value eq "{barbara["id"]}"]'}]})
    assert status == 200 and not user.memberships.filter(is_active=True).exists()
    status, _ = es("PATCH", f"Groups/{group['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": barbara["id"]}]}]})
    assert user.memberships.filter(is_active=True).count() == 1
    assert es("DELETE", f"Groups/{group['id']}")[0] == 204
    assert not user.memberships.filter(is_active=True).exists()


def test_a_group_with_another_providers_member_is_refused_whole(scim):
    es, vendor, _ = scim
    _, barbara = es("POST", "Users", new_user())
    status, _ = vendor("POST", "Groups", {"schemas": [GROUP], "displayName": "G", "members": [{"value": barbara["id"]}]})
    assert status == 404
    assert vendor("GET", "Groups")[1]["totalResults"] == 0  # nothing half-made


def test_replace_changes_details(scim):
    es, _, _ = scim
    _, created = es("POST", "Users", new_user())
    body = new_user(name={"givenName": "Babs", "familyName": "Jensen"})
    status, replaced = es("PUT", f"Users/{created['id']}", body)
    assert status == 200 and replaced["name"]["givenName"] == "Babs"
    status, err = es("PUT", f"Users/{created['id']}", new_user("someone-else"))
    assert status == 400 and err["scimType"] == "mutability"


def test_patch_active_false_ends_the_session_and_flags_the_accounts(scim, org):
    es, _, _ = scim
    _, created = es("POST", "Users", new_user())
    es("POST", "Groups", {"schemas": [GROUP], "displayName": "ES Agents", "members": [{"value": created["id"]}]})
    user = ExternalIdentity.objects.get().user
    org.es_account.owner = user
    org.es_account.save()
    browser = Client()
    browser.force_login(user)
    assert browser.get("/inbox/").status_code == 200
    status, body = es("PATCH", f"Users/{created['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "replace", "value": {"active": False}}]})
    assert status == 200 and body["active"] is False
    assert browser.get("/inbox/").status_code == 302  # signed out within a request
    assert SocialAccount.objects.get(pk=org.es_account.pk).owner_left_at is not None
    assert AuditEvent.objects.filter(action="orgs.person.deactivate", object_id=str(user.pk)).exists()
    # reactivated by the provider: back in, with the group's role
    es("PATCH", f"Users/{created['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "active", "value": True}]})
    user.refresh_from_db()
    assert user.is_active


def test_delete_deactivates_never_erases(scim):
    es, _, _ = scim
    _, created = es("POST", "Users", new_user())
    assert es("DELETE", f"Users/{created['id']}")[0] == 204
    assert es("GET", f"Users/{created['id']}")[1]["active"] is False


def test_a_provider_only_revokes_its_own_roles_of_a_person_with_roles_elsewhere(scim, org):
    es, _, _ = scim
    _, created = es("POST", "Users", new_user())
    es("POST", "Groups", {"schemas": [GROUP], "displayName": "ES Agents", "members": [{"value": created["id"]}]})
    user = ExternalIdentity.objects.get().user
    Membership.objects.create(user=user, unit=org.france, role=Role.ANALYST)
    es("DELETE", f"Users/{created['id']}")
    user.refresh_from_db()
    assert user.is_active  # France's role is not the Spanish provider's to end
    assert list(user.memberships.filter(is_active=True).values_list("unit__slug", flat=True)) == ["france"]


def test_bad_bodies(scim):
    es, _, _ = scim
    _, created = es("POST", "Users", new_user())
    assert es("POST", "Users", {"schemas": [USER]})[0] == 400
    assert es("PATCH", f"Users/{created['id']}", {"Operations": []})[0] == 400
    status, body = es("PATCH", f"Users/{created['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "active", "value": "maybe"}]})
    assert status == 400 and body["scimType"] == "invalidValue"
    status, _ = es("GET", "Users/not-a-uuid")
    assert status == 404
    response = Client().post("/scim/v2/Users", data="{not json", content_type=SCIM, **es.auth)
    assert response.status_code == 400


def test_service_provider_config(scim):
    es, _, _ = scim
    status, body = es("GET", "ServiceProviderConfig")
    assert status == 200 and body["patch"]["supported"] is True
