from django.contrib import admin

from dandelion.core.admin import AuditedAdmin
from dandelion.sites.models import BrokenLink, SiteTemplate, UnitSite


@admin.register(SiteTemplate)
class SiteTemplateAdmin(AuditedAdmin):
    list_display = ("name", "title", "version", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "title")


@admin.register(UnitSite)
class UnitSiteAdmin(AuditedAdmin):
    list_display = ("site", "unit", "template", "template_version")
    list_select_related = ("site", "unit", "template")
    readonly_fields = ("editors",)


@admin.register(BrokenLink)
class BrokenLinkAdmin(AuditedAdmin):
    list_display = ("url", "reason", "website", "page", "found_at")
    list_select_related = ("website__site", "page")
    readonly_fields = ("website", "page", "url", "reason", "found_at")
