from django.utils.translation import gettext_lazy as _

from dandelion.core import plugins


class CoreConfig(plugins.DandelionAppConfig):
    name = "dandelion.core"
    label = "core"
    verbose_name = "Core"
    url_prefix = ""  # the audit log lives at /audit/
    nav = (plugins.NavEntry(_("Audit log"), "core:audit-list", order=60),)
    api_routes = (plugins.ApiRoute("audit-events", "dandelion.core.api.views.AuditEventViewSet", "auditevent"),)

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        user_logged_in.connect(_remember_preferences, dispatch_uid="dandelion.core.remember_preferences")

    def retention_policies(self):
        from dandelion.core.retention import Policy

        # the database task backend's results (the rows of its queue): queued and running jobs are never touched
        jobs = "django_tasks_database.DBTaskResult"
        return (
            Policy(name="core.periodic_runs", label="periodic job claims", model="core.PeriodicJobRun",
                   age_field="period_start", where={}, setting="DANDELION_RETAIN_PERIODIC_RUNS_DAYS", default_days=7),
            Policy(name="tasks.successful", label="successful background job results", model=jobs,
                   age_field="finished_at", where={"status": "SUCCESSFUL"},
                   setting="DANDELION_RETAIN_JOB_RESULTS_DAYS", default_days=14),
            Policy(name="tasks.failed", label="failed background job results", model=jobs,
                   age_field="finished_at", where={"status": "FAILED"},
                   setting="DANDELION_RETAIN_FAILED_JOB_RESULTS_DAYS", default_days=30),
        )


def _remember_preferences(sender, request, user, **kwargs):
    """At sign-in, the person's language and time zone go into the session (read by UserPreferencesMiddleware)."""
    from dandelion.core.i18n import remember_preferences
    from dandelion.core.models import UserProfile

    if request is None or not hasattr(request, "session"):
        return
    profile = UserProfile.objects.filter(user=user).first()
    remember_preferences(request.session, language=profile.language if profile else "",
                         time_zone=profile.time_zone if profile else "")
