from django.contrib import admin

from dandelion.crisis.models import ChecklistItem, Incident, Playbook, RoutedConversation, StakeholderUpdate


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("title", "unit", "kind", "status", "severity", "owner", "opened_at")
    list_filter = ("status", "source", "kind")
    search_fields = ("title",)
    readonly_fields = ("postmortem",)


@admin.register(Playbook)
class PlaybookAdmin(admin.ModelAdmin):
    list_display = ("name", "unit", "kind", "min_severity", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)


@admin.register(ChecklistItem)
class ChecklistItemAdmin(admin.ModelAdmin):
    list_display = ("incident", "position", "title", "owner_role", "due_at", "done_at")
    readonly_fields = ("incident", "done_by")


@admin.register(StakeholderUpdate)
class StakeholderUpdateAdmin(admin.ModelAdmin):
    list_display = ("incident", "subject", "sent_at", "sent_by")
    readonly_fields = ("incident", "sent_by", "recipients")


@admin.register(RoutedConversation)
class RoutedConversationAdmin(admin.ModelAdmin):
    list_display = ("incident", "conversation", "routed_at")
    readonly_fields = ("incident", "conversation", "routed_at")
