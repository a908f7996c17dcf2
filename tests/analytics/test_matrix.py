"""The permission matrix of the analytics pages and endpoints: a spoke admin sees only their subtree."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.permission_matrix import ADMINS_OF_FRANCE, IN_FRANCE, MISSING, Case, check, outcome

pytestmark = pytest.mark.django_db

#: who reads analytics where France is visible: every role with view grants (helper agents, moderators: none)
READERS_OF_FRANCE = IN_FRANCE - {"fr_agent"}
NO_ANALYTICS = {"fr_agent": 403, "es_agent": 403, "moderator": 403, "nobody": 403}
#: the stories API lists nothing to those who may read no story: an id is a 404, as a missing one
NO_STORIES = {"fr_agent": 404, "es_agent": 404, "moderator": 404, "nobody": 404}


def _story(w):
    from dandelion.analytics import services

    if not hasattr(w, "story"):
        w.story = services.create_story(actor=w.users.fr_admin, unit=w.france, title="Faster answers",
                                        body="We *staffed* evenings.")
    return w.story


CASES = [
    Case("dashboard of France", lambda w: reverse("analytics:dashboard") + f"?unit={w.france.pk}",
         outcome(ok=READERS_OF_FRANCE, **NO_ANALYTICS),
         missing_url=lambda w: reverse("analytics:dashboard") + f"?unit={MISSING}"),
    Case("dashboard of France's account", lambda w: reverse("analytics:dashboard") + f"?account={w.fr_account.pk}",
         outcome(ok=READERS_OF_FRANCE, **NO_ANALYTICS),
         missing_url=lambda w: reverse("analytics:dashboard") + f"?account={MISSING}"),
    Case("XLSX export of France's dashboard",
         lambda w: reverse("analytics:dashboard") + f"?unit={w.france.pk}&format=xlsx",
         outcome(ok=READERS_OF_FRANCE, **NO_ANALYTICS),
         missing_url=lambda w: reverse("analytics:dashboard") + f"?unit={MISSING}&format=xlsx"),
    Case("CSV export of France's accounts",
         lambda w: reverse("analytics:dashboard") + f"?unit={w.france.pk}&format=csv&table=accounts",
         outcome(ok=READERS_OF_FRANCE, **NO_ANALYTICS),
         missing_url=lambda w: reverse("analytics:dashboard") + f"?unit={MISSING}&format=csv&table=accounts"),
    Case("XLSX export of France's top properties",
         lambda w: reverse("analytics:leaderboard") + f"?unit={w.france.pk}&format=xlsx",
         outcome(ok=READERS_OF_FRANCE, **NO_ANALYTICS),
         missing_url=lambda w: reverse("analytics:leaderboard") + f"?unit={MISSING}&format=xlsx"),
    Case("api dashboard of France", lambda w: f"/api/v1/analytics-dashboard/?unit={w.france.pk}",
         outcome(ok=READERS_OF_FRANCE, **NO_ANALYTICS), api=True,
         missing_url=lambda w: f"/api/v1/analytics-dashboard/?unit={MISSING}"),
    Case("api leaderboard of France", lambda w: f"/api/v1/analytics-leaderboard/?unit={w.france.pk}",
         outcome(ok=READERS_OF_FRANCE, **NO_ANALYTICS), api=True,
         missing_url=lambda w: f"/api/v1/analytics-leaderboard/?unit={MISSING}"),
    Case("story detail", lambda w: _story(w).get_absolute_url(), outcome(ok=READERS_OF_FRANCE, **NO_ANALYTICS),
         missing_url=lambda w: reverse("analytics:story-detail", args=[MISSING])),
    Case("api story detail", lambda w: f"/api/v1/success-stories/{_story(w).pk}/",
         outcome(ok=READERS_OF_FRANCE, **NO_STORIES), api=True,
         missing_url=lambda w: f"/api/v1/success-stories/{MISSING}/"),
    Case("api edit story", lambda w: f"/api/v1/success-stories/{_story(w).pk}/",
         outcome(ok=ADMINS_OF_FRANCE | {"fr_cm"}, visible=READERS_OF_FRANCE, **NO_STORIES), api=True,
         method="patch", data=lambda w: {"title": "Evenings staffed"},
         missing_url=lambda w: f"/api/v1/success-stories/{MISSING}/"),
    Case("api create story", lambda w: "/api/v1/success-stories/",
         outcome(ok=ADMINS_OF_FRANCE | {"fr_cm"}, ok_status=201, visible=READERS_OF_FRANCE | {"es_admin"},
                 es_admin=400, **NO_ANALYTICS), api=True, method="post",
         data=lambda w: {"unit": w.france.pk, "title": "Night shift", "body": "Text"},
         missing_data=lambda w: {"unit": MISSING, "title": "Night shift", "body": "Text"}),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_matrix(case, org):
    check(case, org)
