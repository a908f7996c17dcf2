from django.contrib import admin

from dandelion.core.models import AuditEvent, PeriodicJobRun, UserProfile, WorkerHeartbeat


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only."""

    list_display = ("created_at", "actor_repr", "action", "object_repr", "unit")
    list_filter = ("action",)
    search_fields = ("object_repr", "summary", "actor_repr")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.register(WorkerHeartbeat)
admin.site.register(PeriodicJobRun)


@admin.register(UserProfile)
class UserProfileAdmin(admin.ModelAdmin):
    """Read-only here: a person changes their own language and time zone on their profile page (audited)."""

    list_display = ("user", "language", "time_zone", "updated_at")
    search_fields = ("user__username",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AuditedAdmin(admin.ModelAdmin):
    """Django admin writes bypass the services: record them in the audit log all the same (actor, action, object,
    unit, changed fields), including the inlines' rows."""

    def _action(self, obj, verb: str) -> str:
        return f"{obj._meta.app_label}.{obj._meta.model_name}.{verb}"

    def save_model(self, request, obj, form, change):
        from dandelion.core import audit

        before = audit.snapshot(obj.__class__.objects.get(pk=obj.pk)) if change and obj.pk else {}
        super().save_model(request, obj, form, change)
        after = audit.snapshot(obj)
        changes = audit.diff(before, after) if change else {k: [None, v] for k, v in after.items()}
        changes = {k: v for k, v in changes.items() if k not in ("updated_at", "created_at")}
        audit.record(actor=request.user, action=self._action(obj, "update" if change else "create"), obj=obj,
                     summary=f"{obj._meta.verbose_name} '{obj}' {'changed' if change else 'created'} in the admin",
                     changes=changes)

    def delete_model(self, request, obj):
        from dandelion.core import audit

        audit.record(actor=request.user, action=self._action(obj, "delete"), obj=obj,
                     summary=f"{obj._meta.verbose_name} '{obj}' deleted in the admin")
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def save_formset(self, request, form, formset, change):
        from dandelion.core import audit

        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            audit.record(actor=request.user, action=self._action(obj, "delete"), obj=obj,
                         summary=f"{obj._meta.verbose_name} '{obj}' deleted in the admin")
            obj.delete()
        for obj in instances:
            created = obj.pk is None
            obj.save()
            audit.record(actor=request.user, action=self._action(obj, "create" if created else "update"), obj=obj,
                         summary=f"{obj._meta.verbose_name} '{obj}' {'created' if created else 'changed'} in the admin",
                         changes={k: [None, v] for k, v in audit.snapshot(obj).items()} if created else None)
        formset.save_m2m()
