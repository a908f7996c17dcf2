"""The publishing API's serializers: reads, and the inputs of each write (validated here, executed by services)."""

from __future__ import annotations

from rest_framework import serializers

from dandelion.assets.models import SocialAccount
from dandelion.orgs.models import OrgUnit
from dandelion.publishing.choices import CampaignStatus, RuleKind, Severity, StepMode
from dandelion.publishing.models import (
    AdvocacyItem,
    AdvocacyShare,
    Approval,
    Campaign,
    CampaignSpoke,
    CrisisPause,
    GuidelineRule,
    PersonalAccount,
    Post,
    PostMedia,
    PostVariant,
    Workflow,
    WorkflowStep,
)


class _Visible(serializers.PrimaryKeyRelatedField):
    """A reference to a row the requester may see: anything else is reported as "does not exist"."""

    def get_queryset(self):
        qs = super().get_queryset()
        request = self.context.get("request")
        return qs.restrict(request.user, "view") if request is not None else qs.none()


class PostVariantSerializer(serializers.ModelSerializer):
    network = serializers.CharField(source="account.network", read_only=True)
    handle = serializers.CharField(source="account.handle", read_only=True)

    class Meta:
        model = PostVariant
        fields = ["id", "account", "network", "handle", "text", "state", "due_at", "external_id", "external_url",
                  "attempts", "sent_at", "last_error"]
        read_only_fields = fields


class ApprovalSerializer(serializers.ModelSerializer):
    user = serializers.StringRelatedField(allow_null=True)

    class Meta:
        model = Approval
        fields = ["id", "review_round", "step_order", "user", "decision", "comment", "created_at"]
        read_only_fields = fields


class CheckResultSerializer(serializers.Serializer):
    rule_id = serializers.IntegerField(allow_null=True)
    rule = serializers.CharField()
    kind = serializers.CharField()
    severity = serializers.ChoiceField(choices=Severity.choices)
    message = serializers.CharField()
    account_id = serializers.IntegerField(allow_null=True)
    field = serializers.CharField()


class PostMediaSerializer(serializers.ModelSerializer):
    class Meta:
        model = PostMedia
        fields = ["id", "alt_text", "position", "content_type", "width", "height", "size"]
        read_only_fields = fields


class MediaInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="JPEG, PNG, GIF or WebP, 8 MB at most.")
    alt_text = serializers.CharField(max_length=1500, allow_blank=True, required=False, default="",
                                     help_text="Required (an empty one is refused, naming the field).")


class PostSerializer(serializers.ModelSerializer):
    variants = PostVariantSerializer(many=True, read_only=True)
    media = PostMediaSerializer(many=True, read_only=True)
    approvals = ApprovalSerializer(many=True, read_only=True)
    checks = CheckResultSerializer(many=True, read_only=True)
    author = serializers.StringRelatedField(allow_null=True)

    class Meta:
        model = Post
        fields = ["id", "unit", "author", "title", "text", "state", "is_sponsored", "scheduled_at",
                  "schedule_timezone", "workflow", "review_round", "needs_extra_approval", "checks", "checked_at",
                  "guideline_version", "last_error", "published_at", "campaign", "variants", "media", "approvals",
                  "created_at", "updated_at"]
        read_only_fields = fields


class VariantInputSerializer(serializers.Serializer):
    account = _Visible(queryset=SocialAccount.objects.all())
    text = serializers.CharField(max_length=20000, allow_blank=True, required=False, default="")


class PostWriteSerializer(serializers.Serializer):
    unit = _Visible(queryset=OrgUnit.objects.all())
    title = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    text = serializers.CharField(max_length=20000)
    is_sponsored = serializers.BooleanField(required=False, default=False)
    variants = VariantInputSerializer(many=True, help_text="One per account; an empty text uses the main text.")
    scheduled_local = serializers.DateTimeField(
        required=False, allow_null=True, default=None, default_timezone=None,
        help_text="Wall-clock time in the accounts' time zone (no offset), e.g. 2026-03-29T09:00:00.")

    def to_service(self, data: dict) -> dict:
        variants = data.pop("variants")
        data["accounts"] = [v["account"] for v in variants]
        data["variant_texts"] = {v["account"].pk: v.get("text", "") for v in variants}
        return data


class PostUpdateSerializer(PostWriteSerializer):
    unit = None  # type: ignore[assignment]  # a post stays in its unit
    text = serializers.CharField(max_length=20000, required=False)
    variants = VariantInputSerializer(many=True, required=False)
    clear_schedule = serializers.BooleanField(required=False, default=False)

    def to_service(self, data: dict) -> dict:
        if "variants" in data:
            return super().to_service(data)
        return data


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class ScheduleSerializer(serializers.Serializer):
    scheduled_local = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                                default_timezone=None,
                                                help_text="Wall-clock time in the accounts' zone; empty: now.")


class GuidelineRuleSerializer(serializers.ModelSerializer):
    unit = _Visible(queryset=OrgUnit.objects.all())
    kind = serializers.ChoiceField(choices=RuleKind.choices)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False, default=Severity.BLOCK)
    params = serializers.JSONField(required=False, default=dict)

    class Meta:
        model = GuidelineRule
        fields = ["id", "unit", "name", "kind", "severity", "params", "message", "guideline", "is_active",
                  "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class WorkflowStepSerializer(serializers.ModelSerializer):
    mode = serializers.ChoiceField(choices=StepMode.choices, required=False, default=StepMode.ANY)

    class Meta:
        model = WorkflowStep
        fields = ["order", "name", "role", "mode"]
        read_only_fields = ["order"]
        extra_kwargs = {"name": {"required": False}}


class WorkflowSerializer(serializers.ModelSerializer):
    unit = _Visible(queryset=OrgUnit.objects.all())
    steps = WorkflowStepSerializer(many=True)

    class Meta:
        model = Workflow
        fields = ["id", "unit", "name", "is_active", "steps", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class CrisisPauseSerializer(serializers.ModelSerializer):
    unit = _Visible(queryset=OrgUnit.objects.all())
    started_by = serializers.StringRelatedField(allow_null=True)
    ended_by = serializers.StringRelatedField(allow_null=True)

    class Meta:
        model = CrisisPause
        fields = ["id", "unit", "reason", "started_at", "started_by", "ended_at", "ended_by", "posts_paused"]
        read_only_fields = ["id", "started_at", "started_by", "ended_at", "ended_by", "posts_paused"]


class CampaignSerializer(serializers.ModelSerializer):
    created_by = serializers.StringRelatedField(allow_null=True)
    spokes = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = ["id", "unit", "name", "brief", "master_text", "is_sponsored", "starts_at", "ends_at", "utm",
                  "created_by", "spokes", "created_at", "updated_at"]
        read_only_fields = fields

    def get_spokes(self, obj) -> list[int]:
        return [row.unit_id for row in obj.spokes.all()]


class CampaignWriteSerializer(serializers.Serializer):
    unit = _Visible(queryset=OrgUnit.objects.all(), help_text="The unit running it (the hub or a region).")
    name = serializers.CharField(max_length=200)
    brief = serializers.CharField(max_length=10000, required=False, allow_blank=True, default="")
    master_text = serializers.CharField(max_length=20000)
    is_sponsored = serializers.BooleanField(required=False, default=False)
    starts_local = serializers.DateTimeField(default_timezone=None,
                                             help_text="Wall-clock time in the unit's time zone (no offset).")
    ends_local = serializers.DateTimeField(default_timezone=None)
    spokes = _Visible(queryset=OrgUnit.objects.all(), many=True, help_text="Units below ``unit``.")
    utm = serializers.DictField(child=serializers.CharField(max_length=200, allow_blank=True), required=False,
                                default=dict, help_text="UTM parameters of the campaign's links (utm_* keys).")


class CampaignSpokeSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    status = serializers.SerializerMethodField()
    posts = serializers.SerializerMethodField()

    class Meta:
        model = CampaignSpoke
        fields = ["id", "campaign", "unit", "unit_name", "status", "posts", "declined_at", "decline_reason",
                  "nudged_at", "nudge_count"]
        read_only_fields = fields

    def _row(self, obj):
        from dandelion.publishing import campaigns

        cache = self.context.setdefault("_matrix", {})
        if obj.pk not in cache:
            cache[obj.pk] = campaigns.campaign_matrix(obj.campaign, [obj])[0]
        return cache[obj.pk]

    def get_status(self, obj) -> CampaignStatus:
        return self._row(obj).status

    def get_posts(self, obj) -> list[int]:
        return [p.pk for p in self._row(obj).posts]


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class LocaliseSerializer(serializers.Serializer):
    unit = _Visible(queryset=OrgUnit.objects.all(), required=False, allow_null=True, default=None,
                    help_text="The spoke or a unit below it (default: the spoke).")
    title = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    text = serializers.CharField(max_length=20000, allow_blank=True, required=False, default="",
                                 help_text="Empty: the campaign's master post.")
    variants = VariantInputSerializer(many=True)
    scheduled_local = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                                default_timezone=None)

    def to_service(self, data: dict) -> dict:
        variants = data.pop("variants")
        data["accounts"] = [v["account"] for v in variants]
        data["variant_texts"] = {v["account"].pk: v.get("text", "") for v in variants}
        return data


class PostImportSerializer(serializers.Serializer):
    unit = _Visible(queryset=OrgUnit.objects.all())
    file = serializers.FileField(help_text="UTF-8 CSV: accounts, text, scheduled_local, title, is_sponsored.")
    submit = serializers.BooleanField(required=False, default=True)


class PostImportResultSerializer(serializers.Serializer):
    posts = serializers.ListField(child=serializers.IntegerField())
    by_state = serializers.DictField(child=serializers.IntegerField())


class LineErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    field = serializers.CharField()
    message = serializers.CharField()


class PostImportErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
    errors = LineErrorSerializer(many=True)


# --- employee advocacy ----------------------------------------------------------------------------------------------


class AdvocacyItemSerializer(serializers.ModelSerializer):
    created_by = serializers.StringRelatedField(allow_null=True)

    class Meta:
        model = AdvocacyItem
        fields = ["id", "unit", "post", "title", "url", "suggested_texts", "is_active", "created_by", "created_at",
                  "updated_at"]
        read_only_fields = fields


class AdvocacyItemWriteSerializer(serializers.Serializer):
    unit = _Visible(queryset=OrgUnit.objects.all())
    post = _Visible(queryset=Post.objects.all(), required=False, allow_null=True, default=None)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    url = serializers.URLField(max_length=2000, required=False, allow_blank=True, default="")
    suggested_texts = serializers.DictField(child=serializers.CharField(max_length=5000, allow_blank=True),
                                            required=False, default=dict,
                                            help_text="{language: suggested text}; a post's text by default.")


class AdvocacyItemUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    url = serializers.URLField(max_length=2000, required=False, allow_blank=True)
    suggested_texts = serializers.DictField(child=serializers.CharField(max_length=5000, allow_blank=True),
                                            required=False)
    is_active = serializers.BooleanField(required=False)


class PersonalAccountSerializer(serializers.ModelSerializer):
    unit = _Visible(queryset=OrgUnit.objects.all())

    class Meta:
        model = PersonalAccount
        fields = ["id", "unit", "network", "handle", "external_id", "connector", "is_active", "created_at",
                  "is_connected", "instance", "revoked_at"]
        read_only_fields = ["id", "is_active", "created_at", "is_connected", "instance", "revoked_at"]

    is_connected = serializers.BooleanField(read_only=True, help_text="Connected through the network's consent "
                                            "(a token is stored, encrypted; never shown).")


class ShareInputSerializer(serializers.Serializer):
    account = serializers.IntegerField(help_text="One of your personal accounts.")
    text = serializers.CharField(max_length=20000, required=False, allow_blank=True, default="",
                                 help_text="Empty: the suggested text in the account's unit's language.")


class AdvocacyShareSerializer(serializers.ModelSerializer):
    class Meta:
        model = AdvocacyShare
        fields = ["id", "item", "account", "unit", "text", "state", "external_id", "error", "created_at"]
        read_only_fields = fields


class SpokeCountSerializer(serializers.Serializer):
    unit_id = serializers.IntegerField()
    unit_name = serializers.CharField()
    shares = serializers.IntegerField()
    clicks = serializers.IntegerField()


# --- publishing settings ----------------------------------------------------------------------------------------------


class SlotSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6)
    time = serializers.CharField(max_length=5)


class PublishingSettingsSerializer(serializers.Serializer):
    """A unit's effective settings: its own row's, else the deepest unit above with a row (``inherited_from``),
    else the defaults (``inherited_from`` null)."""

    unit = serializers.IntegerField(read_only=True)
    inherited_from = serializers.IntegerField(read_only=True, allow_null=True,
                                              help_text="The unit whose row applies (null: defaults).")
    utm = serializers.DictField(child=serializers.CharField(max_length=200, allow_blank=True), required=False,
                                help_text="utm_* parameters; {network} and {account} are replaced at send time.")
    shorten_links = serializers.BooleanField(required=False)
    short_link_base = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                            help_text="Empty: the environment's DANDELION_SHORT_LINK_BASE.")
    slots = SlotSerializer(many=True, required=False)
    timezone = serializers.CharField(max_length=64, required=False, allow_blank=True,
                                     help_text="The slots' zone; empty: the queued post's unit's.")
