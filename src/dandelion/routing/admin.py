from django.contrib import admin

from dandelion.core.admin import AuditedAdmin
from dandelion.routing.models import (
    AppliedSla,
    AssignmentPolicy,
    BusinessCalendar,
    Holiday,
    RoutingRule,
    SlaPolicy,
)


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1


admin.site.register(RoutingRule, AuditedAdmin, list_display=("name", "unit", "position", "is_active", "stop_processing"),
                    list_filter=("is_active",), search_fields=("name",))
admin.site.register(AssignmentPolicy, AuditedAdmin, list_display=("team", "mode", "last_assigned"))
admin.site.register(BusinessCalendar, AuditedAdmin, list_display=("name", "unit", "team", "timezone", "is_24_7"),
                    inlines=[HolidayInline])
admin.site.register(Holiday, AuditedAdmin, list_display=("date", "name", "calendar"))
admin.site.register(SlaPolicy, AuditedAdmin, list_display=("team", "priority", "first_response_seconds", "next_response_seconds",
                                             "resolution_seconds", "business_hours", "is_active"))
admin.site.register(AppliedSla, AuditedAdmin, list_display=("conversation", "metric", "status", "started_at", "due_at"),
                    list_filter=("metric", "status"))
