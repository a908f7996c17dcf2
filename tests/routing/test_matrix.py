"""Routing's permission matrix (pages and API) with the shared helper ``tests/permission_matrix.py``: every role
against a French routing rule and a French team's SLA policy, and the creations."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dandelion.routing.models import RoutingRule, SlaPolicy
from tests.permission_matrix import ADMINS_OF_FRANCE, IN_FRANCE, MISSING, PEOPLE, Case, Expect, check, outcome

pytestmark = pytest.mark.django_db

#: Who sees routing at all (``routing.view_*``): everyone with a role but the external moderator.
SEES_ROUTING = PEOPLE - {"moderator", "nobody"}
ADMINS = ADMINS_OF_FRANCE | {"es_admin"}
BAD_RULE = {"conditions": {"field": "no_such_field", "op": "eq", "value": 1}}


@pytest.fixture
def world(org):
    org.rule = RoutingRule.objects.create(unit=org.france, name="FR complaints", position=0,
                                          conditions={"field": "intent", "op": "in", "value": ["complaint"]},
                                          actions={"route_to_team": org.fr_team.pk})
    org.sla = SlaPolicy.objects.create(team=org.fr_team, first_response_seconds=3600)
    return org


def page(name, obj=None):
    return lambda w: reverse(f"routing:{name}", args=[getattr(w, obj).pk] if obj else [])


def page_missing(name):
    return lambda w: reverse(f"routing:{name}", args=[MISSING])


def api(path, obj=None):
    return lambda w: f"/api/v1/{path.format(pk=getattr(w, obj).pk if obj else '')}"


def api_missing(path):
    return lambda w: f"/api/v1/{path.format(pk=MISSING)}"


def new_rule(unit):
    return lambda w: {"unit": unit(w), "name": "FR VIP", "conditions": {"field": "vip", "op": "is", "value": True},
                      "actions": {"set_priority": "high"}}


def new_sla(team):
    return lambda w: {"team": team(w), "priority": "urgent", "first_response_seconds": 600}


# people without routing at all are refused before the rule is looked up (same answer for a missing one)
NO_ROUTING = {"moderator": 403, "nobody": 403}

CASES = [
    Case("rule list", page("rule-list"), outcome(ok=SEES_ROUTING, visible=PEOPLE)),
    Case("rule editor", page("rule-edit", "rule"), outcome(ok=IN_FRANCE, **NO_ROUTING),
         missing_url=page_missing("rule-edit")),
    Case("rule editor, invalid rule", page("rule-edit", "rule"), outcome(ok=ADMINS_OF_FRANCE, ok_status=400,
         **NO_ROUTING), method="post", data=lambda w: {"name": "", "unit": w.france.pk},
         missing_url=page_missing("rule-edit")),
    Case("rule move", page("rule-move", "rule"), outcome(ok=ADMINS_OF_FRANCE, ok_status=302), method="post",
         data=lambda w: {"direction": "down"}, missing_url=page_missing("rule-move")),
    Case("rule delete", page("rule-delete", "rule"), outcome(ok=ADMINS_OF_FRANCE, ok_status=302), method="post",
         data=lambda w: {}, missing_url=page_missing("rule-delete")),
    Case("rule create", page("rule-create"), outcome(ok=ADMINS, visible=PEOPLE)),
    Case("SLA list", page("sla-list"), outcome(ok=SEES_ROUTING, visible=PEOPLE)),
    Case("api rule", api("routing-rules/{pk}/", "rule"), outcome(ok=IN_FRANCE), api=True,
         missing_url=api_missing("routing-rules/{pk}/")),
    Case("api rule update, invalid", api("routing-rules/{pk}/", "rule"), outcome(ok=ADMINS_OF_FRANCE,
         ok_status=400), method="patch", api=True, data=lambda w: BAD_RULE,
         missing_url=api_missing("routing-rules/{pk}/")),
    Case("api rule delete", api("routing-rules/{pk}/", "rule"), outcome(ok=ADMINS_OF_FRANCE, ok_status=204),
         method="delete", api=True, missing_url=api_missing("routing-rules/{pk}/")),
    Case("api rule create", api("routing-rules/"), outcome(ok=ADMINS_OF_FRANCE, ok_status=201, visible=PEOPLE,
         es_admin=400), method="post", api=True, data=new_rule(lambda w: w.france.pk),
         missing_data=new_rule(lambda w: MISSING)),
    # a filter on a unit or team the caller cannot see answers as for one that does not exist (an empty list)
    Case("api rules of France", lambda w: f"/api/v1/routing-rules/?unit={w.france.pk}",
         Expect({r: 200 for r in PEOPLE}, ok=IN_FRANCE), api=True,
         missing_url=lambda w: f"/api/v1/routing-rules/?unit={MISSING}"),
    Case("api SLA policies of FR helpers", lambda w: f"/api/v1/sla-policies/?team={w.fr_team.pk}",
         Expect({r: 200 for r in PEOPLE}, ok=IN_FRANCE), api=True,
         missing_url=lambda w: f"/api/v1/sla-policies/?team={MISSING}"),
    Case("api SLA policy", api("sla-policies/{pk}/", "sla"), outcome(ok=IN_FRANCE), api=True,
         missing_url=api_missing("sla-policies/{pk}/")),
    Case("api SLA policy update, invalid", api("sla-policies/{pk}/", "sla"), outcome(ok=ADMINS_OF_FRANCE,
         ok_status=400), method="patch", api=True, data=lambda w: {"escalation": []},
         missing_url=api_missing("sla-policies/{pk}/")),
    Case("api SLA policy create", api("sla-policies/"), outcome(ok=ADMINS_OF_FRANCE, ok_status=201,
         visible=PEOPLE, es_admin=400), method="post", api=True, data=new_sla(lambda w: w.fr_team.pk),
         missing_data=new_sla(lambda w: MISSING)),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_matrix(case, world):
    check(case, world)
