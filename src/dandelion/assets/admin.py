from django.contrib import admin

from dandelion.assets.models import OAuthApp, SocialAccount
from dandelion.core.admin import AuditedAdmin


@admin.register(SocialAccount)
class SocialAccountAdmin(AuditedAdmin):
    list_display = ("handle", "network", "owner_unit", "owner", "status")
    list_filter = ("network", "status")
    search_fields = ("handle", "external_id", "display_name")
    exclude = ("credentials_encrypted", "webhook_secret_encrypted")


@admin.register(OAuthApp)
class OAuthAppAdmin(AuditedAdmin):
    list_display = ("network", "instance", "redirect_uri", "created_at")
    list_filter = ("network",)
    exclude = ("credentials_encrypted",)
