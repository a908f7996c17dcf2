from django.contrib import admin

from dandelion.listening.models import Alert, ListeningQuery


@admin.register(ListeningQuery)
class ListeningQueryAdmin(admin.ModelAdmin):
    list_display = ("name", "unit", "is_active", "mention_count", "last_evaluated_at")
    search_fields = ("name", "text")


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("query", "state", "severity", "started_at", "peak_count")
    list_filter = ("state",)
