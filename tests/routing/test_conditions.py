import pytest

from dandelion.routing.conditions import keyword_hits, validate_actions, validate_conditions, validate_rule
from dandelion.routing.engine import decide
from tests.routing.conftest import make_ctx


def paths(errors):
    return [e["path"] for e in errors]


def test_valid_tree_has_no_errors():
    tree = {"all": [{"field": "language", "op": "in", "value": ["fr"]},
                    {"any": [{"field": "spam", "op": "gte", "value": 0.8},
                             {"field": "keywords", "op": "all", "value": ["remboursement"]}]}]}
    assert validate_conditions(tree) == []
    assert validate_conditions({}) == []


@pytest.mark.parametrize("tree, path, fragment", [
    ([], "conditions", "must be an object"),
    ({"all": {}}, "conditions.all", "list"),
    ({"all": [], "any": []}, "conditions", "exactly one key"),
    ({"all": [{"field": "colour", "op": "in", "value": ["red"]}]}, "conditions.all[0].field", "unknown field"),
    ({"all": [{"field": "language", "op": "gte", "value": ["fr"]}]}, "conditions.all[0].op", "not allowed"),
    ({"all": [{"field": "language", "op": "in", "value": ["French"]}]}, "conditions.all[0].value", "ISO 639-1"),
    ({"all": [{"field": "spam", "op": "gte", "value": 3}]}, "conditions.all[0].value", "between 0 and 1"),
    ({"all": [{"field": "vip", "op": "is"}]}, "conditions.all[0].value", "required"),
    ({"any": [{"all": [{"field": "country", "op": "in", "value": ["fr"]}]}]}, "conditions.any[0].all[0].value",
     "ISO 3166"),
    ({"field": "intent", "op": "in", "value": ["rant"]}, "conditions.value", "not one of"),
    ({"field": "vip", "op": "is", "value": True, "extra": 1}, "conditions", "unknown key"),
])
def test_condition_errors_name_the_path(tree, path, fragment):
    errors = validate_conditions(tree)
    assert path in paths(errors), errors
    assert fragment in " ".join(e["message"] for e in errors)


def test_action_errors():
    errors = validate_actions({"route_to_team": "FR", "set_priority": "asap", "explode": True, "hide": "yes"})
    assert sorted(paths(errors)) == ["actions.explode", "actions.hide", "actions.route_to_team",
                                     "actions.set_priority"]


def test_route_to_team_must_be_visible_to_author(org):
    ok = validate_rule({}, {"route_to_team": org.fr_team.pk}, actor=org.users.fr_admin)
    assert ok == []
    errors = validate_rule({}, {"route_to_team": org.es_team.pk}, actor=org.users.fr_admin)
    assert paths(errors) == ["actions.route_to_team"]


@pytest.mark.parametrize("text, keywords, expected", [
    ("Je veux un REMBOURSEMENT !", ["remboursement"], ["remboursement"]),
    ("remboursements", ["remboursement"], []),  # whole words only
    ("Überweisung fehlgeschlagen", ["überweisung"], ["überweisung"]),
    ("STRASSE gesperrt", ["straße"], ["straße"]),  # casefold
    ("طلب استرداد المال", ["استرداد"], ["استرداد"]),
    ("我要退款", ["退款"], ["退款"]),  # no spaces between words: substring
    ("customer  service is slow", ["customer service"], ["customer service"]),
])
def test_keywords_multilingual(text, keywords, expected):
    assert keyword_hits(text, keywords) == expected


@pytest.mark.parametrize("text", ["Je veux un REMBOURSEMENT !", "remboursements", "我要退款", "STRASSE gesperrt",
                                  "customer  service is slow", "", "a+b (c) [d] ok"])
@pytest.mark.parametrize("op", ["any", "all", "none"])
def test_keyword_operators_agree_with_each_keyword(org, text, op):
    """``any``/``none`` scan the text once with all keywords together; the answer is that of each keyword alone."""
    from dandelion.routing.conditions import evaluate

    keywords = ["remboursement", "退款", "straße", "customer service", "a+b", "(c)"]
    ctx = make_ctx(org.fr_account, text=text)
    hits = [k for k in keywords if keyword_hits(text, [k])]
    expected = {"any": bool(hits), "all": len(hits) == len(keywords), "none": not hits}[op]
    assert evaluate({"field": "keywords", "op": op, "value": keywords}, ctx) is expected


def test_unit_condition_uses_subtree(org):
    from dandelion.routing.conditions import evaluate

    ctx = make_ctx(org.fr_account)
    assert evaluate({"field": "unit", "op": "within", "value": org.europe.pk}, ctx)
    assert not evaluate({"field": "unit", "op": "within", "value": org.spain.pk}, ctx)
    assert decide(ctx).team_id == org.fr_team.pk
