"""The hub's REST API for identity providers, their claim rules and the per-unit local password switch."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.urls import reverse
from rest_framework import serializers

from dandelion.orgs.choices import Role
from dandelion.orgs.models import OrgUnit, Team
from dandelion.sso.choices import Protocol
from dandelion.sso.models import ClaimRule, IdentityProvider, LocalPasswordPolicy


def _normalised_scopes(value: str) -> str:
    scopes = " ".join((value or "").split())
    if "openid" not in scopes.split():
        raise serializers.ValidationError("The scopes must include 'openid'.")
    return scopes


class IdentityProviderSerializer(serializers.ModelSerializer):
    """A provider as the hub reads it: never its secret (write-only) nor its SCIM token (only a 4-character hint)."""

    bound_unit = serializers.PrimaryKeyRelatedField(queryset=OrgUnit.objects.filter(is_active=True))
    client_secret = serializers.CharField(write_only=True, max_length=500, trim_whitespace=False, required=False,
                                          style={"input_type": "password"},
                                          help_text="OpenID Connect: required on creation; write-only.")
    protocol = serializers.ChoiceField(choices=Protocol.choices, default=Protocol.OIDC)
    saml_metadata_xml = serializers.CharField(required=False, allow_blank=True, max_length=200_000,
                                              help_text="SAML: the identity provider's metadata; its entity id "
                                                        "becomes the issuer.")
    redirect_uri = serializers.SerializerMethodField(help_text="The callback address to register at the provider.")
    rule_count = serializers.SerializerMethodField()

    class Meta:
        model = IdentityProvider
        fields = ["id", "name", "slug", "protocol", "issuer", "client_id", "client_secret", "saml_metadata_xml",
                  "scopes", "username_claim",
                  "bound_unit", "is_active", "local_passwords_off", "scim_token_hint", "redirect_uri", "rule_count",
                  "created_at", "updated_at"]
        read_only_fields = ["id", "scim_token_hint", "created_at", "updated_at"]
        # issuer/slug uniqueness is answered by the service as a 409 (as on the hub's pages)
        extra_kwargs = {"issuer": {"validators": [], "required": False, "allow_blank": True},
                        "slug": {"validators": []}}

    def get_redirect_uri(self, obj: IdentityProvider) -> str:
        path = reverse("sso:callback", args=[obj.slug])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_rule_count(self, obj: IdentityProvider) -> int:
        return obj.rules.count()

    def validate(self, attrs):
        protocol = self.instance.protocol if self.instance is not None else attrs.get("protocol", Protocol.OIDC)
        if protocol == Protocol.OIDC:
            if "scopes" in attrs:
                try:
                    attrs["scopes"] = _normalised_scopes(attrs["scopes"])
                except serializers.ValidationError as e:
                    raise serializers.ValidationError({"scopes": e.detail}) from e
            if self.instance is None:
                missing = [name for name in ("issuer", "client_id", "client_secret") if not attrs.get(name)]
                if missing:
                    raise serializers.ValidationError({name: "An OpenID Connect provider needs it."
                                                       for name in missing})
            if attrs.get("issuer"):
                try:
                    URLValidator(schemes=["https", "http"])(attrs["issuer"])
                except DjangoValidationError as e:
                    raise serializers.ValidationError({"issuer": "Enter the provider's issuer URL."}) from e
            if attrs.get("saml_metadata_xml"):
                raise serializers.ValidationError({"saml_metadata_xml": "Only for a SAML provider."})
        elif self.instance is None and not attrs.get("saml_metadata_xml"):
            raise serializers.ValidationError({"saml_metadata_xml": "A SAML provider needs its metadata."})
        return attrs


class IdentityProviderUpdateSerializer(IdentityProviderSerializer):
    """Changing a provider: its slug and bound unit are fixed (make a new provider); the secret, if sent, replaces
    the stored one (left out: kept)."""

    class Meta(IdentityProviderSerializer.Meta):
        read_only_fields = [*IdentityProviderSerializer.Meta.read_only_fields, "slug", "bound_unit", "protocol"]

    def get_fields(self):
        fields = super().get_fields()
        fields["client_secret"].required = False
        fields["bound_unit"].read_only = True
        fields["protocol"].read_only = True
        return fields


class ClaimRuleSerializer(serializers.ModelSerializer):
    """``claim`` = ``value`` of ``provider`` gives ``role`` on ``unit`` (in ``team``): the unit must lie in the
    provider's bound subtree (a 400 naming the field otherwise)."""

    provider = serializers.PrimaryKeyRelatedField(queryset=IdentityProvider.objects.all())
    unit = serializers.PrimaryKeyRelatedField(queryset=OrgUnit.objects.filter(is_active=True))
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.filter(is_active=True), required=False,
                                              allow_null=True)
    role = serializers.ChoiceField(choices=Role.choices)

    class Meta:
        model = ClaimRule
        fields = ["id", "provider", "claim", "value", "unit", "team", "role", "is_active", "created_at",
                  "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators: list = []  # duplicates are answered by the service as a 409


class ClaimRuleUpdateSerializer(ClaimRuleSerializer):
    """A rule stays with its provider."""

    class Meta(ClaimRuleSerializer.Meta):
        read_only_fields = [*ClaimRuleSerializer.Meta.read_only_fields, "provider"]

    def get_fields(self):
        fields = super().get_fields()
        fields["provider"].read_only = True
        return fields


class LocalPasswordPolicySerializer(serializers.ModelSerializer):
    """A unit (and its sub-units) where local passwords are switched off."""

    unit_name = serializers.CharField(source="unit.name", read_only=True)

    class Meta:
        model = LocalPasswordPolicy
        fields = ["id", "unit", "unit_name", "created_at"]
        read_only_fields = fields


class LocalPasswordSwitchSerializer(serializers.Serializer):
    """Switch local passwords off (``allowed: false``) or allow them again (``allowed: true``) for a unit."""

    unit = serializers.PrimaryKeyRelatedField(queryset=OrgUnit.objects.filter(is_active=True))
    allowed = serializers.BooleanField()
    changed = serializers.BooleanField(read_only=True, help_text="Whether anything changed.")


class ScimTokenSerializer(serializers.Serializer):
    """A new SCIM bearer token: shown this once (only its hash is kept)."""

    token = serializers.CharField(read_only=True)
    hint = serializers.CharField(read_only=True)
