from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "dandelion.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from dandelion.core.retention import Policy, register

        register(Policy(name="core.periodic_runs", label="periodic job claims", model="core.PeriodicJobRun",
                        age_field="period_start", where={}, setting="DANDELION_RETAIN_PERIODIC_RUNS_DAYS",
                        default_days=7))
        # the database task backend's results (the rows of its queue): queued and running jobs are never touched
        jobs = "django_tasks_database.DBTaskResult"
        register(Policy(name="tasks.successful", label="successful background job results", model=jobs,
                        age_field="finished_at", where={"status": "SUCCESSFUL"},
                        setting="DANDELION_RETAIN_JOB_RESULTS_DAYS", default_days=14))
        register(Policy(name="tasks.failed", label="failed background job results", model=jobs,
                        age_field="finished_at", where={"status": "FAILED"},
                        setting="DANDELION_RETAIN_FAILED_JOB_RESULTS_DAYS", default_days=30))
