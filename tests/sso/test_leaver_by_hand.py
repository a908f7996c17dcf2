"""A leaver deactivated by hand from the organisation's member list: confirm page, permission matrix, effects."""

from __future__ import annotations

import pytest

from dandelion.assets.models import SocialAccount
from dandelion.orgs.models import Membership

pytestmark = pytest.mark.django_db


def _membership(user):
    return Membership.objects.get(user=user)


def test_a_spoke_admin_deactivates_a_leaver_of_their_unit(org, client_for):
    leaver = org.users.es_agent
    org.es_account.owner = leaver
    org.es_account.save()
    leaver_browser = client_for(leaver)
    assert leaver_browser.get("/inbox/").status_code == 200
    admin = client_for(org.users.es_admin)
    url = f"/orgs/memberships/{_membership(leaver).pk}/deactivate-person/"
    page = admin.get(url)
    assert page.status_code == 200 and b"flagged for transfer" in page.content
    assert b"Deactivate person" in admin.get(f"/orgs/units/{org.spain.pk}/").content
    assert admin.post(url).status_code == 302
    leaver.refresh_from_db()
    assert not leaver.is_active
    assert leaver_browser.get("/inbox/").status_code == 302
    assert SocialAccount.objects.get(pk=org.es_account.pk).owner_left_at is not None


@pytest.mark.parametrize(("who", "status"), [("fr_admin", 404), ("fr_cm", 404), ("peer", 403)])
def test_others_cannot(org, client_for, who, status):
    """Another unit's admin does not even see the member (404); a helper agent of the same unit sees them but may
    not manage members (403)."""
    from tests.factories import MembershipFactory, UserFactory

    if who == "peer":
        user = UserFactory(username="peer")
        MembershipFactory(user=user, unit=org.spain, role="helper_agent", team=org.es_team)
    else:
        user = getattr(org.users, who)
    url = f"/orgs/memberships/{_membership(org.users.es_agent).pk}/deactivate-person/"
    assert client_for(user).get(url).status_code == status
    client_for(user).post(url)
    org.users.es_agent.refresh_from_db()
    assert org.users.es_agent.is_active
