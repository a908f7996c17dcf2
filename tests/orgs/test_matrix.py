"""The organisation's permission matrix (pages and API) with the shared helper ``tests/permission_matrix.py``:
every role against France's unit, team and memberships, the guidelines, the lists and the creations."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dandelion.orgs import services
from dandelion.orgs.models import Membership
from tests.permission_matrix import ADMINS_OF_FRANCE, IN_FRANCE, MISSING, PEOPLE, Case, check, outcome

pytestmark = pytest.mark.django_db

API = "/api/v1/"
MANAGE_MEMBERS_SOMEWHERE = {"hub_admin", "europe_admin", "fr_admin", "es_admin"}
EVERYONE_WITH_A_ROLE = PEOPLE - {"nobody"}


@pytest.fixture
def world(org, guideline):
    org.guideline = guideline
    org.draft = services.create_guideline(actor=org.users.hub_admin, title="Next", body="Draft.")
    org.fr_membership = Membership.objects.get(user=org.users.fr_agent)
    return org


def page(name, arg=None):
    return lambda w: reverse(f"orgs:{name}", args=[arg(w)] if arg else [])


def page_missing(name):
    return lambda w: reverse(f"orgs:{name}", args=[MISSING])


FRANCE = lambda w: w.france.pk
FR_TEAM = lambda w: w.fr_team.pk
FR_MEMBERSHIP = lambda w: w.fr_membership.pk
ORG_PAGE = outcome(ok=IN_FRANCE, moderator=403)  # external moderators see nothing of the organisation

PAGES = [
    Case("tree", page("tree"), {**{r: 200 for r in PEOPLE}, "moderator": 302}),
    Case("team list", page("team-list"), outcome(ok=PEOPLE - {"moderator"}, visible=PEOPLE)),
    Case("member list", page("membership-list"), outcome(ok=PEOPLE - {"moderator"}, visible=PEOPLE)),
    Case("unit detail", page("unit-detail", FRANCE), ORG_PAGE, missing_url=page_missing("unit-detail")),
    Case("unit edit", page("unit-edit", FRANCE), outcome(ok=ADMINS_OF_FRANCE, moderator=403),
         missing_url=page_missing("unit-edit")),
    Case("unit create", page("unit-create", FRANCE), outcome(ok=ADMINS_OF_FRANCE, moderator=403),
         missing_url=page_missing("unit-create")),
    # moving or deactivating France needs a grant on its parent, Europe
    Case("unit move", page("unit-move", FRANCE), outcome(ok={"hub_admin", "europe_admin"}, moderator=403),
         missing_url=page_missing("unit-move")),
    Case("unit deactivate", page("unit-deactivate", FRANCE),
         outcome(ok={"hub_admin", "europe_admin"}, ok_status=302, moderator=403), method="post", data=lambda w: {},
         missing_url=page_missing("unit-deactivate")),
    Case("team detail", page("team-detail", FR_TEAM), ORG_PAGE, missing_url=page_missing("team-detail")),
    Case("team edit", page("team-edit", FR_TEAM), outcome(ok=ADMINS_OF_FRANCE, moderator=403),
         missing_url=page_missing("team-edit")),
    Case("team create", page("team-create", FRANCE), outcome(ok=ADMINS_OF_FRANCE, moderator=403),
         missing_url=page_missing("team-create")),
    Case("team create, name taken", page("team-create", FRANCE),
         outcome(ok=ADMINS_OF_FRANCE, ok_status=400, moderator=403), method="post",
         data=lambda w: {"name": "FR helpers", "kind": "helpers", "languages": "fr"},
         missing_url=page_missing("team-create")),
    Case("team deactivate", page("team-deactivate", FR_TEAM), outcome(ok=ADMINS_OF_FRANCE, ok_status=302,
         moderator=403), method="post", data=lambda w: {}, missing_url=page_missing("team-deactivate")),
    Case("membership create", page("membership-create", FRANCE), outcome(ok=ADMINS_OF_FRANCE, moderator=403),
         missing_url=page_missing("membership-create")),
    Case("member invite, username taken", page("member-invite", FRANCE),
         outcome(ok=ADMINS_OF_FRANCE, ok_status=400, moderator=403), method="post",
         data=lambda w: {"username": "esagent", "email": "new@example.org", "role": "helper_agent"},
         missing_url=page_missing("member-invite")),
    Case("membership edit", page("membership-edit", FR_MEMBERSHIP), outcome(ok=ADMINS_OF_FRANCE, moderator=403),
         missing_url=page_missing("membership-edit")),
    Case("membership revoke", page("membership-revoke", FR_MEMBERSHIP),
         outcome(ok=ADMINS_OF_FRANCE, ok_status=302, moderator=403), method="post", data=lambda w: {},
         missing_url=page_missing("membership-revoke")),
    Case("guideline detail", page("guideline-detail", lambda w: w.guideline.pk),
         outcome(ok=EVERYONE_WITH_A_ROLE, visible=EVERYONE_WITH_A_ROLE),
         missing_url=page_missing("guideline-detail")),
    Case("draft guideline detail", page("guideline-detail", lambda w: w.draft.pk),
         outcome(ok={"hub_admin"}, visible={"hub_admin"}), missing_url=page_missing("guideline-detail")),
    Case("guideline create", page("guideline-create"), outcome(ok={"hub_admin"}, visible=PEOPLE)),
    Case("guideline report", page("guideline-report", lambda w: w.guideline.pk),
         outcome(ok=MANAGE_MEMBERS_SOMEWHERE, visible=EVERYONE_WITH_A_ROLE),
         missing_url=page_missing("guideline-report")),
]


def api(path):
    return lambda w: API + path(w)


def api_missing(path):
    return lambda w: API + path(w).replace(str(_pk_in(path, w)), str(MISSING), 1)


def _pk_in(path, w):
    return next(part for part in path(w).split("/") if part.isdigit())


UNIT = lambda w: f"org-units/{w.france.pk}/"
TEAM = lambda w: f"teams/{w.fr_team.pk}/"
MEMBERSHIP = lambda w: f"memberships/{w.fr_membership.pk}/"
API_ORG = outcome(ok=IN_FRANCE)  # external moderators see no unit: a 404, as for a unit that does not exist
NEW_TEAM = {"name": "FR night shift", "kind": "helpers", "languages": ["fr"]}

ENDPOINTS = [
    Case("api unit", api(UNIT), API_ORG, api=True, missing_url=api_missing(UNIT)),
    Case("api unit update", api(UNIT), outcome(ok=ADMINS_OF_FRANCE), method="patch", api=True,
         data=lambda w: {"name": "France (FR)"}, missing_url=api_missing(UNIT)),
    Case("api unit update, slug taken", api(UNIT), outcome(ok=ADMINS_OF_FRANCE, ok_status=409), method="patch",
         api=True, data=lambda w: {"slug": "spain"}, missing_url=api_missing(UNIT)),
    Case("api unit move", api(lambda w: f"org-units/{w.france.pk}/move/"),
         outcome(ok={"hub_admin", "europe_admin"}), method="post", api=True,
         data=lambda w: {"parent": w.spain.pk}, missing_url=api_missing(lambda w: f"org-units/{w.france.pk}/move/")),
    Case("api unit deactivate", api(lambda w: f"org-units/{w.france.pk}/deactivate/"),
         outcome(ok={"hub_admin", "europe_admin"}), method="post", api=True,
         missing_url=api_missing(lambda w: f"org-units/{w.france.pk}/deactivate/")),
    Case("api unit create", api(lambda w: "org-units/"),
         outcome(ok=ADMINS_OF_FRANCE, ok_status=201, visible=PEOPLE, es_admin=400), method="post", api=True,
         data=lambda w: {"parent": w.france.pk, "name": "Lyon"},
         missing_data=lambda w: {"parent": MISSING, "name": "Lyon"}),
    Case("api tree within France", api(lambda w: f"org-units/tree/?within={w.france.pk}"), API_ORG, api=True,
         missing_url=lambda w: f"{API}org-units/tree/?within={MISSING}"),
    Case("api team search", api(lambda w: "teams/?search=helpers"), {r: 200 for r in PEOPLE}, api=True),
    Case("api team", api(TEAM), outcome(ok=IN_FRANCE), api=True, missing_url=api_missing(TEAM)),
    Case("api team create", api(lambda w: "teams/"),
         outcome(ok=ADMINS_OF_FRANCE, ok_status=201, visible=PEOPLE, es_admin=400), method="post", api=True,
         data=lambda w: {"unit": w.france.pk, **NEW_TEAM}, missing_data=lambda w: {"unit": MISSING, **NEW_TEAM}),
    Case("api team create, name taken", api(lambda w: "teams/"),
         outcome(ok=ADMINS_OF_FRANCE, ok_status=409, visible=PEOPLE, es_admin=400), method="post", api=True,
         data=lambda w: {"unit": w.france.pk, **NEW_TEAM, "name": "FR helpers"},
         missing_data=lambda w: {"unit": MISSING, **NEW_TEAM, "name": "FR helpers"}),
    Case("api team update", api(TEAM), outcome(ok=ADMINS_OF_FRANCE), method="patch", api=True,
         data=lambda w: {"email": "fr@example.org"}, missing_url=api_missing(TEAM)),
    Case("api membership", api(MEMBERSHIP), outcome(ok=IN_FRANCE), api=True, missing_url=api_missing(MEMBERSHIP)),
    Case("api membership revoke", api(lambda w: f"memberships/{w.fr_membership.pk}/revoke/"),
         outcome(ok=ADMINS_OF_FRANCE), method="post", api=True,
         missing_url=api_missing(lambda w: f"memberships/{w.fr_membership.pk}/revoke/")),
    # who exists is answered only to people who may grant roles on the unit
    Case("api membership create", api(lambda w: "memberships/"),
         outcome(ok=ADMINS_OF_FRANCE, ok_status=201, visible=PEOPLE, es_admin=400), method="post", api=True,
         data=lambda w: {"username": "esagent", "unit": w.france.pk, "role": "analyst"},
         missing_data=lambda w: {"username": "no-such-person", "unit": w.france.pk, "role": "analyst"}),
    Case("api invite, username taken", api(lambda w: "memberships/invite/"),
         outcome(ok=ADMINS_OF_FRANCE, ok_status=409, visible=PEOPLE, es_admin=400), method="post", api=True,
         data=lambda w: {"username": "esagent", "email": "x@example.org", "unit": w.france.pk, "role": "analyst"},
         missing_data=lambda w: {"username": "newcomer", "email": "x@example.org", "unit": w.france.pk,
                                 "role": "analyst"}),
    Case("api guideline", api(lambda w: f"guidelines/{w.guideline.pk}/"),
         outcome(ok=EVERYONE_WITH_A_ROLE, visible=EVERYONE_WITH_A_ROLE), api=True,
         missing_url=lambda w: f"{API}guidelines/{MISSING}/"),
    Case("api guideline publish", api(lambda w: f"guidelines/{w.draft.pk}/publish/"),
         outcome(ok={"hub_admin"}, visible={"hub_admin"}), method="post", api=True,
         missing_url=lambda w: f"{API}guidelines/{MISSING}/publish/"),
    Case("api guideline create", api(lambda w: "guidelines/"), outcome(ok={"hub_admin"}, ok_status=201,
         visible=PEOPLE), method="post", api=True, data=lambda w: {"title": "v3", "body": "Text."}),
    Case("api guideline pending", api(lambda w: f"guidelines/{w.guideline.pk}/pending/"),
         outcome(ok=MANAGE_MEMBERS_SOMEWHERE, visible=EVERYONE_WITH_A_ROLE), api=True,
         missing_url=lambda w: f"{API}guidelines/{MISSING}/pending/"),
]


@pytest.mark.parametrize("case", PAGES, ids=str)
def test_pages(case, world):
    check(case, world)


@pytest.mark.parametrize("case", ENDPOINTS, ids=str)
def test_api(case, world):
    check(case, world)
