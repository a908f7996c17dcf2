"""Admin registrations: a safety net for superusers. Day-to-day changes go through the pages and the API, which
call the services; admin writes are audited too (``AuditedAdmin``)."""

from django.contrib import admin

from dandelion.core.admin import AuditedAdmin
from dandelion.orgs.models import Guideline, GuidelineAcknowledgement, Membership, OrgUnit, Team


@admin.register(OrgUnit)
class OrgUnitAdmin(AuditedAdmin):
    list_display = ("name", "kind", "country", "path", "depth", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "slug")
    readonly_fields = ("path", "depth")


@admin.register(Team)
class TeamAdmin(AuditedAdmin):
    list_display = ("name", "unit", "kind", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "unit__name")
    list_select_related = ("unit",)


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ("user", "role", "unit", "team", "is_active", "is_available")
    list_filter = ("role", "is_active")
    search_fields = ("user__username", "user__email", "unit__name")
    list_select_related = ("user", "unit", "team")
    raw_id_fields = ("user",)


@admin.register(Guideline)
class GuidelineAdmin(AuditedAdmin):
    list_display = ("title", "version", "published_at", "published_by")
    readonly_fields = ("version", "published_at", "published_by")


@admin.register(GuidelineAcknowledgement)
class GuidelineAcknowledgementAdmin(AuditedAdmin):
    list_display = ("guideline", "user", "acknowledged_at")
    list_select_related = ("guideline", "user")
    raw_id_fields = ("user",)
