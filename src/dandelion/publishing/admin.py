from django.contrib import admin

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
    PublishingSettings,
    ShortLink,
    Workflow,
    WorkflowStep,
)


class VariantInline(admin.TabularInline):
    model = PostVariant
    extra = 0
    readonly_fields = ("idempotency_key", "external_id", "attempts", "claimed_at", "claimed_by", "sent_at")


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ("__str__", "unit", "state", "scheduled_at", "author")
    list_filter = ("state",)
    search_fields = ("title", "text")
    inlines = (VariantInline,)


class StepInline(admin.TabularInline):
    model = WorkflowStep
    extra = 0


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    list_display = ("name", "unit", "is_active")
    inlines = (StepInline,)


@admin.register(GuidelineRule)
class GuidelineRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "unit", "kind", "severity", "is_active")
    list_filter = ("kind", "severity")


admin.site.register(CrisisPause)
admin.site.register(Approval)
admin.site.register(PostMedia)


class CampaignSpokeInline(admin.TabularInline):
    model = CampaignSpoke
    extra = 0


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "unit", "starts_at", "ends_at")
    search_fields = ("name", "brief")
    inlines = (CampaignSpokeInline,)


@admin.register(PublishingSettings)
class PublishingSettingsAdmin(admin.ModelAdmin):
    list_display = ("unit", "shorten_links", "timezone")


@admin.register(ShortLink)
class ShortLinkAdmin(admin.ModelAdmin):
    list_display = ("code", "post", "target_url", "clicks", "last_click_at")
    search_fields = ("code", "target_url")
    readonly_fields = ("clicks", "last_click_at")


@admin.register(AdvocacyItem)
class AdvocacyItemAdmin(admin.ModelAdmin):
    list_display = ("title", "unit", "post", "is_active", "created_at")
    list_filter = ("is_active",)
    raw_id_fields = ("unit", "post", "created_by")


@admin.register(PersonalAccount)
class PersonalAccountAdmin(admin.ModelAdmin):
    list_display = ("handle", "network", "user", "unit", "connector", "is_active")
    raw_id_fields = ("user", "unit")


@admin.register(AdvocacyShare)
class AdvocacyShareAdmin(admin.ModelAdmin):
    list_display = ("item", "account", "unit", "state", "created_at")
    list_filter = ("state",)
    raw_id_fields = ("item", "account", "user", "unit")
