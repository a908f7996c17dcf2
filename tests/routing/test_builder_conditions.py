"""Issue 16 follow-ups: the rule builder's conditions on tags, keywords (whole words, any language), contact country
and account, picked from lists, covered by the "would have matched in the last 7 days" preview; the SLA editor's
business hours (per weekday ranges and a time zone, validated) stored in the team's calendar the SLA clock reads."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from dandelion.core.models import AuditEvent
from dandelion.inbox.models import Tag
from dandelion.routing import conditions as cond
from dandelion.routing.durations import parse_day_ranges
from dandelion.routing.engine import decide
from dandelion.routing.forms import to_builder
from dandelion.routing.models import BusinessCalendar, RoutingRule, SlaPolicy
from dandelion.routing.sla import add_business_seconds, calendar_for_team, validate_weekly_hours
from tests.routing.conftest import make_ctx

pytestmark = pytest.mark.django_db


def _builder(org, **overrides):
    data = {
        "mode": "builder",
        "unit": org.france.pk,
        "name": "Legal FR",
        "is_active": "on",
        "b_countries": ["FR"],
        "b_accounts": [org.fr_account.pk],
        "b_tags": ["legal"],
        "b_keywords": "avocat, mise en demeure\nplainte",
        "b_team": org.fr_team.pk,
        "b_priority": "urgent",
        "conditions": "",
        "actions": "",
    }
    data.update(overrides)
    return data


def test_the_builder_picks_countries_tags_keywords_and_accounts_by_name(org, client_for):
    Tag.objects.create(name="legal")
    c = client_for(org.users.fr_admin)
    page = c.get(reverse("routing:rule-create")).content.decode()
    assert "FR (France)" in page and ">legal</option>" in page and ">@brand_fr (facebook)</option>" in page
    response = c.post(reverse("routing:rule-create"), _builder(org))
    assert response.status_code == 302, response.context["form"].errors
    rule = RoutingRule.objects.get(name="Legal FR")
    assert rule.conditions == {
        "all": [
            {"field": "country", "op": "in", "value": ["FR"]},
            {"field": "account", "op": "in", "value": [org.fr_account.pk]},
            {"field": "tags", "op": "any", "value": ["legal"]},
            {"field": "keywords", "op": "any", "value": ["avocat", "mise en demeure", "plainte"]},
        ]
    }
    form = c.get(reverse("routing:rule-edit", args=[rule.pk])).context["form"]
    assert form.initial["mode"] == "builder" and form.initial["b_tags"] == ["legal"]
    assert form.initial["b_keywords"] == "avocat\nmise en demeure\nplainte"
    assert (
        to_builder({"field": "keywords", "op": "all", "value": ["a"]}, {}) is None
    )  # only "any" in the builder
    bad = c.post(reverse("routing:rule-create"), _builder(org, b_tags=["nope"], b_countries=["ZZ"]))
    assert bad.status_code == 400 and bad.content.decode().count("Select a valid choice") == 2


def test_tags_condition_and_tags_added_by_earlier_rules(org):
    assert cond.validate_conditions({"field": "tags", "op": "any", "value": ["legal"]}) == []
    assert cond.validate_conditions({"field": "tags", "op": "in", "value": ["legal"]})
    ctx = make_ctx(org.fr_account, tags=frozenset({"legal"}))
    assert cond.evaluate({"field": "tags", "op": "any", "value": ["Legal", "press"]}, ctx)
    assert not cond.evaluate({"field": "tags", "op": "none", "value": ["legal"]}, ctx)
    tagger = RoutingRule(
        id=None,
        unit=org.france,
        name="tag",
        position=0,
        conditions={"field": "keywords", "op": "any", "value": ["avocat"]},
        actions={"add_tags": ["legal"]},
    )
    router = RoutingRule(
        id=None,
        unit=org.france,
        name="route",
        position=1,
        conditions={"field": "tags", "op": "any", "value": ["legal"]},
        actions={"route_to_team": org.fr_team.pk, "set_priority": "urgent"},
    )
    decision = decide(make_ctx(org.fr_account, text="Mon avocat vous écrira"), rules=[tagger, router])
    assert decision.tags == ["legal"] and decision.priority == "urgent" and decision.team_id == org.fr_team.pk
    assert decide(make_ctx(org.fr_account, text="Merci"), rules=[tagger, router]).priority is None


@pytest.mark.parametrize(
    "text, keyword, hit",
    [
        ("Je vais porter plainte", "plainte", True),
        ("Plaintes déposées", "plainte", False),  # whole words
        ("PLAINTE!", "plainte", True),
        ("Voy a poner una queja", "queja", True),
        ("Это мошенничество", "мошенничество", True),
        ("هذا احتيال", "احتيال", True),
        ("これは詐欺です", "詐欺", True),  # no spaces between words: substring
    ],
)
def test_keywords_are_whole_words_in_any_language(text, keyword, hit):
    assert cond.any_keyword(text, [keyword]) is hit


def test_the_preview_covers_them_over_the_last_seven_days(org, client_for, make_conversation):
    now = timezone.now()
    tagged = make_conversation(org.fr_account, team=org.fr_team, text="Mon avocat vous écrira", at=now)
    tagged.tags.add(Tag.objects.create(name="legal"))
    tagged.contact.country = "FR"
    tagged.contact.save()
    make_conversation(org.fr_account, team=org.fr_team, text="Mon avocat, sans tag", at=now)
    old = make_conversation(
        org.fr_account, team=org.fr_team, text="Avocat d'il y a dix jours", at=now - dt.timedelta(days=10)
    )
    old.tags.add(Tag.objects.get(name="legal"))
    response = client_for(org.users.fr_admin).post(
        reverse("routing:rule-preview"), _builder(org), HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200, body
    assert "<strong>1</strong> of the 2 latest inbound messages of the last 7 days would have matched" in body
    assert "dix jours" not in body


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", []),
        ("9-12, 14:00-18:30", [["09:00", "12:00"], ["14:00", "18:30"]]),
        ("14:00-18:00,08:00-12:00", [["08:00", "12:00"], ["14:00", "18:00"]]),
        ("00:00-24:00", [["00:00", "24:00"]]),
    ],
)
def test_parse_day_ranges(text, expected):
    assert parse_day_ranges(text) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("18:00-09:00", "end must be after the start"),
        ("09:00-09:00", "end must be after the start"),
        ("09:00-13:00, 12:00-18:00", "overlap"),
        ("9h-12h", "like 09:00-12:00"),
        ("25:00-26:00", "not a time"),
    ],
)
def test_parse_day_ranges_refuses(text, message):
    with pytest.raises(ValueError, match=message):
        parse_day_ranges(text)


def test_stored_hours_refuse_overlaps_too():
    assert validate_weekly_hours({"mon": [["09:00", "13:00"], ["12:00", "18:00"]]}) == [
        "mon: opening hours overlap"
    ]


def _sla_post(org, **overrides):
    data = {
        "team": org.fr_team.pk,
        "priority": "",
        "first_response_seconds": "2h",
        "business_hours": "on",
        "is_active": "on",
        "hours_timezone": "Europe/Paris",
        "hours_mon": "09:00-12:00, 14:00-18:00",
        "hours_tue": "10:00-16:00",
    }
    data.update(overrides)
    return data


def test_the_sla_editor_stores_business_hours_the_clock_honours(org, client_for):
    team = org.fr_team
    monday_8 = dt.datetime(
        2026, 3, 2, 8, 0, tzinfo=dt.UTC
    )  # 09:00 in Paris (UTC+1 in March before the switch)
    before = add_business_seconds(
        monday_8, 4 * 3600, calendar=calendar_for_team(team)
    )  # default Mon–Fri 9–18
    assert before == dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
    c = client_for(org.users.fr_admin)
    response = c.post(reverse("routing:sla-create"), _sla_post(org))
    assert response.status_code == 302, response.context["form"].errors
    calendar = BusinessCalendar.objects.get(team=team)
    assert calendar.timezone == "Europe/Paris" and calendar.weekly_hours == {
        "mon": [["09:00", "12:00"], ["14:00", "18:00"]],
        "tue": [["10:00", "16:00"]],
        "wed": [],
        "thu": [],
        "fri": [],
        "sat": [],
        "sun": [],
    }
    entry = AuditEvent.objects.get(action="routing.business_hours.change")
    assert entry.actor == org.users.fr_admin and entry.changes["timezone"] == [None, "Europe/Paris"]
    # 4 open hours from Monday 09:00 Paris: 09–12 (3h), then 14–15 → 15:00 Paris = 14:00 UTC
    spec = calendar_for_team(team)
    assert add_business_seconds(monday_8, 4 * 3600, calendar=spec) == dt.datetime(
        2026, 3, 2, 14, 0, tzinfo=dt.UTC
    )
    # 10 open hours: Monday's 7, then Tuesday from 10:00 Paris for 3 → 13:00 Paris = 12:00 UTC
    assert add_business_seconds(monday_8, 10 * 3600, calendar=spec) == dt.datetime(
        2026, 3, 3, 12, 0, tzinfo=dt.UTC
    )
    # the editor shows them back, and an edit replaces them (the clock reads the new hours at once)
    policy = SlaPolicy.objects.get(team=team)
    page = c.get(reverse("routing:sla-edit", args=[policy.pk])).content.decode()
    assert 'value="09:00-12:00, 14:00-18:00"' in page
    response = c.post(
        reverse("routing:sla-edit", args=[policy.pk]), _sla_post(org, hours_mon="10:00-20:00", hours_tue="")
    )
    assert response.status_code == 302
    # opens at 10:00 Paris (09:00 UTC): 4 open hours end at 14:00 Paris = 13:00 UTC
    assert add_business_seconds(monday_8, 4 * 3600, calendar=calendar_for_team(team)) == dt.datetime(
        2026, 3, 2, 13, 0, tzinfo=dt.UTC
    )


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"hours_mon": "18:00-09:00"}, "the end must be after the start"),
        ({"hours_tue": "09:00-13:00, 12:00-18:00"}, "Opening hours overlap"),
        ({"hours_timezone": ""}, "Pick the time zone of these opening hours."),
        ({"hours_timezone": "Mars/Olympus"}, "Select a valid choice"),
        ({"hours_mon": "", "hours_tue": ""}, "Give at least one day of opening hours."),
    ],
)
def test_business_hours_errors(org, client_for, overrides, message):
    response = client_for(org.users.fr_admin).post(reverse("routing:sla-create"), _sla_post(org, **overrides))
    assert response.status_code == 400 and message in response.content.decode()
    assert not SlaPolicy.objects.exists() and not BusinessCalendar.objects.exists()


def test_empty_hours_leave_the_calendar_alone(org, client_for):
    response = client_for(org.users.fr_admin).post(
        reverse("routing:sla-create"), _sla_post(org, hours_timezone="", hours_mon="", hours_tue="")
    )
    assert response.status_code == 302 and not BusinessCalendar.objects.exists()
