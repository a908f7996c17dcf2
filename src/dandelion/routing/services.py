"""Routing writes: rules (create / update / delete / reorder), SLA policies, the triage team, and the rule preview.

Every function takes a keyword-only ``actor``, checks permissions on the rule's (or team's) unit, runs atomically
and writes one audit row. Rules on a unit are managed by admins of that unit or above (``routing.*_routingrule``:
hub_admin, spoke_admin)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from dandelion.core.audit import diff, record, snapshot
from dandelion.core.memo import config_changed
from dandelion.core.permissions import require_perm
from dandelion.routing import conditions as cond
from dandelion.routing.engine import (
    TRIAGE_TEAM_NAME,
    RoutingDecision,
    context_for_message,
    decide,
    triage_team,
)
from dandelion.routing.exceptions import CalendarError, RoutingError, RuleValidationError, SlaPolicyConflict
from dandelion.routing.models import BusinessCalendar, RoutingRule, SlaPolicy

RULE_FIELDS = ("name", "is_active", "conditions", "actions", "stop_processing", "unit", "position")
SLA_FIELDS = ("team", "priority", "first_response_seconds", "next_response_seconds", "resolution_seconds",
              "business_hours", "escalation", "is_active")


def _check_rule(*, actor, unit, conditions, actions) -> None:
    errors = cond.validate_rule(conditions, actions, actor=actor, unit=unit)
    if errors:
        raise RuleValidationError(errors)


# --- rules ------------------------------------------------------------------------------------------------------
@transaction.atomic
def create_routing_rule(*, actor, unit, name: str, conditions: dict | None = None, actions: dict | None = None,
                        stop_processing: bool = False, is_active: bool = True,
                        position: int | None = None) -> RoutingRule:
    """A new rule on ``unit``, last in the unit's order unless ``position`` is given."""
    require_perm(actor, "routing.add_routingrule", unit)
    conditions, actions = conditions or {}, actions or {}
    _check_rule(actor=actor, unit=unit, conditions=conditions, actions=actions)
    if position is None:
        top = RoutingRule.objects.filter(unit=unit).aggregate(m=Max("position"))["m"]
        position = 0 if top is None else top + 1
    rule = RoutingRule.objects.create(unit=unit, name=name, conditions=conditions, actions=actions,
                                      stop_processing=stop_processing, is_active=is_active, position=position,
                                      created_by=actor if getattr(actor, "pk", None) else None)
    record(actor=actor, action="routing.rule.create", obj=rule, summary=f"Created routing rule '{name}'",
           changes={k: [None, v] for k, v in snapshot(rule, RULE_FIELDS).items()})
    return rule


@transaction.atomic
def update_routing_rule(rule: RoutingRule, *, actor, **changes: Any) -> RoutingRule:
    """Change a rule's fields (name, is_active, conditions, actions, stop_processing, unit, position)."""
    unknown = set(changes) - set(RULE_FIELDS)
    if unknown:
        raise RoutingError(f"Unknown rule field(s): {', '.join(sorted(unknown))}")
    require_perm(actor, "routing.change_routingrule", rule.unit)
    if "unit" in changes and changes["unit"] != rule.unit:
        require_perm(actor, "routing.change_routingrule", changes["unit"])
    before = snapshot(rule, RULE_FIELDS)
    for key, value in changes.items():
        setattr(rule, key, value)
    _check_rule(actor=actor, unit=rule.unit, conditions=rule.conditions, actions=rule.actions)
    rule.save()
    delta = diff(before, snapshot(rule, RULE_FIELDS))
    record(actor=actor, action="routing.rule.update", obj=rule, summary=f"Updated routing rule '{rule.name}'",
           changes=delta)
    return rule


@transaction.atomic
def delete_routing_rule(rule: RoutingRule, *, actor) -> None:
    require_perm(actor, "routing.delete_routingrule", rule.unit)
    record(actor=actor, action="routing.rule.delete", obj=rule, summary=f"Deleted routing rule '{rule.name}'",
           changes={k: [v, None] for k, v in snapshot(rule, RULE_FIELDS).items()})
    rule.delete()


@transaction.atomic
def move_routing_rule(rule: RoutingRule, *, actor, direction: str) -> RoutingRule:
    """Swap the rule with its neighbour ("up" or "down") within its unit; positions are renumbered 0..n."""
    if direction not in ("up", "down"):
        raise RoutingError(_("direction must be 'up' or 'down'"), field="direction")
    require_perm(actor, "routing.change_routingrule", rule.unit)
    siblings = list(RoutingRule.objects.select_for_update().filter(unit_id=rule.unit_id).order_by("position", "id"))
    index = next(i for i, r in enumerate(siblings) if r.pk == rule.pk)
    target = index - 1 if direction == "up" else index + 1
    old_position = siblings[index].position
    if 0 <= target < len(siblings):
        siblings[index], siblings[target] = siblings[target], siblings[index]
    for i, sibling in enumerate(siblings):
        if sibling.position != i:
            RoutingRule.objects.filter(pk=sibling.pk).update(position=i)
    config_changed()  # the order changed without save(): workers read the rules afresh
    rule.refresh_from_db()
    record(actor=actor, action="routing.rule.move", obj=rule, summary=f"Moved routing rule '{rule.name}' {direction}",
           changes={"position": [old_position, rule.position]})
    return rule


# --- SLA policies -----------------------------------------------------------------------------------------------
def _check_escalation(escalation: Any, *, actor) -> None:
    from dandelion.inbox.choices import Priority
    from dandelion.orgs.models import Team

    if not isinstance(escalation, dict):
        raise RoutingError(_("escalation must be an object"), field="escalation")
    unknown = set(escalation) - {"set_priority", "notify_team", "reassign_to_team"}
    if unknown:
        raise RoutingError(f"escalation: unknown key(s) {', '.join(sorted(unknown))}", field="escalation")
    if "set_priority" in escalation and escalation["set_priority"] not in Priority.values:
        raise RoutingError(_("escalation.set_priority must be a priority"), field="escalation")
    for key in ("notify_team", "reassign_to_team"):
        if key in escalation and not Team.objects.restrict(actor, "view").filter(pk=escalation[key]).exists():
            raise RoutingError(_("escalation.%(key)s: team %(team)r is not visible to you")
                               % {"key": key, "team": escalation[key]},
                               field="escalation")


@transaction.atomic
def create_sla_policy(*, actor, team, priority: str = "", first_response_seconds: int | None = None,
                      next_response_seconds: int | None = None, resolution_seconds: int | None = None,
                      business_hours: bool = False, escalation: dict | None = None,
                      is_active: bool = True) -> SlaPolicy:
    require_perm(actor, "routing.add_slapolicy", team.unit)
    escalation = escalation or {}
    _check_escalation(escalation, actor=actor)
    if SlaPolicy.objects.filter(team=team, priority=priority).exists():
        raise SlaPolicyConflict(_("%(team)s already has a policy for %(priority)s.")
                                % {"team": team.name, "priority": priority or _("any priority")},
                                field="priority")
    policy = SlaPolicy.objects.create(
        team=team, priority=priority, first_response_seconds=first_response_seconds,
        next_response_seconds=next_response_seconds, resolution_seconds=resolution_seconds,
        business_hours=business_hours, escalation=escalation, is_active=is_active)
    record(actor=actor, action="routing.sla_policy.create", obj=policy, summary=f"Created SLA policy {policy}",
           changes={k: [None, v] for k, v in snapshot(policy, SLA_FIELDS).items()})
    return policy


@transaction.atomic
def update_sla_policy(policy: SlaPolicy, *, actor, **changes: Any) -> SlaPolicy:
    unknown = set(changes) - set(SLA_FIELDS)
    if unknown:
        raise RoutingError(f"Unknown SLA policy field(s): {', '.join(sorted(unknown))}")
    require_perm(actor, "routing.change_slapolicy", policy.team.unit)
    if "team" in changes and changes["team"] != policy.team:
        require_perm(actor, "routing.change_slapolicy", changes["team"].unit)
    if "escalation" in changes:
        _check_escalation(changes["escalation"] or {}, actor=actor)
    before = snapshot(policy, SLA_FIELDS)
    for key, value in changes.items():
        setattr(policy, key, value)
    if SlaPolicy.objects.filter(team=policy.team, priority=policy.priority).exclude(pk=policy.pk).exists():
        raise SlaPolicyConflict(_("Another policy exists for this team and priority."), field="priority")
    policy.save()
    record(actor=actor, action="routing.sla_policy.update", obj=policy, summary=f"Updated SLA policy {policy}",
           changes=diff(before, snapshot(policy, SLA_FIELDS)))
    return policy


@transaction.atomic
def delete_sla_policy(policy: SlaPolicy, *, actor) -> None:
    require_perm(actor, "routing.delete_slapolicy", policy.team.unit)
    record(actor=actor, action="routing.sla_policy.delete", obj=policy, summary=f"Deleted SLA policy {policy}",
           changes={k: [v, None] for k, v in snapshot(policy, SLA_FIELDS).items()})
    policy.delete()


@transaction.atomic
def set_team_business_hours(team, *, actor, timezone_name: str, weekly_hours: dict) -> BusinessCalendar:
    """Create or change the team's own business calendar (its SLA clocks count these hours when a policy counts
    business hours): ``weekly_hours`` ``{"mon": [["09:00", "12:00"], ...], ...}`` in ``timezone_name``."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from dandelion.routing.sla import validate_weekly_hours

    require_perm(actor, "routing.change_slapolicy", team.unit)
    try:
        ZoneInfo(timezone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError(_("Unknown time zone “%(zone)s”.") % {"zone": str(timezone_name)[:64]},
                            field="hours_timezone") from None
    weekly_hours = {day: [list(pair) for pair in ranges] for day, ranges in (weekly_hours or {}).items()}
    errors = validate_weekly_hours(weekly_hours)
    if errors:
        raise CalendarError("; ".join(errors))
    if not any(weekly_hours.values()):
        raise CalendarError(_("Give at least one day of opening hours: a calendar never open stops every SLA "
                              "clock."))
    calendar = BusinessCalendar.objects.select_for_update().filter(team=team).first()
    fields = ["timezone", "weekly_hours"]
    before = snapshot(calendar, fields) if calendar else {k: None for k in fields}
    if calendar is None:
        calendar = BusinessCalendar(team=team, unit=team.unit, name=f"{team.name} hours"[:120])
    calendar.timezone, calendar.weekly_hours, calendar.is_24_7 = timezone_name, weekly_hours, False
    calendar.save()
    changes = diff(before, snapshot(calendar, fields))
    if changes:
        record(actor=actor, action="routing.business_hours.change", obj=calendar,
               summary=f"Business hours of {team.name}", changes=changes)
    return calendar


# --- triage and routing -----------------------------------------------------------------------------------------
@transaction.atomic
def ensure_triage_team(*, actor=None):
    """The hub's triage team, created (a community team named "Triage" on the root unit) when missing, or
    reactivated, through the organisation's services (the pipeline calls it as the SYSTEM actor)."""
    from dandelion.core.actors import SYSTEM
    from dandelion.orgs import services as orgs
    from dandelion.orgs.choices import TeamKind
    from dandelion.orgs.models import OrgUnit, Team

    actor = actor or SYSTEM
    existing = triage_team()
    if existing is not None:
        return existing
    root = OrgUnit.objects.filter(parent__isnull=True).order_by("id").first()
    if root is None:
        raise RoutingError(_("The organisation has no root unit yet."))
    team = Team.objects.filter(unit=root, name=TRIAGE_TEAM_NAME).first()
    if team is not None:
        return orgs.reactivate_team(actor=actor, team=team)
    team = orgs.create_team(actor=actor, unit=root, name=TRIAGE_TEAM_NAME, kind=TeamKind.COMMUNITY)
    record(actor=actor, action="routing.triage_team.create", obj=team, unit=root,
           summary="Created the hub's triage team for messages no team covers",
           changes={"name": [None, team.name], "unit": [None, root.pk]})
    return team


def route(ctx, *, actor=None) -> RoutingDecision:
    """:func:`engine.decide`, plus the lazy creation of the hub's triage team when the decision has no team,
    so every message lands in some team's queue. Call inside the inbox's transaction."""
    decision = decide(ctx)
    if decision.team_id is None:
        team = ensure_triage_team(actor=actor)
        decision.team_id = team.pk
        decision.explanation += f" (created the triage team {team.name})"
    return decision


# --- preview ----------------------------------------------------------------------------------------------------
#: The rule preview looks at the inbound messages of the last days only.
PREVIEW_DAYS = 7


def preview_rule(rule_data: dict, *, actor, limit: int = 50) -> dict:
    """Evaluate a (possibly unsaved) rule against the ``limit`` most recent inbound messages of the last
    :data:`PREVIEW_DAYS` days the actor may see on accounts under the rule's unit. ``rule_data``: ``{"unit": OrgUnit | id, "conditions": {...}, "actions": {...},
    "name": ...}``. Returns ``{"errors": [...], "evaluated": n, "matched": n, "rows": [{"message", "conversation",
    "matched", "changes": {field: [current, new]}}]}``; nothing is written."""
    from dandelion.inbox.choices import Direction
    from dandelion.inbox.models import Message
    from dandelion.orgs.models import OrgUnit, Team

    conditions = rule_data.get("conditions") or {}
    actions = rule_data.get("actions") or {}
    errors = cond.validate_rule(conditions, actions, actor=actor)
    result: dict[str, Any] = {"errors": errors, "evaluated": 0, "matched": 0, "rows": []}
    if errors:
        return result
    unit = rule_data.get("unit")
    if unit is not None and not isinstance(unit, OrgUnit):
        unit = OrgUnit.objects.filter(pk=unit).first()
    since = timezone.now() - dt.timedelta(days=PREVIEW_DAYS)
    messages = Message.objects.restrict(actor, "view").filter(direction=Direction.INBOUND, sent_at__gte=since)
    if unit is not None:
        messages = messages.filter(conversation__account__owner_unit__path__startswith=unit.path)
    messages = (messages.select_related("conversation__account__owner_unit", "conversation__contact",
                                        "conversation__team", "author_identity")
                .prefetch_related("conversation__tags")
                .order_by("-sent_at", "-id")[: max(1, min(limit, 500))])
    team_names = dict(Team.objects.filter(pk=actions.get("route_to_team")).values_list("id", "name")) \
        if actions.get("route_to_team") else {}
    for message in messages:
        ctx = context_for_message(message)
        matched = cond.evaluate(conditions, ctx)
        conv = message.conversation
        changes: dict[str, list] = {}
        if matched:
            if actions.get("route_to_team") and actions["route_to_team"] != conv.team_id:
                changes["team"] = [conv.team.name if conv.team else "—",
                                   team_names.get(actions["route_to_team"], f"#{actions['route_to_team']}")]
            if actions.get("set_priority") and actions["set_priority"] != conv.priority:
                changes["priority"] = [conv.priority, actions["set_priority"]]
            if actions.get("add_tags"):
                changes["tags"] = ["", ", ".join(actions["add_tags"])]
            if actions.get("hide") and message.moderation_state == "visible":
                changes["moderation"] = ["visible", "hidden"]
            if actions.get("escalate_to_pr") and not conv.escalated:
                changes["escalated"] = [False, True]
            if actions.get("auto_acknowledge"):
                changes["auto_acknowledge"] = ["", f"canned response #{actions['auto_acknowledge']}"]
        result["rows"].append({"message": message, "conversation": conv, "matched": matched, "changes": changes})
        result["evaluated"] += 1
        result["matched"] += int(matched)
    result["description"] = (f"{cond.describe_conditions(conditions)} → "
                             f"{cond.describe_actions(actions, team_names)}")
    return result
