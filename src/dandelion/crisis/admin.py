from django.contrib import admin

from dandelion.crisis.models import Incident


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("title", "unit", "status", "severity", "owner", "opened_at")
    list_filter = ("status", "source")
    search_fields = ("title",)
    readonly_fields = ("postmortem",)
