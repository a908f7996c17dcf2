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

from dandelion.core.memo import config_memoized
from dandelion.core.permissions import require_perm
from dandelion.orgs.choices import Role
from dandelion.routing.choices import AssignmentMode

ASSIGNABLE_ROLES = (Role.HELPER_AGENT, Role.COMMUNITY_MANAGER, Role.EXTERNAL_MODERATOR)


def _capacities(team_id: int) -> dict[int, int]:
    """``{user id: capacity}`` of the team's assignable members (configuration: read once per team and kept across
    a worker's batches, see :func:`~dandelion.core.memo.config_memoized`; the loads, which change as a batch assigns,
    are always counted afresh)."""
    from dandelion.orgs.models import Membership

    return config_memoized(("assign.capacities", team_id), lambda: dict(
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
    plan = AssignmentPlan()
    plan.lock([conversation.team_id])
    user = plan.assign(conversation)
    if user is not None:
        from dandelion.inbox.services import save_auto_assignment

        save_auto_assignment(conversation)
        plan.write(actor=actor)
    return user


class AssignmentPlan:
    """Automatic assignment of many conversations at once, planned in memory (the inbound pipeline's batch).

    :meth:`lock` locks the policy rows of the teams concerned, in team order (two batches lock in the same order,
    so they cannot deadlock; a second batch of the same team waits until the first commits, then counts its
    assignments). Members' loads are counted once, then :meth:`assign` picks the assignee of each conversation in
    turn, as :func:`auto_assign` would one by one (round robin continues, each pick adds to its member's load).
    The caller saves the conversations' ``assignee``; :meth:`write` then saves the teams' rotation pointers and
    writes the "assigned" events and audit rows. Must run inside the caller's transaction."""

    def __init__(self) -> None:
        self.policies: dict[int, object] = {}
        self.members: dict[int, list[tuple[object, int]]] = {}  # team id -> [(user, capacity)] by user id
        self.loads: dict[int, int] = {}  # user id -> open assigned conversations
        self.assigned: list[tuple[object, object, object]] = []  # (conversation, user, policy)

    def lock(self, team_ids) -> None:
        from django.contrib.auth import get_user_model

        from dandelion.inbox.choices import ConversationStatus
        from dandelion.routing.models import AssignmentPolicy

        caps = {t: _capacities(t) for t in set(team_ids) if t and t not in self.policies}
        teams = sorted(t for t, members in caps.items() if members)
        if not teams:
            return
        have = set(AssignmentPolicy.objects.filter(team_id__in=teams).values_list("team_id", flat=True))
        if len(have) < len(teams):
            AssignmentPolicy.objects.bulk_create([AssignmentPolicy(team_id=t) for t in teams if t not in have],
                                                 ignore_conflicts=True)
        for policy in AssignmentPolicy.objects.select_for_update().filter(team_id__in=teams).order_by("team_id"):
            self.policies[policy.team_id] = policy
        user_ids = {u for t in teams for u in caps[t]}
        users = {u.pk: u for u in get_user_model().objects.filter(pk__in=user_ids).annotate(
            load=Count("assigned_conversations",
                       filter=~Q(assigned_conversations__status=ConversationStatus.RESOLVED)))}
        for pk, user in users.items():  # a load already counted includes this plan's own assignments: kept
            self.loads.setdefault(pk, user.load)
        for team in teams:
            self.members[team] = [(users[pk], caps[team][pk]) for pk in sorted(caps[team]) if pk in users]

    def assign(self, conversation):
        """Pick the assignee of ``conversation`` (its team locked by :meth:`lock`) and set it, unsaved; None when
        nobody is eligible or the team assigns manually."""
        policy = self.policies.get(conversation.team_id)
        if policy is None or policy.mode == AssignmentMode.MANUAL:
            return None
        eligible = [(u, self.loads.get(u.pk, 0), cap) for u, cap in self.members.get(conversation.team_id, [])
                    if self.loads.get(u.pk, 0) < cap]
        candidates = _rotation(eligible, policy.last_assigned_id)
        if not candidates:
            return None
        if policy.mode == AssignmentMode.CAPACITY:
            best = min(range(len(candidates)), key=lambda i: (candidates[i][1], i))
            user = candidates[best][0]
        else:
            user = candidates[0][0]
        conversation.assignee = user
        self.loads[user.pk] = self.loads.get(user.pk, 0) + 1
        policy.last_assigned = user
        self.assigned.append((conversation, user, policy))
        return user

    def write(self, *, actor=None) -> None:
        """Save the rotation pointers, then one "assigned" event and one audit row per assignment (bulk). The
        conversations must be saved with their assignee."""
        from dandelion.core.audit import build_record, record_many
        from dandelion.inbox.choices import EventKind
        from dandelion.inbox.services import record_events

        if not self.assigned:
            return
        for policy in {id(p): p for _, _, p in self.assigned}.values():
            policy.save(update_fields=["last_assigned", "updated_at"])
        record_events([(conv, EventKind.ASSIGNED, {
            "assignee": user.pk, "assignee_name": user.get_username(), "team": conv.team_id, "mode": policy.mode,
            "automatic": True}) for conv, user, policy in self.assigned], actor=actor)
        record_many([build_record(
            actor=actor, action="routing.conversation.auto_assign", obj=conv,
            summary=f"Assigned to {user.get_username()} ({policy.get_mode_display()})",
            changes={"assignee": [None, user.pk]},
        ) for conv, user, policy in self.assigned])
        self.assigned = []
