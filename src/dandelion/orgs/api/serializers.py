"""Serializers: read shapes, and write shapes that only validate input (the services do the writing)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dandelion.orgs.choices import Role, TeamKind, UnitKind
from dandelion.orgs.models import Guideline, Membership, OrgUnit, Team
from dandelion.orgs.rendering import render_markdown
from dandelion.orgs.validators import validate_languages, validate_timezone


def _django_validator(fn):
    """Wrap a Django validator so DRF reports its message as a field error."""

    def run(value):
        from django.core.exceptions import ValidationError as DjangoValidationError

        try:
            fn(value)
        except DjangoValidationError as err:
            raise serializers.ValidationError(err.messages) from err

    return run


class VisiblePrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A reference to a row the requester may see: anything else is reported as "does not exist"."""

    def __init__(self, model, **kwargs):
        self.model = model
        kwargs.setdefault("queryset", model.objects.all())
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        user = getattr(request, "user", None)
        return self.model.objects.restrict(user, "view").filter(is_active=True)


def _languages_field():
    return serializers.ListField(
        child=serializers.CharField(max_length=3), required=False,
        validators=[_django_validator(validate_languages)], help_text="ISO 639-1 codes.",
    )


def _timezone_field(**kwargs):
    return serializers.CharField(max_length=64, validators=[_django_validator(validate_timezone)], **kwargs)


# --- units ---------------------------------------------------------------------------------------------------
class OrgUnitSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrgUnit
        fields = ("id", "parent", "name", "slug", "kind", "country", "languages", "timezone", "path", "depth",
                  "is_active", "created_at", "updated_at")
        read_only_fields = fields


class OrgUnitCreateSerializer(serializers.Serializer):
    parent = VisiblePrimaryKeyField(OrgUnit, help_text="The new unit's parent (you need orgs.add_orgunit there).")
    name = serializers.CharField(max_length=120)
    slug = serializers.SlugField(max_length=80, required=False, default="")
    kind = serializers.ChoiceField(choices=UnitKind.choices, default=UnitKind.COUNTRY)
    country = serializers.RegexField(r"^[A-Za-z]{2}$", required=False, default="", allow_blank=True)
    languages = _languages_field()
    timezone = _timezone_field(required=False, default="UTC")


class OrgUnitUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    slug = serializers.SlugField(max_length=80, required=False)
    kind = serializers.ChoiceField(choices=UnitKind.choices, required=False)
    country = serializers.RegexField(r"^[A-Za-z]{2}$", required=False, allow_blank=True)
    languages = _languages_field()
    timezone = _timezone_field(required=False)


class MoveUnitSerializer(serializers.Serializer):
    parent = VisiblePrimaryKeyField(OrgUnit, help_text="The new parent (you need orgs.add_orgunit there).")


class RollupSerializer(serializers.Serializer):
    """One unit of the tree with its subtree's figures."""

    id = serializers.IntegerField()
    parent = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    kind = serializers.CharField()
    depth = serializers.IntegerField()
    is_active = serializers.BooleanField()
    accounts = serializers.IntegerField()
    members = serializers.IntegerField()
    teams = serializers.IntegerField()
    accounts_without_owner = serializers.IntegerField()
    accounts_owner_deactivated = serializers.IntegerField()
    accounts_credentials_expiring = serializers.IntegerField()
    accounts_dormant = serializers.IntegerField()
    accounts_connector_error = serializers.IntegerField()
    members_not_acknowledged = serializers.IntegerField()
    issues = serializers.IntegerField()


# --- teams ---------------------------------------------------------------------------------------------------
class TeamSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    effective_timezone = serializers.CharField(read_only=True)

    class Meta:
        model = Team
        fields = ("id", "unit", "unit_name", "name", "kind", "languages", "timezone", "effective_timezone", "email",
                  "is_active", "created_at", "updated_at")
        read_only_fields = fields


class TeamCreateSerializer(serializers.Serializer):
    unit = VisiblePrimaryKeyField(OrgUnit)
    name = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(choices=TeamKind.choices)
    languages = _languages_field()
    timezone = _timezone_field(required=False, default="", allow_blank=True)
    email = serializers.EmailField(required=False, default="", allow_blank=True)


class TeamUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    kind = serializers.ChoiceField(choices=TeamKind.choices, required=False)
    languages = _languages_field()
    timezone = _timezone_field(required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)


# --- memberships ---------------------------------------------------------------------------------------------
class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    full_name = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = ("id", "user", "username", "full_name", "unit", "team", "role", "is_active", "is_available",
                  "capacity", "created_at", "updated_at")
        read_only_fields = fields

    def get_full_name(self, obj) -> str:
        return obj.user.get_full_name()


def _active_users():
    return get_user_model().objects.filter(is_active=True)


class _RoleTeamValidation:
    def validate(self, data):
        if data.get("role") == Role.EXTERNAL_MODERATOR and not data.get("team"):
            raise serializers.ValidationError({"team": "An external moderator must belong to a team."})
        return data


class MembershipCreateSerializer(_RoleTeamValidation, serializers.Serializer):
    username = serializers.CharField(max_length=150, help_text="An existing, active person.")
    unit = VisiblePrimaryKeyField(OrgUnit)
    role = serializers.ChoiceField(choices=Role.choices)
    team = VisiblePrimaryKeyField(Team, required=False, allow_null=True, default=None)
    is_available = serializers.BooleanField(required=False, default=True)
    capacity = serializers.IntegerField(min_value=0, max_value=500, required=False, default=10)

    @staticmethod
    def person(username: str):
        """The active person called ``username``. Looked up only once the requester's right to grant roles on the
        unit is established: whether a username exists is nobody else's business."""
        user = _active_users().filter(username=username).first()
        if user is None:
            raise serializers.ValidationError({"username": [f"Object with username={username} does not exist."]})
        return user


class MembershipUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    team = VisiblePrimaryKeyField(Team, required=False, allow_null=True)
    is_available = serializers.BooleanField(required=False)
    capacity = serializers.IntegerField(min_value=0, max_value=500, required=False)


class InviteSerializer(_RoleTeamValidation, serializers.Serializer):
    username = serializers.RegexField(r"^[\w.@+-]+$", max_length=150)
    email = serializers.EmailField()
    first_name = serializers.CharField(max_length=150, required=False, default="", allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, default="", allow_blank=True)
    unit = VisiblePrimaryKeyField(OrgUnit)
    role = serializers.ChoiceField(choices=Role.choices)
    team = VisiblePrimaryKeyField(Team, required=False, allow_null=True, default=None)


# --- guidelines ----------------------------------------------------------------------------------------------
class GuidelineSerializer(serializers.ModelSerializer):
    body_html = serializers.SerializerMethodField(help_text="The markdown rendered to sanitised HTML.")
    acknowledged = serializers.SerializerMethodField(help_text="Whether the requester acknowledged it.")

    class Meta:
        model = Guideline
        fields = ("id", "title", "version", "body", "body_html", "change_summary", "published_at", "published_by",
                  "acknowledged", "created_at", "updated_at")
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_body_html(self, obj) -> str:
        return str(render_markdown(obj.body))

    def get_acknowledged(self, obj) -> bool:
        return bool(getattr(obj, "acknowledged_by_me", False))


class GuidelineWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(help_text="Markdown.")
    change_summary = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)


class AcknowledgementSerializer(serializers.Serializer):
    guideline = serializers.IntegerField(source="guideline_id")
    user = serializers.IntegerField(source="user_id")
    acknowledged_at = serializers.DateTimeField()


class PendingPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField(source="get_full_name")
    email = serializers.EmailField()
