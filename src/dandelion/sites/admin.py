from django.contrib import admin

from dandelion.core.admin import AuditedAdmin
from dandelion.sites.models import (
    BlogComment,
    BlogCommentBan,
    BrokenLink,
    PageShare,
    SiteSection,
    SiteTemplate,
    UnitSite,
)


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


@admin.register(BlogComment)
class BlogCommentAdmin(AuditedAdmin):
    list_display = ("author_name", "post", "website", "state", "from_site", "created_at")
    list_filter = ("state", "from_site")
    list_select_related = ("website__site", "post")
    readonly_fields = ("website", "post", "parent", "author_key", "idempotency_key", "created_at")


@admin.register(BlogCommentBan)
class BlogCommentBanAdmin(AuditedAdmin):
    list_display = ("website", "author_key", "created_at")
    readonly_fields = ("website", "author_key", "created_at")


@admin.register(PageShare)
class PageShareAdmin(AuditedAdmin):
    list_display = ("page", "revision_id", "website", "post", "error", "created_at")
    list_select_related = ("website__site", "page", "post")
    readonly_fields = ("website", "page", "revision_id", "post", "error", "created_at")


@admin.register(SiteSection)
class SiteSectionAdmin(AuditedAdmin):
    """Read-only: a section is given and taken by ``services.grant_section``/``revoke_section`` (permissions follow)."""

    list_display = ("website", "page", "agency", "granted_by", "updated_at")
    list_select_related = ("website__site", "page", "agency", "granted_by")
    readonly_fields = ("website", "page", "agency", "editors", "granted_by")
