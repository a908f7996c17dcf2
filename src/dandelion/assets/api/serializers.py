"""API shapes of the registry. No serializer ever carries a credential value or the webhook secret."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from dandelion.api.fields import ReadWriteChoiceField
from dandelion.assets.choices import SETTABLE_STATUSES, AccountStatus, HealthFlag
from dandelion.assets.exceptions import InvalidAccountData
from dandelion.assets.models import SocialAccount
from dandelion.orgs.api.serializers import VisiblePrimaryKeyField
from dandelion.orgs.models import OrgUnit


def _network_choices():
    from dandelion.assets.networks import network_choices

    return network_choices()


class LanguagesField(serializers.ListField):
    child = serializers.CharField(max_length=8)

    def to_internal_value(self, data):
        from dandelion.assets.services import normalise_languages

        if isinstance(data, str):
            data = data.replace(";", " ").split()
        values = super().to_internal_value(data)
        try:
            return normalise_languages(values)
        except InvalidAccountData as exc:
            raise serializers.ValidationError(exc.message) from exc


class SocialAccountSerializer(serializers.ModelSerializer):
    network = serializers.ChoiceField(choices=[])
    connector = serializers.CharField(max_length=40, required=False, allow_blank=True)
    owner_unit = VisiblePrimaryKeyField(OrgUnit)  # a unit outside the requester's scope "does not exist"
    owner = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.filter(is_active=True),
                                               required=False, allow_null=True)
    owner_username = serializers.SerializerMethodField()
    owner_unit_slug = serializers.SlugRelatedField(source="owner_unit", slug_field="slug", read_only=True)
    status = ReadWriteChoiceField(choices=[(s.value, s.label) for s in SETTABLE_STATUSES],
                                  read_choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    languages = LanguagesField(required=False)
    has_credentials = serializers.BooleanField(read_only=True)
    credentials_keys = serializers.SerializerMethodField()
    health_flags = serializers.SerializerMethodField()
    url = serializers.URLField(max_length=500, required=False, allow_blank=True)

    class Meta:
        model = SocialAccount
        fields = [
            "id", "network", "connector", "handle", "external_id", "display_name", "url", "owner_unit",
            "owner_unit_slug", "owner", "owner_username", "status", "languages", "country", "followers",
            "connector_config", "notes", "has_credentials", "credentials_keys", "credentials_expires_at",
            "health_flags", "last_activity_at", "last_error", "last_error_at", "archived_at", "created_at",
            "updated_at",
        ]
        validators: list = []  # duplicates are the service's ConflictError (409), not a 400
        read_only_fields = ["credentials_expires_at", "last_activity_at", "last_error", "last_error_at",
                            "archived_at", "created_at", "updated_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["network"].choices = _network_choices()
        if self.instance is not None and not isinstance(self.instance, (list, tuple)) and hasattr(
            self.instance, "pk"
        ):
            # an existing account changes unit through POST accounts/<id>/transfer/
            self.fields["owner_unit"].read_only = True
            # an archived account keeps its status on output
            self.fields["status"] = serializers.ChoiceField(choices=AccountStatus.choices, required=False)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["status"] = instance.status
        return data

    def validate_status(self, value):
        if value not in SETTABLE_STATUSES:
            raise serializers.ValidationError("Use POST accounts/<id>/archive/ to archive an account.")
        return value

    def validate_country(self, value):
        from dandelion.assets.services import normalise_country

        try:
            return normalise_country(value)
        except InvalidAccountData as exc:
            raise serializers.ValidationError(exc.message) from exc

    def validate_connector_config(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        return value

    def get_owner_username(self, obj) -> str | None:
        return obj.owner.get_username() if obj.owner_id else None

    def get_credentials_keys(self, obj) -> list[str]:
        return obj.credentials_keys if obj.has_credentials else []

    def get_health_flags(self, obj) -> list[str]:
        return [str(f) for f in obj.health_flags()]

    def create(self, validated_data):  # pragma: no cover - the viewset calls the service
        raise NotImplementedError

    def update(self, instance, validated_data):  # pragma: no cover
        raise NotImplementedError


class TransferSerializer(serializers.Serializer):
    to_unit = VisiblePrimaryKeyField(OrgUnit)
    new_owner = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.filter(is_active=True),
                                                   required=False, allow_null=True)
    clear_owner = serializers.BooleanField(default=False)
    reason = serializers.CharField(max_length=250)


class ArchiveSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=250, required=False, allow_blank=True, default="")


class CredentialsSerializer(serializers.Serializer):
    """Write-only: the values are stored encrypted and never returned."""

    credentials = serializers.DictField(child=serializers.JSONField(), allow_empty=True, write_only=True)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class WebhookSecretSerializer(serializers.Serializer):
    webhook_secret = serializers.CharField(read_only=True, help_text="Shown once; store it now.")


class ImportSerializer(serializers.Serializer):
    file = serializers.FileField()


class ImportErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    column = serializers.CharField()
    reason = serializers.CharField()


class ImportResultSerializer(serializers.Serializer):
    filename = serializers.CharField()
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    ok = serializers.BooleanField()
    errors = ImportErrorSerializer(many=True)


HEALTH_FLAG_VALUES = HealthFlag.values
