"""PR routing while a room is open: a message arrives on an account of the room's subtree, matching the room's
query → its conversation is tagged and escalated to PR (through the inbox's service, audited), shows in the room
with its state and in the PR team's queue; nothing outside the subtree, nothing twice, nothing once closed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dandelion.core.models import AuditEvent
from dandelion.crisis import routing, services
from dandelion.crisis.models import LogEntry, RoutedConversation
from dandelion.inbox.models import Conversation
from dandelion.orgs.choices import Role, TeamKind
from tests.factories import MembershipFactory, TeamFactory, UserFactory
from tests.inbox.conftest import _analyzer, _fake_store, deliver, event, inbox, post_hook  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def pr_desk(world, inbox):
    team = TeamFactory(unit=world.hub, name="Group PR", kind=TeamKind.PR, languages=["en", "fr"])
    person = UserFactory(username="prdesk")
    MembershipFactory(user=person, unit=world.hub, role=Role.PR_MANAGER, team=team)
    return team, person


def _arrive(deliver, capture, account, *events):
    with capture(execute=True):  # the pipeline's conversation.created reaches the subscribers once committed
        deliver(account, *events)


def test_matching_conversation_lands_in_the_room_and_in_pr_queue(world, pr_desk, deliver, client_for, api_for,
                                                                 django_capture_on_commit_callbacks):
    team, person = pr_desk
    incident = world.incident  # "acme OR #acme" on France, open
    _arrive(deliver, django_capture_on_commit_callbacks, world.fr_account,
            event("acme est encore en panne, c'est inacceptable", id="hot1", author="u-h", name="Hélène Chaud",
                  language="fr"),
            event("Bonjour, où est ma commande ?", id="calm1", author="u-c", name="Paul Calme", language="fr"))
    hot = Conversation.objects.get(messages__external_id="hot1")
    calm = Conversation.objects.get(messages__external_id="calm1")
    assert hot.escalated and not calm.escalated
    assert hot.team == world.fr_team  # the helpers keep answering the customer
    assert f"crisis-{incident.pk}" in set(hot.tags.values_list("name", flat=True))
    assert hot.events.filter(kind="escalated", data__incident=incident.pk).exists()
    assert list(RoutedConversation.objects.filter(incident=incident).values_list("conversation", flat=True)) \
        == [hot.pk]
    # Spain's open room (query "acme") does not take a French conversation: outside its subtree
    assert not RoutedConversation.objects.filter(incident=world.es_incident).exists()
    assert AuditEvent.objects.filter(action="inbox.escalate", object_id=str(hot.pk)).count() == 1
    assert LogEntry.objects.filter(incident=incident, text__contains=f"#{hot.pk}").exists()

    room = client_for(world.users.pr).get(incident.get_absolute_url()).content.decode()
    assert f'data-conversation="{hot.pk}"' in room and "Hélène Chaud" in room and "Paul Calme" not in room
    assert 'data-conversation-status="open"' in room
    queue = client_for(person).get(reverse("inbox:queue"), {"tab": f"team-{team.pk}"}).content.decode()
    assert "Hélène Chaud" in queue and "Paul Calme" not in queue

    r = api_for(world.users.pr).get(f"/api/v1/crisis-incidents/{incident.pk}/conversations/")
    assert r.status_code == 200
    assert [(c["conversation"], c["status"], c["escalated"]) for c in r.json()["results"]] == [(hot.pk, "open", True)]
    # the Spanish admin does not see the French room at all
    assert api_for(world.users.es_admin).get(
        f"/api/v1/crisis-incidents/{incident.pk}/conversations/").status_code == 404

    # a redelivered event changes nothing: one row, one escalation
    assert routing.route_conversations([hot.pk, calm.pk]) == []
    assert RoutedConversation.objects.filter(incident=incident).count() == 1
    assert AuditEvent.objects.filter(action="inbox.escalate", object_id=str(hot.pk)).count() == 1


def test_routing_stops_when_the_room_closes(world, pr_desk, deliver, client_for,
                                            django_capture_on_commit_callbacks):
    services.close_incident(world.incident, actor=world.users.pr, summary="Contained.")
    _arrive(deliver, django_capture_on_commit_callbacks, world.fr_account,
            event("acme en panne", id="late1", author="u-l", name="Léa Tard", language="fr"))
    late = Conversation.objects.get(messages__external_id="late1")
    assert not late.escalated
    assert not RoutedConversation.objects.filter(conversation=late).exists()
    room = client_for(world.users.pr).get(world.incident.get_absolute_url()).content.decode()
    assert "no longer routed" in room and 'data-routed="0"' in room


def test_a_hub_room_routes_every_spoke_and_the_pure_plan_respects_subtrees(world, inbox):
    from dandelion.listening.query import Doc, compile_query

    rooms = [routing.Room(pk=1, unit_path=world.france.path, node=compile_query("acme")),
             routing.Room(pk=2, unit_path=world.europe.path, node=compile_query("#recall")),
             ]
    threads = [routing.Thread(pk=10, unit_path=world.france.path, docs=(Doc.build("acme down"),)),
               routing.Thread(pk=11, unit_path=world.spain.path, docs=(Doc.build("acme caído #recall"),)),
               routing.Thread(pk=12, unit_path=world.spain.path, docs=(Doc.build("hola"),))]
    assert routing.plan(rooms, threads) == [(1, 10), (2, 11)]


def test_a_routing_failure_never_undoes_a_room_opened_in_the_same_batch(world, monkeypatch):
    from types import SimpleNamespace

    from dandelion.crisis.models import Incident
    from dandelion.listening.models import Alert
    from tests.crisis.conftest import T0

    alert = Alert.objects.create(query=world.es_query, started_at=T0, last_seen_at=T0, severity=6, peak_count=9,
                                 expected=1.0, window_minutes=5)

    def boom(ids, *, actor):
        raise RuntimeError("the inbox is down")

    monkeypatch.setattr(routing, "route_conversations", boom)
    services.on_events([SimpleNamespace(name="listening.alert_opened", subject_id=str(alert.pk)),
                        SimpleNamespace(name="conversation.created", subject_id="12345")])
    assert Incident.objects.filter(alert=alert).exists()
