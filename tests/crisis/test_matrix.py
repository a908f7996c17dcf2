"""The crisis room's permission matrix (pages and API): every role against a French incident.

Who sees incidents: the roles with ``crisis.view_incident`` (admins, PR, community managers, analysts) within their
subtree; who acts in a room (log, owner, pause, close): the admins over France and the PR manager; helper agents and
external moderators see nothing of the crisis rooms."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.permission_matrix import MISSING, PEOPLE, Case, check, outcome

pytestmark = pytest.mark.django_db

SEES_CRISIS = frozenset({"hub_admin", "europe_admin", "fr_admin", "es_admin", "fr_cm", "pr", "analyst"})
SEES_FR = frozenset({"hub_admin", "europe_admin", "fr_admin", "fr_cm", "pr", "analyst"})
ACTS_FR = frozenset({"hub_admin", "europe_admin", "fr_admin", "pr"})
OPENS = frozenset({"hub_admin", "europe_admin", "fr_admin", "es_admin", "pr"})
#: who ticks the playbook's steps off: those who act in the room and France's community manager (a spoke)
TICKS_FR = ACTS_FR | {"fr_cm"}
#: who defines playbooks (on a unit they administer): the admins and the PR manager; who reads them: SEES_CRISIS
DEFINES = OPENS


def page(name, with_pk=True):
    return lambda w: reverse(f"crisis:{name}", args=[w.incident.pk] if with_pk else [])


def page_missing(name):
    return lambda w: reverse(f"crisis:{name}", args=[MISSING])


def post(name, data, ok=ACTS_FR, ok_status=302):
    return Case(f"{name} (post)", page(name), outcome(ok=ok, visible=SEES_FR, ok_status=ok_status), method="post",
                data=lambda w: data, missing_url=page_missing(name))


CASES = [
    Case("incident list", page("incident-list", False), outcome(ok=SEES_CRISIS, visible=PEOPLE)),
    Case("open page", page("incident-create", False), outcome(ok=OPENS, visible=PEOPLE)),
    Case("open an incident", page("incident-create", False), outcome(ok=ACTS_FR, visible=PEOPLE, ok_status=302,
         es_admin=400), method="post",
         data=lambda w: {"unit": w.france.pk, "title": "Boycott", "severity": 5, "summary": ""}),
    Case("crisis room", page("incident-detail"), outcome(ok=SEES_FR, visible=SEES_FR),
         missing_url=page_missing("incident-detail")),
    Case("post-mortem", page("incident-postmortem"), outcome(ok=SEES_FR, visible=SEES_FR),
         missing_url=page_missing("incident-postmortem")),
    Case("close page", page("incident-close"), outcome(ok=ACTS_FR, visible=SEES_FR),
         missing_url=page_missing("incident-close")),
    post("incident-log", {"kind": "note", "text": "Called legal."}),
    post("incident-join", {"role": "legal"}),
    post("incident-status", {"status": "monitoring"}),
    post("incident-severity", {"severity": 8, "reason": "TV"}),
    post("incident-statement", {"holding_statement": "We are looking into it."}),
    post("incident-pause", {"reason": "Crisis"}),
    post("incident-close", {"summary": "Over."}),
    post("incident-stakeholders", {"subject": "Update", "body": "Contained.", "recipients": "ceo@acme.example"}),
    post("incident-playbook", {"playbook-kind": "outage"}),
    Case("tick a step (post)", lambda w: reverse("crisis:checklist-tick", args=[w.incident.pk, w.step.pk]),
         outcome(ok=TICKS_FR, visible=SEES_FR, ok_status=302), method="post", data=lambda w: {"done": "on"},
         missing_url=lambda w: reverse("crisis:checklist-tick", args=[w.incident.pk, MISSING])),
    Case("playbook list", page("playbook-list", False), outcome(ok=SEES_CRISIS, visible=PEOPLE)),
    Case("new playbook page", page("playbook-create", False), outcome(ok=DEFINES, visible=PEOPLE)),
    Case("define a playbook", page("playbook-create", False),
         outcome(ok=ACTS_FR, visible=PEOPLE, ok_status=302, es_admin=400), method="post",
         data=lambda w: {"unit": w.france.pk, "name": "Outage", "kind": "outage", "min_severity": 3,
                         "steps": "owner | 15 | Draft the statement", "is_active": "on"}),
    Case("edit a playbook (post)", lambda w: reverse("crisis:playbook-edit", args=[w.book.pk]),
         outcome(ok=ACTS_FR, visible=SEES_FR, ok_status=302), method="post",
         data=lambda w: {"name": "FR v2", "kind": "any", "min_severity": 1, "steps": "legal | 30 | Review"},
         missing_url=lambda w: reverse("crisis:playbook-edit", args=[MISSING])),
    Case("api tick", lambda w: f"/api/v1/crisis-incidents/{w.incident.pk}/tick/",
         outcome(ok=TICKS_FR, visible=SEES_FR), method="post", api=True,
         data=lambda w: {"item": w.step.pk, "done": True},
         missing_url=lambda w: f"/api/v1/crisis-incidents/{MISSING}/tick/"),
    Case("api stakeholders", lambda w: f"/api/v1/crisis-incidents/{w.incident.pk}/stakeholders/",
         outcome(ok=ACTS_FR, visible=SEES_FR, ok_status=201), method="post", api=True,
         data=lambda w: {"subject": "Update", "body": "Contained.", "recipients": ["ceo@acme.example"]},
         missing_url=lambda w: f"/api/v1/crisis-incidents/{MISSING}/stakeholders/"),
    Case("api playbook", lambda w: f"/api/v1/crisis-playbooks/{w.book.pk}/", outcome(ok=SEES_FR, visible=SEES_FR),
         api=True, missing_url=lambda w: f"/api/v1/crisis-playbooks/{MISSING}/"),
    Case("api define a playbook", lambda w: "/api/v1/crisis-playbooks/",
         outcome(ok=ACTS_FR, visible=PEOPLE, ok_status=201, es_admin=403), method="post", api=True,
         data=lambda w: {"unit": w.france.pk, "name": "API", "steps": [{"title": "Draft", "owner_role": "owner",
                                                                          "due_minutes": 15}]}),
    Case("api incident", lambda w: f"/api/v1/crisis-incidents/{w.incident.pk}/", outcome(ok=SEES_FR, visible=SEES_FR),
         api=True, missing_url=lambda w: f"/api/v1/crisis-incidents/{MISSING}/"),
    Case("api incident log", lambda w: f"/api/v1/crisis-incidents/{w.incident.pk}/log/",
         outcome(ok=ACTS_FR, visible=SEES_FR, ok_status=201), method="post", api=True,
         data=lambda w: {"kind": "decision", "text": "Hold the posts."},
         missing_url=lambda w: f"/api/v1/crisis-incidents/{MISSING}/log/"),
]


@pytest.fixture
def matrix_world(world):
    """The world with a French playbook (its own) and the French incident's checklist (one step) on."""
    from dandelion.crisis import services
    from dandelion.crisis.models import ChecklistItem

    world.book = services.create_playbook(actor=world.users.fr_admin, unit=world.france, name="FR",
                                          steps=[{"title": "Draft", "owner_role": "owner", "due_minutes": 15}])
    world.step = ChecklistItem.objects.create(incident=world.incident, position=1, title="Draft")
    return world


@pytest.mark.parametrize("case", CASES, ids=str)
def test_matrix(case, matrix_world):
    check(case, matrix_world)


def test_the_api_lists_only_the_incidents_in_scope(world, api_for):
    def listed(user):
        body = api_for(user).get("/api/v1/crisis-incidents/").json()
        return {row["id"] for row in body["results"]}

    assert listed(world.users.pr) == {world.incident.pk, world.es_incident.pk}
    assert listed(world.users.fr_admin) == {world.incident.pk}
    assert listed(world.users.es_admin) == {world.es_incident.pk}
    assert listed(world.users.fr_agent) == set() and listed(world.users.moderator) == set()
