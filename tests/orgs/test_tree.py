"""The tree roll-up: figures on the ``org`` fixture, scope of each role, and a pinned query count."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dandelion.orgs import services
from dandelion.orgs.choices import Role
from dandelion.orgs.reports import build_rollup
from tests.factories import MembershipFactory, OrgUnitFactory, SocialAccountFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

#: Queries for the whole tree page, whatever the number of units: session + user, grants, the banner's guideline
#: check, units, current guideline, accounts, members, teams.
TREE_PAGE_MAX_QUERIES = 10


def totals(rollup):
    return {n.unit.name: n.total.as_dict() for n in rollup}


def test_rollup_figures_on_the_org_fixture(org):
    t = totals(build_rollup(org.users.hub_admin))
    # Both fixture accounts have no owner; 11 people hold a role; 3 teams.
    assert t["Group hub"] == {"accounts": 2, "members": 11, "teams": 3, "accounts_without_owner": 2,
                              "accounts_owner_deactivated": 0, "accounts_credentials_expiring": 0, "accounts_dormant": 0,
                              "accounts_connector_error": 0, "members_not_acknowledged": 0, "issues": 2}
    assert t["Europe"] == {"accounts": 2, "members": 7, "teams": 2, "accounts_without_owner": 2,
                           "accounts_owner_deactivated": 0, "accounts_credentials_expiring": 0, "accounts_dormant": 0,
                              "accounts_connector_error": 0, "members_not_acknowledged": 0, "issues": 2}
    assert t["France"]["accounts"] == 1 and t["France"]["members"] == 4 and t["France"]["teams"] == 1
    assert t["Spain"]["members"] == 2 and t["ModCo"] == {**t["ModCo"], "accounts": 0, "members": 1, "teams": 1}


def test_rollup_counts_owner_problems_and_acknowledgements(org, guideline):
    gone = UserFactory(username="gone")
    gone.is_active = False
    gone.save()
    org.fr_account.owner = gone
    org.fr_account.save()
    SocialAccountFactory(owner_unit=org.spain, owner=org.users.es_admin)  # healthy
    SocialAccountFactory(owner_unit=org.spain, status="archived")  # archived: not counted
    for user in (org.users.hub_admin, org.users.fr_admin, org.users.fr_agent):
        services.acknowledge_guideline(actor=user, guideline=guideline)
    t = totals(build_rollup(org.users.hub_admin))
    assert t["France"]["accounts_owner_deactivated"] == 1 and t["France"]["accounts_without_owner"] == 0
    assert t["France"]["members_not_acknowledged"] == 2  # frcm, fragent2
    assert t["Spain"]["accounts"] == 2 and t["Spain"]["accounts_without_owner"] == 1
    assert t["Group hub"]["members_not_acknowledged"] == 8
    assert t["Group hub"]["issues"] == 1 + 1 + 8


def test_rollup_counts_account_health_problems(org):
    import datetime as dt

    from django.utils import timezone

    now = timezone.now()
    SocialAccountFactory(owner_unit=org.spain, owner=org.users.es_admin, credentials_expires_at=now + dt.timedelta(days=2))
    SocialAccountFactory(owner_unit=org.spain, owner=org.users.es_admin, credentials_expires_at=now - dt.timedelta(days=1))
    SocialAccountFactory(owner_unit=org.spain, owner=org.users.es_admin, last_activity_at=now - dt.timedelta(days=90))
    SocialAccountFactory(owner_unit=org.france, owner=org.users.fr_admin, last_error="401 token revoked")
    SocialAccountFactory(owner_unit=org.france, owner=org.users.fr_admin, last_error="gone", status="archived")
    t = totals(build_rollup(org.users.hub_admin))
    assert t["Spain"]["accounts_credentials_expiring"] == 2 and t["Spain"]["accounts_dormant"] == 1
    assert t["France"]["accounts_connector_error"] == 1  # the archived one is not an issue any more
    assert t["Europe"]["issues"] == 2 + 2 + 1 + 1  # two fixture accounts without owner, then the four above


def test_roots_follow_the_viewers_grants(org):
    assert [n.unit.name for n in build_rollup(org.users.hub_admin).roots] == ["Group hub"]
    assert [n.unit.name for n in build_rollup(org.users.fr_admin).roots] == ["France"]
    assert [n.unit.name for n in build_rollup(org.users.europe_admin).roots] == ["Europe"]
    assert build_rollup(org.users.moderator).roots == []
    # Two grants on disjoint subtrees: two roots, figures only from there.
    MembershipFactory(user=org.users.fr_admin, unit=org.vendor, role=Role.SPOKE_ADMIN)
    fr_admin = get_user_model().objects.get(pk=org.users.fr_admin.pk)
    rollup = build_rollup(fr_admin)
    assert [n.unit.name for n in rollup.roots] == ["France", "ModCo"]
    assert rollup.nodes[org.france.pk].total.accounts == 1


def test_tree_page_for_each_role(org, client_for, anon_client):
    url = reverse("orgs:tree")
    body = client_for(org.users.hub_admin).get(url).content.decode()
    assert "Group hub" in body and "ModCo" in body and "2 issues" in body
    body = client_for(org.users.fr_admin).get(url).content.decode()
    assert "France" in body and "Spain" not in body and "Group hub" not in body
    resp = client_for(org.users.moderator).get(url)
    assert resp.status_code in (302, 403)
    if resp.status_code == 302:
        assert resp.url == reverse("inbox:queue")
    resp = anon_client.get(url)
    assert resp.status_code == 302 and "/accounts/login/" in resp.url
    assert "no role" in client_for(org.users.nobody).get(url).content.decode()


def test_tree_page_partial_for_htmx(org, client_for):
    resp = client_for(org.users.hub_admin).get(reverse("orgs:tree") + "?inactive=1", HTTP_HX_REQUEST="true")
    assert resp.status_code == 200
    assert b"<html" not in resp.content and b"tree-root" in resp.content


def _grow(org, n):
    for i in range(n):
        unit = OrgUnitFactory(parent=org.europe)
        sub = OrgUnitFactory(parent=unit)
        TeamFactory(unit=sub)
        SocialAccountFactory(owner_unit=sub, owner=UserFactory())
        MembershipFactory(unit=sub, role=Role.HELPER_AGENT)


def test_tree_page_query_count_is_constant(org, guideline, client_for, django_assert_max_num_queries):
    client = client_for(org.users.hub_admin)
    url = reverse("orgs:tree")
    client.get(url)  # warm caches (content types...)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _grow(org, 15)
    with django_assert_max_num_queries(TREE_PAGE_MAX_QUERIES):
        resp = client.get(url)
    assert resp.status_code == 200 and resp.content.count(b'class="tree-node"') == 5 + 30
    with CaptureQueriesContext(connection) as big:
        client.get(url)
    assert len(big) == len(small)


def test_unit_detail_query_count_does_not_grow(org, guideline, client_for):
    client = client_for(org.users.hub_admin)
    url = reverse("orgs:unit-detail", args=[org.europe.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    _grow(org, 10)
    with CaptureQueriesContext(connection) as big:
        assert client.get(url + "?subtree=1").status_code == 200
    assert len(big) <= len(small) + 1
