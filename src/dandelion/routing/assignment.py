"""Automatic assignment of a team's conversations (per the team's :class:`AssignmentPolicy`).

Eligible: active, available members of the conversation's team with the helper_agent, community_manager or
external_moderator role, whose open (not resolved) assigned conversations are below their membership capacity.

* ``round_robin`` (also when the team has no policy row): the next eligible member after the last one assigned,
  by user id, wrapping around — everyone gets a turn in order.
* ``capacity``: the least loaded eligible member; ties go round-robin order.
* ``manual``: nobody; the conversation waits in the team queue.

Nobody eligible → the conversation stays unassigned in the team queue (returns None).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, Max, Q

from dandelion.core.audit import record
from dandelion.core.memo import memoized
from dandelion.core.permissions import require_perm
from dandelion.orgs.choices import Role
from dandelion.routing.choices import AssignmentMode

ASSIGNABLE_ROLES = (Role.HELPER_AGENT, Role.COMMUNITY_MANAGER, Role.EXTERNAL_MODERATOR)


def eligible_members(team) -> list[tuple[object, int, int]]:
    """``[(user, load, capacity)]`` of the team's assignable members under capacity, ordered by user id."""
    from django.contrib.auth import get_user_model

    from dandelion.inbox.choices import ConversationStatus

    team_id = getattr(team, "pk", team)
    caps = _capacities(team_id)
    if not caps:
        return []
    users = (get_user_model().objects.filter(pk__in=caps).order_by("pk")
             .annotate(load=Count("assigned_conversations",
                                  filter=~Q(assigned_conversations__status=ConversationStatus.RESOLVED))))
    return [(u, u.load, caps[u.pk]) for u in users if u.load < caps[u.pk]]


def _capacities(team_id: int) -> dict[int, int]:
    """``{user id: capacity}`` of the team's assignable members (read once per team within a batch memo: the
    loads, which change as a batch assigns, are always counted afresh)."""
    from dandelion.orgs.models import Membership

    return memoized(("assign.capacities", team_id), lambda: dict(
        Membership.objects.filter(team_id=team_id, is_active=True, is_available=True, role__in=ASSIGNABLE_ROLES,
                                  user__is_active=True)
        .values("user_id").annotate(cap=Max("capacity")).values_list("user_id", "cap")))


def _rotation(candidates, last_id: int | None):
    """Candidates in round-robin order: those after ``last_id`` first, then from the start."""
    if last_id is None:
        return list(candidates)
    after = [c for c in candidates if c[0].pk > last_id]
    before = [c for c in candidates if c[0].pk <= last_id]
    return after + before


def auto_assign(conversation, *, actor=None):
    """Assign ``conversation`` per its team's policy; writes ``Conversation.assignee``, a ``ConversationEvent``
    (kind "assigned") and an audit row. Returns the assignee, or None when it stays in the team queue.
    An already assigned conversation keeps its assignee (idempotent)."""
    if conversation.team_id is None:
        return None
    if conversation.assignee_id is not None:
        return conversation.assignee
    if actor is not None:
        require_perm(actor, "inbox.assign_conversation", conversation.account.owner_unit,
                     team_id=conversation.team_id)
    if not _capacities(conversation.team_id):
        return None  # nobody assignable in the team, whatever its policy: it waits in the team queue
    return _assign_by_policy(conversation, actor=actor)


@transaction.atomic
def _assign_by_policy(conversation, *, actor=None):
    """The locked part of :func:`auto_assign`: the policy row serialises concurrent assignments in one team."""
    from dandelion.inbox.choices import EventKind
    from dandelion.inbox.models import ConversationEvent
    from dandelion.routing.models import AssignmentPolicy

    policy, _ = AssignmentPolicy.objects.get_or_create(team_id=conversation.team_id)
    policy = AssignmentPolicy.objects.select_for_update().get(pk=policy.pk)
    if policy.mode == AssignmentMode.MANUAL:
        return None
    candidates = _rotation(eligible_members(conversation.team_id), policy.last_assigned_id)
    if not candidates:
        return None
    if policy.mode == AssignmentMode.CAPACITY:
        best = min(range(len(candidates)), key=lambda i: (candidates[i][1], i))
        user = candidates[best][0]
    else:
        user = candidates[0][0]
    conversation.assignee = user
    conversation.save(update_fields=["assignee", "updated_at"])
    policy.last_assigned = user
    policy.save(update_fields=["last_assigned", "updated_at"])
    ConversationEvent.objects.create(
        conversation=conversation, kind=EventKind.ASSIGNED, actor=actor if getattr(actor, "pk", None) else None,
        data={"assignee": user.pk, "assignee_name": user.get_username(), "team": conversation.team_id,
              "mode": policy.mode, "automatic": True},
    )
    record(actor=actor, action="routing.conversation.auto_assign", obj=conversation,
           summary=f"Assigned to {user.get_username()} ({policy.get_mode_display()})",
           changes={"assignee": [None, user.pk]})
    return user
