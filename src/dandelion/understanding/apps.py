from dandelion.core import plugins


class UnderstandingConfig(plugins.DandelionAppConfig):
    name = "dandelion.understanding"
    label = "understanding"
    verbose_name = "Message understanding"
    default_auto_field = "django.db.models.BigAutoField"
    audit_filter = False  # no audited models
