"""The holding statement pushed as a canned response to every helper team of the incident's subtree, in one action
(through the inbox's canned-response service, audited); the REST API for it, with its permissions."""

from __future__ import annotations

import pytest

from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.models import AuditEvent
from dandelion.crisis import services
from dandelion.crisis.exceptions import CrisisError
from dandelion.crisis.models import LogEntry
from dandelion.inbox.models import CannedResponse
from dandelion.orgs.choices import TeamKind

pytestmark = pytest.mark.django_db

STATEMENT = "We are aware of reports of an outage and are looking into it. Updates will follow here."


def test_push_reaches_every_helper_team_of_the_subtree_and_updates_on_revision(world):
    hub_incident = services.open_incident(
        actor=world.users.pr, unit=world.europe, title="Europe outage", severity=7
    )
    with pytest.raises(CrisisError, match="holding statement first"):
        services.push_statement_to_helpers(hub_incident, actor=world.users.pr)
    services.save_holding_statement(hub_incident, actor=world.users.pr, text=STATEMENT)
    pushed = services.push_statement_to_helpers(hub_incident, actor=world.users.pr)
    assert {c.unit_id for c in pushed} == {
        world.france.pk,
        world.spain.pk,
    }  # not the vendor's moderation team
    fr = CannedResponse.objects.get(unit=world.france, shortcut=f"crisis-{hub_incident.pk}")
    assert fr.body == STATEMENT and fr.language == "fr"
    assert CannedResponse.objects.get(unit=world.spain, shortcut=f"crisis-{hub_incident.pk}").language == "es"
    assert AuditEvent.objects.filter(action="inbox.canned.create").count() == 2
    assert LogEntry.objects.filter(incident=hub_incident, text__contains="FR helpers").exists()
    # a revision pushed again updates the same canned responses
    services.save_holding_statement(hub_incident, actor=world.users.pr, text=STATEMENT + " (12:00)")
    services.push_statement_to_helpers(hub_incident, actor=world.users.pr)
    assert CannedResponse.objects.filter(shortcut=f"crisis-{hub_incident.pk}").count() == 2
    assert CannedResponse.objects.get(unit=world.france, shortcut=f"crisis-{hub_incident.pk}").body.endswith(
        "(12:00)"
    )
    assert AuditEvent.objects.filter(action="inbox.canned.update").count() == 2


def test_push_is_scoped_and_refused_without_teams_or_permission(world):
    services.save_holding_statement(world.incident, actor=world.users.fr_admin, text=STATEMENT)
    with pytest.raises(PermissionDeniedError):
        services.push_statement_to_helpers(world.incident, actor=world.users.fr_agent)
    with pytest.raises(PermissionDeniedError):
        services.push_statement_to_helpers(world.incident, actor=world.users.es_admin)
    pushed = services.push_statement_to_helpers(world.incident, actor=world.users.fr_admin)
    assert [c.unit_id for c in pushed] == [world.france.pk]  # Spain's team is outside the French subtree
    world.fr_team.kind = TeamKind.MODERATION
    world.fr_team.save()
    with pytest.raises(CrisisError, match="No helper team"):
        services.push_statement_to_helpers(world.incident, actor=world.users.fr_admin)


def test_a_helper_sees_the_statement_among_usable_canned_responses(world):
    from dandelion.inbox.models import Contact, Conversation

    services.save_holding_statement(world.incident, actor=world.users.pr, text=STATEMENT)
    services.push_statement_to_helpers(world.incident, actor=world.users.pr)
    conversation = Conversation.objects.create(
        account=world.fr_account, contact=Contact.objects.create(name="C"), team=world.fr_team
    )
    usable = CannedResponse.objects.usable_for(world.users.fr_agent, conversation)
    assert usable.filter(shortcut=f"crisis-{world.incident.pk}", body=STATEMENT).exists()


@pytest.mark.parametrize(
    ("who", "expected"),
    [("pr", 200), ("fr_admin", 200), ("fr_agent", 404), ("es_admin", 404), ("analyst", 403), ("nobody", 404)],
)
def test_api_statement_and_push_permissions(world, api_for, who, expected):
    api = api_for(getattr(world.users, who))
    url = f"/api/v1/crisis-incidents/{world.incident.pk}/"
    saved = api.post(url + "statement/", {"text": STATEMENT}, format="json")
    assert saved.status_code == expected
    pushed = api.post(url + "push-statement/")
    assert pushed.status_code == expected
    if expected == 200:
        assert saved.json()["holding_statement"] == STATEMENT
        assert pushed.json()["canned_responses"][0]["shortcut"] == f"crisis-{world.incident.pk}"
