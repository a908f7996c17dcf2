from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "dandelion.orgs"
    label = "orgs"
    verbose_name = "Organisation"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model

        from dandelion.core.memo import watch_config

        # routing's default route, SLA calendars and assignment read these (kept across a worker's batches)
        watch_config(self.get_model("OrgUnit"), self.get_model("Team"), self.get_model("Membership"))
        watch_config(get_user_model(), ignore_fields=("last_login",))  # an inactive user is not assignable
