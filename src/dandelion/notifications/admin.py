from django.contrib import admin

from dandelion.notifications.models import DigestPreference, DigestSent, Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("__str__", "recipient", "event_type", "created_at", "read_at")
    list_filter = ("event_type",)
    search_fields = ("event_type", "recipient__username")
    raw_id_fields = ("recipient", "unit")
    readonly_fields = ("event_id", "event_type", "subject_type", "subject_id", "created_at")


@admin.register(DigestPreference)
class DigestPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "email_digest", "updated_at")
    raw_id_fields = ("user",)


@admin.register(DigestSent)
class DigestSentAdmin(admin.ModelAdmin):
    list_display = ("user", "day", "items", "sent_at")
    raw_id_fields = ("user",)
    readonly_fields = ("user", "day", "items", "sent_at")
