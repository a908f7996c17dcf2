"""Issue 16: routing rules built with a form (languages by name, networks, accounts, classification; a team by
name and a priority) over the same stored JSON; clear errors; a rule the builder cannot show opens as JSON."""

import pytest
from django.urls import reverse

from dandelion.core.models import AuditEvent
from dandelion.routing.forms import to_builder
from dandelion.routing.models import RoutingRule

pytestmark = pytest.mark.django_db


def _builder(org, **overrides):
    data = {"mode": "builder", "unit": org.france.pk, "name": "FR complaints", "is_active": "on",
            "b_languages": ["fr", "br"], "b_networks": ["facebook"], "b_accounts": [org.fr_account.pk],
            "b_intents": ["complaint"], "b_sentiments": ["negative"], "b_team": org.fr_team.pk,
            "b_priority": "high", "conditions": "{ignored", "actions": ""}
    data.update(overrides)
    return data


def test_the_builder_stores_the_same_json_the_engine_reads(org, client_for):
    response = client_for(org.users.fr_admin).post(reverse("routing:rule-create"), _builder(org))
    assert response.status_code == 302, response.context["form"].errors
    rule = RoutingRule.objects.get(name="FR complaints")
    assert rule.conditions == {"all": [
        {"field": "language", "op": "in", "value": ["fr", "br"]},
        {"field": "network", "op": "in", "value": ["facebook"]},
        {"field": "account", "op": "in", "value": [org.fr_account.pk]},
        {"field": "intent", "op": "in", "value": ["complaint"]},
        {"field": "sentiment", "op": "in", "value": ["negative"]},
    ]}
    assert rule.actions == {"route_to_team": org.fr_team.pk, "set_priority": "high"}
    assert AuditEvent.objects.filter(action="routing.rule.create").count() == 1
    # and the edit page opens it in the builder, its fields filled
    page = client_for(org.users.fr_admin).get(reverse("routing:rule-edit", args=[rule.pk]))
    form = page.context["form"]
    assert form.initial["mode"] == "builder" and form.initial["b_languages"] == ["fr", "br"]
    assert form.initial["b_team"] == org.fr_team.pk and "Français" not in page.content.decode()  # names in English
    assert ">French</option>" in page.content.decode().replace('selected>French', '>French')


def test_clear_errors_in_the_builder(org, client_for):
    c = client_for(org.users.fr_admin)
    response = c.post(reverse("routing:rule-create"), _builder(org, b_team="", b_priority=""))
    assert response.status_code == 400
    assert "Pick a team or a priority: a rule without an action does nothing." in response.content.decode()
    response = c.post(reverse("routing:rule-create"), _builder(org, b_team=org.es_team.pk))  # not theirs to see
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    response = c.post(reverse("routing:rule-create"), _builder(org, b_languages=["xx"], b_priority="asap"))
    body = response.content.decode()
    assert response.status_code == 400 and body.count("Select a valid choice") == 2
    assert not RoutingRule.objects.exists()


def test_a_rule_the_builder_cannot_show_opens_as_json(org, client_for):
    rule = RoutingRule.objects.create(unit=org.france, name="VIP", position=0,
                                      conditions={"field": "vip", "op": "is", "value": True},
                                      actions={"add_tags": ["vip"]})
    form = client_for(org.users.fr_admin).get(reverse("routing:rule-edit", args=[rule.pk])).context["form"]
    assert form.initial["mode"] == "json"
    assert to_builder({"any": [{"field": "language", "op": "in", "value": ["fr"]}]}, {}) is None
    assert to_builder({"field": "language", "op": "not_in", "value": ["fr"]}, {}) is None
    assert to_builder({}, {"set_priority": "low"}) == {"b_team": None, "b_priority": "low"}
    assert to_builder({"field": "language", "op": "in", "value": ["fr"]}, {"route_to_team": 3}) == {
        "b_team": 3, "b_priority": "", "b_languages": ["fr"]}


def test_the_preview_reads_the_builder(org, client_for):
    response = client_for(org.users.fr_admin).post(reverse("routing:rule-preview"), _builder(org))
    assert response.status_code == 200 and "Not valid JSON" not in response.content.decode()
