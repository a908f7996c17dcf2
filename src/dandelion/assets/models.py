"""The registry of every social account of the organisation: who owns it, its state, its (encrypted) secrets."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from dandelion.assets import crypto
from dandelion.assets.choices import HEALTH_SEVERITY, AccountStatus, HealthFlag
from dandelion.core.models import TimeStampedModel
from dandelion.core.querysets import OrgScope, RestrictedQuerySet


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class SocialAccountQuerySet(RestrictedQuerySet):
    """Adds the health-flag filters, mirroring :meth:`SocialAccount.health_flags` in SQL."""

    def health_q(self, flag: str, now: dt.datetime | None = None) -> models.Q:
        now = now or timezone.now()
        warn_until = now + dt.timedelta(days=settings.DANDELION_CREDENTIALS_EXPIRY_WARNING_DAYS)
        dormant_cutoff = now - dt.timedelta(days=settings.DANDELION_DORMANT_AFTER_DAYS)
        Q = models.Q
        flag_q = {
            HealthFlag.NO_OWNER: Q(owner__isnull=True),
            HealthFlag.OWNER_DEACTIVATED: Q(owner__isnull=False, owner__is_active=False, owner_left_at__isnull=True),
            HealthFlag.OWNER_LEFT: Q(owner_left_at__isnull=False),
            HealthFlag.CREDENTIALS_EXPIRED: Q(credentials_expires_at__lte=now),
            HealthFlag.CREDENTIALS_EXPIRING: Q(credentials_expires_at__gt=now, credentials_expires_at__lte=warn_until),
            HealthFlag.DORMANT: Q(status=AccountStatus.DORMANT) | Q(last_activity_at__lt=dormant_cutoff),
            HealthFlag.CONNECTOR_ERROR: ~Q(last_error=""),
        }.get(flag)
        if flag_q is None:
            return models.Q(pk__in=[])
        return flag_q & ~Q(status=AccountStatus.ARCHIVED)

    def with_health(self, flag: str, now: dt.datetime | None = None) -> SocialAccountQuerySet:
        return self.filter(self.health_q(flag, now))

    def unhealthy(self, now: dt.datetime | None = None) -> SocialAccountQuerySet:
        q = models.Q(pk__in=[])
        for flag in HealthFlag.values:
            q |= self.health_q(flag, now)
        return self.filter(q)

    def live(self) -> SocialAccountQuerySet:
        return self.exclude(status=AccountStatus.ARCHIVED)


class SocialAccountManager(models.Manager.from_queryset(SocialAccountQuerySet)):  # type: ignore[misc]
    pass


class SocialAccount(TimeStampedModel):
    """One account on one network (a page, a profile, a channel), owned by an org unit.

    ``network`` is a key of the connectors' network catalogue; ``connector`` the plugin that talks to it.
    Credentials and the webhook secret are encrypted at rest (MultiFernet) and never shown back in full."""

    org_scope = OrgScope(path="owner_unit__path")

    network = models.CharField(max_length=40, db_index=True)
    connector = models.CharField(max_length=40, default="generic", help_text="Connector plugin key.")
    handle = models.CharField(max_length=150)
    external_id = models.CharField(max_length=150, help_text="The network's id for the account.")
    display_name = models.CharField(max_length=200, blank=True)
    url = models.URLField(max_length=500, blank=True)
    owner_unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="accounts")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_accounts",
        help_text="The person accountable for the account.",
    )
    status = models.CharField(max_length=20, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    languages = models.JSONField(default=list, blank=True, help_text="ISO 639-1 codes the account posts in.")
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2.")
    followers = models.PositiveIntegerField(default=0)
    connector_config = models.JSONField(default=dict, blank=True)
    credentials_encrypted = models.TextField(blank=True, editable=False)
    credentials_expires_at = models.DateTimeField(null=True, blank=True)
    credentials_version = models.PositiveIntegerField(
        default=0, editable=False,
        help_text="Incremented at each write of the credentials: a refreshed token is stored only over the version "
                  "it was refreshed from (two workers never clobber a newer token).")
    webhook_secret_encrypted = models.TextField(blank=True, editable=False)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, help_text="Last permanent connector error.")
    last_error_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    owner_left_at = models.DateTimeField(
        null=True, blank=True, editable=False,
        help_text="When the owner left the organisation (deactivated): the account waits for a transfer.")
    notes = models.TextField(blank=True)
    # polling (connectors that fetch instead of receiving webhooks): written by the assets poll-state services only
    poll_state = models.JSONField(
        default=dict, blank=True, editable=False,
        help_text="The connector's opaque cursor (IMAP UIDVALIDITY/UID, a feed's ETag...), kept across restarts.")
    last_polled_at = models.DateTimeField(null=True, blank=True, editable=False)
    next_poll_at = models.DateTimeField(
        null=True, blank=True, editable=False, db_index=True,
        help_text="When the account is due for its next poll; also the lease of the worker polling it.")
    poll_failures = models.PositiveSmallIntegerField(
        default=0, editable=False, help_text="Consecutive failed polls (transient errors back off on this).")

    objects = SocialAccountManager()

    class Meta:
        ordering = ("network", "handle")
        constraints = [
            models.UniqueConstraint(fields=["network", "external_id"], name="uniq_account_network_external_id"),
        ]
        indexes = [models.Index(fields=["owner_unit", "status"])]

    def __str__(self) -> str:
        return f"{self.handle} ({self.network})"

    def get_absolute_url(self) -> str:
        return reverse("assets:account-detail", args=[self.pk])

    @property
    def audit_unit(self):
        return self.owner_unit

    # --- secrets -------------------------------------------------------------------------------------------
    @property
    def credentials(self) -> dict[str, Any]:
        """Decrypted credentials, for connectors only."""
        return crypto.decrypt_json(self.credentials_encrypted)

    def set_credentials(self, data: dict[str, Any]) -> None:
        self.credentials_encrypted = crypto.encrypt_json(data)
        self.credentials_version = (self.credentials_version or 0) + 1

    @property
    def has_credentials(self) -> bool:
        return bool(self.credentials_encrypted)

    @property
    def credentials_keys(self) -> list[str]:
        """The names of the stored credentials (never their values), e.g. ``["access_token", "page_id"]``."""
        return sorted(self.credentials) if self.credentials_encrypted else []

    @property
    def has_webhook_secret(self) -> bool:
        return bool(self.webhook_secret_encrypted)

    @property
    def webhook_secret(self) -> str:
        return crypto.decrypt_text(self.webhook_secret_encrypted)

    def set_webhook_secret(self, value: str | None = None) -> str:
        value = value or new_webhook_secret()
        self.webhook_secret_encrypted = crypto.encrypt_text(value)
        return value

    # --- health --------------------------------------------------------------------------------------------
    def health_flags(self, now: dt.datetime | None = None) -> list[str]:
        """Problems a hub admin should see: no owner, owner deactivated, credentials expiring, dormant."""
        if self.status == AccountStatus.ARCHIVED:
            return []
        now = now or timezone.now()
        flags: list[str] = []
        if self.owner_left_at is not None:
            flags.append(HealthFlag.OWNER_LEFT)
        elif self.owner_id is None:
            flags.append(HealthFlag.NO_OWNER)
        elif not self.owner.is_active:
            flags.append(HealthFlag.OWNER_DEACTIVATED)
        if self.credentials_expires_at:
            if self.credentials_expires_at <= now:
                flags.append(HealthFlag.CREDENTIALS_EXPIRED)
            elif self.credentials_expires_at <= now + dt.timedelta(
                days=settings.DANDELION_CREDENTIALS_EXPIRY_WARNING_DAYS
            ):
                flags.append(HealthFlag.CREDENTIALS_EXPIRING)
        dormant_cutoff = now - dt.timedelta(days=settings.DANDELION_DORMANT_AFTER_DAYS)
        if self.status == AccountStatus.DORMANT or (
            self.last_activity_at is not None and self.last_activity_at < dormant_cutoff
        ):
            flags.append(HealthFlag.DORMANT)
        if self.last_error:
            flags.append(HealthFlag.CONNECTOR_ERROR)
        return flags

    def health_badges(self, now: dt.datetime | None = None) -> list[dict[str, str]]:
        """The flags as ``{"flag", "label", "level"}`` for chips (level: ``bad`` or ``warn``)."""
        return [
            {"flag": str(f), "label": HealthFlag(f).label, "level": HEALTH_SEVERITY.get(f, "warn")}
            for f in self.health_flags(now)
        ]

    @property
    def is_archived(self) -> bool:
        return self.status == AccountStatus.ARCHIVED

    @property
    def network_label(self) -> str:
        from dandelion.assets.networks import network_label

        return network_label(self.network)


class OAuthApp(TimeStampedModel):
    """Dandelion registered as an OAuth client on one network or instance (a federated network's instances are each
    their own OAuth server): the client credentials, encrypted like the accounts' secrets, reused by every account
    connected through that instance with the same redirect URI."""

    org_scope = OrgScope.internal("OAuth client credentials, read by the account-connection flow only")

    network = models.CharField(max_length=40)
    instance = models.CharField(max_length=300, help_text="The OAuth server's base URL (the instance).")
    redirect_uri = models.CharField(max_length=500)
    credentials_encrypted = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ("network", "instance")
        constraints = [models.UniqueConstraint(fields=["network", "instance", "redirect_uri"],
                                               name="uniq_oauthapp_network_instance_redirect")]

    def __str__(self) -> str:
        return f"{self.network} app on {self.instance}"

    @property
    def credentials(self) -> dict[str, Any]:
        return crypto.decrypt_json(self.credentials_encrypted)

    def set_credentials(self, data: dict[str, Any]) -> None:
        self.credentials_encrypted = crypto.encrypt_json(data)
