"""Routing (ordered rules: conditions → actions), assignment policies, SLA policies and their applied clocks,
and business calendars (weekly hours + holidays) for business-hours SLA arithmetic."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from dandelion.core.models import TimeStampedModel
from dandelion.core.querysets import OrgScope, RestrictedManager
from dandelion.inbox.choices import Priority
from dandelion.routing.choices import AssignmentMode, SlaMetric, SlaStatus


class RoutingRule(TimeStampedModel):
    """An ordered rule for conversations on accounts owned by ``unit`` or its subtree.

    Evaluation order: rules of the hub first, then of each unit down to the account's unit (so hub policy such as
    "spam → hide" cannot be bypassed by a spoke), and by ``position`` within a unit. ``conditions`` and ``actions``
    are JSON validated against the whitelist in :mod:`dandelion.routing.conditions`."""

    org_scope = OrgScope(path="unit__path")

    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.CASCADE, related_name="routing_rules",
                             help_text="Scope: the rule applies to accounts owned by this unit or below it.")
    name = models.CharField(max_length=120)
    position = models.PositiveIntegerField(default=0, help_text="Order within the unit (lower first).")
    is_active = models.BooleanField(default=True)
    conditions = models.JSONField(default=dict, blank=True, help_text='e.g. {"all": [{"field": "spam", '
                                  '"op": "gte", "value": 0.8}]}; empty matches everything.')
    actions = models.JSONField(default=dict, blank=True, help_text='e.g. {"hide": true, "add_tags": ["spam"]}')
    stop_processing = models.BooleanField(default=False, help_text="When it matches, evaluate no later rule.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    objects = RestrictedManager()

    class Meta:
        ordering = ("unit__path", "position", "id")
        indexes = [models.Index(fields=["unit", "is_active", "position"])]

    def clean(self) -> None:
        """Shape checks of conditions and actions against the whitelist, for every way of editing a rule (the
        service runs the same checks plus the author's visibility of referenced teams)."""
        from django.core.exceptions import ValidationError

        from dandelion.routing.conditions import validate_actions, validate_conditions

        errors = validate_conditions(self.conditions) + validate_actions(self.actions)
        if errors:
            raise ValidationError("; ".join(f"{e['path']}: {e['message']}" for e in errors))

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("routing:rule-edit", args=[self.pk])

    @property
    def audit_unit(self):
        return self.unit


class AssignmentPolicy(TimeStampedModel):
    """How a team's new conversations get an assignee. No policy row means round robin (see assignment.py)."""

    org_scope = OrgScope(path="team__unit__path", team="team_id")

    team = models.OneToOneField("orgs.Team", on_delete=models.CASCADE, related_name="assignment_policy")
    mode = models.CharField(max_length=20, choices=AssignmentMode.choices, default=AssignmentMode.ROUND_ROBIN)
    last_assigned = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+", help_text="Round-robin pointer.")

    objects = RestrictedManager()

    class Meta:
        ordering = ("team__unit__path", "team__name")
        verbose_name_plural = "assignment policies"

    def __str__(self) -> str:
        return f"{self.team.name}: {self.get_mode_display()}"

    @property
    def audit_unit(self):
        return self.team.unit


class BusinessCalendar(TimeStampedModel):
    """Opening hours of a team (or, with no team, of a unit and its subtree) for business-hours SLAs.

    ``weekly_hours``: ``{"mon": [["09:00", "18:00"]], ..., "sat": []}`` in ``timezone`` ("24:00" ends a day)."""

    org_scope = OrgScope(path="unit__path")

    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.CASCADE, related_name="business_calendars")
    team = models.OneToOneField("orgs.Team", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="business_calendar")
    name = models.CharField(max_length=120)
    timezone = models.CharField(max_length=64, default="UTC")
    weekly_hours = models.JSONField(default=dict, blank=True)
    is_24_7 = models.BooleanField(default=False, verbose_name="24/7")

    objects = RestrictedManager()

    class Meta:
        ordering = ("unit__path", "name")

    def clean(self) -> None:
        """A calendar the SLA clocks cannot read would stop every SLA of its team: refuse it when it is saved."""
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        from django.core.exceptions import ValidationError

        from dandelion.routing.sla import validate_weekly_hours

        errors = {}
        hours = validate_weekly_hours(self.weekly_hours)
        if hours:
            errors["weekly_hours"] = hours
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            errors["timezone"] = [f"Unknown time zone {self.timezone!r}."]
        if errors:
            raise ValidationError(errors)

    def __str__(self) -> str:
        return self.name

    @property
    def audit_unit(self):
        return self.unit


class Holiday(models.Model):
    """A closed day of a calendar (a date in the calendar's time zone)."""

    org_scope = OrgScope(path="calendar__unit__path")

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=120, blank=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ("calendar", "date")
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="uniq_holiday_per_calendar")]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}".strip()


class SlaPolicy(TimeStampedModel):
    """Response targets for a team's conversations of one priority (blank priority: any priority).

    ``escalation`` when a target is missed: ``{"set_priority": "urgent", "notify_team": <team id>,
    "reassign_to_team": <team id>}`` (every key optional)."""

    org_scope = OrgScope(path="team__unit__path", team="team_id")

    team = models.ForeignKey("orgs.Team", on_delete=models.CASCADE, related_name="sla_policies")
    priority = models.CharField(max_length=10, choices=Priority.choices, blank=True,
                                help_text="Blank: applies to every priority without its own policy.")
    first_response_seconds = models.PositiveIntegerField(null=True, blank=True)
    next_response_seconds = models.PositiveIntegerField(null=True, blank=True)
    resolution_seconds = models.PositiveIntegerField(null=True, blank=True)
    business_hours = models.BooleanField(default=False, help_text="Count only the team's business hours.")
    escalation = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ("team__unit__path", "team__name", "priority")
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [models.UniqueConstraint(fields=["team", "priority"], name="uniq_sla_policy_team_priority")]

    def __str__(self) -> str:
        return f"{self.team.name} · {self.get_priority_display() or 'any priority'}"

    @property
    def audit_unit(self):
        return self.team.unit

    def seconds_for(self, metric: str) -> int | None:
        return getattr(self, f"{metric}_seconds")


class AppliedSla(models.Model):
    """One SLA clock on a conversation: a metric's target, and whether it was hit or missed."""

    org_scope = OrgScope(path="conversation__account__owner_unit__path", team="conversation__team_id")

    conversation = models.ForeignKey("inbox.Conversation", on_delete=models.CASCADE, related_name="applied_slas")
    policy = models.ForeignKey(SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="applied")
    metric = models.CharField(max_length=20, choices=SlaMetric.choices)
    started_at = models.DateTimeField()
    due_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=10, choices=SlaStatus.choices, default=SlaStatus.ACTIVE)
    completed_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ("due_at", "id")
        verbose_name = "applied SLA"
        indexes = [models.Index(fields=["status", "due_at"])]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "metric"], condition=Q(status="active"),
                                    name="uniq_active_sla_per_metric"),
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()} on #{self.conversation_id}: {self.status}"

    @property
    def audit_unit(self):
        return self.conversation.account.owner_unit
