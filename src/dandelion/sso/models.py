"""Single sign-on: identity providers (OpenID Connect, SCIM), the rules mapping their claims to roles, and the
link between a person and their identity at each provider."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse

from dandelion.assets import crypto
from dandelion.core.models import TimeStampedModel
from dandelion.core.querysets import OrgScope, RestrictedManager
from dandelion.orgs.choices import Role
from dandelion.sso.choices import Protocol


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class IdentityProvider(TimeStampedModel):
    """An OpenID Connect or SAML 2.0 identity provider (the group's Entra ID, an agency's Okta, a vendor's
    Keycloak), bound to the org unit subtree it may populate. The client secret is encrypted at rest like account credentials; the SCIM
    bearer token is stored hashed (shown once when generated)."""

    org_scope = OrgScope(path="bound_unit__path")

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    protocol = models.CharField(max_length=10, choices=Protocol.choices, default=Protocol.OIDC)
    issuer = models.CharField(max_length=300, unique=True,
                              help_text="OpenID Connect: the issuer URL ('iss') of the discovery document. SAML: the "
                                        "identity provider's entity id (read from its metadata).")
    client_id = models.CharField(max_length=255, blank=True)
    saml_metadata_xml = models.TextField(blank=True, help_text="SAML: the identity provider's metadata (its signing "
                                                               "certificate and single sign-on address).")
    client_secret_encrypted = models.TextField(blank=True, editable=False)
    scopes = models.CharField(max_length=255, default="openid email profile")
    username_claim = models.CharField(max_length=60, default="preferred_username",
                                      help_text="The claim giving the person's username (falls back to 'email').")
    bound_unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="identity_providers",
                                   help_text="Its people may only get roles on this unit and its sub-units.")
    is_active = models.BooleanField(default=True)
    local_passwords_off = models.BooleanField(
        default=False, help_text="People linked to this provider cannot sign in with a local password.")
    scim_token_hash = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    scim_token_hint = models.CharField(max_length=8, blank=True, editable=False)

    objects = RestrictedManager()

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("sso:provider-detail", args=[self.pk])

    @property
    def audit_unit(self):
        return self.bound_unit

    @property
    def client_secret(self) -> str:
        return crypto.decrypt_text(self.client_secret_encrypted) if self.client_secret_encrypted else ""

    def set_client_secret(self, value: str) -> None:
        self.client_secret_encrypted = crypto.encrypt_text(value) if value else ""

    def new_scim_token(self) -> str:
        token = "scim_" + secrets.token_urlsafe(32)
        self.scim_token_hash, self.scim_token_hint = hash_token(token), token[5:9]
        return token

    def covers(self, unit) -> bool:
        """Is ``unit`` inside the subtree this provider is bound to?"""
        return unit is not None and unit.path.startswith(self.bound_unit.path)


class ClaimRule(TimeStampedModel):
    """If the ID token's (or SCIM groups') ``claim`` holds ``value``, the person gets ``role`` on ``unit`` (within
    ``team``). The unit must be inside the provider's bound subtree (checked when saved and at every sign-in)."""

    org_scope = OrgScope(path="unit__path")

    provider = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="rules")
    claim = models.CharField(max_length=60, default="groups")
    value = models.CharField(max_length=255)
    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey("orgs.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=30, choices=Role.choices)
    is_active = models.BooleanField(default=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ("provider__name", "claim", "value")
        constraints = [models.UniqueConstraint(fields=["provider", "claim", "value", "unit", "role", "team"],
                                               name="uniq_sso_claim_rule")]

    def __str__(self) -> str:
        return f"{self.claim}={self.value} → {self.get_role_display()} on {self.unit.name}"

    def get_absolute_url(self) -> str:
        return reverse("sso:provider-detail", args=[self.provider_id])

    @property
    def audit_unit(self):
        return self.unit

    def matches(self, claims: dict) -> bool:
        got = claims.get(self.claim)
        if isinstance(got, (list, tuple)):
            return self.value in [str(v) for v in got]
        return got is not None and str(got) == self.value


class ExternalIdentity(TimeStampedModel):
    """A person's identity at one provider: the OpenID subject (``sub``) once they signed in, the provider's
    user name, and the SCIM resource id we answer with."""

    org_scope = OrgScope(path="provider__bound_unit__path")

    provider = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="identities")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="external_identities")
    subject = models.CharField(max_length=255, blank=True, help_text="The OpenID 'sub' (empty until first sign-in).")
    username = models.CharField(max_length=255, help_text="The provider's user name (SCIM userName).")
    scim_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    external_id = models.CharField(max_length=255, blank=True, help_text="SCIM externalId, as the provider sent it.")
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ("provider__name", "username")
        verbose_name_plural = "external identities"
        constraints = [
            models.UniqueConstraint(fields=["provider", "username"], name="uniq_sso_identity_username"),
            models.UniqueConstraint(fields=["provider", "subject"], condition=~models.Q(subject=""),
                                    name="uniq_sso_identity_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.username} @ {self.provider.name}"

    @property
    def audit_unit(self):
        return self.provider.bound_unit


class ScimGroup(TimeStampedModel):
    """A group a provider pushes through SCIM; its members get what the provider's ``groups`` rules give."""

    org_scope = OrgScope(path="provider__bound_unit__path")

    provider = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="scim_groups")
    display_name = models.CharField(max_length=255)
    external_id = models.CharField(max_length=255, blank=True)
    scim_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    members = models.ManyToManyField(ExternalIdentity, blank=True, related_name="scim_groups")

    objects = RestrictedManager()

    class Meta:
        ordering = ("provider__name", "display_name")
        constraints = [models.UniqueConstraint(fields=["provider", "display_name"], name="uniq_sso_scim_group")]

    def __str__(self) -> str:
        return f"{self.display_name} @ {self.provider.name}"

    @property
    def audit_unit(self):
        return self.provider.bound_unit


class LocalPasswordPolicy(TimeStampedModel):
    """Local passwords switched off for the people of a unit and its sub-units: someone holding an active role
    anywhere in that subtree must sign in through single sign-on (superusers excepted, as the break-glass account).
    A row exists only for the units where the hub turned passwords off."""

    org_scope = OrgScope(path="unit__path")

    unit = models.OneToOneField("orgs.OrgUnit", on_delete=models.CASCADE, related_name="local_password_policy")

    objects = RestrictedManager()

    class Meta:
        ordering = ("unit__path",)
        verbose_name_plural = "local password policies"

    def __str__(self) -> str:
        return f"Local passwords off in {self.unit.name}"

    @property
    def audit_unit(self):
        return self.unit


class SamlRequest(models.Model):
    """A SAML sign-in started by a browser and not answered yet: the response must carry its id as
    ``InResponseTo``; the first response consumes it (a replayed response finds none), and it expires after ten
    minutes. Kept in the database, not the session: the identity provider posts back cross-site, and a session
    cookie (``SameSite=Lax``) does not come with that POST."""

    org_scope = OrgScope.internal("Sign-in bookkeeping read by the sign-in flow only.")

    request_id = models.CharField(max_length=100, unique=True)
    provider = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="+")
    browser_key = models.CharField(max_length=64, help_text="SHA-256 of the random value in the browser's cookie.")
    next_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"SAML request {self.request_id} to {self.provider_id}"
