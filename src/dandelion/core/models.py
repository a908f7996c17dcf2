"""Base models and the cross-cutting tables: the append-only audit log, worker heartbeats, periodic job slots."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from dandelion.core.exceptions import AppendOnlyError
from dandelion.core.querysets import OrgScope, RestrictedQuerySet


class TimeStampedModel(models.Model):
    """Adds ``created_at`` / ``updated_at``."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AuditQuerySet(RestrictedQuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit events are append-only.")

    def delete(self):
        raise AppendOnlyError("Audit events are append-only.")


class AuditEvent(models.Model):
    """One write made through a service: who did what to which object, in which unit, and what changed.

    Append-only: rows are never updated or deleted through the app or the API.
    """

    org_scope = OrgScope(path="unit_path")

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_repr = models.CharField(max_length=150, blank=True, help_text="Username at the time, or 'system'.")
    action = models.CharField(max_length=80, db_index=True, help_text="e.g. assets.account.create")
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(max_length=200, blank=True)
    unit = models.ForeignKey(
        "orgs.OrgUnit", null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    unit_path = models.CharField(
        max_length=255, db_index=True, help_text="The unit's tree path when the event was written (scope)."
    )
    summary = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_repr} {self.action} {self.object_repr}"

    def get_absolute_url(self) -> str:
        return reverse("core:audit-detail", args=[self.pk])

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events are append-only.")


class WorkerHeartbeat(models.Model):
    """Last sign of life of each background worker process (for /healthz and the status page)."""

    org_scope = OrgScope.internal("worker liveness, shown on the status page to superusers")

    name = models.CharField(max_length=200, unique=True)
    hostname = models.CharField(max_length=200, blank=True)
    pid = models.IntegerField(default=0)
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ("-last_seen_at",)

    def __str__(self) -> str:
        return f"{self.name} (last seen {self.last_seen_at:%H:%M:%S})"


class PeriodicJobRun(models.Model):
    """Claims one period of a named periodic job: the unique row makes it run once per period across workers."""

    org_scope = OrgScope.internal("periodic job claims, read by workers only")

    name = models.CharField(max_length=100)
    period_start = models.DateTimeField()
    claimed_by = models.CharField(max_length=200, blank=True)
    claimed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-period_start",)
        constraints = [models.UniqueConstraint(fields=["name", "period_start"], name="uniq_periodic_slot")]

    def __str__(self) -> str:
        return f"{self.name}@{self.period_start:%Y-%m-%d %H:%M:%S}"


class ConfigGeneration(models.Model):
    """One row: a random token replaced in the transaction of every configuration change (routing rules, SLA
    policies, calendars, teams, memberships, units). Workers keep configuration lookups across batches while it stays
    the same (:mod:`dandelion.core.memo`)."""

    org_scope = OrgScope.internal("a cache token, read by workers only")

    SINGLETON = 1

    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"configuration generation {self.token} ({self.changed_at:%Y-%m-%d %H:%M:%S})"


class JobSlot(models.Model):
    """One row per job that is enqueued and not yet started: "one pending job is enough" for every backend
    (:func:`dandelion.core.jobs.enqueue_once`).

    Enqueuing inserts the row (unique name); the job deletes it when it starts, so work stored while it runs
    enqueues a fresh run. A slot older than ``STALE_AFTER`` seconds is considered lost (a worker died) and replaced.
    """

    org_scope = OrgScope.internal("job queue bookkeeping, read by workers only")

    STALE_AFTER = 300

    name = models.CharField(max_length=100, unique=True)
    enqueued_at = models.DateTimeField()

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return f"{self.name} (enqueued {self.enqueued_at:%Y-%m-%d %H:%M:%S})"


class UserProfile(models.Model):
    """A person's own settings: the interface language and the time zone dates are shown in.

    Empty means "not chosen": the browser's language (``Accept-Language``) and the server's ``TIME_ZONE``. Changed
    through :func:`dandelion.core.services.update_profile` (the profile page), which keeps them in the session.
    """

    org_scope = OrgScope.internal("a person's own settings, read only for the signed-in person")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    language = models.CharField(_("language"), max_length=10, blank=True,
                                help_text=_("Empty: the browser's language."))
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True,
                                 help_text=_("An IANA name such as Europe/Paris. Empty: the server's time zone."))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("user_id",)
        verbose_name = _("user profile")

    def __str__(self) -> str:
        return f"profile of {self.user}"

    def get_absolute_url(self) -> str:
        return reverse("core:profile")
