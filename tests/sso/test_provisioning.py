"""Claim rules stay inside their provider's subtree; sign-in provisions exactly the mapped roles; leavers are
deactivated with their sessions, tokens and accounts dealt with; local passwords can be switched off."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from dandelion.assets.choices import HealthFlag
from dandelion.assets.models import SocialAccount
from dandelion.core.actors import SYSTEM
from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.models import AuditEvent
from dandelion.notifications.models import Notification
from dandelion.orgs import services as orgs
from dandelion.orgs.choices import Role
from dandelion.orgs.models import Membership, OrgUnit
from dandelion.sso import services
from dandelion.sso.exceptions import InvalidRule, SignInRefused
from dandelion.sso.models import ExternalIdentity

# long enough (and with characters base64 never holds) that it cannot turn up inside a ciphertext by chance
SECRET = "client-secret_with spaces!"

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider(org):
    p = services.create_provider(actor=org.users.hub_admin, name="Agency", slug="agency",
                                 issuer="https://agency.example", client_id="c", client_secret=SECRET,
                                 bound_unit=org.spain)
    services.create_rule(actor=org.users.hub_admin, provider=p, value="es-agents", unit=org.spain,
                         role=Role.HELPER_AGENT, team=org.es_team)
    services.create_rule(actor=org.users.hub_admin, provider=p, claim="roles", value="lead", unit=org.spain,
                         role=Role.SPOKE_ADMIN)
    return p


def claims(**extra):
    return {"sub": "s-1", "preferred_username": "marta", "email": "marta@agency.example", **extra}


def test_the_client_secret_is_encrypted_and_never_audited(provider):
    assert provider.client_secret == SECRET and SECRET not in provider.client_secret_encrypted
    row = AuditEvent.objects.get(action="sso.provider.create")
    assert "client_secret_encrypted" not in row.changes and SECRET not in str(row.changes)


def test_only_the_hub_manages_providers_and_rules(org, provider):
    with pytest.raises(PermissionDeniedError):
        services.create_rule(actor=org.users.es_admin, provider=provider, value="x", unit=org.spain,
                             role=Role.HELPER_AGENT, team=org.es_team)
    with pytest.raises(PermissionDeniedError):
        services.rotate_scim_token(actor=org.users.europe_admin, provider=provider)


def test_a_rule_outside_the_subtree_is_refused(org, provider):
    with pytest.raises(InvalidRule, match="cannot grant roles on France"):
        services.create_rule(actor=SYSTEM, provider=provider, value="x", unit=org.france, role=Role.ANALYST)
    with pytest.raises(InvalidRule, match="hub admin"):
        services.create_rule(actor=SYSTEM, provider=provider, value="x", unit=org.spain, role=Role.HUB_ADMIN)


def test_first_sign_in_grants_exactly_the_matching_rules(org, provider):
    user = services.sign_in(provider=provider, claims=claims(groups=["es-agents", "other"], roles="lead"))
    got = set(Membership.objects.filter(user=user, is_active=True).values_list("unit__slug", "role", "team_id"))
    assert got == {("spain", Role.HELPER_AGENT, org.es_team.pk), ("spain", Role.SPOKE_ADMIN, None)}
    assert not user.has_usable_password()
    assert AuditEvent.objects.filter(action="orgs.person.create", object_id=str(user.pk)).count() == 1


def test_later_sign_ins_follow_the_provider_inside_its_subtree_only(org, provider):
    user = services.sign_in(provider=provider, claims=claims(groups=["es-agents"], roles="lead"))
    orgs.grant_membership(actor=org.users.hub_admin, user=user, unit=org.france, role=Role.ANALYST)  # by hand
    services.sign_in(provider=provider, claims=claims(groups=["es-agents"]))  # no longer "lead"
    got = set(Membership.objects.filter(user=user, is_active=True).values_list("unit__slug", "role"))
    assert got == {("spain", Role.HELPER_AGENT), ("france", Role.ANALYST)}


def test_no_matching_rule_refuses_and_creates_nothing(provider):
    with pytest.raises(SignInRefused) as caught:
        services.sign_in(provider=provider, claims=claims(groups=["nothing"]))
    assert caught.value.reason == "no_role"
    assert not ExternalIdentity.objects.exists()


def test_a_username_of_a_local_account_is_not_taken_over(org, provider):
    with pytest.raises(SignInRefused) as caught:
        services.sign_in(provider=provider, claims=claims(preferred_username="esadmin", groups=["es-agents"]))
    assert caught.value.reason == "username_taken"


def test_a_rule_left_outside_after_the_tree_moved_refuses_the_sign_in(org, provider):
    rule = provider.rules.first()
    type(rule).objects.filter(pk=rule.pk).update(unit=org.france)  # as if the tree had moved under it
    with pytest.raises(SignInRefused) as caught:
        services.sign_in(provider=provider, claims=claims(groups=["es-agents"]))
    assert caught.value.reason == "rule_outside_subtree"
    assert not ExternalIdentity.objects.exists()


def test_deactivating_a_person_ends_sessions_tokens_and_flags_their_accounts(org, provider):
    user = services.sign_in(provider=provider, claims=claims(groups=["es-agents"]))
    org.es_account.owner = user
    org.es_account.save()
    browser = Client()
    browser.force_login(user)
    assert browser.get("/inbox/").status_code == 200
    Token.objects.create(user=user)
    orgs.deactivate_person(actor=org.users.es_admin, user=user, reason="left the agency")
    assert browser.get("/inbox/").status_code == 302  # the session ended within a request
    assert not Token.objects.filter(user=user).exists()
    account = SocialAccount.objects.get(pk=org.es_account.pk)
    assert account.owner_left_at is not None and HealthFlag.OWNER_LEFT in account.health_flags()
    assert SocialAccount.objects.with_health(HealthFlag.OWNER_LEFT).get() == account
    assert AuditEvent.objects.filter(action="assets.account.owner_left", object_id=str(account.pk)).exists()
    # the transfer clears the flag
    from dandelion.assets.services import transfer_account

    transfer_account(account, to_unit=org.spain, new_owner=org.users.es_agent, actor=org.users.es_admin,
                     reason="new owner")
    account.refresh_from_db()
    assert account.owner_left_at is None and HealthFlag.OWNER_LEFT not in account.health_flags()


def test_the_unit_admins_are_told_to_transfer(org, provider, django_capture_on_commit_callbacks):
    user = services.sign_in(provider=provider, claims=claims(groups=["es-agents"]))
    org.es_account.owner = user
    org.es_account.save()
    with django_capture_on_commit_callbacks(execute=True):
        orgs.deactivate_person(actor=SYSTEM, user=user)
    assert Notification.objects.filter(recipient=org.users.es_admin, data__change="owner_left").exists()


def test_only_admins_of_every_unit_of_the_person_deactivate_them(org):
    with pytest.raises(PermissionDeniedError):
        orgs.deactivate_person(actor=org.users.fr_admin, user=org.users.es_agent)
    with pytest.raises(PermissionDeniedError):
        orgs.deactivate_person(actor=org.users.es_agent, user=org.users.es_admin)
    orgs.deactivate_person(actor=org.users.europe_admin, user=org.users.es_agent)


def test_the_last_hub_admin_cannot_be_deactivated(org):
    with pytest.raises(orgs.exc.LastHubAdmin):
        orgs.deactivate_person(actor=SYSTEM, user=org.users.hub_admin)


def password_login(client, username: str, password: str = "pw-test-123") -> bool:
    response = client.post("/accounts/login/", {"username": username, "password": password})
    ok = response.status_code == 302
    client.logout()
    return ok


def test_local_passwords_can_be_switched_off_for_a_providers_people(org, provider, client):
    user = services.sign_in(provider=provider, claims=claims(groups=["es-agents"]))
    user.set_password("pw-test-123")
    user.save()
    assert password_login(client, "marta")
    services.update_provider(actor=SYSTEM, provider=provider, local_passwords_off=True)
    assert not password_login(client, "marta")
    assert password_login(client, "esadmin")  # local people are not concerned


def test_local_passwords_switched_off_for_everyone_but_superusers(org, client, settings):
    settings.DANDELION_LOCAL_PASSWORDS = False
    assert not password_login(client, "esadmin")
    org.users.nobody.is_superuser = True
    org.users.nobody.save()
    assert password_login(client, "nobody")


def test_the_login_page_shows_a_button_per_active_provider(org, provider, client):
    services.create_provider(actor=SYSTEM, name="Old IdP", slug="old", issuer="https://old.example",
                             client_id="c", client_secret="s", bound_unit=org.spain, is_active=False)
    page = client.get("/accounts/login/?next=/inbox/").content.decode()
    assert "Sign in with Agency" in page and "/sso/agency/start/?next=/inbox/" in page
    assert "Old IdP" not in page


def test_the_hub_pages(org, provider, client_for):
    hub = client_for(org.users.hub_admin)
    assert hub.get("/sso/providers/").status_code == 200
    page = hub.get(f"/sso/providers/{provider.pk}/")
    assert b"http://testserver/sso/agency/callback/" in page.content
    bad = hub.post(f"/sso/providers/{provider.pk}/", {"claim": "groups", "value": "x", "unit": org.france.pk,
                                                       "role": Role.ANALYST})
    assert bad.status_code == 400 and b"cannot grant roles on France" in bad.content
    hub.post(f"/sso/providers/{provider.pk}/scim-token/")
    page = hub.get(f"/sso/providers/{provider.pk}/").content.decode()
    assert 'id="scim-token">scim_' in page
    assert client_for(org.users.es_admin).get("/sso/providers/").status_code == 403
    assert OrgUnit.objects.count() == 5


def test_a_person_the_provider_no_longer_maps_loses_its_roles_and_is_refused(org, provider):
    user = services.sign_in(provider=provider, claims=claims(groups=["es-agents"]))
    with pytest.raises(SignInRefused) as caught:
        services.sign_in(provider=provider, claims=claims(groups=["gone"]))
    assert caught.value.reason == "no_role"
    # the revocation is kept (the refusal does not roll it back): the leaver holds nothing any more
    assert not Membership.objects.filter(user=user, is_active=True).exists()
