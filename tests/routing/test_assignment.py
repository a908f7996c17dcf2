import collections

import pytest

from dandelion.inbox.models import ConversationEvent
from dandelion.orgs.choices import Role
from dandelion.orgs.models import Membership
from dandelion.routing.assignment import auto_assign
from dandelion.routing.models import AssignmentPolicy
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_round_robin_is_fair(org, make_conversation):
    agent3 = UserFactory(username="fragent3")
    MembershipFactory(user=agent3, unit=org.france, role=Role.HELPER_AGENT, team=org.fr_team)
    counts = collections.Counter()
    order = []
    for _ in range(9):
        conv = make_conversation(org.fr_account, team=org.fr_team)
        user = auto_assign(conv)
        counts[user.username] += 1
        order.append(user.username)
    assert counts == {"fragent": 3, "fragent2": 3, "fragent3": 3}
    assert order[:3] == ["fragent", "fragent2", "fragent3"]
    assert ConversationEvent.objects.filter(kind="assigned").count() == 9


def test_unavailable_members_skipped_and_nobody_means_queue(org, make_conversation):
    Membership.objects.filter(user=org.users.fr_agent).update(is_available=False)
    assert auto_assign(make_conversation(org.fr_account, team=org.fr_team)) == org.users.fr_agent2
    Membership.objects.filter(user=org.users.fr_agent2).update(is_available=False)
    conv = make_conversation(org.fr_account, team=org.fr_team)
    assert auto_assign(conv) is None
    conv.refresh_from_db()
    assert conv.assignee is None and conv.team == org.fr_team


def test_capacity_mode_picks_least_loaded_under_capacity(org, make_conversation):
    AssignmentPolicy.objects.create(team=org.fr_team, mode="capacity")
    Membership.objects.filter(user=org.users.fr_agent).update(capacity=2)
    Membership.objects.filter(user=org.users.fr_agent2).update(capacity=1)
    for _ in range(2):
        c = make_conversation(org.fr_account, team=org.fr_team)
        c.assignee = org.users.fr_agent2 if _ == 0 else org.users.fr_agent
        c.save()
    # loads: fr_agent 1/2, fr_agent2 1/1 (full) → fr_agent
    assert auto_assign(make_conversation(org.fr_account, team=org.fr_team)) == org.users.fr_agent
    # now both full
    assert auto_assign(make_conversation(org.fr_account, team=org.fr_team)) is None
    # resolving frees capacity
    c = org.users.fr_agent2.assigned_conversations.first()
    c.status = "resolved"
    c.save()
    assert auto_assign(make_conversation(org.fr_account, team=org.fr_team)) == org.users.fr_agent2


def test_manual_mode_and_already_assigned(org, make_conversation):
    conv = make_conversation(org.fr_account, team=org.fr_team)
    conv.assignee = org.users.fr_agent2
    conv.save()
    assert auto_assign(conv) == org.users.fr_agent2
    AssignmentPolicy.objects.create(team=org.fr_team, mode="manual")
    assert auto_assign(make_conversation(org.fr_account, team=org.fr_team)) is None


def test_only_team_roles_are_assigned(org, make_conversation):
    # a spoke admin on the team is not an assignee; the moderator only on its own team
    MembershipFactory(user=org.users.fr_admin, unit=org.france, role=Role.SPOKE_ADMIN, team=org.fr_team)
    users = {auto_assign(make_conversation(org.fr_account, team=org.fr_team)) for _ in range(4)}
    assert users == {org.users.fr_agent, org.users.fr_agent2}
    assert auto_assign(make_conversation(org.fr_account, team=org.vendor_team, language="am")) == org.users.moderator


def test_an_automatic_assignment_is_a_domain_event(org, make_conversation, django_capture_on_commit_callbacks):
    """Notifications and outgoing webhooks hear of automatic assignments as of a person's (reason "auto")."""
    from dandelion.core import events

    batches = []
    events.subscribe("test-auto-assign", lambda batch: batches.append(list(batch)))
    try:
        with django_capture_on_commit_callbacks(execute=True):
            conv = make_conversation(org.fr_account, team=org.fr_team)
            user = auto_assign(conv)
    finally:
        events.unsubscribe("test-auto-assign")
    assigned = [e for batch in batches for e in batch if e.name == "conversation.assigned"]
    assert len(assigned) == 1
    assert assigned[0].data["reason"] == "auto" and assigned[0].data["assignee_name"] == user.get_username()
    assert assigned[0].subject_id == str(conv.pk) and assigned[0].unit_id == org.france.pk
