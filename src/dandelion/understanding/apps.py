from django.apps import AppConfig


class UnderstandingConfig(AppConfig):
    name = "dandelion.understanding"
    label = "understanding"
    verbose_name = "Message understanding"
    default_auto_field = "django.db.models.BigAutoField"
