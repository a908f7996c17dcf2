from django.contrib import admin

from dandelion.analytics.models import (
    AccountMetricsDay,
    DailyRollup,
    DigestDelivery,
    PostEngagementDay,
    RollupBlock,
    RollupVersion,
    SuccessStory,
)


@admin.register(DailyRollup)
class DailyRollupAdmin(admin.ModelAdmin):
    list_display = ("day", "account", "team", "language", "inbound", "needs_reply", "answered", "computed_at")
    list_filter = ("network", "language")
    date_hierarchy = "day"
    raw_id_fields = ("account", "unit", "team")


@admin.register(RollupBlock)
class RollupBlockAdmin(admin.ModelAdmin):
    list_display = ("start", "grain", "unit", "account", "network", "inbound", "needs_reply", "answered")
    list_filter = ("grain", "network")
    date_hierarchy = "start"
    raw_id_fields = ("account", "unit")


@admin.register(RollupVersion)
class RollupVersionAdmin(admin.ModelAdmin):
    list_display = ("version", "changed_at")
    readonly_fields = ("version", "changed_at")


@admin.register(SuccessStory)
class SuccessStoryAdmin(admin.ModelAdmin):
    list_display = ("title", "unit", "account", "theme", "status", "submitted_at", "featured_at")
    list_filter = ("status", "theme")
    search_fields = ("title", "body")
    raw_id_fields = ("unit", "account", "author", "featured_by")


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(admin.ModelAdmin):
    list_display = ("week_start", "unit", "user", "status", "attempts", "sent_at")
    list_filter = ("status",)
    raw_id_fields = ("user", "unit")


@admin.register(AccountMetricsDay)
class AccountMetricsDayAdmin(admin.ModelAdmin):
    list_display = ("day", "account", "followers", "following", "posts", "collected_at")
    date_hierarchy = "day"
    raw_id_fields = ("account", "unit")


@admin.register(PostEngagementDay)
class PostEngagementDayAdmin(admin.ModelAdmin):
    list_display = ("day", "variant", "account", "likes", "replies", "reposts", "collected_at")
    date_hierarchy = "day"
    raw_id_fields = ("variant", "account", "unit")
