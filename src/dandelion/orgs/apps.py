from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "dandelion.orgs"
    label = "orgs"
    verbose_name = "Organisation"
