from django.contrib import admin

from dandelion.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("__str__", "recipient", "event_type", "created_at", "read_at")
    list_filter = ("event_type",)
    search_fields = ("event_type", "recipient__username")
    raw_id_fields = ("recipient", "unit")
    readonly_fields = ("event_id", "event_type", "subject_type", "subject_id", "created_at")
