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
from dandelion.crisis.choices import IncidentSource, IncidentStatus, LogKind, ResponderRole


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
