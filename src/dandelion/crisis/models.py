"""The crisis room: an :class:`Incident` opened from a listening spike (one per alert) or by hand, the people on it
(:class:`Responder`) and its shared, append-only log (:class:`LogEntry`).

An incident concerns one org unit and its subtree (the unit of the query that spiked, or the one chosen by hand):
it is seen within that unit's scope, like every row. Times that the post-mortem measures are kept as columns, written
by the services when they happen: ``spike_started_at`` (the first mention of the spike's window), ``detected_at``
(the alert), ``opened_at`` (the room), ``first_response_at`` (the first thing a person did), ``closed_at``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from dandelion.core.exceptions import AppendOnlyError
from dandelion.core.models import TimeStampedModel
from dandelion.core.querysets import OrgScope, RestrictedManager
from dandelion.crisis.choices import (
    IncidentKind,
    IncidentSource,
    IncidentStatus,
    LogKind,
    PlaybookKind,
    ResponderRole,
)


class Incident(TimeStampedModel):
    """A crisis room: severity 1–10, status open → monitoring → closed, a PR owner, the org subtree concerned."""

    org_scope = OrgScope(path="unit__path")

    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="incidents",
                             help_text="The unit concerned; the incident covers its whole subtree.")
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True, max_length=5000)
    severity = models.PositiveSmallIntegerField(default=5)
    status = models.CharField(max_length=12, choices=IncidentStatus.choices, default=IncidentStatus.OPEN,
                              db_index=True)
    source = models.CharField(max_length=8, choices=IncidentSource.choices, default=IncidentSource.MANUAL)
    kind = models.CharField(max_length=12, choices=IncidentKind.choices, default=IncidentKind.GENERAL,
                            help_text="What kind of crisis: it picks the playbook.")
    playbook = models.ForeignKey("crisis.Playbook", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="incidents", help_text="The playbook whose checklist the room follows.")
    alert = models.OneToOneField("listening.Alert", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="incident", help_text="The spike that opened it (one incident each).")
    query = models.ForeignKey("listening.ListeningQuery", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", help_text="The query whose mentions the room shows.")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", help_text="The PR owner (the 'PR pilot').")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    spike_started_at = models.DateTimeField(null=True, blank=True,
                                            help_text="The first mention of the window that fired.")
    detected_at = models.DateTimeField(null=True, blank=True, help_text="When the detector raised the alert.")
    opened_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True,
                                             help_text="The first action of a person in the room.")
    monitoring_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    pause = models.ForeignKey("publishing.CrisisPause", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", help_text="The publishing pause taken from the room.")
    holding_statement = models.TextField(blank=True, max_length=5000)
    statement_updated_at = models.DateTimeField(null=True, blank=True)
    statement_translations = models.JSONField(
        default=dict, blank=True,
        help_text="The holding statement in other languages {language code: text}; the draft above is in the "
                  "room's language (its unit's first).")
    postmortem = models.TextField(blank=True, help_text="Written when the incident closes (Markdown).")

    objects = RestrictedManager()

    class Meta:
        ordering = ["-opened_at", "-pk"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("crisis:incident-detail", args=[self.pk])

    @property
    def audit_unit(self):
        return self.unit

    @property
    def is_closed(self) -> bool:
        return self.status == IncidentStatus.CLOSED

    @property
    def statement_language(self) -> str:
        """The language of the holding statement's draft: the unit's first language (English without one)."""
        return ((self.unit.languages or ["en"])[0] or "en").lower()

    @property
    def severity_class(self) -> str:
        """The chip's CSS class: ``bad`` from 7, ``warn`` from 4."""
        return "bad" if self.severity >= 7 else "warn" if self.severity >= 4 else ""


class Playbook(TimeStampedModel):
    """What to do in a crisis of one kind, as data: ordered steps (each with the role that owns it and a due time
    after the room opens) and a holding statement to start from. Defined by the hub (or a unit, for its subtree):
    opening an incident of the unit's subtree copies the best-fitting active playbook into the room's checklist.

    ``steps`` is a list of ``{"title": str, "owner_role": ResponderRole, "due_minutes": int}`` validated by
    :func:`dandelion.crisis.playbooks.clean_steps`."""

    org_scope = OrgScope(path="unit__path")

    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="crisis_playbooks",
                             help_text="The playbook applies to the incidents of this unit and below.")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=12, choices=PlaybookKind.choices, default=PlaybookKind.ANY)
    min_severity = models.PositiveSmallIntegerField(default=1, help_text="Applies from this severity (1–10) up.")
    steps = models.JSONField(default=list, blank=True)
    holding_statement = models.TextField(blank=True, max_length=5000,
                                         help_text="The statement the room's draft starts from.")
    is_active = models.BooleanField(default=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ["unit__path", "kind", "-min_severity", "name", "pk"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("crisis:playbook-edit", args=[self.pk])

    @property
    def audit_unit(self):
        return self.unit


class ChecklistItem(models.Model):
    """One step of an incident's checklist, copied from its playbook when the room opened (so editing the playbook
    later changes no running room): who owns it (a role), when it is due, and who ticked it off when."""

    org_scope = OrgScope(path="incident__unit__path")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="checklist")
    position = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=300)
    owner_role = models.CharField(max_length=12, choices=ResponderRole.choices, default=ResponderRole.OWNER)
    due_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")

    objects = RestrictedManager()

    class Meta:
        ordering = ["incident", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["incident", "position"], name="uniq_checklist_position")]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


class StakeholderUpdate(models.Model):
    """An update e-mailed from the room to stakeholders (executives, partners, the people on it): kept for the
    post-mortem; each one is also a line of the log and an audit row."""

    org_scope = OrgScope(path="incident__unit__path")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="stakeholder_updates")
    sent_at = models.DateTimeField()
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    subject = models.CharField(max_length=200)
    body = models.TextField(max_length=5000)
    recipients = models.JSONField(default=list)

    objects = RestrictedManager()

    class Meta:
        ordering = ["sent_at", "pk"]

    def __str__(self) -> str:
        return f"{self.sent_at:%Y-%m-%d %H:%M} {self.subject}"


class Responder(models.Model):
    """A person on the incident, in a role (the PR owner, comms lead, legal, a spoke's lead, a responder)."""

    org_scope = OrgScope(path="incident__unit__path")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="responders")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=12, choices=ResponderRole.choices, default=ResponderRole.RESPONDER)
    joined_at = models.DateTimeField()

    objects = RestrictedManager()

    class Meta:
        ordering = ["joined_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["incident", "user"], name="uniq_incident_responder")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class LogEntry(models.Model):
    """One line of the room's shared log: what the system did (opened, escalated, paused...) or what a person
    noted, did or decided. Append-only: a line is never changed nor deleted (each one is also an audit row)."""

    org_scope = OrgScope(path="incident__unit__path")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="log")
    at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=10, choices=LogKind.choices, default=LogKind.NOTE)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_repr = models.CharField(max_length=150, blank=True)
    text = models.TextField(max_length=2000)

    objects = RestrictedManager()

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = "log entry"
        verbose_name_plural = "log entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_repr}: {self.text[:60]}"

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise AppendOnlyError("The crisis log is append-only: a line is never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The crisis log is append-only: a line is never deleted.")


class RoutedConversation(models.Model):
    """An inbound conversation that matched the room's query while the room was open: tagged ``crisis-<id>`` and
    escalated to PR through the inbox's own service. One row per (incident, conversation): routing is idempotent.
    The room shows these with the conversation's live state (status, team, assignee)."""

    org_scope = OrgScope(path="incident__unit__path")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="routed_conversations")
    conversation = models.ForeignKey("inbox.Conversation", on_delete=models.CASCADE, related_name="+")
    routed_at = models.DateTimeField()

    objects = RestrictedManager()

    class Meta:
        ordering = ["-routed_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["incident", "conversation"],
                                               name="uniq_incident_routed_conversation")]

    def __str__(self) -> str:
        return f"#{self.conversation_id} → {self.incident}"
