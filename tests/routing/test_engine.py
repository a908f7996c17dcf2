import pytest

from dandelion.orgs.choices import TeamKind
from dandelion.routing.engine import decide
from dandelion.routing.models import RoutingRule
from dandelion.routing.services import route
from tests.factories import TeamFactory
from tests.routing.conftest import make_ctx

pytestmark = pytest.mark.django_db


def rule(unit, name, conditions, actions, position=0, **kw):
    return RoutingRule.objects.create(unit=unit, name=name, conditions=conditions, actions=actions,
                                      position=position, **kw)


def test_french_complaint_goes_to_fr_helpers(org):
    d = decide(make_ctx(org.fr_account, text="Service nul, je veux un remboursement", intent="complaint",
                        sentiment="negative"))
    assert d.team_id == org.fr_team.pk
    assert d.rule_id is None
    assert d.explanation == "Default: FR helpers cover fr for France"
    assert d.as_reason()["rule"] is None and d.as_reason()["explanation"] == d.explanation


def test_amharic_on_french_account_goes_to_vendor(org):
    d = decide(make_ctx(org.fr_account, text="ሰላም", language="am"))
    assert d.team_id == org.vendor_team.pk
    assert "ModCo moderation" in d.explanation and "am" in d.explanation


def test_uncovered_language_goes_to_hub_triage(org):
    triage = TeamFactory(unit=org.hub, name="Triage", kind=TeamKind.COMMUNITY, languages=[])
    d = decide(make_ctx(org.fr_account, text="Tere", language="et"))
    assert d.team_id == triage.pk
    assert "triage" in d.explanation


def test_triage_team_created_lazily_by_route(org):
    d = decide(make_ctx(org.fr_account, language="et"))
    assert d.team_id is None
    d = route(make_ctx(org.fr_account, language="et"))
    from dandelion.orgs.models import Team

    triage = Team.objects.get(pk=d.team_id)
    assert triage.name == "Triage" and triage.unit == org.hub
    assert route(make_ctx(org.fr_account, language="et")).team_id == triage.pk


def test_spam_rule_hides_and_explains(org):
    spam = rule(org.hub, "Spam", {"all": [{"field": "spam", "op": "gte", "value": 0.8}]},
                {"hide": True, "add_tags": ["spam"]})
    d = decide(make_ctx(org.fr_account, spam=0.93))
    assert d.hide and d.tags == ["spam"] and d.matched_rule_ids == [spam.pk]
    assert d.team_id == org.fr_team.pk and d.rule_id is None
    assert "Rule 'Spam' matched: spam ≥ 0.8 → tag spam, hide" in d.explanation
    assert not decide(make_ctx(org.fr_account, spam=0.2)).hide


def test_vip_and_reach_raise_priority(org):
    rule(org.hub, "VIP", {"field": "vip", "op": "is", "value": True}, {"set_priority": "high"})
    rule(org.hub, "Reach", {"field": "author_followers", "op": "gte", "value": 100000},
         {"set_priority": "urgent", "escalate_to_pr": True}, position=1)
    assert decide(make_ctx(org.fr_account, is_vip=True)).priority == "high"
    d = decide(make_ctx(org.fr_account, is_vip=True, author_followers=250000))
    assert d.priority == "urgent" and d.escalate
    assert decide(make_ctx(org.fr_account)).priority is None


def test_rule_on_spain_does_not_apply_to_france(org):
    es_rule = rule(org.spain, "Everything to ES", {}, {"route_to_team": org.es_team.pk})
    assert decide(make_ctx(org.es_account, language="es")).rule_id == es_rule.pk
    d = decide(make_ctx(org.fr_account))
    assert d.team_id == org.fr_team.pk and d.matched_rule_ids == []


def test_first_route_wins_and_stop_processing(org):
    first = rule(org.hub, "Abuse to vendor", {"field": "abuse", "op": "gte", "value": 0.7},
                 {"route_to_team": org.vendor_team.pk})
    rule(org.france, "Complaints", {"field": "intent", "op": "in", "value": ["complaint"]},
         {"route_to_team": org.fr_team.pk, "add_tags": ["complaint"]})
    d = decide(make_ctx(org.fr_account, abuse=0.9, intent="complaint"))
    assert d.team_id == org.vendor_team.pk and d.rule_id == first.pk
    assert d.tags == ["complaint"] and len(d.matched_rule_ids) == 2
    assert "Rule 'Abuse to vendor' matched: abuse ≥ 0.7 → route to ModCo moderation" in d.explanation
    first.stop_processing = True
    first.save()
    d = decide(make_ctx(org.fr_account, abuse=0.9, intent="complaint"))
    assert d.tags == [] and d.matched_rule_ids == [first.pk]


def test_inactive_rules_and_teams_are_ignored(org):
    rule(org.hub, "Off", {}, {"route_to_team": org.es_team.pk}, is_active=False)
    assert decide(make_ctx(org.fr_account)).team_id == org.fr_team.pk
    org.fr_team.is_active = False
    org.fr_team.save()
    d = decide(make_ctx(org.fr_account))
    assert d.team_id != org.fr_team.pk
