"""Outgoing webhooks: a unit's subscriptions to domain events, and the log of every delivery."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from dandelion.assets import crypto
from dandelion.core.models import TimeStampedModel
from dandelion.core.querysets import OrgScope, RestrictedManager
from dandelion.webhooks.choices import DeliveryStatus, SubscriptionState


def new_signing_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookSubscription(TimeStampedModel):
    """A receiver URL that gets the events of ``event_types`` happening in ``unit`` and its whole subtree.

    The signing secret is encrypted at rest (as account credentials are) and shown once, when created or rotated.
    After ``DANDELION_WEBHOOK_DISABLE_AFTER`` failed attempts in a row the subscription is disabled (with the
    reason) until an admin re-enables it."""

    org_scope = OrgScope(path="unit__path")

    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="webhook_subscriptions")
    name = models.CharField(max_length=120)
    url = models.URLField(max_length=500)
    event_types = models.JSONField(default=list, help_text="Names of the event types sent, e.g. conversation.assigned.")
    secret_encrypted = models.TextField(editable=False)
    state = models.CharField(max_length=10, choices=SubscriptionState.choices, default=SubscriptionState.ACTIVE)
    disabled_reason = models.CharField(max_length=300, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    objects = RestrictedManager()

    class Meta:
        ordering = ("unit__path", "name", "id")
        indexes = [models.Index(fields=["state"], name="webhook_sub_state")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("webhooks:subscription-detail", args=[self.pk])

    @property
    def audit_unit(self):
        return self.unit

    @property
    def is_active(self) -> bool:
        return self.state == SubscriptionState.ACTIVE

    @property
    def secret(self) -> str:
        """The decrypted signing secret, for signing only."""
        return crypto.decrypt_text(self.secret_encrypted)

    def set_secret(self, value: str | None = None) -> str:
        value = value or new_signing_secret()
        self.secret_encrypted = crypto.encrypt_text(value)
        return value

    def wants(self, event_type: str, unit_path: str) -> bool:
        """Does this subscription get an event of ``event_type`` in the unit at ``unit_path``?"""
        return event_type in self.event_types and bool(unit_path) and unit_path.startswith(self.unit.path)


class WebhookDelivery(models.Model):
    """One event sent (or to send) to one subscription: its body, every attempt's outcome, the next attempt."""

    org_scope = OrgScope(path="subscription__unit__path")

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.CharField(max_length=36)
    event_type = models.CharField(max_length=80)
    payload = models.JSONField(help_text="The event envelope sent as the body (the same bytes on every attempt).")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, help_text="The first characters of the receiver's answer.")
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    redelivery_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
            models.Index(fields=["subscription", "-created_at"], name="webhook_delivery_log"),
            models.Index(fields=["status", "finished_at"], name="webhook_delivery_finished"),
        ]
        constraints = [
            # one delivery per subscription and event (handling an event batch twice sends nothing twice);
            # a manual redelivery is a new row pointing at the first
            models.UniqueConstraint(fields=["subscription", "event_id"], condition=Q(redelivery_of__isnull=True),
                                    name="uniq_webhook_delivery_per_event"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.subscription_id} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("webhooks:delivery-detail", args=[self.pk])

    @property
    def audit_unit(self):
        return self.subscription.unit

    @property
    def status_level(self) -> str:
        levels: dict[str, str] = {DeliveryStatus.SUCCEEDED: "ok", DeliveryStatus.FAILED: "bad"}
        return levels.get(self.status, "warn")
