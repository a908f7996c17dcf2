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
    assert {p.canned.unit_id for p in pushed} == {
        world.france.pk,
        world.spain.pk,
    }  # not the vendor's moderation team
    # Europe's room has no language of its own: the draft is English, and without a translation each spoke gets
    # it as such (the fallback, said so), never English text labelled French
    assert hub_incident.statement_language == "en"
    assert {p.teams: p.fallbacks for p in pushed} == {("FR helpers",): ["fr"], ("ES helpers",): ["es"]}
    fr = CannedResponse.objects.get(unit=world.france, shortcut=f"crisis-{hub_incident.pk}")
    assert fr.body == STATEMENT and fr.language == "en" and fr.translations == {}
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
    assert [p.canned.unit_id for p in pushed] == [world.france.pk]  # Spain's team is outside the French subtree
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


FRENCH = "Nous avons connaissance de signalements d'une panne et nous enquêtons. Nous reviendrons vers vous ici."
GERMAN = "Wir wissen von Berichten über eine Störung und gehen ihnen nach."


def test_each_team_gets_the_statement_in_its_languages_with_the_rooms_as_fallback(world):
    from dandelion.core.models import AuditEvent

    incident = services.open_incident(actor=world.users.pr, unit=world.europe, title="Europe outage", severity=7)
    services.save_holding_statement(incident, actor=world.users.pr, text=STATEMENT)
    world.fr_team.languages = ["fr", "de"]
    world.fr_team.save()
    services.save_statement_translation(incident, actor=world.users.pr, language="FR", text=FRENCH)
    services.save_statement_translation(incident, actor=world.users.pr, language="de", text=GERMAN)
    assert AuditEvent.objects.filter(action="crisis.incident.statement_translation").count() == 2
    pushed = {p.canned.unit_id: p for p in services.push_statement_to_helpers(incident, actor=world.users.pr)}
    fr, es = pushed[world.france.pk], pushed[world.spain.pk]
    assert fr.gets == {"fr": "fr", "de": "de"} and fr.fallbacks == []
    assert fr.canned.language == "fr" and fr.canned.body == FRENCH and fr.canned.translations == {"de": GERMAN}
    assert es.gets == {"es": "en"} and es.fallbacks == ["es"]  # no Spanish yet: the room's English
    assert es.canned.language == "en" and es.canned.body == STATEMENT
    log = LogEntry.objects.filter(incident=incident, text__contains="pushed").last()
    assert "es → en (fallback)" in log.text and "FR helpers [fr, de]" in log.text
    # Spanish written, German removed: pushing again updates both units
    services.save_statement_translation(incident, actor=world.users.pr, language="es", text="Sabemos de una avería.")
    services.save_statement_translation(incident, actor=world.users.pr, language="de", text="")
    incident.refresh_from_db()
    assert set(incident.statement_translations) == {"es", "fr"}
    pushed = {p.canned.unit_id: p for p in services.push_statement_to_helpers(incident, actor=world.users.pr)}
    assert pushed[world.spain.pk].canned.language == "es" and pushed[world.spain.pk].fallbacks == []
    fr = pushed[world.france.pk]
    assert fr.gets == {"fr": "fr", "de": "en"}  # German falls back to the room's English now
    assert fr.canned.language == "en" and fr.canned.translations == {"fr": FRENCH}


def test_translation_input_is_checked(world):
    with pytest.raises(CrisisError, match="language is a code"):
        services.save_statement_translation(world.incident, actor=world.users.pr, language="french!", text="x")
    with pytest.raises(CrisisError, match="room's language"):  # France's room: the draft is French already
        services.save_statement_translation(world.incident, actor=world.users.pr, language="fr", text="x")
    with pytest.raises(PermissionDeniedError):
        services.save_statement_translation(world.incident, actor=world.users.es_admin, language="en", text="x")


@pytest.mark.parametrize(("who", "expected"), [("pr", 200), ("fr_admin", 200), ("fr_agent", 404),
                                               ("es_admin", 404), ("analyst", 403), ("nobody", 404)])
def test_api_statement_translation(world, api_for, who, expected):
    r = api_for(getattr(world.users, who)).post(
        f"/api/v1/crisis-incidents/{world.incident.pk}/statement-translation/",
        {"language": "en", "text": STATEMENT}, format="json")
    assert r.status_code == expected
    if expected == 200:
        assert r.json()["statement_translations"] == {"en": STATEMENT}
        assert r.json()["statement_language"] == "fr"


def test_push_button_confirms_then_pushes_and_shows_the_teams_reached(world, client_for):
    from django.urls import reverse

    services.save_holding_statement(world.incident, actor=world.users.pr, text=STATEMENT)
    pr = client_for(world.users.pr)
    room = pr.get(world.incident.get_absolute_url()).content.decode()
    url = reverse("crisis:incident-push-statement", args=[world.incident.pk])
    assert url in room and 'data-action="push-statement"' in room
    confirm = pr.get(url).content.decode()  # a confirmation first: nothing pushed yet
    assert "FR helpers" in confirm and not CannedResponse.objects.filter(shortcut__startswith="crisis-").exists()
    done = pr.post(url, follow=True).content.decode()
    assert "pushed to 1 helper team" in done and "FR helpers" in done
    assert f'data-pushed-unit="{world.france.pk}"' in done and 'data-lang="fr"' in done
    assert CannedResponse.objects.filter(shortcut=f"crisis-{world.incident.pk}", unit=world.france).count() == 1
    # who may not act has no button and gets a 403 (sees the room) or a 404 (does not)
    assert url not in client_for(world.users.analyst).get(world.incident.get_absolute_url()).content.decode()
    assert client_for(world.users.analyst).post(url).status_code == 403
    assert client_for(world.users.es_admin).post(url).status_code == 404
