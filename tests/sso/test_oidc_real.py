"""Sign-in through a REAL OpenID Connect provider (npm's oidc-provider): authorisation code + PKCE, the ID
token checked, the person provisioned from her groups, and the second provider kept out of the first's subtree."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from dandelion.core.models import AuditEvent
from dandelion.orgs.choices import Role
from dandelion.orgs.models import Membership
from dandelion.sso.models import ExternalIdentity
from tests.sso.conftest import sign_in_at_provider

pytestmark = pytest.mark.django_db


def _sign_in(client, slug: str, login: str):
    start = client.get(f"/sso/{slug}/start/")
    assert start.status_code == 302
    query = parse_qs(urlsplit(start["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["nonce"][0] and query["state"][0] and "code_verifier" not in query
    callback = sign_in_at_provider(start["Location"], login)
    parts = urlsplit(callback)
    return client.get(parts.path, parse_qs(parts.query) and {k: v[0] for k, v in parse_qs(parts.query).items()})


def test_first_sign_in_creates_the_person_with_exactly_the_mapped_role(client, providers, org):
    response = _sign_in(client, "group", "alice")
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    identity = ExternalIdentity.objects.get(provider=providers.group, subject="alice")
    user = identity.user
    assert (user.username, user.email, user.first_name, user.has_usable_password()) == (
        "alice", "alice@example.org", "Alice", False)
    grants = list(Membership.objects.filter(user=user, is_active=True).values_list("unit__slug", "role", "team_id"))
    assert grants == [("france", Role.HELPER_AGENT, org.fr_team.pk)]
    assert client.get("/inbox/").status_code == 200  # signed in
    assert AuditEvent.objects.filter(action="sso.signin", actor=user).count() == 1
    assert AuditEvent.objects.filter(action="orgs.membership.grant", object_repr__contains="alice").count() == 1

    # a second sign-in finds the same person and grants nothing twice
    client.logout()
    assert _sign_in(client, "group", "alice").status_code == 302
    assert Membership.objects.filter(user=user).count() == 1
    assert ExternalIdentity.objects.filter(provider=providers.group).count() == 1


def test_a_person_without_mapped_group_is_refused_and_nothing_is_created(client, providers):
    response = _sign_in(client, "group", "bob")
    assert response.status_code == 403
    assert b"no role" in response.content
    assert not ExternalIdentity.objects.filter(subject="bob").exists()
    assert AuditEvent.objects.filter(action="sso.signin.refused", changes__reason="no_role").exists()


def test_the_agency_provider_cannot_map_into_the_group_subtree(client, providers, org):
    from dandelion.core.actors import SYSTEM
    from dandelion.sso import services
    from dandelion.sso.exceptions import InvalidRule

    with pytest.raises(InvalidRule, match="cannot grant roles on France"):
        services.create_rule(actor=SYSTEM, provider=providers.agency, value="fr-helpers", unit=org.france,
                             role=Role.HELPER_AGENT)
    # victor is in "fr-helpers" at the agency: he lands in the agency's unit, never in France
    assert _sign_in(client, "agency", "victor").status_code == 302
    victor = ExternalIdentity.objects.get(provider=providers.agency).user
    units = set(Membership.objects.filter(user=victor, is_active=True).values_list("unit__slug", flat=True))
    assert units == {"modco"}
