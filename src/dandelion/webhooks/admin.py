from django.contrib import admin

from dandelion.core.admin import AuditedAdmin
from dandelion.webhooks.models import WebhookDelivery, WebhookSubscription


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(AuditedAdmin):
    list_display = ("name", "unit", "url", "state", "consecutive_failures", "last_success_at")
    list_filter = ("state",)
    search_fields = ("name", "url")
    exclude = ("secret_encrypted",)
    readonly_fields = ("consecutive_failures", "last_success_at", "last_failure_at", "disabled_at")

    def has_add_permission(self, request):
        return False  # created in the app or the API, which show the signing secret once


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("event_type", "subscription", "status", "attempts", "response_code", "created_at")
    list_filter = ("status", "event_type")
    search_fields = ("event_id",)
    raw_id_fields = ("subscription", "redelivery_of")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]

    def has_add_permission(self, request):
        return False
