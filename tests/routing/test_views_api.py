"""The permission matrix on the routing UI and API, the editor's validation and the preview."""

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from dandelion.core.models import AuditEvent
from dandelion.routing import services
from dandelion.routing.models import RoutingRule, SlaPolicy

pytestmark = pytest.mark.django_db


@pytest.fixture
def rules(org):
    hub_rule = RoutingRule.objects.create(unit=org.hub, name="Spam", position=0,
                                          conditions={"field": "spam", "op": "gte", "value": 0.8},
                                          actions={"hide": True})
    fr_rule = RoutingRule.objects.create(unit=org.france, name="FR complaints", position=0,
                                         conditions={"field": "intent", "op": "in", "value": ["complaint"]},
                                         actions={"route_to_team": org.fr_team.pk})
    fr_rule2 = RoutingRule.objects.create(unit=org.france, name="FR VIP", position=1,
                                          conditions={"field": "vip", "op": "is", "value": True},
                                          actions={"set_priority": "high"})
    es_rule = RoutingRule.objects.create(unit=org.spain, name="ES all", position=0, conditions={},
                                         actions={"route_to_team": org.es_team.pk})
    return {"hub": hub_rule, "fr": fr_rule, "fr2": fr_rule2, "es": es_rule}


# --- UI -----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("who, status, visible", [
    ("hub_admin", 200, {"Spam", "FR complaints", "FR VIP", "ES all"}),
    ("fr_admin", 200, {"FR complaints", "FR VIP"}),
    ("analyst", 200, {"Spam", "FR complaints", "FR VIP", "ES all"}),
    ("fr_agent", 200, {"FR complaints", "FR VIP"}),
    ("moderator", 403, set()),
    ("nobody", 403, set()),
])
def test_rule_list_matrix(org, rules, client_for, who, status, visible):
    response = client_for(getattr(org.users, who)).get(reverse("routing:rule-list"))
    assert response.status_code == status
    if status == 200:
        shown = {r.name for r in RoutingRule.objects.all() if f">{r.name}</a>" in response.content.decode()}
        assert shown == visible
        assert (reverse("routing:rule-create") in response.content.decode()) == (who in ("hub_admin", "fr_admin"))


def test_anonymous_redirected_to_login(client):
    response = client.get(reverse("routing:rule-list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def _post_rule(org, **overrides):
    data = {"unit": org.france.pk, "name": "Refunds", "is_active": "on",
            "conditions": json.dumps({"field": "keywords", "op": "any", "value": ["remboursement"]}),
            "actions": json.dumps({"route_to_team": org.fr_team.pk, "add_tags": ["refund"]})}
    data.update(overrides)
    return data


@pytest.mark.parametrize("who, unit, status", [
    ("hub_admin", "france", 302),
    ("fr_admin", "france", 302),
    ("fr_admin", "spain", 400),  # not a unit they may choose
    ("es_admin", "france", 400),
    ("analyst", "france", 403),
    ("fr_cm", "france", 403),
    ("moderator", "france", 403),
])
def test_rule_create_matrix(org, client_for, who, unit, status):
    unit_obj = getattr(org, unit)
    data = _post_rule(org, unit=unit_obj.pk,
                      actions=json.dumps({"add_tags": ["refund"]}))
    response = client_for(getattr(org.users, who)).post(reverse("routing:rule-create"), data)
    assert response.status_code == status
    assert RoutingRule.objects.filter(name="Refunds").exists() == (status == 302)
    if status == 302:
        assert AuditEvent.objects.filter(action="routing.rule.create").count() == 1


def test_editor_shows_validation_errors_with_path(org, client_for):
    c = client_for(org.users.fr_admin)
    assert c.get(reverse("routing:rule-create")).status_code == 200
    bad = _post_rule(org, conditions='{"all": [{"field": "mood", "op": "in", "value": ["x"]}]}',
                     actions=f'{{"route_to_team": {org.es_team.pk}}}')
    response = c.post(reverse("routing:rule-create"), bad)
    body = response.content.decode()
    assert response.status_code == 400
    assert "conditions.all[0].field: unknown field &#x27;mood&#x27;" in body
    assert "actions.route_to_team: team" in body and "not visible to you" in body
    response = c.post(reverse("routing:rule-create"), _post_rule(org, conditions="{not json"))
    assert response.status_code == 400 and "Not valid JSON" in response.content.decode()


def test_edit_matrix(org, rules, client_for):
    url = reverse("routing:rule-edit", args=[rules["fr"].pk])
    data = _post_rule(org, name="FR complaints v2")
    assert client_for(org.users.es_admin).get(url).status_code == 404
    analyst = client_for(org.users.analyst)
    page = analyst.get(url)
    assert page.status_code == 200 and "Read-only" in page.content.decode()
    assert analyst.post(url, data).status_code == 403
    assert client_for(org.users.fr_admin).post(url, data).status_code == 302
    rules["fr"].refresh_from_db()
    assert rules["fr"].name == "FR complaints v2"
    event = AuditEvent.objects.get(action="routing.rule.update")
    assert event.changes["name"] == ["FR complaints", "FR complaints v2"]


def test_reorder_via_htmx(org, rules, client_for):
    c = client_for(org.users.fr_admin)
    url = reverse("routing:rule-move", args=[rules["fr2"].pk])
    response = c.post(url, {"direction": "up"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "<html" not in response.content.decode()
    order = list(RoutingRule.objects.filter(unit=org.france).order_by("position").values_list("name", flat=True))
    assert order == ["FR VIP", "FR complaints"]
    assert client_for(org.users.fr_admin).post(reverse("routing:rule-move", args=[rules["hub"].pk]),
                                               {"direction": "down"}).status_code == 404
    assert client_for(org.users.analyst).post(url, {"direction": "down"}).status_code == 403
    assert client_for(org.users.fr_admin).post(
        reverse("routing:rule-delete", args=[rules["fr2"].pk])).status_code == 302
    assert not RoutingRule.objects.filter(pk=rules["fr2"].pk).exists()


def test_preview_partial(org, rules, client_for, make_conversation):
    now = timezone.now()  # the preview reads the last 7 days
    make_conversation(org.fr_account, team=org.fr_team, text="Je veux un remboursement", at=now)
    make_conversation(org.fr_account, team=org.fr_team, text="Merci beaucoup", at=now)
    make_conversation(org.es_account, team=org.es_team, text="Quiero un reembolso", language="es", at=now)
    make_conversation(org.fr_account, team=org.fr_team, text="Vieux remboursement", at=now - dt.timedelta(days=8))
    c = client_for(org.users.fr_admin)
    response = c.post(reverse("routing:rule-preview"), _post_rule(org, actions=json.dumps(
        {"set_priority": "high", "add_tags": ["refund"]})), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<strong>1</strong> of the 2 latest inbound messages of the last 7 days would have matched" in body
    assert "remboursement" in body and "reembolso" not in body  # Spain is out of scope
    bad = c.post(reverse("routing:rule-preview"), _post_rule(org, conditions='{"any": 3}'))
    assert "conditions.any: must be a list" in bad.content.decode()
    saved = c.get(reverse("routing:rule-preview") + f"?rule={rules['fr'].pk}")
    assert saved.status_code == 200
    assert client_for(org.users.moderator).post(reverse("routing:rule-preview"), _post_rule(org)).status_code == 403


def test_preview_service_reports_changes(org, make_conversation):
    make_conversation(org.fr_account, team=org.fr_team, text="Service nul", intent="complaint", at=timezone.now())
    result = services.preview_rule({"unit": org.hub.pk, "conditions": {"field": "intent", "op": "in",
                                                                       "value": ["complaint"]},
                                    "actions": {"route_to_team": org.vendor_team.pk, "hide": True}},
                                   actor=org.users.hub_admin)
    assert result["matched"] == 1
    assert result["rows"][0]["changes"]["team"] == ["FR helpers", "ModCo moderation"]
    assert result["rows"][0]["changes"]["moderation"] == ["visible", "hidden"]
    assert services.preview_rule({"conditions": {"x": 1}}, actor=org.users.hub_admin)["errors"]


@pytest.mark.parametrize("who, status", [("hub_admin", 200), ("fr_admin", 200), ("analyst", 200),
                                         ("moderator", 403)])
def test_sla_list_matrix(org, client_for, who, status):
    SlaPolicy.objects.create(team=org.es_team, first_response_seconds=3600)
    response = client_for(getattr(org.users, who)).get(reverse("routing:sla-list"))
    assert response.status_code == status
    if who == "fr_admin":
        assert "ES helpers" not in response.content.decode()
    if who == "hub_admin":
        assert "ES helpers" in response.content.decode()


# --- API ----------------------------------------------------------------------------------------------------------
LIST = "api:routingrule-list"


@pytest.mark.parametrize("who, count", [("hub_admin", 4), ("fr_admin", 2), ("es_admin", 1), ("europe_admin", 3),
                                        ("analyst", 4), ("moderator", 0)])
def test_api_list_scope(org, rules, api_for, who, count):
    response = api_for(getattr(org.users, who)).get(reverse(LIST))
    assert response.status_code == 200
    assert response.json()["count"] == count


@pytest.mark.parametrize("who, unit, status", [
    ("hub_admin", "hub", 201), ("fr_admin", "france", 201), ("europe_admin", "spain", 201),
    ("fr_admin", "spain", 400), ("analyst", "france", 403), ("fr_agent", "france", 403),
    ("moderator", "france", 403),  # may add rules nowhere: refused before the input is read
])
def test_api_create_matrix(org, api_for, who, unit, status):
    body = {"unit": getattr(org, unit).pk, "name": "Angry", "conditions": {"field": "sentiment", "op": "in",
                                                                           "value": ["negative"]},
            "actions": {"set_priority": "high"}}
    response = api_for(getattr(org.users, who)).post(reverse(LIST), body, format="json")
    assert response.status_code == status, response.content
    if status == 201:
        assert response.json()["position"] == 0 and response.json()["created_by"] == getattr(org.users, who).pk


def test_api_validation_errors_list_paths(org, api_for):
    body = {"unit": org.france.pk, "name": "Bad",
            "conditions": {"any": [{"field": "spam", "op": "gte", "value": "high"}]},
            "actions": {"route_to_team": org.vendor_team.pk, "teleport": True}}
    response = api_for(org.users.fr_admin).post(reverse(LIST), body, format="json")
    assert response.status_code == 400
    data = response.json()
    assert data["conditions"] == ["conditions.any[0].value: must be a number between 0 and 1"]
    assert any(m.startswith("actions.teleport: unknown action") for m in data["actions"])


def test_api_update_delete_matrix(org, rules, api_for):
    url = reverse("api:routingrule-detail", args=[rules["fr"].pk])
    assert api_for(org.users.es_admin).patch(url, {"name": "x"}, format="json").status_code == 404
    assert api_for(org.users.analyst).patch(url, {"name": "x"}, format="json").status_code == 403
    assert api_for(org.users.moderator).get(url).status_code == 404
    response = api_for(org.users.fr_admin).patch(url, {"name": "Complaints", "is_active": False}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert api_for(org.users.analyst).delete(url).status_code == 403
    assert api_for(org.users.fr_admin).delete(url).status_code == 204
    assert api_for(org.users.hub_admin).delete(
        reverse("api:routingrule-detail", args=[rules["es"].pk])).status_code == 204


def test_api_sla_policies(org, api_for):
    url = reverse("api:slapolicy-list")
    body = {"team": org.fr_team.pk, "priority": "", "first_response_seconds": 3600, "business_hours": True,
            "escalation": {"set_priority": "urgent"}}
    assert api_for(org.users.analyst).post(url, body, format="json").status_code == 403
    assert api_for(org.users.es_admin).post(url, body, format="json").status_code == 400  # team not visible
    response = api_for(org.users.fr_admin).post(url, body, format="json")
    assert response.status_code == 201, response.content
    assert api_for(org.users.fr_admin).post(url, body, format="json").status_code == 409
    assert api_for(org.users.fr_admin).post(url, {**body, "priority": "high", "first_response_seconds": None},
                                            format="json").status_code == 400
    bad = api_for(org.users.fr_admin).post(url, {**body, "priority": "low", "escalation": {"page": 1}},
                                           format="json")
    assert bad.status_code == 400
    assert api_for(org.users.es_admin).get(url).json()["count"] == 0
    assert api_for(org.users.moderator).get(url).json()["count"] == 0
    assert api_for(org.users.analyst).get(url).json()["count"] == 1
    detail = reverse("api:slapolicy-detail", args=[response.json()["id"]])
    assert api_for(org.users.fr_admin).patch(detail, {"first_response_seconds": 1800},
                                             format="json").status_code == 200
    assert api_for(org.users.fr_admin).delete(detail).status_code == 204


def test_rule_list_query_count_does_not_grow_with_rules(org, rules, client_for, django_assert_max_num_queries):
    c = client_for(org.users.hub_admin)
    c.get(reverse("routing:rule-list"))
    for i in range(10):
        RoutingRule.objects.create(unit=org.france, name=f"Extra {i}", position=10 + i, conditions={},
                                   actions={"add_tags": ["x"]})
    with django_assert_max_num_queries(12):
        assert c.get(reverse("routing:rule-list")).status_code == 200
