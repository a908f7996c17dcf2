"""The publishing permission matrix: every role against France's posts, their actions, the creations."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from dandelion.publishing import campaigns, services
from tests.permission_matrix import ADMINS_OF_FRANCE, MISSING, PEOPLE, Case, check, outcome

pytestmark = pytest.mark.django_db

VIEWERS = frozenset({"hub_admin", "europe_admin", "fr_admin", "fr_cm", "pr", "analyst"})  # helper agents: no posts
CHANGERS = ADMINS_OF_FRANCE | {"fr_cm"}
SOMEWHERE_VIEWERS = VIEWERS | {"es_admin"}


@pytest.fixture
def world(pub):
    services.create_workflow(actor=pub.users.hub_admin, unit=pub.hub, name="Hub",
                             steps=[{"role": "hub_admin", "mode": "any"}])
    pub.draft = services.create_post(actor=pub.users.fr_cm, unit=pub.france, text="Bonjour",
                                     accounts=[pub.fr_account])
    review = services.create_post(actor=pub.users.fr_cm, unit=pub.france, text="Salut", accounts=[pub.fr_account])
    pub.review = services.submit_post(review, actor=pub.users.fr_cm)
    pub.pause = services.pause_subtree(actor=pub.users.hub_admin, unit=pub.france, reason="Storm")
    now = timezone.now().replace(tzinfo=None)
    pub.campaign = campaigns.create_campaign(
        actor=pub.users.hub_admin, unit=pub.hub, name="Summer", master_text="Summer!",
        starts_local=now + dt.timedelta(days=1), ends_local=now + dt.timedelta(days=8),
        spokes=[pub.france, pub.spain])
    pub.fr_row = pub.campaign.spokes.get(unit=pub.france)
    return pub


def page(name, obj=None, *args):
    return lambda w: reverse(f"publishing:{name}", args=([getattr(w, obj).pk] if obj else []) + list(args))


def page_missing(name, *args):
    return lambda w: reverse(f"publishing:{name}", args=[MISSING, *args])


def api(path):
    return lambda w: path.format(draft=w.draft.pk, review=w.review.pk, pause=w.pause.pk, campaign=w.campaign.pk,
                                 row=w.fr_row.pk)


def api_missing(path):
    return lambda w: path.format(draft=MISSING, review=MISSING, pause=MISSING, campaign=MISSING, row=MISSING)


POST_DATA = lambda w: {"unit": w.france.pk, "text": "Nouveau", "variants": [{"account": w.fr_account.pk}]}
POST_MISSING = lambda w: {"unit": MISSING, "text": "Nouveau", "variants": [{"account": w.fr_account.pk}]}

CASES = [
    Case("post list", page("post-list"), outcome(ok=SOMEWHERE_VIEWERS, visible=PEOPLE)),
    Case("calendar", page("calendar"), outcome(ok=SOMEWHERE_VIEWERS, visible=PEOPLE)),
    Case("week calendar", page("calendar-week"), outcome(ok=SOMEWHERE_VIEWERS, visible=PEOPLE)),
    Case("move on the calendar", page("calendar-move", "draft"),
         outcome(ok=CHANGERS, visible=VIEWERS, ok_status=302), method="post",
         data=lambda w: {"day": "2031-01-01", "hour": "9"}, missing_url=page_missing("calendar-move")),
    Case("post detail", page("post-detail", "draft"), outcome(ok=VIEWERS, visible=VIEWERS),
         missing_url=page_missing("post-detail")),
    Case("post edit page", page("post-edit", "draft"), outcome(ok=CHANGERS, visible=VIEWERS),
         missing_url=page_missing("post-edit")),
    Case("submit (page)", page("post-action", "draft", "submit"),
         outcome(ok=CHANGERS, visible=VIEWERS, ok_status=302), method="post",
         missing_url=page_missing("post-action", "submit")),
    Case("approve (page)", page("post-action", "review", "approve"),
         outcome(ok=VIEWERS - {"analyst"}, visible=VIEWERS, ok_status=302), method="post",
         missing_url=page_missing("post-action", "approve")),
    Case("add image (page)", page("media-add", "draft"), outcome(ok=CHANGERS, visible=VIEWERS, ok_status=302),
         method="post", missing_url=page_missing("media-add")),
    Case("pauses page", page("pause-list"), outcome(ok=SOMEWHERE_VIEWERS, visible=PEOPLE)),
    # PR managers resume too (the crisis app grants them publishing.change_crisispause: the room's pilot lifts it)
    Case("resume page", page("pause-resume", "pause"), outcome(ok=ADMINS_OF_FRANCE | {"pr"}, visible=VIEWERS),
         missing_url=page_missing("pause-resume")),
    Case("rules page", page("rule-list"), outcome(ok=SOMEWHERE_VIEWERS, visible=PEOPLE)),
    Case("import page", page("post-import"), outcome(ok=CHANGERS | {"es_admin"}, visible=PEOPLE)),
    Case("campaigns page", page("campaign-list"), outcome(ok=SOMEWHERE_VIEWERS, visible=PEOPLE)),
    Case("new campaign page", page("campaign-create"),
         outcome(ok=ADMINS_OF_FRANCE | {"es_admin"}, visible=PEOPLE)),
    # the hub's campaign: its owners see every spoke, a spoke sees its own row (Spain's admin: Spain's)
    Case("campaign matrix", page("campaign-detail", "campaign"),
         outcome(ok=SOMEWHERE_VIEWERS, visible=SOMEWHERE_VIEWERS), missing_url=page_missing("campaign-detail")),
    Case("localise page", page("campaign-localise", "fr_row"), outcome(ok=CHANGERS, visible=VIEWERS),
         missing_url=page_missing("campaign-localise")),
    Case("nudge (page)", page("campaign-spoke-action", "fr_row", "nudge"),
         outcome(ok={"hub_admin"}, visible=VIEWERS, ok_status=302), method="post",
         missing_url=page_missing("campaign-spoke-action", "nudge")),
    Case("decline (page)", page("campaign-spoke-action", "fr_row", "decline"),
         outcome(ok=ADMINS_OF_FRANCE, visible=VIEWERS, ok_status=302), method="post",
         data=lambda w: {"reason": "Not now"}, missing_url=page_missing("campaign-spoke-action", "decline")),
    Case("api post detail", api("/api/v1/posts/{draft}/"), outcome(ok=VIEWERS, visible=VIEWERS), api=True,
         missing_url=api_missing("/api/v1/posts/{draft}/")),
    Case("api post list", api("/api/v1/posts/"), outcome(ok=PEOPLE, visible=PEOPLE), api=True),
    Case("api create post", api("/api/v1/posts/"),
         outcome(ok=CHANGERS, ok_status=201, visible=PEOPLE, es_admin=400), method="post", api=True,
         data=POST_DATA, missing_data=POST_MISSING),
    Case("api create post, bad input", api("/api/v1/posts/"),
         outcome(ok=CHANGERS, ok_status=400, visible=PEOPLE, es_admin=400), method="post", api=True,
         data=lambda w: {"unit": w.france.pk, "text": "x" * 70000, "variants": []}),
    Case("api edit post", api("/api/v1/posts/{draft}/"), outcome(ok=CHANGERS, visible=VIEWERS),
         method="patch", api=True, data=lambda w: {"text": "Bonsoir"},
         missing_url=api_missing("/api/v1/posts/{draft}/")),
    Case("api submit", api("/api/v1/posts/{draft}/submit/"), outcome(ok=CHANGERS, visible=VIEWERS),
         method="post", api=True, missing_url=api_missing("/api/v1/posts/{draft}/submit/")),
    Case("api approve", api("/api/v1/posts/{review}/approve/"), outcome(ok={"hub_admin"}, visible=VIEWERS),
         method="post", api=True, data=lambda w: {"comment": "ok"},
         missing_url=api_missing("/api/v1/posts/{review}/approve/")),
    Case("api pause", api("/api/v1/crisis-pauses/"),
         outcome(ok={"hub_admin", "europe_admin", "pr"}, ok_status=201, visible=PEOPLE, es_admin=400, fr_admin=400),
         method="post", api=True, data=lambda w: {"unit": w.europe.pk, "reason": "Crisis"},
         missing_data=lambda w: {"unit": MISSING, "reason": "Crisis"}),
    Case("api resume", api("/api/v1/crisis-pauses/{pause}/resume/"),
         outcome(ok=ADMINS_OF_FRANCE | {"pr"}, visible=VIEWERS),
         method="post", api=True, missing_url=api_missing("/api/v1/crisis-pauses/{pause}/resume/")),
    Case("api campaign list", api("/api/v1/campaigns/"), outcome(ok=PEOPLE, visible=PEOPLE), api=True),
    Case("api campaign detail", api("/api/v1/campaigns/{campaign}/"),
         outcome(ok={"hub_admin", "pr", "analyst"}, visible={"hub_admin", "pr", "analyst"}), api=True,
         missing_url=api_missing("/api/v1/campaigns/{campaign}/")),
    Case("api create campaign", api("/api/v1/campaigns/"),
         outcome(ok={"hub_admin", "europe_admin"}, ok_status=201, visible=PEOPLE, es_admin=400, fr_admin=400),
         method="post", api=True,
         data=lambda w: {"unit": w.europe.pk, "name": "Autumn", "master_text": "Autumn!",
                         "starts_local": "2031-09-01T00:00:00", "ends_local": "2031-09-30T00:00:00",
                         "spokes": [w.france.pk]},
         missing_data=lambda w: {"unit": MISSING, "name": "Autumn", "master_text": "Autumn!",
                                 "starts_local": "2031-09-01T00:00:00", "ends_local": "2031-09-30T00:00:00",
                                 "spokes": [w.france.pk]}),
    Case("api campaign spoke", api("/api/v1/campaign-spokes/{row}/"), outcome(ok=VIEWERS, visible=VIEWERS),
         api=True, missing_url=api_missing("/api/v1/campaign-spokes/{row}/")),
    Case("api localise", api("/api/v1/campaign-spokes/{row}/localise/"),
         outcome(ok=CHANGERS, ok_status=201, visible=VIEWERS), method="post", api=True,
         data=lambda w: {"variants": [{"account": w.fr_account.pk}]},
         missing_url=api_missing("/api/v1/campaign-spokes/{row}/localise/")),
    Case("api decline", api("/api/v1/campaign-spokes/{row}/decline/"),
         outcome(ok=ADMINS_OF_FRANCE, visible=VIEWERS), method="post", api=True,
         data=lambda w: {"reason": "Not now"}, missing_url=api_missing("/api/v1/campaign-spokes/{row}/decline/")),
    Case("api nudge", api("/api/v1/campaign-spokes/{row}/nudge/"), outcome(ok={"hub_admin"}, visible=VIEWERS),
         method="post", api=True, missing_url=api_missing("/api/v1/campaign-spokes/{row}/nudge/")),
    Case("api create rule", api("/api/v1/guideline-rules/"),
         outcome(ok=ADMINS_OF_FRANCE, ok_status=201, visible=PEOPLE, es_admin=400), method="post", api=True,
         data=lambda w: {"unit": w.france.pk, "name": "No", "kind": "banned_terms", "params": {"terms": ["x"]}},
         missing_data=lambda w: {"unit": MISSING, "name": "No", "kind": "banned_terms",
                                 "params": {"terms": ["x"]}}),
    Case("api create workflow", api("/api/v1/workflows/"),
         outcome(ok=ADMINS_OF_FRANCE, ok_status=201, visible=PEOPLE, es_admin=400), method="post", api=True,
         data=lambda w: {"unit": w.france.pk, "name": "FR", "steps": [{"role": "spoke_admin"}]},
         missing_data=lambda w: {"unit": MISSING, "name": "FR", "steps": [{"role": "spoke_admin"}]}),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_matrix(case, world):
    check(case, world)
